package orchestratortest_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// drainHook is the preStop hook of the Pods below: the fake runtime's
// exec of "/app drain", counted by countDrains.
var drainHook = &api.Lifecycle{PreStop: &api.LifecycleHandler{Exec: &api.ExecAction{Command: []string{"/app", "drain"}}}}

// countDrains counts the "/app drain" execs in the containers named "app"
// of node i's runtime; there, "/app fail" exits 1 and others 0.
func countDrains(t *testing.T, c *orchestratortest.TestCluster, i int) *atomic.Int32 {
	t.Helper()
	var n atomic.Int32
	err := c.Runtime(i).SetContainerBehavior("app", fake.Behavior{Exec: func(cmd []string) runtime.ExecResult {
		if len(cmd) == 2 && cmd[0] == "/app" && cmd[1] == "drain" {
			n.Add(1)
		}
		if len(cmd) == 2 && cmd[1] == "fail" {
			return runtime.ExecResult{ExitCode: 1}
		}
		return runtime.ExecResult{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &n
}

// stopGraces records the grace period of every StopContainer call on node
// i's runtime and returns a function that lists them.
func stopGraces(c *orchestratortest.TestCluster, i int) func() []time.Duration {
	var mu sync.Mutex
	var graces []time.Duration
	c.Runtime(i).SetHook(func(_ context.Context, call fake.Call) error {
		if call.Op == fake.OpStopContainer {
			mu.Lock()
			graces = append(graces, call.Grace)
			mu.Unlock()
		}
		return nil
	})
	return func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(graces)
	}
}

// TestSlowStopsHoldOnlyTheirPods deletes more Pods than the agent has sync
// workers, each with a container that ignores SIGTERM and a long grace
// period: while they wait out their grace periods, a new Pod on the same
// node still starts.
func TestSlowStopsHoldOnlyTheirPods(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	if err := c.Runtime(0).SetContainerBehavior("slow", fake.Behavior{IgnoreStopSignal: true}); err != nil {
		t.Fatal(err)
	}
	cl := c.Client()
	ctx := context.Background()
	const n = 12 // more than the agent's 8 workers
	for i := range n {
		p := probedPod(fmt.Sprintf("slow-%d", i), nil, nil)
		p.Spec.Containers[0].Name = "slow"
		p.Spec.TerminationGracePeriodSeconds = orchestrator.Ptr(int64(300))
		if err := cl.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	rt := c.Runtime(0)
	running := func(name string) int {
		cs, err := rt.ListContainers(ctx, &runtime.ContainerFilter{State: runtime.ContainerRunning})
		if err != nil {
			t.Fatal(err)
		}
		k := 0
		for _, c := range cs {
			if c.Name == name {
				k++
			}
		}
		return k
	}
	c.Eventually(20*time.Second, "slow pods running", func() bool { return running("slow") == n })
	for i := range n {
		p := &orchestrator.Pod{ObjectMeta: orchestrator.ObjectMeta{Name: fmt.Sprintf("slow-%d", i), Namespace: "default"}}
		if err := cl.Delete(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.Create(ctx, probedPod("quick", nil, nil)); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "the new pod running", func() bool {
		p, ok := getPod(t, cl, "quick")
		return ok && p.Status.ContainerStatuses[0].State.Running != nil
	})
	if k := running("slow"); k != n {
		t.Fatalf("%d of the %d deleted containers still in their grace period, want all (the test proves nothing otherwise)", k, n)
	}
}

// TestProbeKillRestartsUnlessNever: a container killed by its liveness
// probe that exits 0 on SIGTERM restarts under OnFailure (it did not
// complete) and stays stopped under Never, whose Killing Event does not
// promise a restart.
func TestProbeKillRestartsUnlessNever(t *testing.T) {
	for _, policy := range []orchestrator.RestartPolicy{api.RestartPolicyOnFailure, api.RestartPolicyNever} {
		t.Run(string(policy), func(t *testing.T) {
			c := orchestratortest.NewCluster(t, 1)
			cl := c.Client()
			pod := probedPod("killed", httpProbe(1), nil)
			pod.Spec.RestartPolicy = policy
			readyThenUnhealthy(t, c, pod)
			if policy == api.RestartPolicyNever {
				c.Eventually(20*time.Second, "pod succeeded, not restarted", func() bool {
					p, ok := getPod(t, cl, "killed")
					return ok && p.Status.Phase == orchestrator.PodSucceeded && p.Status.ContainerStatuses[0].RestartCount == 0
				})
				c.Eventually(20*time.Second, "killing event", func() bool {
					return podEvent(t, cl, "killed", "Killing", "Container app failed liveness probe")
				})
				if podEvent(t, cl, "killed", "Killing", "will be restarted") {
					t.Fatal("the Killing event of a Never Pod promises a restart")
				}
				return
			}
			c.Eventually(20*time.Second, "restarted and running", func() bool {
				p, ok := getPod(t, cl, "killed")
				return ok && p.Status.Phase == orchestrator.PodRunning && p.Status.ContainerStatuses[0].RestartCount == 1 &&
					p.Status.ContainerStatuses[0].State.Running != nil
			})
		})
	}
}

// TestPreStopOnEveryStop runs the preStop hook when a startup probe kills
// a container, when a Deployment scales down, and when the node shuts
// down with StopPodsOnShutdown (all Pods at once).
func TestPreStopOnEveryStop(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1, orchestratortest.WithConfig(func(_ int, cfg *orchestrator.Config) {
		cfg.StopPodsOnShutdown = true
	}))
	drains := countDrains(t, c, 0)
	cl := c.Client()
	ctx := context.Background()

	// A startup probe that never passes kills the container.
	start := probedPod("starting", nil, nil)
	start.Spec.Containers[0].Lifecycle = drainHook
	start.Spec.Containers[0].StartupProbe = &orchestrator.Probe{
		ProbeHandler:       orchestrator.ProbeHandler{Exec: &orchestrator.ExecAction{Command: []string{"/app", "fail"}}},
		PeriodMilliseconds: 50, FailureThreshold: 2,
	}
	if err := cl.Create(ctx, start); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "startup kill after the preStop hook", func() bool {
		p, ok := getPod(t, cl, "starting")
		return ok && p.Status.ContainerStatuses[0].RestartCount >= 1 && drains.Load() >= 1
	})
	if err := cl.Delete(ctx, start); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "starting pod gone", func() bool {
		cs, err := c.Runtime(0).ListContainers(ctx, &runtime.ContainerFilter{PodUID: string(start.UID)})
		return err == nil && len(cs) == 0
	})

	// A Deployment scaled from 3 to 1 stops 2 Pods.
	d := web(3)
	d.Spec.Template.Spec.Containers[0].Lifecycle = drainHook
	if err := cl.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "3 pods running", func() bool { return len(runningPods(t, cl, map[string]string{"app": "web"})) == 3 })
	before := drains.Load()
	updateDeployment(t, cl, "web", func(d *orchestrator.Deployment) { d.Spec.Replicas = orchestrator.Ptr(int32(1)) })
	c.Eventually(20*time.Second, "2 hooks on scale-down", func() bool { return drains.Load() == before+2 })

	// Shutdown stops the last one.
	before = drains.Load()
	c.ShutdownNode(0)
	if got := drains.Load() - before; got != 1 {
		t.Fatalf("%d preStop hooks at shutdown, want 1", got)
	}
}

// runHookedPod creates Pod name on node i (bound there) with the preStop
// hook drainHook and the given grace period, and waits until it runs.
func runHookedPod(t *testing.T, c *orchestratortest.TestCluster, i int, name string, grace int64) *orchestrator.Pod {
	t.Helper()
	cl := c.Client()
	pod := probedPod(name, nil, nil)
	pod.Spec.NodeName = c.NodeName(i)
	pod.Spec.TerminationGracePeriodSeconds = orchestrator.Ptr(grace)
	pod.Spec.Containers[0].Lifecycle = drainHook
	if err := cl.Create(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, name+" running", func() bool {
		p, ok := getPod(t, cl, name)
		return ok && p.Status.ContainerStatuses[0].State.Running != nil
	})
	return pod
}

// checkOneStop checks that one StopContainer call was made, with the
// grace period want less the preStop hook's time (under 2 s).
func checkOneStop(t *testing.T, graces []time.Duration, want time.Duration) {
	t.Helper()
	if len(graces) != 1 || graces[0] > want || graces[0] < want-2*time.Second {
		t.Fatalf("StopContainer grace periods %v, want one of about %v (the Pod's, less the hook's time)", graces, want)
	}
}

// TestDeletedWhileAgentDownStopsAsSpecified deletes a Pod while its node
// is down; when the node comes back, its agent no longer has the Pod but
// stops the container as the Pod said: preStop hook, then its grace
// period (read from the container's labels).
func TestDeletedWhileAgentDownStopsAsSpecified(t *testing.T) {
	c := orchestratortest.NewCluster(t, 3)
	drains := countDrains(t, c, 1)
	stops := stopGraces(c, 1)
	cl := c.Client()
	ctx := context.Background()
	pod := runHookedPod(t, c, 1, "orphan", 7)
	c.StopNode(1)
	if err := cl.Delete(ctx, pod); err != nil {
		t.Fatal(err)
	}
	c.RestartNode(1)
	c.Eventually(20*time.Second, "container stopped after its hook", func() bool {
		cs, err := c.Runtime(1).ListContainers(ctx, &runtime.ContainerFilter{PodUID: string(pod.UID)})
		return err == nil && len(cs) == 0 && drains.Load() == 1
	})
	checkOneStop(t, stops(), 7*time.Second)
}

// TestDeadSandboxStoppedAsSpecified kills a Pod's sandbox: its container,
// still running without a network, is stopped with its preStop hook and
// the Pod's grace period, and the Pod runs again in a new sandbox whose
// attempt number follows the dead one's.
func TestDeadSandboxStoppedAsSpecified(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	drains := countDrains(t, c, 0)
	stops := stopGraces(c, 0)
	cl := c.Client()
	ctx := context.Background()
	pod := runHookedPod(t, c, 0, "netless", 9)
	rt := c.Runtime(0)
	sandboxes := func() []*runtime.PodSandboxStatus {
		sbs, err := rt.ListPodSandboxes(ctx, &runtime.PodSandboxFilter{UID: string(pod.UID)})
		if err != nil {
			t.Fatal(err)
		}
		return sbs
	}
	if err := rt.KillSandbox(sandboxes()[0].ID); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "running again in a new sandbox", func() bool {
		p, ok := getPod(t, cl, "netless")
		sbs := sandboxes()
		return ok && p.Status.ContainerStatuses[0].State.Running != nil && len(sbs) == 1 &&
			sbs[0].Attempt == 1 && sbs[0].State == runtime.SandboxReady
	})
	if n := drains.Load(); n != 1 {
		t.Fatalf("%d preStop hooks, want 1", n)
	}
	checkOneStop(t, stops(), 9*time.Second)
}

// TestFailingStopBacksOff makes every StopContainer fail: the agent
// retries the kill of a container its liveness probe failed with a
// doubling delay, not in a tight loop (thousands of calls a second).
func TestFailingStopBacksOff(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	var stops atomic.Int32
	cl := c.Client()
	first := readyThenUnhealthyWith(t, c, probedPod("stuck", httpProbe(1), nil), func() {
		c.Runtime(0).SetHook(func(_ context.Context, call fake.Call) error {
			if call.Op == fake.OpStopContainer {
				stops.Add(1)
				return errors.New("injected: the runtime cannot stop containers")
			}
			return nil
		})
	})
	c.Eventually(20*time.Second, "first stop attempt", func() bool { return stops.Load() > 0 })
	time.Sleep(2 * time.Second) // an upper bound below: a slow machine only lowers the count
	// With test timings (20 ms doubling to 1 s) about 8 attempts fit in
	// 2 s; a retry on every sync made over 10,000.
	if n := stops.Load(); n > 30 {
		t.Fatalf("%d StopContainer calls in about 2 s, want a doubling retry delay", n)
	}
	c.Runtime(0).SetHook(nil)
	c.Eventually(20*time.Second, "restarted once the runtime recovers", func() bool {
		p, ok := getPod(t, cl, first.Name)
		return ok && p.Status.ContainerStatuses[0].RestartCount == 1
	})
}

// TestDeadSandboxPodNotReadyAtOnce kills the sandbox of a Ready Pod whose
// container ignores SIGTERM: the Pod turns not Ready at once, not after
// its 30 s grace period.
func TestDeadSandboxPodNotReadyAtOnce(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	if err := c.Runtime(0).SetContainerBehavior("app", fake.Behavior{IgnoreStopSignal: true}); err != nil {
		t.Fatal(err)
	}
	cl := c.Client()
	ctx := context.Background()
	if err := cl.Create(ctx, probedPod("cut", nil, httpProbe(3))); err != nil {
		t.Fatal(err)
	}
	var p orchestrator.Pod
	c.Eventually(20*time.Second, "pod ready", func() bool {
		var ok bool
		p, ok = getPod(t, cl, "cut")
		return ok && orchestrator.IsPodReady(&p)
	})
	sbs, err := c.Runtime(0).ListPodSandboxes(ctx, &runtime.PodSandboxFilter{UID: string(p.UID)})
	if err != nil || len(sbs) != 1 {
		t.Fatalf("sandboxes %v, %v", sbs, err)
	}
	if err := c.Runtime(0).KillSandbox(sbs[0].ID); err != nil {
		t.Fatal(err)
	}
	c.Eventually(10*time.Second, "pod not ready", func() bool {
		p, ok := getPod(t, cl, "cut")
		return ok && !orchestrator.IsPodReady(&p)
	})
}

// TestOverlappingStopsRunOneHook deletes a Pod while its container's
// preStop hook runs for a liveness kill: the hook runs once, the
// deletion waits for that stop.
func TestOverlappingStopsRunOneHook(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	var hooks atomic.Int32
	err := c.Runtime(0).SetContainerBehavior("app", fake.Behavior{Exec: func(cmd []string) runtime.ExecResult {
		if len(cmd) == 2 && cmd[1] == "drain" {
			hooks.Add(1)
			time.Sleep(time.Second)
		}
		return runtime.ExecResult{}
	}})
	if err != nil {
		t.Fatal(err)
	}
	cl := c.Client()
	ctx := context.Background()
	pod := probedPod("overlap", httpProbe(1), nil)
	pod.Spec.Containers[0].Lifecycle = drainHook
	first := readyThenUnhealthy(t, c, pod)
	c.Eventually(20*time.Second, "the liveness kill's hook running", func() bool { return hooks.Load() == 1 })
	if err := cl.Delete(ctx, &first); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "containers gone", func() bool {
		cs, err := c.Runtime(0).ListContainers(ctx, &runtime.ContainerFilter{PodUID: string(first.UID)})
		return err == nil && len(cs) == 0
	})
	if n := hooks.Load(); n != 1 {
		t.Fatalf("preStop hook ran %d times for one container, want 1", n)
	}
}
