package backoff

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Reason is the waiting reason Kubernetes shows for a container held back
// by the crash-loop back-off.
const Reason = "CrashLoopBackOff"

// Config sets the back-off curve. The zero value is not usable; start from
// DefaultConfig.
type Config struct {
	// Initial is the delay before the second restart of a streak (the
	// first is immediate). Must be > 0. Default 10 s.
	Initial time.Duration
	// Max caps the doubling delay. Must be >= Initial. Default 300 s.
	Max time.Duration
	// ResetAfter: a container that ran at least this long before it
	// exited starts a new streak (its next restart is immediate again).
	// Must be > 0. Default 10 min.
	ResetAfter time.Duration
}

// DefaultConfig returns Kubernetes' values: 10 s doubling to 300 s, reset
// after 10 minutes of running.
func DefaultConfig() Config {
	return Config{Initial: 10 * time.Second, Max: 300 * time.Second, ResetAfter: 10 * time.Minute}
}

// Validate returns every problem of c at once (errors.Join), each naming
// its field.
func (c Config) Validate() error {
	var errs []error
	if c.Initial <= 0 {
		errs = append(errs, fmt.Errorf("backoff: Config.Initial must be > 0, got %v", c.Initial))
	}
	if c.Max < c.Initial {
		errs = append(errs, fmt.Errorf("backoff: Config.Max (%v) must be >= Config.Initial (%v)", c.Max, c.Initial))
	}
	if c.ResetAfter <= 0 {
		errs = append(errs, fmt.Errorf("backoff: Config.ResetAfter must be > 0, got %v", c.ResetAfter))
	}
	return errors.Join(errs...)
}

// Decision is the outcome of one exit.
type Decision struct {
	// Delay is the back-off in force: 0 for the first restart of a streak.
	Delay time.Duration
	// RestartAt is the earliest time the container may start again:
	// the exit time plus Delay.
	RestartAt time.Time
	// Restarts counts the exits in the current streak, this one included.
	Restarts int
}

// Backoff tracks the restart streak of every Pod container. It is safe for
// concurrent use.
type Backoff struct {
	cfg     Config
	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	delay     time.Duration // delay applied to the last exit
	restarts  int
	restartAt time.Time
}

// New returns a Backoff. Errors: the problems of cfg.Validate.
func New(cfg Config) (*Backoff, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Backoff{cfg: cfg, entries: make(map[string]*entry)}, nil
}

// Key names a Pod container for Exited, Wait and Forget.
func Key(podUID, container string) string { return podUID + "/" + container }

// Exited records that the container key, started at started, exited at
// finished, and returns when it may restart. A zero started counts as a
// run shorter than ResetAfter (a container that never started).
func (b *Backoff) Exited(key string, started, finished time.Time) Decision {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	ranLong := !started.IsZero() && finished.Sub(started) >= b.cfg.ResetAfter
	switch {
	case e == nil || ranLong:
		e = &entry{}
		b.entries[key] = e
	case e.delay == 0:
		e.delay = b.cfg.Initial
	default:
		e.delay = min(2*e.delay, b.cfg.Max)
	}
	e.restarts++
	e.restartAt = finished.Add(e.delay)
	return Decision{Delay: e.delay, RestartAt: e.restartAt, Restarts: e.restarts}
}

// Wait returns how long the container key must still wait at now before
// it may restart (0 when it may restart now) and the decision in force
// (its delay and restart time, for Message). ok is false when nothing is
// recorded for key.
func (b *Backoff) Wait(key string, now time.Time) (remaining time.Duration, d Decision, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.entries[key]
	if e == nil {
		return 0, Decision{}, false
	}
	return max(0, e.restartAt.Sub(now)), Decision{Delay: e.delay, RestartAt: e.restartAt, Restarts: e.restarts}, true
}

// Forget drops the state of key.
func (b *Backoff) Forget(key string) {
	b.mu.Lock()
	delete(b.entries, key)
	b.mu.Unlock()
}

// ForgetPod drops the state of every container of the Pod podUID.
func (b *Backoff) ForgetPod(podUID string) {
	prefix := podUID + "/"
	b.mu.Lock()
	for k := range b.entries {
		if strings.HasPrefix(k, prefix) {
			delete(b.entries, k)
		}
	}
	b.mu.Unlock()
}

// Len returns the number of containers with recorded state.
func (b *Backoff) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.entries)
}

// Message is the waiting message shown with Reason: Kubernetes' text
// followed by the time of the next restart (UTC, to the second), e.g.
// "back-off 20s restarting failed container=web pod=web-abc_default(uid);
// next restart at 2026-01-01T12:00:22Z".
func Message(d Decision, container, podName, namespace, podUID string) string {
	return fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s); next restart at %s",
		d.Delay, container, podName, namespace, podUID, d.RestartAt.UTC().Format(time.RFC3339))
}

// ShouldRestart applies a Pod's restartPolicy to a container that exited
// with exitCode: Always restarts, OnFailure restarts on a non-zero code,
// Never does not. An empty policy means Always (the API default). Errors:
// an unknown policy, naming spec.restartPolicy.
func ShouldRestart(policy api.RestartPolicy, exitCode int) (bool, error) {
	switch policy {
	case api.RestartPolicyAlways, "":
		return true, nil
	case api.RestartPolicyOnFailure:
		return exitCode != 0, nil
	case api.RestartPolicyNever:
		return false, nil
	}
	return false, fmt.Errorf("backoff: spec.restartPolicy: unsupported value %q (want Always, OnFailure or Never)", policy)
}
