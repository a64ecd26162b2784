package prober

import (
	"net/http"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// reported returns the Reported state of the container's one probe.
func reported(tb testing.TB, m *Manager, pod, name string) ProbeStatus {
	tb.Helper()
	st, ok := m.Reported(pod, name)
	if !ok || len(st) != 1 {
		tb.Fatalf("Reported(%s, %s) = %+v, %v; want one probe", pod, name, st, ok)
	}
	return st[0]
}

// countReported counts the delivered Results that had Reported set.
func countReported(c *collector) int {
	n := 0
	for _, r := range c.all() {
		if r.Reported {
			n++
		}
	}
	return n
}

// TestReportedChangesOnlyWhenWorthAStatusWrite follows one readiness
// probe through success, failure and recovery and checks that Reported
// moves with the transitions and failures but stands still while a probe
// keeps passing (or keeps failing the same way within ReportInterval),
// however many attempts run.
func TestReportedChangesOnlyWhenWorthAStatusWrite(t *testing.T) {
	srv := newFlipServer(t, http.StatusOK)
	ip, port := hostPort(t, srv.Listener.Addr().String())
	m, c := newManager(t, Config{ReportInterval: time.Hour})
	p := fast(httpGet(port, "/healthz"))
	p.SuccessThreshold, p.FailureThreshold = 2, 3
	if err := m.AddContainer(Container{PodUID: "u1", ContainerID: "c1", PodIP: ip,
		Spec: api.Container{Name: "web", ReadinessProbe: p}}); err != nil {
		t.Fatal(err)
	}
	if r := reported(t, m, "u1", "web"); r.Attempts != 0 || r.Passing || r.Kind != Readiness {
		t.Fatalf("before any attempt: %+v", r)
	}

	// Healthy: the first two successes are reported (the second makes
	// the probe pass), then nothing more, however many attempts follow.
	eventually(t, waitLong, "10 attempts", func() bool { return status(t, m, "u1", "web", Readiness).Attempts >= 10 })
	healthy := reported(t, m, "u1", "web")
	if !healthy.Passing || healthy.ConsecutiveSuccesses != 2 || healthy.Successes != 2 || healthy.Attempts != 2 ||
		healthy.Failures != 0 || healthy.LastTransitionTime.IsZero() || healthy.LastFailure != "" {
		t.Fatalf("healthy reported %+v, want passing after 2 successes", healthy)
	}
	if n := countReported(c); n != 2 {
		t.Fatalf("%d reported results while healthy, want 2", n)
	}
	eventually(t, waitLong, "20 attempts", func() bool { return status(t, m, "u1", "web", Readiness).Attempts >= 20 })
	if again := reported(t, m, "u1", "web"); again != healthy {
		t.Fatalf("reported state moved without a change:\n%+v\n%+v", healthy, again)
	}

	// Failing: every failure up to failureThreshold is reported, the
	// third flips the probe; later identical failures are only counted.
	srv.status.Store(http.StatusServiceUnavailable)
	c.wait(t, waitLong, "unready", func(r Result) bool { return r.Changed && !r.Passing })
	eventually(t, waitLong, "10 failures in a row", func() bool {
		return status(t, m, "u1", "web", Readiness).ConsecutiveFailures >= 10
	})
	failing := reported(t, m, "u1", "web")
	if failing.Passing || failing.ConsecutiveFailures != 3 || failing.ConsecutiveSuccesses != 0 ||
		failing.LastFailure != "HTTP probe failed with statuscode: 503" || failing.LastFailureTime.IsZero() ||
		failing.Failures != 3 || failing.Successes != failing.Attempts-3 {
		t.Fatalf("failing reported %+v", failing)
	}
	if !failing.LastTransitionTime.After(healthy.LastTransitionTime) {
		t.Fatalf("transition time %v not after %v", failing.LastTransitionTime, healthy.LastTransitionTime)
	}

	// Nor does another message within ReportInterval: messages may vary
	// on every attempt.
	srv.status.Store(http.StatusInternalServerError)
	eventually(t, waitLong, "failures with the new message", func() bool {
		st := status(t, m, "u1", "web", Readiness)
		return st.LastFailure == "HTTP probe failed with statuscode: 500" && st.ConsecutiveFailures >= 15
	})
	if r := reported(t, m, "u1", "web"); r != failing {
		t.Fatalf("reported state moved within ReportInterval:\n%+v\n%+v", failing, r)
	}

	// Recovering: the first success resets the failures, the second
	// (successThreshold) makes it pass again; the last failure is kept.
	srv.status.Store(http.StatusOK)
	var back ProbeStatus
	eventually(t, waitLong, "ready again", func() bool {
		back = reported(t, m, "u1", "web")
		return back.Passing
	})
	if !back.Passing || back.ConsecutiveSuccesses != 2 || back.ConsecutiveFailures != 0 ||
		back.LastFailure != "HTTP probe failed with statuscode: 500" || back.Successes <= healthy.Successes {
		t.Fatalf("recovered reported %+v", back)
	}
	live := status(t, m, "u1", "web", Readiness)
	if live.Successes+live.Failures != live.Attempts {
		t.Fatalf("live counts %+v: successes+failures != attempts", live)
	}
}

// TestReportedRepeatsFailuresAtReportInterval checks that a probe that
// keeps failing the same way is reported again after ReportInterval.
func TestReportedRepeatsFailuresAtReportInterval(t *testing.T) {
	srv := newFlipServer(t, http.StatusServiceUnavailable)
	ip, port := hostPort(t, srv.Listener.Addr().String())
	m, _ := newManager(t, Config{ReportInterval: 100 * time.Millisecond})
	p := fast(httpGet(port, "/healthz"))
	p.FailureThreshold = 2
	if err := m.AddContainer(Container{PodUID: "u1", ContainerID: "c1", PodIP: ip,
		Spec: api.Container{Name: "web", ReadinessProbe: p}}); err != nil {
		t.Fatal(err)
	}
	var first ProbeStatus
	eventually(t, waitLong, "failure threshold reported", func() bool {
		first = reported(t, m, "u1", "web")
		return first.ConsecutiveFailures == 2
	})
	eventually(t, waitLong, "a later failure reported", func() bool {
		return reported(t, m, "u1", "web").ConsecutiveFailures > 2
	})
	r := reported(t, m, "u1", "web")
	if gap := r.LastProbeTime.Sub(first.LastProbeTime); gap < 100*time.Millisecond {
		t.Fatalf("failure reported %v after the previous one, want >= ReportInterval (100ms)", gap)
	}
	if r.Passing || r.Failures != int64(r.ConsecutiveFailures) || r.Successes != 0 {
		t.Fatalf("reported %+v", r)
	}
}
