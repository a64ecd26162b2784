package orchestratortest_test

import (
	"context"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// TestStopPodsOnShutdown: a graceful Shutdown with
// Config.StopPodsOnShutdown leaves no sandbox of the node's Pods in its
// runtime; without the option (the zero value, as kubelet) and after a
// crash-like Stop even with it, the Pods keep running.
func TestStopPodsOnShutdown(t *testing.T) {
	cases := []struct {
		name     string
		option   bool
		stop     func(c *orchestratortest.TestCluster)
		wantLeft bool
	}{
		{"Shutdown with the option stops Pods", true, func(c *orchestratortest.TestCluster) { c.ShutdownNode(0) }, false},
		{"Shutdown without the option leaves them", false, func(c *orchestratortest.TestCluster) { c.ShutdownNode(0) }, true},
		{"Stop (a crash) with the option leaves them", true, func(c *orchestratortest.TestCluster) { c.StopNode(0) }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := orchestratortest.NewCluster(t, 1, orchestratortest.WithConfig(func(_ int, cfg *orchestrator.Config) {
				cfg.StopPodsOnShutdown = tc.option
			}))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := c.Client().Create(ctx, web(3)); err != nil {
				t.Fatal(err)
			}
			cl := c.Client()
			c.Eventually(20*time.Second, "3 pods running", func() bool { return len(runningPods(t, cl, map[string]string{"app": "web"})) == 3 })
			rt := c.Runtime(0)
			ready := func() int {
				sbs, err := rt.ListPodSandboxes(ctx, &runtime.PodSandboxFilter{State: runtime.SandboxReady})
				if err != nil {
					t.Fatal(err)
				}
				return len(sbs)
			}
			if n := ready(); n != 3 {
				t.Fatalf("%d ready sandboxes before the stop, want 3", n)
			}
			tc.stop(c)
			sbs, err := rt.ListPodSandboxes(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.wantLeft {
				if len(sbs) != 0 {
					t.Fatalf("%d sandboxes left after Shutdown with StopPodsOnShutdown, want none", len(sbs))
				}
				return
			}
			if n := ready(); n != 3 {
				t.Fatalf("%d ready sandboxes after the stop, want all 3 left running", n)
			}
			cs, err := rt.ListContainers(ctx, &runtime.ContainerFilter{State: runtime.ContainerRunning})
			if err != nil || len(cs) != 3 {
				t.Fatalf("running containers after the stop: %d, %v; want 3", len(cs), err)
			}
		})
	}
}
