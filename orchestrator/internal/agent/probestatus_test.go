package agent_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// probeOf returns the one probe status of the Pod's one container, or nil.
func probeOf(p *api.Pod) *api.ContainerProbeStatus {
	if len(p.Status.ContainerStatuses) != 1 || len(p.Status.ContainerStatuses[0].Probes) != 1 {
		return nil
	}
	return &p.Status.ContainerStatuses[0].Probes[0]
}

// TestProbeStatusInPodStatus runs a Pod whose readiness probe fails, then
// recovers, and checks the probe's entry in the container status; then
// that a healthy probe running many periods (and resyncs) does not
// rewrite the Pod.
func TestProbeStatusInPodStatus(t *testing.T) {
	e := newEnv(t, fake.Config{})
	var healthy atomic.Bool
	var probes atomic.Int64
	if err := e.rt.SetContainerBehavior("main", fake.Behavior{HTTP: func(port int, path string) int {
		probes.Add(1)
		if port == 8080 && path == "/healthz" && healthy.Load() {
			return 200
		}
		return 503
	}}); err != nil {
		t.Fatal(err)
	}
	e.run(t)
	pod := &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: api.PodSpec{NodeName: "n1", Containers: []api.Container{{
			Name: "main", Image: "app:1", Ports: []api.ContainerPort{{ContainerPort: 8080}},
			ReadinessProbe: &api.Probe{
				ProbeHandler:       api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Path: "/healthz", Port: api.FromInt(8080)}},
				PeriodMilliseconds: 20, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3,
			},
		}}},
	}
	if err := e.reg.Create(context.Background(), pod, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	const msg = "HTTP probe failed with statuscode: 503"
	p := e.waitPod(t, "p", "readiness failures in status", func(p *api.Pod) bool {
		ps := probeOf(p)
		return ps != nil && ps.ConsecutiveFailures >= 3
	})
	ps := probeOf(p)
	if ps.Type != api.ProbeReadiness || ps.Result != api.ProbeFailure || ps.Failures < 3 || ps.Successes != 0 ||
		ps.LastFailureMessage != msg || ps.LastFailureTime.IsZero() || ps.LastProbeTime.IsZero() || ps.ConsecutiveSuccesses != 0 {
		t.Fatalf("failing probe status %+v", *ps)
	}
	if api.IsPodReady(p) || p.Status.ContainerStatuses[0].Ready {
		t.Fatal("pod ready with a failing readiness probe")
	}

	healthy.Store(true)
	// Ready and the probe entry are read separately, so they may land in
	// two writes; wait for both.
	p = e.waitPod(t, "p", "probe success in status and pod ready", func(p *api.Pod) bool {
		ps := probeOf(p)
		return ps != nil && ps.Result == api.ProbeSuccess && api.IsPodReady(p)
	})
	ps = probeOf(p)
	if ps.ConsecutiveFailures != 0 || ps.ConsecutiveSuccesses != 1 || ps.Successes != 1 || ps.Failures < 3 ||
		ps.LastFailureMessage != msg || ps.LastTransitionTime.IsZero() {
		t.Fatalf("recovered probe status %+v", *ps)
	}

	// Healthy from now on: 25 more probes (half a second, more than two
	// resyncs of 200 ms) leave the stored Pod as it was.
	rv := p.ResourceVersion
	seen := probes.Load()
	testutil.Eventually(t, 10*time.Second, "25 more probes", func() bool { return probes.Load() >= seen+25 })
	var now api.Pod
	if err := e.reg.Get(context.Background(), "default", "p", &now, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if now.ResourceVersion != rv {
		t.Fatalf("a healthy probe rewrote the Pod (resourceVersion %s -> %s): %+v", rv, now.ResourceVersion, now.Status.ContainerStatuses)
	}
}
