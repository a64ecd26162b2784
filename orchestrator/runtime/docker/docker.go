package docker

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/internal/eventbus"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"go.uber.org/zap"
)

// Runtime runs Pods as Docker containers. It implements runtime.Runtime,
// runtime.Execer and runtime.LogReader. Build it with New, call Start, and
// Close it when done; Close leaves containers running (they are adopted by
// the next Runtime with the same cluster ID and node name).
type Runtime struct {
	cfg       Config
	cli       *client.Client
	ownClient bool
	log       *zap.Logger
	bus       *eventbus.Bus
	network   string // name, for reading addresses
	networkID string // resolved by Start; guarded by mu

	pauseMu  sync.Mutex
	pauseRef string // set once the infra image is present

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	known   map[string]known // container ID -> last state seen (events + lists)
	// sandboxes caches sandbox labels (immutable) by ID.
	sandboxes map[string]map[string]string
	wg        sync.WaitGroup

	warm *warmPool // nil when Config.WarmSandboxes keeps none
}

// known is what the runtime last saw of a container, to turn the Docker
// event stream and re-lists into state-change events without duplicates.
type known struct {
	state  runtime.ContainerState
	labels map[string]string
	// pod is false for an unclaimed warm sandbox, which is no Pod's and
	// has no events.
	pod bool
}

var (
	_ runtime.Runtime        = (*Runtime)(nil)
	_ runtime.Execer         = (*Runtime)(nil)
	_ runtime.LogReader      = (*Runtime)(nil)
	_ runtime.ImageInspector = (*Runtime)(nil)
)

// New validates cfg, connects to the daemon, pings it and settles the API
// version (the highest both sides speak, unless the client was given a
// fixed one). It starts no goroutines of its own. Errors: the problems of
// cfg.Validate (runtime.ErrInvalid); runtime.ErrUnavailable naming
// DOCKER_HOST or the socket when the daemon cannot be reached.
func New(ctx context.Context, cfg Config) (*Runtime, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Runtime{cfg: cfg, cli: cfg.Client, log: cfg.Logger, network: cfg.Network, known: map[string]known{}}
	if r.log == nil {
		r.log = zap.NewNop()
	}
	r.log = r.log.Named("docker")
	if r.network == "" {
		r.network = "bridge"
	}
	if r.cli == nil {
		cli, err := client.New(client.FromEnv)
		if err != nil {
			return nil, &runtime.Error{Op: "New", Kind: runtime.ErrInvalid, Message: "docker client from environment (DOCKER_HOST, DOCKER_CERT_PATH...): " + err.Error(), Err: err}
		}
		r.cli, r.ownClient = cli, true
	}
	if _, err := r.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		if r.ownClient {
			_ = r.cli.Close()
		}
		return nil, &runtime.Error{Op: "New", Kind: runtime.ErrUnavailable,
			Message: "cannot reach the Docker daemon at " + daemonAddr(r.cli) + ": " + err.Error(), Err: err}
	}
	r.bus = eventbus.New(cfg.EventQueue)
	if r.warmTarget() > 0 {
		r.warm = &warmPool{wake: make(chan struct{}, 1)}
	}
	return r, nil
}

// Client returns the Engine API client the runtime uses.
func (r *Runtime) Client() *client.Client { return r.cli }

// Start makes the infra image present, creates the network if configured,
// lists the containers of this cluster and node (adoption), starts
// following the Docker event stream and starts keeping the warm sandboxes
// (Config.WarmSandboxes). Calling it again is a no-op. Errors:
// runtime.ErrClosed; runtime.ErrUnavailable; image import failures.
func (r *Runtime) Start(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return &runtime.Error{Op: "Start", Kind: runtime.ErrClosed}
	}
	if r.started {
		r.mu.Unlock()
		return nil
	}
	r.mu.Unlock()
	if _, err := r.ensurePause(ctx); err != nil {
		return err
	}
	if r.cfg.Network != "" {
		if err := r.ensureNetwork(ctx); err != nil {
			return err
		}
	}
	since := time.Now().Add(-time.Second) // tolerate small clock differences; duplicates are filtered
	list, err := r.relist(ctx, false)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return &runtime.Error{Op: "Start", Kind: runtime.ErrClosed}
	}
	if r.started {
		return nil
	}
	loopCtx, cancel := context.WithCancel(context.Background())
	r.cancel, r.started = cancel, true
	r.wg.Add(1)
	go r.watch(loopCtx, since)
	r.adoptWarm(list)
	if r.warm != nil {
		r.wg.Add(1)
		go r.keepWarm(loopCtx)
	}
	return nil
}

// Close stops following events, ends all subscriptions, waits for the
// runtime's goroutines and removes the idle warm sandboxes. Pods'
// containers keep running. It is idempotent.
func (r *Runtime) Close() error {
	r.mu.Lock()
	r.closed = true
	cancel := r.cancel
	own := r.ownClient
	r.ownClient = false
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	r.wg.Wait()
	r.drainWarm()
	r.bus.Close()
	if own {
		return r.cli.Close()
	}
	return nil
}

// Events implements runtime.Runtime. A subscription may be made before
// Start; events flow once Start has run. Errors: runtime.ErrClosed after
// Close.
func (r *Runtime) Events(ctx context.Context) (<-chan runtime.Event, error) {
	ch, err := r.bus.Subscribe(ctx)
	if err != nil {
		return nil, &runtime.Error{Op: "Events", Kind: runtime.ErrClosed}
	}
	return ch, nil
}

func (r *Runtime) ownLabels(kind string) map[string]string {
	return map[string]string{
		runtime.LabelManaged: "true", runtime.LabelKind: kind,
		runtime.LabelClusterID: r.cfg.ClusterID, runtime.LabelNode: r.cfg.NodeName,
	}
}

// ownFilter selects this cluster's and node's objects of kind ("" = all).
func (r *Runtime) ownFilter(kind string, extra map[string]string) client.Filters {
	f := make(client.Filters).Add("label",
		runtime.LabelClusterID+"="+r.cfg.ClusterID,
		runtime.LabelNode+"="+r.cfg.NodeName,
	)
	if kind != "" {
		f.Add("label", runtime.LabelKind+"="+kind)
	}
	for k, v := range extra {
		f.Add("label", k+"="+v)
	}
	return f
}

// networkCreateMu serializes finding-or-creating networks among the
// runtimes of one process (in-process test clusters and the quickstart start
// several nodes at once on one daemon). It holds no state; runtimes in
// different processes rely on the duplicate clean-up below instead.
var networkCreateMu sync.Mutex

// ensureNetwork finds (and with CreateNetwork, creates) Config.Network and
// remembers its ID. Docker before API 1.44 may create several networks of
// one name when nodes start at once; all runtimes then pick the same one
// (oldest, then lowest ID), and each removes the duplicate it made.
func (r *Runtime) ensureNetwork(ctx context.Context) error {
	networkCreateMu.Lock()
	defer networkCreateMu.Unlock()
	pick := func() (network.Summary, []network.Summary, error) {
		res, err := r.cli.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("name", r.cfg.Network)})
		if err != nil {
			return network.Summary{}, nil, r.wrap("Start", r.cfg.Network, err)
		}
		list := slices.DeleteFunc(res.Items, func(n network.Summary) bool { return n.Name != r.cfg.Network })
		slices.SortFunc(list, func(a, b network.Summary) int {
			if c := a.Created.Compare(b.Created); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		if len(list) == 0 {
			return network.Summary{}, nil, nil
		}
		return list[0], list[1:], nil
	}
	winner, _, err := pick()
	if err != nil {
		return err
	}
	if winner.ID == "" {
		if !r.cfg.CreateNetwork {
			return runtime.Errorf("Start", r.cfg.Network, runtime.ErrNotFound, "network %q does not exist (set CreateNetwork to create it)", r.cfg.Network)
		}
		labels := map[string]string{runtime.LabelManaged: "true", runtime.LabelKind: runtime.KindNetwork, runtime.LabelClusterID: r.cfg.ClusterID}
		created, err := r.cli.NetworkCreate(ctx, r.cfg.Network, client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
		if err != nil && !cerrdefs.IsConflict(err) {
			return r.wrap("Start", r.cfg.Network, fmt.Errorf("create network: %w", err))
		}
		var dups []network.Summary
		if winner, dups, err = pick(); err != nil {
			return err
		}
		for _, d := range dups {
			if d.ID == created.ID {
				_, _ = r.cli.NetworkRemove(ctx, d.ID, client.NetworkRemoveOptions{})
			}
		}
		if winner.ID == created.ID {
			r.log.Info("created network", zap.String("network", r.cfg.Network))
		}
	}
	if winner.ID == "" {
		return runtime.Errorf("Start", r.cfg.Network, runtime.ErrNotFound, "network %q vanished while starting", r.cfg.Network)
	}
	r.mu.Lock()
	r.networkID = winner.ID
	r.mu.Unlock()
	return nil
}

// networkMode is the sandbox network to join: the resolved network ID
// once Start ran, else the name.
func (r *Runtime) networkMode() container.NetworkMode {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.networkID != "" {
		return container.NetworkMode(r.networkID)
	}
	return container.NetworkMode(r.network)
}

// stateOf maps Docker's state words to ContainerState.
func stateOf(s string) runtime.ContainerState {
	switch s {
	case "created":
		return runtime.ContainerCreated
	case "running", "paused", "restarting":
		return runtime.ContainerRunning
	case "exited", "dead", "removing":
		return runtime.ContainerExited
	}
	return runtime.ContainerUnknown
}

// relist lists every container of this node, refreshes the known states
// and, when publish is set, emits events for differences (after a lost
// event stream) followed by EventResync. It returns the list.
func (r *Runtime) relist(ctx context.Context, publish bool) ([]container.Summary, error) {
	res, err := r.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: r.ownFilter("", nil)})
	if err != nil {
		return nil, r.wrap("List", "", err)
	}
	list := res.Items
	seen := make(map[string]known, len(list))
	for _, c := range list {
		name := ""
		if len(c.Names) > 0 {
			name = c.Names[0]
		}
		labels, pod := r.podIdentity(c.Labels, name)
		seen[c.ID] = known{state: stateOf(string(c.State)), labels: labels, pod: pod}
	}
	r.mu.Lock()
	old := r.known
	r.known = seen
	r.mu.Unlock()
	if !publish {
		return list, nil
	}
	now := time.Now()
	for id, k := range seen {
		o, had := old[id]
		if !k.pod {
			if k.state != runtime.ContainerRunning {
				r.forgetWarm(id)
			}
			continue
		}
		if had && o.state == k.state {
			continue
		}
		switch k.state {
		case runtime.ContainerRunning:
			r.publish(eventType(k.labels, runtime.EventContainerStarted), id, k.labels, 0, now)
		case runtime.ContainerExited:
			code := 0
			if in, err := r.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{}); err == nil && in.Container.State != nil {
				code = in.Container.State.ExitCode
			}
			r.publish(eventType(k.labels, runtime.EventContainerExited), id, k.labels, code, now)
		case runtime.ContainerCreated:
			r.publish(eventType(k.labels, runtime.EventContainerCreated), id, k.labels, 0, now)
		}
	}
	for id, o := range old {
		if _, ok := seen[id]; !ok {
			r.forgetWarm(id)
			if o.pod {
				r.publish(eventType(o.labels, runtime.EventContainerRemoved), id, o.labels, 0, now)
			}
		}
	}
	r.bus.Publish(runtime.Event{Type: runtime.EventResync, Time: now})
	return list, nil
}

// eventType maps a container event type to the sandbox's for sandboxes.
func eventType(labels map[string]string, t runtime.EventType) runtime.EventType {
	if labels[runtime.LabelKind] != runtime.KindSandbox {
		return t
	}
	switch t {
	case runtime.EventContainerStarted:
		return runtime.EventSandboxReady
	case runtime.EventContainerExited:
		return runtime.EventSandboxNotReady
	case runtime.EventContainerRemoved:
		return runtime.EventSandboxRemoved
	}
	return ""
}

func (r *Runtime) publish(t runtime.EventType, id string, labels map[string]string, code int, at time.Time) {
	if k := labels[runtime.LabelKind]; t == "" || (k != runtime.KindSandbox && k != runtime.KindContainer) {
		return // helper containers are the runtime's own business
	}
	ev := runtime.Event{Type: t, Time: at, PodUID: labels[runtime.LabelPodUID], ExitCode: code, Labels: maps.Clone(labels)}
	if labels[runtime.LabelKind] == runtime.KindSandbox {
		ev.SandboxID = id
	} else {
		ev.ContainerID, ev.SandboxID, ev.Name = id, labels[runtime.LabelSandboxID], labels[runtime.LabelContainerName]
	}
	r.bus.Publish(ev)
}

// watch follows the Docker event stream until ctx ends. A lost stream is
// re-opened from the last event's time (Since), and the containers are
// listed again so nothing is missed even if the daemon restarted.
func (r *Runtime) watch(ctx context.Context, since time.Time) {
	defer r.wg.Done()
	delay := r.cfg.ReconnectDelay
	if delay == 0 {
		delay = 200 * time.Millisecond
	}
	var lastNano int64
	lastKey := ""
	first := true
	failures := 0
	for {
		f := r.ownFilter("", nil)
		f.Add("type", "container")
		for _, a := range []string{"create", "start", "die", "oom", "destroy"} {
			f.Add("event", a)
		}
		sctx, cancel := context.WithCancel(ctx)
		evs := r.cli.Events(sctx, client.EventsListOptions{Since: fmt.Sprintf("%d.%09d", since.Unix(), since.Nanosecond()), Filters: f})
		if !first {
			if _, err := r.relist(ctx, true); err != nil {
				// Without the re-list a change made while the stream was
				// down could go unreported: start over.
				failures++
				r.log.Warn("re-list after event stream reconnect failed", zap.Error(err))
				cancel()
				if !r.pause(ctx, delay, failures) {
					return
				}
				continue
			}
			failures = 0
		}
		first = false
	stream:
		for {
			select {
			case <-ctx.Done():
				cancel()
				return
			case err := <-evs.Err:
				if ctx.Err() != nil {
					cancel()
					return
				}
				r.log.Warn("docker event stream lost; reconnecting", zap.Error(err))
				break stream
			case m := <-evs.Messages:
				key := m.Actor.ID + "/" + string(m.Action)
				if m.TimeNano < lastNano || (m.TimeNano == lastNano && key == lastKey) {
					continue // replayed by Since after a reconnect
				}
				lastNano, lastKey = m.TimeNano, key
				since = time.Unix(0, m.TimeNano)
				r.handle(m)
			}
		}
		cancel()
		if !r.pause(ctx, delay, failures) {
			return
		}
	}
}

// pause waits before the next attempt to reach a daemon that stays
// unreachable: delay, 2x, 4x ... 5 s. It reports false when ctx ended.
func (r *Runtime) pause(ctx context.Context, delay time.Duration, failures int) bool {
	wait := min(delay<<min(failures, 5), 5*time.Second)
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// handle turns one Docker event into a runtime event if it changes the
// container's known state (OOM always passes).
func (r *Runtime) handle(m events.Message) {
	labels := m.Actor.Attributes
	id := m.Actor.ID
	at := time.Unix(0, m.TimeNano)
	var t runtime.EventType
	var state runtime.ContainerState
	code := 0
	switch m.Action {
	case events.ActionCreate:
		t, state = runtime.EventContainerCreated, runtime.ContainerCreated
	case events.ActionStart:
		t, state = runtime.EventContainerStarted, runtime.ContainerRunning
	case events.ActionDie:
		t, state = runtime.EventContainerExited, runtime.ContainerExited
		code, _ = strconv.Atoi(labels["exitCode"])
	case events.ActionOOM:
		r.publish(eventType(labels, runtime.EventContainerOOM), id, ownOnly(labels), 0, at)
		return
	case events.ActionDestroy:
		t, state = runtime.EventContainerRemoved, runtime.ContainerUnknown
	default:
		return
	}
	own, pod := r.podIdentity(ownOnly(labels), labels["name"])
	r.mu.Lock()
	old, had := r.known[id]
	if had && old.pod && !pod {
		// An event from before the warm sandbox was claimed (renamed).
		own, pod = old.labels, true
	}
	if state == runtime.ContainerUnknown {
		delete(r.known, id)
		delete(r.sandboxes, id)
	} else {
		r.known[id] = known{state: state, labels: own, pod: pod}
	}
	r.mu.Unlock()
	if !pod {
		if state != runtime.ContainerRunning && state != runtime.ContainerCreated {
			r.forgetWarm(id)
		}
		return
	}
	if had && old.state == state {
		return
	}
	r.publish(eventType(own, t), id, own, code, at)
}

// ownOnly drops the non-label attributes Docker mixes into event actors.
func ownOnly(attrs map[string]string) map[string]string {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		switch k {
		case "name", "image", "exitCode", "signal", "execDuration":
			continue
		}
		out[k] = v
	}
	return out
}
