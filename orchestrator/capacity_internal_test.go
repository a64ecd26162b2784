package orchestrator

import (
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/capacity"
)

// Config.Capacity wins resource by resource; what it leaves out comes
// from the host, pods from the kubelet's default, and memory the host
// could not tell stays out.
func TestCompleteCapacity(t *testing.T) {
	host := capacity.Host{MilliCPU: 1500, MemoryBytes: 2 << 30}
	for _, tc := range []struct {
		name  string
		given ResourceList
		host  capacity.Host
		want  map[api.ResourceName]string
	}{
		{"nothing given", nil, host, map[api.ResourceName]string{"cpu": "1500m", "memory": "2Gi", "pods": "110"}},
		{"cpu given", ResourceList{"cpu": api.MustParse("4")}, host, map[api.ResourceName]string{"cpu": "4", "memory": "2Gi", "pods": "110"}},
		{"all given", ResourceList{"cpu": api.MustParse("1"), "memory": api.MustParse("1Gi"), "pods": api.MustParse("5")}, capacity.Host{},
			map[api.ResourceName]string{"cpu": "1", "memory": "1Gi", "pods": "5"}},
		{"memory unknown", nil, capacity.Host{MilliCPU: 2000}, map[api.ResourceName]string{"cpu": "2", "pods": "110"}},
		{"other resources kept", ResourceList{"example.com/gpu": api.MustParse("2")}, host,
			map[api.ResourceName]string{"cpu": "1500m", "memory": "2Gi", "pods": "110", "example.com/gpu": "2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := completeCapacity(tc.given, tc.host)
			if len(got) != len(tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if q, ok := got[k]; !ok || q.String() != v {
					t.Errorf("%s = %v, want %s", k, got[k], v)
				}
			}
		})
	}
	given := ResourceList{"cpu": api.MustParse("4")}
	completeCapacity(given, host)
	if len(given) != 1 {
		t.Errorf("Config.Capacity changed: %v", given)
	}
}
