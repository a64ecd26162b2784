package orchestratortest_test

import (
	"context"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// A test of a program built on Flotilla: a three-node cluster runs the
// program's Deployment, loses a node, and the Deployment recovers.
// (NewCluster needs the test's testing.TB, so this example shows a test
// function; TestExample below runs it.)
func Example() {
	_ = func(t *testing.T) {
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
		running := func() int {
			var pods orchestrator.PodList
			if err := c.Client().List(ctx, &pods, orchestrator.MatchingFields{"status.phase": "Running"}); err != nil {
				return 0
			}
			return len(pods.Items)
		}
		c.Eventually(10*time.Second, "3 pods running", func() bool { return running() == 3 })
		c.StopNode((c.Leader() + 1) % 3) // a crash of a non-leader
		c.Eventually(10*time.Second, "3 pods running again", func() bool { return running() == 3 })
	}
}
