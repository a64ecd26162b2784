package orchestratortest_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/backoff"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// probedPod is a Pod whose container "app" declares port 8080 and has the
// given probes.
func probedPod(name string, liveness, readiness *orchestrator.Probe) *orchestrator.Pod {
	return &orchestrator.Pod{
		ObjectMeta: orchestrator.ObjectMeta{Name: name, Namespace: "default"},
		Spec: orchestrator.PodSpec{Containers: []orchestrator.Container{{
			Name: "app", Image: "web:1",
			Ports:          []orchestrator.ContainerPort{{Name: "http", ContainerPort: 8080}},
			LivenessProbe:  liveness,
			ReadinessProbe: readiness,
		}}},
	}
}

// httpProbe probes GET /healthz on the named port every 50 ms.
func httpProbe(failureThreshold int32) *orchestrator.Probe {
	return &orchestrator.Probe{
		ProbeHandler:       orchestrator.ProbeHandler{HTTPGet: &orchestrator.HTTPGetAction{Path: "/healthz", Port: api.FromString("http")}},
		PeriodMilliseconds: 50, FailureThreshold: failureThreshold,
	}
}

func getPod(t testing.TB, c orchestrator.Client, name string) (orchestrator.Pod, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var p orchestrator.Pod
	if err := c.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: name}, &p); err != nil {
		return p, false
	}
	return p, len(p.Status.ContainerStatuses) == 1
}

// podEvent reports whether an Event with reason about Pod name exists
// whose message contains substr.
func podEvent(t *testing.T, c orchestrator.Client, name, reason, substr string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var evs orchestrator.EventList
	if err := c.List(ctx, &evs, orchestrator.InNamespace("default")); err != nil {
		return false
	}
	for _, e := range evs.Items {
		if e.InvolvedObject.Kind == "Pod" && e.InvolvedObject.Name == name && e.Reason == reason && strings.Contains(e.Message, substr) {
			return true
		}
	}
	return false
}

func TestReadinessProbeGatesReady(t *testing.T) {
	var healthy atomic.Bool
	c := orchestratortest.NewCluster(t, 1)
	if err := c.Runtime(0).SetContainerBehavior("app", fake.Behavior{HTTP: func(port int, path string) int {
		if port != 8080 || path != "/healthz" {
			return 404
		}
		if healthy.Load() {
			return 200
		}
		return 503
	}}); err != nil {
		t.Fatal(err)
	}
	cl := c.Client()
	if err := cl.Create(context.Background(), probedPod("ready", nil, httpProbe(1))); err != nil {
		t.Fatal(err)
	}
	// The probe has failed at least once while the container runs: the
	// Pod runs but is not Ready. (The Event and the status are written
	// separately, so the status may lag the Event.)
	c.Eventually(20*time.Second, "failed readiness probe event", func() bool {
		return podEvent(t, cl, "ready", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503")
	})
	var p orchestrator.Pod
	c.Eventually(20*time.Second, "pod running", func() bool {
		var ok bool
		p, ok = getPod(t, cl, "ready")
		return ok && p.Status.Phase == orchestrator.PodRunning && p.Status.ContainerStatuses[0].State.Running != nil
	})
	if orchestrator.IsPodReady(&p) || p.Status.ContainerStatuses[0].Ready {
		t.Fatalf("pod ready before its readiness probe passed: %+v", p.Status)
	}
	// The probe's failures are in the container status (a Flotilla
	// extension).
	c.Eventually(20*time.Second, "probe failures in status", func() bool {
		p, ok := getPod(t, cl, "ready")
		if !ok || len(p.Status.ContainerStatuses[0].Probes) != 1 {
			return false
		}
		ps := p.Status.ContainerStatuses[0].Probes[0]
		return ps.Type == orchestrator.ProbeReadiness && ps.Result == orchestrator.ProbeFailure && ps.ConsecutiveFailures >= 1 &&
			ps.LastFailureMessage == "HTTP probe failed with statuscode: 503"
	})
	healthy.Store(true)
	c.Eventually(20*time.Second, "pod ready", func() bool {
		p, ok := getPod(t, cl, "ready")
		return ok && orchestrator.IsPodReady(&p) && p.Status.ContainerStatuses[0].Ready &&
			len(p.Status.ContainerStatuses[0].Probes) == 1 && p.Status.ContainerStatuses[0].Probes[0].Result == orchestrator.ProbeSuccess
	})
	// Readiness failing again takes the Pod out of Ready without a restart.
	healthy.Store(false)
	c.Eventually(20*time.Second, "pod not ready", func() bool {
		p, ok := getPod(t, cl, "ready")
		return ok && !orchestrator.IsPodReady(&p) && p.Status.ContainerStatuses[0].State.Running != nil
	})
	p, _ = getPod(t, cl, "ready")
	if n := p.Status.ContainerStatuses[0].RestartCount; n != 0 {
		t.Fatalf("readiness failure restarted the container (restartCount %d)", n)
	}
}

// readyThenUnhealthy creates pod on c's only node, waits until it is
// Ready, makes its container fail every probe and returns the Pod as it
// was when Ready.
func readyThenUnhealthy(t *testing.T, c *orchestratortest.TestCluster, pod *orchestrator.Pod) orchestrator.Pod {
	t.Helper()
	return readyThenUnhealthyWith(t, c, pod, func() {})
}

// readyThenUnhealthyWith is readyThenUnhealthy that calls before once the
// Pod is Ready, before its container starts failing.
func readyThenUnhealthyWith(t *testing.T, c *orchestratortest.TestCluster, pod *orchestrator.Pod, before func()) orchestrator.Pod {
	t.Helper()
	cl := c.Client()
	if err := cl.Create(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	var first orchestrator.Pod
	c.Eventually(20*time.Second, "pod ready", func() bool {
		var ok bool
		first, ok = getPod(t, cl, pod.Name)
		return ok && orchestrator.IsPodReady(&first)
	})
	before()
	id := strings.TrimPrefix(first.Status.ContainerStatuses[0].ContainerID, "flotilla://")
	if err := c.Runtime(0).SetHealthy(id, false); err != nil {
		t.Fatal(err)
	}
	return first
}

func TestLivenessFailureRestartsContainer(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	first := readyThenUnhealthy(t, c, probedPod("live", httpProbe(2), nil))
	if cs := first.Status.ContainerStatuses[0]; cs.Started == nil || !*cs.Started {
		t.Fatalf("started not set: %+v", cs)
	}
	c.Eventually(20*time.Second, "container restarted", func() bool {
		p, ok := getPod(t, cl, "live")
		if !ok {
			return false
		}
		cs := p.Status.ContainerStatuses[0]
		return p.UID == first.UID && cs.RestartCount == 1 && cs.State.Running != nil &&
			cs.ContainerID != first.Status.ContainerStatuses[0].ContainerID &&
			cs.LastTerminationState.Terminated != nil && orchestrator.IsPodReady(&p)
	})
	c.Eventually(20*time.Second, "events", func() bool {
		return podEvent(t, cl, "live", "Unhealthy", "Liveness probe failed") &&
			podEvent(t, cl, "live", "Killing", "failed liveness probe")
	})
}

func TestCrashLoopBackOff(t *testing.T) {
	timing := orchestrator.TestTiming()
	timing.RestartBackoff = time.Second // long enough to be observed
	timing.MaxRestartBackoff = 2 * time.Second
	c := orchestratortest.NewCluster(t, 1, orchestratortest.WithTiming(timing))
	if err := c.Runtime(0).SetContainerBehavior("app", fake.Behavior{ExitAfter: 20 * time.Millisecond, ExitCode: 1}); err != nil {
		t.Fatal(err)
	}
	cl := c.Client()
	if err := cl.Create(context.Background(), probedPod("crash", nil, nil)); err != nil {
		t.Fatal(err)
	}
	// The first restart is immediate; the next exits wait in
	// CrashLoopBackOff, 1 s then 2 s (doubled, and the maximum).
	backingOff := func(delay time.Duration) func() bool {
		return func() bool {
			p, ok := getPod(t, cl, "crash")
			if !ok {
				return false
			}
			cs := p.Status.ContainerStatuses[0]
			w, last := cs.State.Waiting, cs.LastTerminationState.Terminated
			return w != nil && last != nil && w.Reason == backoff.Reason &&
				strings.HasPrefix(w.Message, fmt.Sprintf("back-off %v restarting failed container=app pod=crash_default(", delay)) &&
				restartsAt(w.Message, last.FinishedAt.Time, delay) &&
				cs.RestartCount >= 1 && last.ExitCode == 1 && last.Reason == "Error" &&
				!last.StartedAt.IsZero() && !last.FinishedAt.IsZero() && !orchestrator.IsPodReady(&p)
		}
	}
	c.Eventually(20*time.Second, "CrashLoopBackOff of 1s", backingOff(time.Second))
	// The back-off ends: the container is started again, and its next exit
	// waits twice as long.
	p, _ := getPod(t, cl, "crash")
	n := p.Status.ContainerStatuses[0].RestartCount
	c.Eventually(20*time.Second, "restart after back-off", func() bool {
		p, ok := getPod(t, cl, "crash")
		return ok && p.Status.ContainerStatuses[0].RestartCount > n
	})
	c.Eventually(20*time.Second, "CrashLoopBackOff of 2s", backingOff(2*time.Second))
	c.Eventually(20*time.Second, "BackOff events", func() bool {
		return podEvent(t, cl, "crash", "BackOff", "Back-off 1s restarting failed container app") &&
			podEvent(t, cl, "crash", "BackOff", "Back-off 2s restarting failed container app")
	})
}

func TestPreStopHookRunsOnLivenessRestartAndDelete(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	var hooks atomic.Int32
	if err := c.Runtime(0).SetContainerBehavior("app", fake.Behavior{Exec: func(cmd []string) runtime.ExecResult {
		if len(cmd) == 2 && cmd[0] == "/app" && cmd[1] == "drain" {
			hooks.Add(1)
		}
		return runtime.ExecResult{ExitCode: 0}
	}}); err != nil {
		t.Fatal(err)
	}
	cl := c.Client()
	ctx := context.Background()
	pod := probedPod("hook", httpProbe(2), nil)
	pod.Spec.Containers[0].Lifecycle = &api.Lifecycle{PreStop: &api.LifecycleHandler{Exec: &api.ExecAction{Command: []string{"/app", "drain"}}}}
	first := readyThenUnhealthy(t, c, pod)
	c.Eventually(20*time.Second, "restart after the preStop hook", func() bool {
		p, ok := getPod(t, cl, "hook")
		return ok && p.Status.ContainerStatuses[0].RestartCount == 1 && hooks.Load() == 1
	})
	if err := cl.Delete(ctx, &first); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "preStop hook on deletion", func() bool { return hooks.Load() == 2 })
	c.Eventually(20*time.Second, "containers gone", func() bool {
		cs, err := c.Runtime(0).ListContainers(ctx, &runtime.ContainerFilter{PodUID: string(first.UID)})
		return err == nil && len(cs) == 0
	})
}

// TestProbeGracePeriod checks the grace period each stop gets: a liveness
// kill uses the probe's own terminationGracePeriodSeconds, a deletion the
// Pod's.
func TestProbeGracePeriod(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	stops := stopGraces(c, 0)
	cl := c.Client()
	ctx := context.Background()
	live := httpProbe(1)
	live.TerminationGracePeriodSeconds = orchestrator.Ptr(int64(3))
	pod := probedPod("grace", live, nil)
	pod.Spec.TerminationGracePeriodSeconds = orchestrator.Ptr(int64(20))
	first := readyThenUnhealthy(t, c, pod)
	c.Eventually(20*time.Second, "restart after the liveness failure", func() bool {
		p, ok := getPod(t, cl, "grace")
		return ok && p.Status.ContainerStatuses[0].RestartCount == 1
	})
	if got := stops(); len(got) != 1 || got[0] != 3*time.Second {
		t.Fatalf("liveness kill: StopContainer grace periods %v, want [3s] (the probe's)", got)
	}
	if err := cl.Delete(ctx, &first); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "stopped on deletion", func() bool { return len(stops()) == 2 })
	if got := stops(); got[1] != 20*time.Second {
		t.Fatalf("deletion: StopContainer grace periods %v, want 20s (the Pod's) last", got)
	}
}

// restartsAt reports whether a CrashLoopBackOff message names a next
// restart delay after finished (status times have a resolution of one
// second, hence the slack).
func restartsAt(msg string, finished time.Time, delay time.Duration) bool {
	_, at, ok := strings.Cut(msg, "; next restart at ")
	if !ok {
		return false
	}
	t, err := time.Parse(time.RFC3339, at)
	want := finished.Add(delay)
	return err == nil && !t.Before(want.Add(-time.Second)) && !t.After(want.Add(time.Second))
}

// A node restart adopts its running Pods without taking them out of Ready:
// the readiness probe's first run on an adopted container comes up to a
// period later, and the Pod must not flip NotReady meanwhile (that would
// drop it from Services and count it unavailable on every agent restart).
func TestNodeRestartKeepsPodsReady(t *testing.T) {
	c := orchestratortest.NewCluster(t, 3)
	cl := c.Client()
	ctx := context.Background()
	const node = 2
	slow := &orchestrator.Probe{
		ProbeHandler:  orchestrator.ProbeHandler{HTTPGet: &orchestrator.HTTPGetAction{Path: "/healthz", Port: api.FromString("http")}},
		PeriodSeconds: 30,
	}
	p := probedPod("steady", nil, slow)
	p.Spec.Containers[0].StartupProbe = &orchestrator.Probe{
		ProbeHandler:  orchestrator.ProbeHandler{HTTPGet: &orchestrator.HTTPGetAction{Path: "/healthz", Port: api.FromString("http")}},
		PeriodSeconds: 30,
	}
	p.Spec.NodeName = c.NodeName(node)
	if err := cl.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "pod ready", func() bool {
		p, ok := getPod(t, cl, "steady")
		return ok && orchestrator.IsPodReady(&p)
	})
	before, _ := getPod(t, cl, "steady")
	c.StopNode(node)
	c.RestartNode(node)
	c.WaitReady(20 * time.Second)
	// The restarted agent syncs the Pod at once; watch it for a while.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		p, ok := getPod(t, cl, "steady")
		if !ok {
			t.Fatal("pod gone")
		}
		cs := p.Status.ContainerStatuses[0]
		if !orchestrator.IsPodReady(&p) || !cs.Ready || cs.Started == nil || !*cs.Started {
			t.Fatalf("pod not ready after the node restarted: %+v", p.Status)
		}
		if cs.RestartCount != 0 || cs.ContainerID != before.Status.ContainerStatuses[0].ContainerID {
			t.Fatalf("container replaced: %+v", cs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
