package orchestrator

import (
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"go.uber.org/zap"
)

// A Capacity without "pods" gets the kubelet's 110 and keeps the rest; the
// caller's map is not changed. One that says pods keeps its value, and an
// empty one gets detected cpu (and memory, where /proc has it) and pods.
func TestCapacityDefaultsPods(t *testing.T) {
	given := ResourceList{api.ResourceCPU: api.MustParse("2")}
	got := Config{Capacity: given}.detectCapacity(zap.NewNop())
	if q := got[api.ResourcePods]; q.Value() != DefaultMaxPodsPerNode {
		t.Errorf("pods %s, want %d", q.String(), DefaultMaxPodsPerNode)
	}
	if q := got[api.ResourceCPU]; q.String() != "2" {
		t.Errorf("cpu %s, want 2", q.String())
	}
	if _, ok := given[api.ResourcePods]; ok || len(given) != 1 {
		t.Errorf("the caller's Capacity was changed: %v", given)
	}
	if q := (Config{Capacity: ResourceList{api.ResourcePods: api.MustParse("7")}}).detectCapacity(zap.NewNop())[api.ResourcePods]; q.Value() != 7 {
		t.Errorf("explicit pods became %s", q.String())
	}
	def := Config{}.detectCapacity(zap.NewNop())
	if len(def) < 2 || def[api.ResourcePods].Value() != DefaultMaxPodsPerNode {
		t.Errorf("default capacity %v", def)
	}
	if l := (Limits{MaxReplicas: 7, MaxObjectsPerNamespace: -1}).registry(); l.MaxReplicas != 7 || l.MaxObjectsPerNamespace != -1 {
		t.Errorf("limits passed to the registry as %+v", l)
	}
}
