package rollout_test

import (
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/internal/rollout"
)

// One rolling update of 10 replicas with the default 25%/25%, where the
// new Pods become available between steps.
func Example() {
	b, err := rollout.ResolveBounds(nil, 10) // defaults: surge 3, unavailable 2
	if err != nil {
		panic(err)
	}
	newRS := rollout.ReplicaSet{Name: "web-v2"}
	old := []rollout.ReplicaSet{{Name: "web-v1", Replicas: 10, Available: 10}}
	for step := 1; ; step++ {
		p, err := rollout.PlanRollingUpdate(10, b, newRS, old)
		if err != nil {
			panic(err)
		}
		if !p.Changes(newRS, old) {
			break
		}
		// Apply the plan; pretend every Pod becomes available at once.
		newRS.Replicas, newRS.Available = p.NewReplicas, p.NewReplicas
		old[0].Replicas, old[0].Available = p.OldReplicas[0], p.OldReplicas[0]
		fmt.Printf("step %d: new %d, old %d\n", step, newRS.Replicas, old[0].Replicas)
	}
	// Output:
	// step 1: new 3, old 8
	// step 2: new 5, old 5
	// step 3: new 8, old 3
	// step 4: new 10, old 0
}
