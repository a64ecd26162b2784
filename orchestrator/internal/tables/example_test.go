package tables_test

import (
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/tables"
)

// kubectl's columns for a Pod: the wide ones have priority 1.
func ExampleConvertor_ConvertToTable() {
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	pod := &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: "web-1", Namespace: "default", CreationTimestamp: api.NewTime(now.Add(-3*time.Minute - 2*time.Second))},
		Spec:       api.PodSpec{NodeName: "node-1", Containers: []api.Container{{Name: "app", Image: "nginx"}}},
		Status: api.PodStatus{Phase: api.PodRunning, PodIPs: []api.PodIP{{IP: "10.1.0.7"}},
			ContainerStatuses: []api.ContainerStatus{{Name: "app", Ready: true, State: api.ContainerState{Running: &api.ContainerStateRunning{}}}}},
	}
	t, err := tables.New().ConvertToTable(api.KindInfo{Kind: "Pod"}, []api.Object{pod}, apiserver.TableOptions{Now: now})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, c := range t.ColumnDefinitions {
		fmt.Printf("%s (priority %d): %v\n", c.Name, c.Priority, t.Rows[0].Cells[i])
	}
	// Output:
	// Name (priority 0): web-1
	// Ready (priority 0): 1/1
	// Status (priority 0): Running
	// Restarts (priority 0): 0
	// Age (priority 0): 3m2s
	// IP (priority 1): 10.1.0.7
	// Node (priority 1): node-1
	// Nominated Node (priority 1): <none>
	// Readiness Gates (priority 1): <none>
}
