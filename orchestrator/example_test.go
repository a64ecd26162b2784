package orchestrator_test

import (
	"context"
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// A single-node cluster on the in-memory runtime running a Deployment.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	rt, err := fake.New(fake.Config{NodeName: "solo"})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	cfg := orchestrator.TestConfig("solo") // DefaultConfig() in production
	cfg.Runtime = rt
	cfg.BootstrapExpect = 1
	cluster, err := orchestrator.New(cfg)
	if err != nil {
		panic(err)
	}
	if err := cluster.Start(ctx); err != nil {
		panic(err)
	}
	defer cluster.Shutdown(context.Background())

	deploy, err := orchestrator.Decode([]byte(`
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: example/web:1}]
`))
	if err != nil {
		panic(err)
	}
	c := cluster.Client()
	// The first request waits (up to its context's deadline) for the new
	// cluster to elect its leader.
	if err := c.Apply(ctx, deploy); err != nil {
		panic(err)
	}
	for {
		var pods orchestrator.PodList
		if err := c.List(ctx, &pods, orchestrator.MatchingFields{"status.phase": "Running"}); err != nil {
			panic(err)
		}
		if len(pods.Items) == 2 {
			fmt.Println("2 pods running")
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Output: 2 pods running
}
