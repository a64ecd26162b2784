package backoff

import (
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestDefaultCurve(t *testing.T) {
	b, err := New(DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	// Each run lasts 1 s; the container crashes again right after restart.
	want := []time.Duration{0, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 300 * time.Second, 300 * time.Second}
	now := t0
	for i, w := range want {
		started := now
		finished := started.Add(time.Second)
		d := b.Exited("p/web", started, finished)
		if d.Delay != w || !d.RestartAt.Equal(finished.Add(w)) || d.Restarts != i+1 {
			t.Fatalf("exit %d: got %+v, want delay %v at %v", i+1, d, w, finished.Add(w))
		}
		rem, wd, ok := b.Wait("p/web", finished)
		if !ok || rem != w || wd != d {
			t.Fatalf("exit %d: Wait = %v %+v %v", i+1, rem, wd, ok)
		}
		now = d.RestartAt
	}
}

func TestResetAfterLongRun(t *testing.T) {
	cfg := Config{Initial: 100 * time.Millisecond, Max: time.Second, ResetAfter: 5 * time.Second}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	key := Key("uid", "c")
	tests := []struct {
		name      string
		ran       time.Duration
		wantDelay time.Duration
	}{
		{"first exit restarts at once", time.Millisecond, 0},
		{"second waits Initial", time.Millisecond, 100 * time.Millisecond},
		{"third doubles", time.Millisecond, 200 * time.Millisecond},
		{"run just below ResetAfter keeps the streak", 5*time.Second - time.Nanosecond, 400 * time.Millisecond},
		{"run of ResetAfter resets", 5 * time.Second, 0},
		{"streak starts again", time.Millisecond, 100 * time.Millisecond},
	}
	now := t0
	for _, tc := range tests {
		d := b.Exited(key, now, now.Add(tc.ran))
		if d.Delay != tc.wantDelay {
			t.Fatalf("%s: delay %v, want %v", tc.name, d.Delay, tc.wantDelay)
		}
		now = d.RestartAt
	}
}

func TestNeverStartedCountsAsShortRun(t *testing.T) {
	b, _ := New(Config{Initial: time.Second, Max: 4 * time.Second, ResetAfter: time.Minute})
	b.Exited("k", time.Time{}, t0)
	if d := b.Exited("k", time.Time{}, t0.Add(time.Hour)); d.Delay != time.Second {
		t.Fatalf("zero start time reset the streak: %+v", d)
	}
}

func TestWaitAndForget(t *testing.T) {
	b, _ := New(Config{Initial: 10 * time.Second, Max: 20 * time.Second, ResetAfter: time.Minute})
	if _, _, ok := b.Wait("x", t0); ok {
		t.Fatal("Wait on unknown key reported state")
	}
	b.Exited(Key("pod1", "a"), t0, t0)
	b.Exited(Key("pod1", "a"), t0, t0) // delay 10 s from t0
	b.Exited(Key("pod1", "b"), t0, t0)
	b.Exited(Key("pod2", "a"), t0, t0)
	if rem, d, _ := b.Wait(Key("pod1", "a"), t0.Add(4*time.Second)); rem != 6*time.Second || d.Delay != 10*time.Second ||
		!d.RestartAt.Equal(t0.Add(10*time.Second)) || d.Restarts != 2 {
		t.Fatalf("Wait = %v, %+v", rem, d)
	}
	if rem, _, _ := b.Wait(Key("pod1", "a"), t0.Add(time.Minute)); rem != 0 {
		t.Fatalf("Wait after RestartAt = %v, want 0", rem)
	}
	b.ForgetPod("pod1")
	if b.Len() != 1 {
		t.Fatalf("ForgetPod left %d entries, want 1", b.Len())
	}
	b.Forget(Key("pod2", "a"))
	if b.Len() != 0 {
		t.Fatalf("Forget left %d entries", b.Len())
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		want []string
	}{
		{DefaultConfig(), nil},
		{Config{}, []string{"Config.Initial", "Config.ResetAfter"}},
		{Config{Initial: time.Second, Max: time.Millisecond, ResetAfter: time.Second}, []string{"Config.Max"}},
		{Config{Initial: -1, Max: time.Second, ResetAfter: -1}, []string{"Config.Initial", "Config.ResetAfter"}},
	}
	for _, tc := range tests {
		_, err := New(tc.cfg)
		if len(tc.want) == 0 {
			if err != nil {
				t.Errorf("%+v: unexpected error %v", tc.cfg, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%+v: no error, want %v", tc.cfg, tc.want)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %q does not name %s", tc.cfg, err, w)
			}
		}
	}
}

func TestMessage(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 600e6, time.FixedZone("x", 3600))
	got := Message(Decision{Delay: 20 * time.Second, RestartAt: at}, "web", "web-abc", "default", "1234")
	want := "back-off 20s restarting failed container=web pod=web-abc_default(1234); next restart at 2026-01-02T02:04:05Z"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := Message(Decision{Delay: 300 * time.Second}, "a", "p", "ns", "u"); !strings.HasPrefix(got, "back-off 5m0s ") {
		t.Fatalf("got %q", got)
	}
}

func TestShouldRestart(t *testing.T) {
	tests := []struct {
		policy api.RestartPolicy
		code   int
		want   bool
	}{
		{api.RestartPolicyAlways, 0, true},
		{api.RestartPolicyAlways, 1, true},
		{"", 0, true},
		{api.RestartPolicyOnFailure, 0, false},
		{api.RestartPolicyOnFailure, 137, true},
		{api.RestartPolicyNever, 0, false},
		{api.RestartPolicyNever, 2, false},
	}
	for _, tc := range tests {
		got, err := ShouldRestart(tc.policy, tc.code)
		if err != nil || got != tc.want {
			t.Errorf("ShouldRestart(%q, %d) = %v, %v; want %v", tc.policy, tc.code, got, err, tc.want)
		}
	}
	if _, err := ShouldRestart("Sometimes", 1); err == nil || !strings.Contains(err.Error(), "spec.restartPolicy") {
		t.Fatalf("unknown policy: err = %v", err)
	}
}
