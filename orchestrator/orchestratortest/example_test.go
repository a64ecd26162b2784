package orchestratortest_test

import (
	"context"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// TestWebSurvivesNodeLoss is how a program built on Flotilla tests itself:
// a three-node cluster runs the program's Deployment, loses a node, and the
// Deployment recovers.
func TestWebSurvivesNodeLoss(t *testing.T) {
	{
		c := orchestratortest.NewCluster(t, 3) // ready when it returns; shut down by t.Cleanup
		ctx := context.Background()
		deploy, err := orchestrator.Decode([]byte(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: example/web:1}]}
`))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Client().Create(ctx, deploy); err != nil {
			t.Fatal(err)
		}
		lost := ""
		running := func() int {
			var pods orchestrator.PodList
			if err := c.Client().List(ctx, &pods, orchestrator.MatchingFields{"status.phase": "Running"}); err != nil {
				return 0
			}
			n := 0
			for _, p := range pods.Items {
				if p.Spec.NodeName != lost {
					n++
				}
			}
			return n
		}
		c.Eventually(10*time.Second, "3 pods running", func() bool { return running() == 3 })
		victim := (c.Leader() + 1) % 3 // a non-leader
		lost = c.NodeName(victim)
		c.StopNode(victim) // a crash
		c.Eventually(10*time.Second, "3 pods running on the other nodes", func() bool { return running() == 3 })
	}
}

// NewCluster needs a test's testing.TB, so the example is a test function
// (TestWebSurvivesNodeLoss above, which go test runs).
func Example() {}
