package prober

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// ErrClosed is returned by AddContainer after Close.
var ErrClosed = errors.New("prober: closed")

// ErrInvalid is wrapped by AddContainer's validation errors.
var ErrInvalid = errors.New("prober: invalid container")

// Config configures a Manager. The zero value is usable: no exec probes,
// http/tcp/grpc probes dial the Pod IP, results are only queried.
type Config struct {
	// Runtime runs exec probes when it implements runtime.Execer, and
	// httpGet/tcpSocket/grpc probes that target the Pod IP when it implements
	// runtime.NetworkProber (the fake runtime, whose Pod IPs are
	// synthetic); otherwise those dial the Pod IP directly. nil means no
	// runtime: exec probes fail with a message saying so. Exec must honour
	// its ctx: the probe timeout is enforced through it.
	Runtime runtime.Runtime
	// OnResult receives results (see Result for which ones). It is called
	// on the worker goroutine of the probe concerned, so while it runs that
	// one probe waits and the others go on. It must return quickly (hand
	// the result to a queue) and must not call RemoveContainer, RemovePod,
	// Close, or AddContainer with a new ContainerID: they wait for the
	// workers concerned and could deadlock. Ready, Started, Status and
	// RunHook are safe. nil means no callback.
	OnResult func(Result)
	// Now is the clock for Result.Time and for InitialDelaySeconds, which
	// counts from the container's start time; nil means time.Now. Periods
	// and timeouts use real timers.
	Now func() time.Time
	// Logger receives debug logs of probe failures and state changes; nil
	// means zap.NewNop().
	Logger *zap.Logger
	// ReportInterval is the least time between two reported failures of a
	// probe that keeps failing beyond its failureThreshold (see
	// Reported); 0 means DefaultReportInterval.
	ReportInterval time.Duration
}

// DefaultReportInterval is Config.ReportInterval's default.
const DefaultReportInterval = 10 * time.Second

// Result is a probe outcome delivered to Config.OnResult. It is delivered
// for every failed attempt (so each can become an Event), for every
// attempt that changes the probe's thresholded state (Passing) and for
// every reported attempt (Reported); other successful attempts are not
// delivered, only counted (see Manager.Status).
type Result struct {
	PodUID        string
	ContainerName string
	ContainerID   string
	Kind          Kind
	// Succeeded is the outcome of this attempt.
	Succeeded bool
	// Passing is the probe's state after this attempt: for readiness
	// "ready", for startup "started", for liveness "alive". Readiness and
	// startup begin false, liveness begins true.
	Passing bool
	// Changed is true when this attempt flipped Passing.
	Changed bool
	// Reported is true when this attempt updated the state Manager.Reported
	// returns: the container's status should be written again.
	Reported bool
	// Restart is true when a liveness or startup probe reached its
	// failureThreshold: the container must be killed (and restarted as
	// its Pod's restartPolicy says). The probe then stops until the
	// container is added again with a new ID.
	Restart bool
	// ConsecutiveSuccesses and ConsecutiveFailures count attempts up to
	// and including this one; one of them is 0.
	ConsecutiveSuccesses int32
	ConsecutiveFailures  int32
	// Message says why this attempt failed ("" if it succeeded), e.g.
	// "HTTP probe failed with statuscode: 503".
	Message string
	// LastFailure is the most recent failure message, kept after
	// successes.
	LastFailure string
	// Time is when the attempt started; Duration how long it took.
	Time     time.Time
	Duration time.Duration
}

// ProbeStatus is the current state of one probe of a container.
type ProbeStatus struct {
	Kind                 Kind
	Passing              bool
	ConsecutiveSuccesses int32
	ConsecutiveFailures  int32
	LastFailure          string
	// LastProbeTime is the start of the last attempt; zero before the first.
	LastProbeTime time.Time
	// Attempts counts all attempts; Successes and Failures split them.
	Attempts  int64
	Successes int64
	Failures  int64
	// LastFailureTime is the start of the last failed attempt.
	LastFailureTime time.Time
	// LastTransitionTime is the start of the attempt that last flipped
	// Passing; zero while it never did.
	LastTransitionTime time.Time
	// RestartRequested is set once a liveness or startup probe reached
	// its failureThreshold (the state behind Result.Restart, for an agent
	// that reconciles from Status rather than from every Result).
	RestartRequested bool
}

// Container names a running container whose probes a Manager runs.
type Container struct {
	PodUID string
	// ContainerID is the runtime's ID of this instance (exec probes run in
	// it). Adding the same Pod container with another ID replaces the
	// probes of the previous instance.
	ContainerID string
	// PodIP is the address httpGet, tcpSocket and grpc probes target when
	// their host is empty; required for such probes.
	PodIP string
	// StartedAt is when the container started; initialDelaySeconds counts
	// from it. Zero means now.
	StartedAt time.Time
	// Spec holds the name, the declared ports (for named probe ports) and
	// the three probes.
	Spec api.Container
	// WasStarted and WasReady carry what the Pod's status last said of
	// this very instance, for a container that was running before the
	// agent (re)started: a started one does not run its startup probe
	// again, and a ready one stays ready until its readiness probe fails
	// failureThreshold times. Without them an agent restart would take
	// every adopted Pod out of Ready until its first probe, which comes up
	// to a period later (jittered, so that adopted probes do not fire in
	// lockstep).
	WasStarted, WasReady bool
}

// Manager runs the probes of the containers added to it: one worker
// goroutine per probe. Its methods are safe for concurrent use.
type Manager struct {
	cfg Config
	log *zap.Logger
	now func() time.Time
	// reportInterval is cfg.ReportInterval or its default.
	reportInterval time.Duration
	exec           *executor
	// epoch is when the Manager was created: containers that started
	// before it (adopted after an agent restart) get their first probe
	// jittered over a period.
	epoch time.Time

	mu         sync.Mutex
	closed     bool
	containers map[key]*target
}

type key struct{ pod, name string }

// New returns a Manager. It starts no goroutines; AddContainer does.
func New(cfg Config) *Manager {
	m := &Manager{cfg: cfg, log: cfg.Logger, now: cfg.Now, containers: map[key]*target{}}
	if m.log == nil {
		m.log = zap.NewNop()
	}
	m.log = m.log.Named("prober")
	if m.now == nil {
		m.now = time.Now
	}
	m.reportInterval = cfg.ReportInterval
	if m.reportInterval <= 0 {
		m.reportInterval = DefaultReportInterval
	}
	m.epoch = m.now()
	m.exec = newExecutor(cfg.Runtime)
	return m
}

// target is one container instance and its workers.
type target struct {
	key         key
	containerID string
	podIP       string
	startedAt   time.Time
	specs       [3]*spec      // indexed by kindIndex; nil when absent
	urls        [3]string     // httpGet URLs, indexed like specs
	startedCh   chan struct{} // closed when the startup probe passed (or there is none)
	startOnce   sync.Once
	skipStartup bool // no startup worker: none, or started before (WasStarted)
	ctx         context.Context
	cancel      context.CancelFunc
	wg          sync.WaitGroup

	mu      sync.Mutex
	stopped bool
	// ps is nil for a container without probes (most of them), which then
	// costs a few hundred bytes instead of two sets of three statuses.
	ps *probeStates
}

// probeStates are a target's probe states, indexed like specs.
type probeStates struct {
	status [3]ProbeStatus
	// reported holds the status as of each probe's last reported
	// attempt (see Manager.Reported).
	reported [3]ProbeStatus
}

// cancelWorkers ends the workers' context, if the target has workers.
func (t *target) cancelWorkers() {
	if t.cancel != nil {
		t.cancel()
	}
}

var kinds = [3]Kind{Startup, Liveness, Readiness}

func kindIndex(k Kind) int {
	switch k {
	case Startup:
		return 0
	case Liveness:
		return 1
	}
	return 2
}

// AddContainer starts the probes of c. Adding a Pod container that is
// already there with the same ContainerID does nothing; with another ID
// it stops the old instance's probes (waiting for them) and starts new
// ones with fresh state. A container without probes is recorded as
// started and ready.
//
// Errors: ErrClosed after Close; errors wrapping ErrInvalid that name
// every bad field below the container (e.g. `container "web":
// livenessProbe.httpGet.port: port name "http" is not declared`): a probe
// with zero or two handlers, an undeclared port name, a negative period,
// timeout or threshold, successThreshold other than 1 on liveness or
// startup, an empty exec command, a missing PodUID, container name or
// PodIP (when a probe needs it).
func (m *Manager) AddContainer(c Container) error {
	t, err := m.newTarget(c)
	if err != nil {
		return err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		t.cancelWorkers()
		return ErrClosed
	}
	old := m.containers[t.key]
	if old != nil && old.containerID == t.containerID {
		m.mu.Unlock()
		t.cancelWorkers()
		return nil
	}
	m.containers[t.key] = t
	m.mu.Unlock()
	if old != nil {
		old.stop()
	}
	m.start(t)
	return nil
}

func (m *Manager) newTarget(c Container) (*target, error) {
	var errs []error
	if c.PodUID == "" {
		errs = append(errs, errors.New("PodUID: required"))
	}
	if c.Spec.Name == "" {
		errs = append(errs, errors.New("Spec.Name: required"))
	}
	t := &target{
		key:         key{c.PodUID, c.Spec.Name},
		containerID: c.ContainerID,
		podIP:       c.PodIP,
		startedAt:   c.StartedAt,
		startedCh:   make(chan struct{}),
	}
	if t.startedAt.IsZero() {
		t.startedAt = m.now()
	}
	probes := [3]*api.Probe{c.Spec.StartupProbe, c.Spec.LivenessProbe, c.Spec.ReadinessProbe}
	for i, p := range probes {
		if p == nil {
			continue
		}
		s, err := buildSpec(kinds[i], p, &c.Spec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		needsIP := s.handler != handlerExec && s.host == ""
		if needsIP && net.ParseIP(c.PodIP) == nil {
			errs = append(errs, fmt.Errorf("PodIP: %q is not an IP address, and %s needs it", c.PodIP, kinds[i].field()))
		}
		if s.handler == handlerExec && c.ContainerID == "" {
			errs = append(errs, fmt.Errorf("ContainerID: required by %s.exec", kinds[i].field()))
		}
		if s.handler == handlerHTTP {
			scheme := "http"
			if s.https {
				scheme = "https"
			}
			t.urls[i] = scheme + "://" + s.addr(c.PodIP) + s.path
		}
		t.specs[i] = s
		if t.ps == nil {
			t.ps = &probeStates{}
		}
		t.ps.status[i] = ProbeStatus{Kind: kinds[i], Passing: kinds[i] == Liveness}
		t.ps.reported[i] = t.ps.status[i]
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: container %q: %w", ErrInvalid, c.Spec.Name, errors.Join(errs...))
	}
	if t.specs[0] == nil || c.WasStarted {
		t.markStarted()
		if t.specs[0] != nil {
			t.ps.status[0].Passing = true
		}
		t.skipStartup = true
	}
	if c.WasReady && t.specs[2] != nil {
		t.ps.status[2].Passing = true
	}
	if t.ps != nil {
		t.ctx, t.cancel = context.WithCancel(context.Background())
	}
	return t, nil
}

func (t *target) markStarted() { t.startOnce.Do(func() { close(t.startedCh) }) }

// stop ends the target's workers and waits for them; workers are never
// started after it (start checks stopped under the same lock).
func (t *target) stop() {
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
	t.cancelWorkers()
	t.wg.Wait()
}

func (m *Manager) start(t *target) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped {
		return
	}
	for i, s := range t.specs {
		if s == nil || (i == 0 && t.skipStartup) {
			continue
		}
		w := &worker{m: m, t: t, s: s, idx: i}
		t.wg.Add(1)
		go w.run(t.ctx)
	}
}

// RemoveContainer stops the probes of the Pod container and waits for
// them to end. A container that is not there is ignored.
func (m *Manager) RemoveContainer(podUID, name string) {
	m.mu.Lock()
	t := m.containers[key{podUID, name}]
	delete(m.containers, key{podUID, name})
	m.mu.Unlock()
	if t != nil {
		t.stop()
	}
}

// RemovePod stops the probes of every container of the Pod and waits.
func (m *Manager) RemovePod(podUID string) {
	m.mu.Lock()
	var ts []*target
	for k, t := range m.containers {
		if k.pod == podUID {
			ts = append(ts, t)
			delete(m.containers, k)
		}
	}
	m.mu.Unlock()
	stopAll(ts)
}

func stopAll(ts []*target) {
	for _, t := range ts {
		// Marked under its lock, so an AddContainer still starting t's
		// workers either starts none or finishes its wg.Add first.
		t.mu.Lock()
		t.stopped = true
		t.mu.Unlock()
		t.cancelWorkers()
	}
	for _, t := range ts {
		t.wg.Wait()
	}
}

// Close stops every probe and waits for all workers to end. Later
// AddContainer calls fail with ErrClosed. It is idempotent.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	ts := make([]*target, 0, len(m.containers))
	for _, t := range m.containers {
		ts = append(ts, t)
	}
	clear(m.containers)
	m.mu.Unlock()
	stopAll(ts)
	m.exec.close()
}

func (m *Manager) lookup(podUID, name string) *target {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.containers[key{podUID, name}]
}

// Started reports whether the container's startup probe has passed (true
// at once without one). False for an unknown container.
func (m *Manager) Started(podUID, name string) bool {
	t := m.lookup(podUID, name)
	if t == nil {
		return false
	}
	select {
	case <-t.startedCh:
		return true
	default:
		return false
	}
}

// Ready reports whether the container is ready: started, and its
// readiness probe (if any) passing. Readiness is false until the first
// success. False for an unknown container.
func (m *Manager) Ready(podUID, name string) bool {
	t := m.lookup(podUID, name)
	if t == nil || !m.Started(podUID, name) {
		return false
	}
	if t.specs[2] == nil {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ps.status[2].Passing
}

// Status returns the state of the container's probes (those it has, in
// the order startup, liveness, readiness); ok is false for an unknown
// container.
func (m *Manager) Status(podUID, name string) (st []ProbeStatus, ok bool) {
	return m.states(podUID, name, false)
}

// states returns the current or the reported state of each probe the
// container has; ok is false for an unknown container.
func (m *Manager) states(podUID, name string, reported bool) (st []ProbeStatus, ok bool) {
	t := m.lookup(podUID, name)
	if t == nil {
		return nil, false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, s := range t.specs {
		switch {
		case s == nil: // no probe here; t.ps is nil when it has none at all
		case reported:
			st = append(st, t.ps.reported[i])
		default:
			st = append(st, t.ps.status[i])
		}
	}
	return st, true
}

// Reported returns the state of the container's probes (in the order of
// Status) as of each probe's last reported attempt, for writing into Pod
// status without rewriting it on every period. An attempt is reported
// when it is the first, flips Passing, is a success while
// ConsecutiveSuccesses is at most the successThreshold (the first success
// after failures, or the ones that make readiness pass), or is a failure
// while ConsecutiveFailures is at most the failureThreshold or at least
// Config.ReportInterval after the last reported attempt. So a healthy
// probe's entry does not change, and one that keeps failing changes it at
// most once per ReportInterval, even when its message varies (an error
// may name an ephemeral port). ok is false for an unknown container.
func (m *Manager) Reported(podUID, name string) (st []ProbeStatus, ok bool) {
	return m.states(podUID, name, true)
}

// worker runs one probe of one container.
type worker struct {
	m   *Manager
	t   *target
	s   *spec
	idx int
}

func (w *worker) run(ctx context.Context) {
	defer w.t.wg.Done()
	if w.s.kind != Startup {
		select {
		case <-w.t.startedCh:
		case <-ctx.Done():
			return
		}
	}
	// The initial delay counts from the container's start. A container
	// that was running before this Manager existed (adopted after an agent
	// restart) gets a random part of a period on top, so that the probes
	// of many adopted containers do not fire in lockstep; a new container
	// is probed as soon as its delay has passed.
	wait := w.t.startedAt.Add(w.s.initialDelay).Sub(w.m.now())
	if w.t.startedAt.Before(w.m.epoch) {
		wait = max(wait, 0) + rand.N(w.s.period)
	}
	timer := time.NewTimer(max(wait, 0))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
		return
	}
	for {
		start := time.Now()
		if !w.probe(ctx) {
			return
		}
		timer.Reset(max(0, w.s.period-time.Since(start)))
		select {
		case <-timer.C:
		case <-ctx.Done():
			return
		}
	}
}

// probe runs one attempt, updates the state and reports it. It returns
// false when the worker should stop.
func (w *worker) probe(ctx context.Context) bool {
	at := w.m.now()
	begin := time.Now()
	o := w.m.exec.run(ctx, w.s, w.t)
	if ctx.Err() != nil {
		return false // stopped mid-attempt: the outcome means nothing
	}
	r := Result{
		PodUID: w.t.key.pod, ContainerName: w.t.key.name, ContainerID: w.t.containerID,
		Kind: w.s.kind, Succeeded: o.ok, Message: o.msg, Time: at, Duration: time.Since(begin),
	}
	t := w.t
	t.mu.Lock()
	st, rep := &t.ps.status[w.idx], &t.ps.reported[w.idx]
	st.Attempts++
	st.LastProbeTime = at
	report := st.Attempts == 1
	if o.ok {
		st.Successes++
		st.ConsecutiveSuccesses++
		st.ConsecutiveFailures = 0
		if !st.Passing && st.ConsecutiveSuccesses >= w.s.successThreshold {
			st.Passing, r.Changed = true, true
		}
		report = report || st.ConsecutiveSuccesses <= w.s.successThreshold
	} else {
		st.Failures++
		st.ConsecutiveFailures++
		st.ConsecutiveSuccesses = 0
		st.LastFailure, st.LastFailureTime = o.msg, at
		if st.ConsecutiveFailures >= w.s.failureThreshold {
			if st.Passing {
				st.Passing, r.Changed = false, true
			}
			r.Restart = w.s.kind != Readiness
			st.RestartRequested = r.Restart
		}
		report = report || st.ConsecutiveFailures <= w.s.failureThreshold ||
			at.Sub(rep.LastProbeTime) >= w.m.reportInterval
	}
	if r.Changed {
		st.LastTransitionTime = at
	}
	if report || r.Changed {
		*rep = *st
		r.Reported = true
	}
	r.Passing, r.LastFailure = st.Passing, st.LastFailure
	r.ConsecutiveSuccesses, r.ConsecutiveFailures = st.ConsecutiveSuccesses, st.ConsecutiveFailures
	t.mu.Unlock()

	if !o.ok {
		w.m.log.Debug("probe failed", zap.String("pod", r.PodUID), zap.String("container", r.ContainerName),
			zap.String("kind", string(r.Kind)), zap.String("message", o.msg),
			zap.Int32("failures", r.ConsecutiveFailures), zap.Bool("restart", r.Restart))
	} else if r.Changed {
		w.m.log.Debug("probe passing", zap.String("pod", r.PodUID), zap.String("container", r.ContainerName),
			zap.String("kind", string(r.Kind)))
	}
	startupDone := w.s.kind == Startup && r.Passing
	if startupDone {
		t.markStarted()
	}
	if (r.Changed || r.Reported || !o.ok) && w.m.cfg.OnResult != nil {
		w.m.cfg.OnResult(r)
	}
	// A startup probe is done once it passed; a liveness or startup probe
	// that asked for a restart holds until the container is replaced.
	return !startupDone && !r.Restart
}
