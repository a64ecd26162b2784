// Package agent is the node agent (Kubernetes' kubelet): it registers its
// Node and renews its heartbeat, runs the Pods bound to it through a
// runtime.Runtime, restarts their containers per restartPolicy with
// backoff, writes their status, and stops Pods that were deleted.
//
// Usage: New(Config), then Run(ctx) in a goroutine; cancel ctx to stop.
//
// The heartbeat is the Node's Lease (coordination.k8s.io/v1, in the
// kube-node-lease Namespace, named after the Node, owned by it), renewed
// every HeartbeatInterval with renewTime in microseconds, as the kubelet
// renews its node lease. The Node's status (its Ready condition and
// lastHeartbeatTime) is written when it would change and otherwise only
// every StatusReportInterval, as the kubelet's nodeStatusReportFrequency.
//
// Probes run through the prober package (one worker per probe; results
// queue the Pod for a status sync); a container is Ready when it runs and
// the prober says so. Its status lists its probes' results, counts and last
// failure message (api.ContainerProbeStatus), rewritten only when the
// prober reports a change, not every period. A liveness or startup failure
// runs the preStop hook, stops the container with the probe's (or the
// Pod's) grace period and restarts it unless restartPolicy is Never.
// Restarts follow the backoff package: the first at once, then BackoffBase
// doubling to BackoffMax, reset after BackoffResetAfter of running, shown
// as the CrashLoopBackOff waiting reason with the next restart time.
//
// Every stop (Pod deleted, replaced or moved, a failed probe, a sandbox
// that stopped being ready, StopPodsOnShutdown) runs the preStop hooks
// and honours the grace period, leaving at least 2 s after a hook that
// used it up. Stops run in goroutines of their own, so a slow one holds
// back only its Pod, never the sync workers; at shutdown all Pods stop at
// once. Containers carry their Pod's grace period and preStop hook as
// labels, so a Pod deleted while the agent was down still stops as its
// spec said.
//
// A container's environment is made as the kubelet makes it (env.go):
// envFrom ConfigMaps, env values with $(VAR) expansion, fieldRef,
// resourceFieldRef and configMapKeyRef; a missing ConfigMap or key leaves
// the container waiting with reason CreateContainerConfigError. The
// Services' Docker-links style variables follow (serviceenv.go), from a
// cache of every Service the agent keeps (list and watch of Services,
// which the node authorizer grants agents); a container is not made
// before that cache has listed once.
//
// Init containers run in order before the app containers, and sidecars
// (init containers with restartPolicy Always) beside them, with the
// kubelet's rules (init.go); sidecars stop after the app containers.
//
// Volumes (volumes.go) become runtime mounts: emptyDir (on disk or in
// memory), hostPath after the kubelet's type checks, and configMap,
// downwardAPI and projected volumes as the files the kubelet writes; a
// volume that cannot be set up leaves its container waiting with a
// FailedMount Event.
//
// What it does not do yet: Secrets (validation refuses them), updates of
// ConfigMap volumes in running containers (a restarted container gets the
// new content), graceful Pod deletion (the registry deletes a Pod at once;
// the agent then stops its containers with the Pod's grace period).
package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/internal/ratelog"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/backoff"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"github.com/flotilla-io/flotilla/orchestrator/internal/prober"
	"github.com/flotilla-io/flotilla/orchestrator/internal/workqueue"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"go.uber.org/zap"
)

// Config configures an Agent. Zero durations take the defaults named.
type Config struct {
	NodeName string
	Client   client.Interface
	Runtime  runtime.Runtime
	// Recorder, if set, records the agent's Events; Run runs it.
	Recorder *events.Recorder
	// Capacity is the Node's capacity and allocatable (cpu, memory, pods).
	Capacity  api.ResourceList
	Labels    map[string]string
	Addresses []api.NodeAddress
	// HeartbeatInterval is how often the Node's Lease is renewed and its
	// status checked (1 s). The Lease's leaseDurationSeconds is four
	// intervals, in whole seconds (at least 1), as the kubelet renews its
	// 40 s lease every 10 s.
	HeartbeatInterval time.Duration
	// StatusReportInterval is how often the Node's status is rewritten
	// when nothing in it changed, to refresh its Ready condition's
	// lastHeartbeatTime (10 HeartbeatIntervals). A change (the node
	// lifecycle controller marked it not ready, new capacity) is written
	// at the next heartbeat.
	StatusReportInterval time.Duration
	// ResyncInterval is how often every Pod and the runtime are re-checked
	// (10 s).
	ResyncInterval time.Duration
	// SecretSyncInterval is how often the Secrets of a running Pod's
	// secret volumes are read again, their files updated in place when
	// they changed (1 s).
	SecretSyncInterval time.Duration
	// BackoffBase and BackoffMax bound the restart backoff (10 s, 300 s):
	// the first restart of a streak is immediate, the second waits
	// BackoffBase, doubling up to BackoffMax.
	BackoffBase, BackoffMax time.Duration
	// BackoffResetAfter: a container that ran this long before exiting
	// starts a new back-off streak (10 min).
	BackoffResetAfter time.Duration
	// StopPodsOnShutdown stops and removes every Pod when Run ends, unless
	// Run's context was canceled with the cause ErrLeavePods.
	StopPodsOnShutdown bool
	// Workers is the number of Pods synced in parallel (8).
	Workers int
	// Metrics, if set, receives the agent's metrics (its work queue, Pod
	// starts, heartbeat and sync failures); nil records nothing.
	Metrics *metrics.Agent
	Logger  *zap.Logger
}

// Agent runs the Pods of one node.
type Agent struct {
	cfg Config
	log *zap.Logger
	// failures logs failures that may persist (runtime list, Pod sync,
	// heartbeat) at Warn, rate-limited per kind.
	failures *ratelog.Limiter
	pods     *informer.Informer
	// services caches every Service, for the containers' Service
	// environment variables (the kubelet's service lister).
	services *informer.Informer
	queue    *workqueue.Queue

	rtc *rtCache

	prober *prober.Manager
	bo     *backoff.Backoff

	// admitMu guards admitted: the UIDs of the Pods admitted to this node
	// (see admit.go).
	admitMu  sync.Mutex
	admitted map[string]bool

	mu   sync.Mutex
	gone map[string]map[string]bool // pod key -> UIDs whose sandboxes must go
	// known maps the UID of each Pod synced here to its last seen object,
	// for probe results and for the preStop hooks of a deleted Pod.
	known map[string]*api.Pod
	// probed maps backoff.Key(uid, name) to the container ID whose probes
	// run; exited to the ID of the last exit given to bo; killed to the ID
	// of a container a failed liveness or startup probe killed (its exit
	// is restarted unless the policy is Never, whatever its code).
	probed, exited, killed map[string]string
	// delivered maps backoff.Key(uid, volume) to the hash of the files
	// last handed to the runtime for a Memory Files volume (see
	// secretvolumes.go).
	delivered map[string]string
	// stopping holds the Pod UIDs, sandbox and container IDs whose stop
	// runs (see claimStop), each with a channel closed when it ends.
	stopping map[string]chan struct{}
	// stopFailures counts the failed stops of an ID in a row (goStop).
	stopFailures map[string]int
	stops        sync.WaitGroup
	// nextAttempt is the attempt number of a Pod UID's next sandbox, after
	// a sandbox that stopped being ready was removed.
	nextAttempt map[string]int
	// initial holds the Pods bound here when Run started that have not
	// been synced yet; when it empties, the agent has adopted (or
	// restarted) everything it found, and says so once.
	initial      map[string]bool
	initialStart time.Time
	initialPods  int

	// lease is the Node's Lease as last written; nil when it must be read
	// first. Only the heartbeat goroutine uses it.
	lease *api.Lease
}

// New returns an Agent; it starts nothing.
func New(cfg Config) *Agent {
	if cfg.HeartbeatInterval <= 0 {
		cfg.HeartbeatInterval = time.Second
	}
	if cfg.StatusReportInterval <= 0 {
		cfg.StatusReportInterval = 10 * cfg.HeartbeatInterval
	}
	if cfg.SecretSyncInterval <= 0 {
		cfg.SecretSyncInterval = defaultSecretSyncInterval
	}
	if cfg.ResyncInterval <= 0 {
		cfg.ResyncInterval = 10 * time.Second
	}
	if cfg.BackoffBase <= 0 {
		cfg.BackoffBase = 10 * time.Second
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = 300 * time.Second
	}
	if cfg.BackoffMax < cfg.BackoffBase {
		cfg.BackoffMax = cfg.BackoffBase
	}
	if cfg.BackoffResetAfter <= 0 {
		cfg.BackoffResetAfter = 10 * time.Minute
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 8
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	a := &Agent{cfg: cfg, log: cfg.Logger, rtc: newRTCache(), gone: map[string]map[string]bool{}, admitted: map[string]bool{},
		known: map[string]*api.Pod{}, probed: map[string]string{}, exited: map[string]string{}, killed: map[string]string{}, delivered: map[string]string{},
		stopping: map[string]chan struct{}{}, stopFailures: map[string]int{}, nextAttempt: map[string]int{}}
	bo, err := backoff.New(backoff.Config{Initial: cfg.BackoffBase, Max: cfg.BackoffMax, ResetAfter: cfg.BackoffResetAfter})
	if err != nil {
		panic(err) // unreachable: the defaults above make the config valid
	}
	a.bo = bo
	a.prober = prober.New(prober.Config{Runtime: cfg.Runtime, OnResult: a.onProbeResult, Logger: cfg.Logger})
	// The Pod list is linearizable: a node restarted without its data,
	// or behind, must not see an empty or old list from its own replica
	// and stop the running Pods it does not find there.
	a.pods = informer.New(cfg.Client, &api.Pod{}, client.ListOptions{
		Fields:     api.OneTermEqualSelector("spec.nodeName", cfg.NodeName),
		Consistent: true,
	}, cfg.Logger)
	a.services = informer.New(cfg.Client, &api.Service{}, client.ListOptions{}, cfg.Logger)
	a.services.AddIndex(informer.IndexNamespace, informer.NamespaceIndex)
	a.queue = workqueue.New(cfg.BackoffBase/10+time.Millisecond, cfg.BackoffMax, workqueue.WithMetrics(cfg.Metrics.Queue()))
	a.failures = ratelog.New(a.log, ratelog.DefaultInterval)
	a.pods.AddHandler(informer.Handler{
		OnAdd:    func(o api.Object) { a.queue.Add(api.KeyOf(o)) },
		OnUpdate: func(_, o api.Object) { a.queue.Add(api.KeyOf(o)) },
		OnDelete: func(o api.Object) {
			a.markGone(api.KeyOf(o), string(o.GetUID()))
			a.queue.Add(api.KeyOf(o))
		},
	})
	return a
}

// ErrLeavePods, as the cause of Run's context (context.WithCancelCause),
// leaves the Pods running even with StopPodsOnShutdown: a crash-like stop.
var ErrLeavePods = errors.New("agent: stopped without stopping Pods")

// Run registers the Node, keeps its heartbeat and runs Pods until ctx
// ends; it returns when every goroutine it started has stopped.
func (a *Agent) Run(ctx context.Context) {
	started := time.Now()
	var wg sync.WaitGroup
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	// The Recorder outlives the rest, to record what the shutdown's stops
	// report (a failed preStop hook).
	var recorder sync.WaitGroup
	rctx, rcancel := context.WithCancel(context.WithoutCancel(parent))
	defer func() {
		cancel()
		a.queue.Shutdown()
		wg.Wait()
		a.stops.Wait() // their ctx ended: a container still stopping is left as it is
		if a.cfg.StopPodsOnShutdown && !errors.Is(context.Cause(parent), ErrLeavePods) {
			sctx, scancel := context.WithTimeout(context.Background(), a.shutdownBudget())
			a.stopAll(sctx)
			scancel()
		}
		a.prober.Close()
		rcancel()
		recorder.Wait()
	}()
	if a.cfg.Recorder != nil {
		recorder.Go(func() { a.cfg.Recorder.Run(rctx) })
	}
	evs, err := a.cfg.Runtime.Events(ctx)
	if err != nil {
		a.log.Error("runtime events unavailable; relying on resync", zap.Error(err))
	}
	wg.Add(4)
	go func() { defer wg.Done(); a.services.Run(ctx) }()
	go func() { defer wg.Done(); a.heartbeat(ctx) }()
	go func() { defer wg.Done(); a.pods.Run(ctx) }()
	go func() { defer wg.Done(); a.runtimeEvents(ctx, evs) }()
	if err := a.pods.WaitSynced(ctx); err != nil {
		return
	}
	a.mu.Lock()
	a.initialStart = started
	a.initial = map[string]bool{}
	for _, o := range a.pods.List() {
		a.initial[api.KeyOf(o)] = true
	}
	a.initialPods = len(a.initial)
	a.mu.Unlock()
	a.resync(ctx) // fills the runtime cache before any Pod is synced
	a.initialSynced("")
	for range a.cfg.Workers {
		wg.Add(1)
		go func() { defer wg.Done(); a.worker(ctx) }()
	}
	if _, ok := a.cfg.Runtime.(runtime.FilesUpdater); ok {
		wg.Go(func() { a.secretVolumesLoop(ctx) })
	}
	t := time.NewTicker(a.cfg.ResyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.resync(ctx)
		}
	}
}

func (a *Agent) markGone(key, uid string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.gone[key] == nil {
		a.gone[key] = map[string]bool{}
	}
	a.gone[key][uid] = true
}

func (a *Agent) takeGone(key string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for uid := range a.gone[key] {
		out = append(out, uid)
	}
	delete(a.gone, key)
	return out
}

// resync re-lists the runtime into the cache and queues every Pod bound
// here and every Pod whose sandbox runs here without being bound here.
func (a *Agent) resync(ctx context.Context) {
	seq := a.rtc.next()
	sbs, err := a.cfg.Runtime.ListPodSandboxes(ctx, nil)
	if err != nil {
		a.failures.Warn("runtimelist", "runtime list failed", zap.Error(err))
		return
	}
	cs, err := a.cfg.Runtime.ListContainers(ctx, nil)
	if err != nil {
		a.failures.Warn("runtimelist", "runtime list failed", zap.Error(err))
		return
	}
	a.rtc.replace(sbs, cs, seq)
	for _, o := range a.pods.List() {
		a.queue.Add(api.KeyOf(o))
	}
	for _, sb := range sbs {
		key := api.Key(sb.Namespace, sb.Name)
		if o, ok := a.pods.Get(key); !ok || string(o.GetUID()) != sb.UID {
			a.markGone(key, sb.UID)
			a.queue.Add(key)
		}
	}
}

func (a *Agent) runtimeEvents(ctx context.Context, evs <-chan runtime.Event) {
	if evs == nil {
		return
	}
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-evs:
			if !ok {
				return
			}
			if ev.Type == runtime.EventResync {
				a.resync(ctx)
				continue
			}
			a.refresh(ctx, ev)
			ns, name := ev.Labels[runtime.LabelNamespace], ev.Labels[runtime.LabelPodName]
			if name != "" {
				a.queue.Add(api.Key(ns, name))
			}
		}
	}
}

// refresh updates the runtime cache for the object an event is about. Its
// inspect may return after the agent's own newer write; the cache's
// sequence numbers keep the newer state.
func (a *Agent) refresh(ctx context.Context, ev runtime.Event) {
	switch {
	case ev.ContainerID != "":
		if ev.Type == runtime.EventContainerRemoved {
			a.rtc.delContainer(ev.ContainerID, a.rtc.next())
			return
		}
		a.refreshContainer(ctx, ev.ContainerID)
	case ev.SandboxID != "":
		if ev.Type == runtime.EventSandboxRemoved {
			a.rtc.delSandbox(ev.SandboxID, a.rtc.next())
			return
		}
		a.refreshSandbox(ctx, ev.SandboxID)
	}
}

// refreshSandbox inspects a sandbox into the cache and returns its status
// (nil on error).
func (a *Agent) refreshSandbox(ctx context.Context, id string) (*runtime.PodSandboxStatus, error) {
	seq := a.rtc.next()
	s, err := a.cfg.Runtime.PodSandboxStatus(ctx, id)
	switch {
	case err == nil:
		a.rtc.putSandbox(s, seq)
	case runtime.IsNotFound(err):
		a.rtc.delSandbox(id, seq)
	}
	return s, err
}

func (a *Agent) refreshContainer(ctx context.Context, id string) {
	seq := a.rtc.next()
	s, err := a.cfg.Runtime.ContainerStatus(ctx, id)
	switch {
	case err == nil:
		a.rtc.putContainer(s, seq)
	case runtime.IsNotFound(err):
		a.rtc.delContainer(id, seq)
	}
}

func (a *Agent) worker(ctx context.Context) {
	for {
		key, ok := a.queue.Get()
		if !ok {
			return
		}
		requeue, err := a.syncPod(ctx, key)
		if err == nil {
			a.initialSynced(key)
		}
		switch {
		case err != nil && ctx.Err() == nil:
			if api.IsConflict(err) {
				a.log.Debug("pod sync conflict; retrying", zap.String("pod", key), zap.Error(err))
			} else {
				a.failures.Warn("podsync", "pod sync failed", zap.String("pod", key), zap.Error(err))
				a.cfg.Metrics.PodSyncFailed()
			}
			a.queue.AddRateLimited(key)
		case requeue > 0:
			a.queue.Forget(key)
			a.queue.AddAfter(key, requeue)
		default:
			a.queue.Forget(key)
		}
		a.queue.Done(key)
	}
}

// initialSynced records that the Pod key was synced since Run started and
// logs, once, when every Pod bound here at start has been.
func (a *Agent) initialSynced(key string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.initial == nil {
		return
	}
	delete(a.initial, key)
	if len(a.initial) > 0 {
		return
	}
	a.initial = nil
	a.log.Info("initial sync finished: every Pod bound here at start is running or adopted",
		zap.Int("pods", a.initialPods), zap.Duration("took", time.Since(a.initialStart)))
}

// ---- Node registration and heartbeat ----

func (a *Agent) nodeObject() *api.Node {
	labels := map[string]string{api.LabelHostname: a.cfg.NodeName}
	for k, v := range a.cfg.Labels {
		labels[k] = v
	}
	n := &api.Node{ObjectMeta: api.ObjectMeta{Name: a.cfg.NodeName, Labels: labels}}
	a.fillStatus(n)
	return n
}

func (a *Agent) fillStatus(n *api.Node) {
	now := api.Now()
	n.Status.Capacity = a.cfg.Capacity
	n.Status.Allocatable = a.cfg.Capacity
	n.Status.Addresses = a.cfg.Addresses
	conditions.SetNode(&n.Status, api.NodeCondition{
		Type: api.NodeReady, Status: api.ConditionTrue, Reason: "AgentReady",
		Message: "flotilla agent is posting ready status", LastHeartbeatTime: now,
	}, now)
	if c := api.GetNodeCondition(&n.Status, api.NodeReady); c != nil {
		c.LastHeartbeatTime = now
	}
}

func (a *Agent) heartbeat(ctx context.Context) {
	t := time.NewTicker(a.cfg.HeartbeatInterval)
	defer t.Stop()
	for {
		if err := a.renew(ctx); err != nil && ctx.Err() == nil {
			a.failures.Warn("heartbeat", "node heartbeat failed", zap.Error(err))
			a.cfg.Metrics.HeartbeatFailed()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// renew is one heartbeat: the Node is registered if it is not, its
// status written if due, then its Lease renewed.
func (a *Agent) renew(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 5*a.cfg.HeartbeatInterval)
	defer cancel()
	node, err := a.syncNode(ctx)
	if err != nil {
		return err
	}
	return a.renewLease(ctx, node)
}

// syncNode creates the Node, or writes its status when it would change or
// its lastHeartbeatTime is StatusReportInterval old, and returns it.
func (a *Agent) syncNode(ctx context.Context) (*api.Node, error) {
	var n api.Node
	err := a.cfg.Client.Get(ctx, "", a.cfg.NodeName, &n, client.GetOptions{})
	if api.IsNotFound(err) {
		n := a.nodeObject()
		if err := a.cfg.Client.Create(ctx, n, client.CreateOptions{}); err != nil {
			return nil, err
		}
		a.log.Info("node registered")
		return n, nil
	}
	if err != nil {
		return nil, err
	}
	if !a.statusDue(&n) {
		return &n, nil
	}
	a.fillStatus(&n)
	if err := a.cfg.Client.UpdateStatus(ctx, &n, client.UpdateOptions{}); err != nil {
		return nil, err
	}
	return &n, nil
}

// statusDue reports whether n's status is to be written: fillStatus would
// change more than the Ready condition's lastHeartbeatTime, or that is
// StatusReportInterval old.
func (a *Agent) statusDue(n *api.Node) bool {
	c := api.GetNodeCondition(&n.Status, api.NodeReady)
	if c == nil || time.Since(c.LastHeartbeatTime.Time) >= a.cfg.StatusReportInterval {
		return true
	}
	next := n.DeepCopy()
	a.fillStatus(next)
	api.GetNodeCondition(&next.Status, api.NodeReady).LastHeartbeatTime = c.LastHeartbeatTime
	before, err1 := json.Marshal(n.Status)
	after, err2 := json.Marshal(next.Status)
	return err1 != nil || err2 != nil || !bytes.Equal(before, after)
}

// leaseDurationSeconds is the Lease's term: four heartbeats, in whole
// seconds, at least 1.
func (a *Agent) leaseDurationSeconds() int32 {
	return int32(max(1, (4*a.cfg.HeartbeatInterval+time.Second-1)/time.Second))
}

// renewLease renews the Node's Lease, creating it when missing; the Lease
// is owned by node, so it goes when the Node does. A failed write forgets
// the Lease, to read it again at the next heartbeat.
func (a *Agent) renewLease(ctx context.Context, node *api.Node) error {
	if a.lease == nil {
		var l api.Lease
		err := a.cfg.Client.Get(ctx, api.NodeLeaseNamespace, a.cfg.NodeName, &l, client.GetOptions{})
		switch {
		case api.IsNotFound(err):
			return a.createLease(ctx, node)
		case err != nil:
			return err
		}
		a.lease = &l
	}
	next := a.lease.DeepCopy()
	a.fillLease(next, node)
	if err := a.cfg.Client.Update(ctx, next, client.UpdateOptions{}); err != nil {
		a.lease = nil
		return err
	}
	a.lease = next
	return nil
}

func (a *Agent) createLease(ctx context.Context, node *api.Node) error {
	l := &api.Lease{ObjectMeta: api.ObjectMeta{Name: a.cfg.NodeName, Namespace: api.NodeLeaseNamespace}}
	a.fillLease(l, node)
	if err := a.cfg.Client.Create(ctx, l, client.CreateOptions{}); err != nil {
		return err
	}
	a.lease = l
	return nil
}

// fillLease makes l this node's renewed Lease: held by the node (a new
// holder counts a transition and sets acquireTime), renewed now, owned by
// node.
func (a *Agent) fillLease(l *api.Lease, node *api.Node) {
	now := api.NowMicro()
	s := &l.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity != a.cfg.NodeName {
		if s.HolderIdentity != nil {
			s.LeaseTransitions = api.Ptr(ptrOr(s.LeaseTransitions, 0) + 1)
		}
		s.HolderIdentity = api.Ptr(a.cfg.NodeName)
		s.AcquireTime = &now
	}
	s.LeaseDurationSeconds = api.Ptr(a.leaseDurationSeconds())
	s.RenewTime = &now
	owner := api.OwnerReference{APIVersion: api.CoreV1, Kind: "Node", Name: node.Name, UID: node.UID}
	if node.UID != "" && !slices.Contains(l.OwnerReferences, owner) {
		// The Node was (re)created: it owns the Lease alone.
		l.OwnerReferences = []api.OwnerReference{owner}
	}
}

func ptrOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// ---- Pods ----

func (a *Agent) knownPod(uid string) *api.Pod {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.known[uid]
}

// forgetPod drops the probes, back-off and bookkeeping of a Pod UID.
func (a *Agent) forgetPod(uid string) {
	a.prober.RemovePod(uid)
	a.bo.ForgetPod(uid)
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.known, uid)
	delete(a.nextAttempt, uid)
	delete(a.stopFailures, uid)
	deletePod(uid, a.probed, a.exited, a.killed, a.delivered)
}

// unprobe stops the probes of a Pod UID's containers: none is Ready until
// its probes run again (syncProbes, for a new container).
func (a *Agent) unprobe(uid string) {
	a.prober.RemovePod(uid)
	a.mu.Lock()
	defer a.mu.Unlock()
	deletePod(uid, a.probed)
}

// deletePod deletes the keys of the Pod UID's containers
// (backoff.Key(uid, name)) from each map.
func deletePod(uid string, maps ...map[string]string) {
	prefix := uid + "/"
	for _, m := range maps {
		for k := range m {
			if strings.HasPrefix(k, prefix) {
				delete(m, k)
			}
		}
	}
}

// onProbeResult is the prober's callback: it records failures as Events
// and queues the Pod when a probe's state changed or a result is to be
// reported in its status (prober.Result.Reported, which is not every
// attempt: see api.ContainerProbeStatus). It never blocks.
func (a *Agent) onProbeResult(r prober.Result) {
	pod := a.knownPod(r.PodUID)
	if pod == nil {
		return
	}
	if !r.Succeeded {
		// Every failed attempt: the Recorder counts repeats into one
		// Event, written at most once per events.AggregationInterval.
		a.cfg.Recorder.Eventf(pod, api.EventTypeWarning, "Unhealthy", "%s probe failed: %s", r.Kind, r.Message)
	}
	if r.Changed || r.Restart || r.Reported {
		a.queue.Add(api.KeyOf(pod))
	}
}

// syncPod converges one Pod and returns a delay after which it wants to be
// looked at again (restart backoff), if any.
func (a *Agent) syncPod(ctx context.Context, key string) (time.Duration, error) {
	if _, _, err := api.SplitKey(key); err != nil {
		return 0, nil
	}
	var pod *api.Pod
	if o, ok := a.pods.Get(key); ok {
		pod = o.(*api.Pod)
	}
	rt := a.cfg.Runtime
	doomed := a.takeGone(key)
	if pod == nil || pod.DeletionTimestamp != nil || pod.Spec.NodeName != a.cfg.NodeName {
		if pod != nil {
			doomed = append(doomed, string(pod.UID))
		}
		for _, uid := range doomed {
			a.log.Debug("stopping pod", zap.String("pod", key), zap.String("uid", uid))
			last := a.knownPod(uid)
			if last == nil && pod != nil && string(pod.UID) == uid {
				last = pod
			}
			a.goStop(ctx, uid, key, func(ctx context.Context) error { return a.stopPod(ctx, uid, last) })
		}
		return 0, nil
	}
	for _, uid := range doomed {
		if uid != string(pod.UID) {
			last := a.knownPod(uid)
			a.goStop(ctx, uid, key, func(ctx context.Context) error { return a.stopPod(ctx, uid, last) })
		}
	}
	a.mu.Lock()
	a.known[string(pod.UID)] = pod
	a.mu.Unlock()
	var sb *runtime.PodSandboxStatus
	for _, s := range a.rtc.sandboxesOf(string(pod.UID)) {
		if sb == nil || s.Attempt > sb.Attempt {
			sb = s
		}
	}
	if api.IsPodTerminal(pod) {
		a.prober.RemovePod(string(pod.UID))
		return 0, a.finishTerminal(ctx, pod, sb)
	}
	if sb != nil {
		a.markAdmitted(string(pod.UID))
	} else if reason, message := a.admit(pod); reason != "" {
		return 0, a.reject(ctx, pod, reason, message)
	}
	if sb != nil && sb.State != runtime.SandboxReady {
		// Stop what still runs in it (preStop, grace period) and remove it
		// before the Pod gets a new one; if its stop ran and could not
		// remove it, the new one starts beside it.
		uid := string(pod.UID)
		a.mu.Lock()
		tried := a.nextAttempt[uid] > sb.Attempt
		a.nextAttempt[uid] = max(a.nextAttempt[uid], sb.Attempt+1)
		a.mu.Unlock()
		if !tried || a.isStopping(sb.ID) {
			old := sb
			a.goStop(ctx, old.ID, key, func(ctx context.Context) error { return a.killSandbox(ctx, old, pod) })
			// Its containers have lost their network: not Ready from now
			// on, not after their grace period.
			a.unprobe(uid)
			return 0, a.writeStatus(ctx, pod, sb, a.rtc.containersOf(uid), nil)
		}
		sb = nil
	}
	if sb == nil {
		a.mu.Lock()
		attempt := a.nextAttempt[string(pod.UID)]
		a.mu.Unlock()
		start := time.Now()
		id, err := rt.RunPodSandbox(ctx, &runtime.PodSandboxConfig{
			Name: pod.Name, Namespace: pod.Namespace, UID: string(pod.UID), Attempt: attempt,
			Hostname: pod.Spec.Hostname, PortMappings: portMappings(pod),
		})
		a.cfg.Metrics.RuntimeOperation("run_podsandbox", start, err)
		if err != nil {
			a.cfg.Metrics.PodStartFailed()
			return 0, err
		}
		if attempt == 0 {
			// From the Pod's creation (its first sandbox only): scheduling
			// included, as users see it.
			a.cfg.Metrics.PodStarted(pod.CreationTimestamp.Time)
		}
		if sb, err = a.refreshSandbox(ctx, id); err != nil {
			return 0, err
		}
	}
	all := a.rtc.containersOf(string(pod.UID))
	r := &syncResult{waiting: map[string]*api.ContainerStateWaiting{}}
	initialized, err := a.syncInit(ctx, pod, sb, all, r)
	if err != nil {
		return 0, err
	}
	if initialized {
		for i := range pod.Spec.Containers {
			c := &pod.Spec.Containers[i]
			if err := a.syncInto(ctx, pod, sb, c, byName(all, c.Name), r); err != nil {
				return 0, err
			}
		}
	}
	all = a.rtc.containersOf(string(pod.UID))
	a.syncProbes(pod, sb, all)
	return r.requeue, a.writeStatus(ctx, pod, sb, all, r.waiting)
}

// syncResult gathers what the containers of one Pod sync ask for: the
// earliest requeue and each waiting container's state.
type syncResult struct {
	requeue time.Duration
	waiting map[string]*api.ContainerStateWaiting
}

// syncInto syncs container c (see syncContainer) and records in r what it
// asks for. Errors: syncContainer's.
func (a *Agent) syncInto(ctx context.Context, pod *api.Pod, sb *runtime.PodSandboxStatus, c *api.Container, list []*runtime.ContainerStatus, r *syncResult) error {
	d, w, err := a.syncContainer(ctx, pod, sb, c, list)
	if err != nil {
		return err
	}
	if d > 0 && (r.requeue == 0 || d < r.requeue) {
		r.requeue = d
	}
	if w != nil {
		r.waiting[c.Name] = w
	}
	return nil
}

// syncProbes makes the prober run the probes of each running container of
// the Pod (its latest instance; sidecars too) and stop those of containers
// that exited.
func (a *Agent) syncProbes(pod *api.Pod, sb *runtime.PodSandboxStatus, all []*runtime.ContainerStatus) {
	uid := string(pod.UID)
	for _, c := range longRunning(pod) {
		k := backoff.Key(uid, c.Name)
		list := byName(all, c.Name)
		a.mu.Lock()
		cur := a.probed[k]
		a.mu.Unlock()
		if len(list) == 0 || list[0].State != runtime.ContainerRunning || list[0].SandboxID != sb.ID {
			if cur != "" {
				a.prober.RemoveContainer(uid, c.Name)
				a.mu.Lock()
				delete(a.probed, k)
				a.mu.Unlock()
			}
			continue
		}
		latest := list[0]
		if cur == latest.ID {
			continue
		}
		pc := prober.Container{PodUID: uid, ContainerID: latest.ID, PodIP: sb.IP, StartedAt: latest.StartedAt, Spec: *c}
		for _, cs := range pod.Status.ContainerStatuses {
			// What the status said of this instance: after an agent restart
			// an adopted container keeps its readiness until a probe says
			// otherwise.
			if cs.Name == c.Name && cs.ContainerID == "flotilla://"+latest.ID {
				pc.WasReady = cs.Ready
				pc.WasStarted = cs.Started != nil && *cs.Started
			}
		}
		err := a.prober.AddContainer(pc)
		if err != nil {
			// The container stays not ready: its probes cannot run.
			a.log.Debug("probes not started", zap.String("pod", api.KeyOf(pod)), zap.Error(err))
			a.cfg.Recorder.Eventf(pod, api.EventTypeWarning, "Unhealthy", "Probes of container %s not started: %v", c.Name, err)
		}
		a.mu.Lock()
		a.probed[k] = latest.ID
		a.mu.Unlock()
	}
}

// probedAs reports whether the prober runs the probes of container id.
func (a *Agent) probedAs(uid, name, id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.probed[backoff.Key(uid, name)] == id
}

// restartRequested returns the kind of the probe (liveness or startup)
// that asked for container id to be restarted, or "".
func (a *Agent) restartRequested(uid, name, id string) prober.Kind {
	if !a.probedAs(uid, name, id) {
		return ""
	}
	st, _ := a.prober.Status(uid, name)
	for _, s := range st {
		if s.RestartRequested {
			return s.Kind
		}
	}
	return ""
}

func portMappings(p *api.Pod) []runtime.PortMapping {
	var out []runtime.PortMapping
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			if port.HostPort > 0 {
				proto := runtime.ProtocolTCP
				if port.Protocol == api.ProtocolUDP {
					proto = runtime.ProtocolUDP
				}
				out = append(out, runtime.PortMapping{ContainerPort: int(port.ContainerPort), HostPort: int(port.HostPort), HostIP: port.HostIP, Protocol: proto})
			}
		}
	}
	return out
}

// byName returns the Pod's containers with that name, newest restart first.
func byName(all []*runtime.ContainerStatus, name string) []*runtime.ContainerStatus {
	var out []*runtime.ContainerStatus
	for _, c := range all {
		if c.Name == name {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(x, y *runtime.ContainerStatus) int { return y.RestartCount - x.RestartCount })
	return out
}

// willRestart reports whether the exited container latest (named name)
// of pod is to be restarted: as its restart policy (restartPolicyOf) says
// for its exit code, and always, unless the policy is Never, when its
// probe killed it (an app that exits 0 on SIGTERM does not complete an
// OnFailure Pod).
func (a *Agent) willRestart(pod *api.Pod, name string, latest *runtime.ContainerStatus) bool {
	policy := restartPolicyOf(pod, name)
	if ok, err := backoff.ShouldRestart(policy, latest.ExitCode); ok && err == nil {
		return true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return policy != api.RestartPolicyNever && a.killed[backoff.Key(string(pod.UID), name)] == latest.ID
}

// syncContainer makes one Pod container run (or stay exited per policy).
func (a *Agent) syncContainer(ctx context.Context, pod *api.Pod, sb *runtime.PodSandboxStatus, c *api.Container, existing []*runtime.ContainerStatus) (time.Duration, *api.ContainerStateWaiting, error) {
	rt := a.cfg.Runtime
	var latest *runtime.ContainerStatus
	if len(existing) > 0 {
		latest = existing[0]
	}
	restartCount := 0
	if latest != nil {
		if latest.SandboxID == sb.ID {
			switch latest.State {
			case runtime.ContainerRunning:
				kind := a.restartRequested(string(pod.UID), c.Name, latest.ID)
				if kind == "" || a.isStopping(latest.ID) {
					return 0, nil, nil
				}
				msg := "Container %s failed %s probe"
				if pod.Spec.RestartPolicy != api.RestartPolicyNever {
					msg += ", will be restarted"
				}
				a.cfg.Recorder.Eventf(pod, api.EventTypeNormal, "Killing", msg, c.Name, strings.ToLower(string(kind)))
				a.mu.Lock()
				a.killed[backoff.Key(string(pod.UID), c.Name)] = latest.ID
				a.mu.Unlock()
				// The exit is handled (restart policy, back-off) by the sync
				// that follows the stop.
				id, ip, grace := latest.ID, sb.IP, probeGrace(pod, c, kind)
				a.goStop(ctx, id, api.KeyOf(pod), func(ctx context.Context) error {
					err := a.stopContainer(ctx, pod, c, ip, id, grace)
					a.refreshContainer(ctx, id)
					if runtime.IsNotFound(err) {
						return nil
					}
					return err
				})
				return 0, nil, nil
			case runtime.ContainerCreated:
				err := rt.StartContainer(ctx, latest.ID)
				a.refreshContainer(ctx, latest.ID)
				if err != nil && !errors.Is(err, runtime.ErrStartFailed) {
					return 0, nil, err
				}
				return 0, nil, nil
			}
			if !a.willRestart(pod, c.Name, latest) {
				return 0, nil, nil
			}
			k := backoff.Key(string(pod.UID), c.Name)
			a.mu.Lock()
			first := a.exited[k] != latest.ID
			a.exited[k] = latest.ID
			a.mu.Unlock()
			if first {
				finished := latest.FinishedAt
				if finished.IsZero() {
					finished = time.Now()
				}
				d := a.bo.Exited(k, latest.StartedAt, finished)
				if d.Delay > 0 {
					a.cfg.Recorder.Eventf(pod, api.EventTypeWarning, "BackOff", "Back-off %v restarting failed container %s", d.Delay, c.Name)
				}
			}
			if wait, d, ok := a.bo.Wait(k, time.Now()); ok && wait > 0 {
				return wait, &api.ContainerStateWaiting{Reason: backoff.Reason,
					Message: backoff.Message(d, c.Name, pod.Name, pod.Namespace, string(pod.UID))}, nil
			}
		}
		restartCount = latest.RestartCount + 1
	}
	policy := runtime.PullPolicy(c.ImagePullPolicy)
	if _, err := rt.EnsureImage(ctx, c.Image, policy); err != nil {
		reason := "ErrImagePull"
		if runtime.IsImageNeverPull(err) {
			reason = "ErrImageNeverPull"
		} else if runtime.IsImagePull(err) {
			reason = "ImagePullBackOff"
		} else {
			return 0, nil, err
		}
		a.cfg.Recorder.Eventf(pod, api.EventTypeWarning, "Failed", "Failed to pull image %q: %s", c.Image, runtime.MessageOf(err))
		return a.cfg.BackoffBase, &api.ContainerStateWaiting{Reason: reason, Message: runtime.MessageOf(err)}, nil
	}
	if err := a.verifyRunAsNonRoot(ctx, pod, c); err != nil {
		return a.configFailed(pod, c, err)
	}
	info := a.podInfo(pod, sb.IP)
	env, command, args, err := a.containerEnv(ctx, info, c)
	if err != nil {
		return a.configFailed(pod, c, err)
	}
	mounts, err := a.containerMounts(ctx, info, c)
	if err != nil {
		return a.configFailed(pod, c, err)
	}
	cfg := &runtime.ContainerConfig{
		Name: c.Name, Image: c.Image, Command: command, Args: args, Env: env, WorkingDir: c.WorkingDir,
		Mounts: mounts, RestartCount: restartCount, Labels: stopLabels(pod, c), Security: containerSecurity(pod, c),
	}
	for _, p := range c.Ports {
		proto := runtime.ProtocolTCP
		if p.Protocol == api.ProtocolUDP {
			proto = runtime.ProtocolUDP
		}
		cfg.Ports = append(cfg.Ports, runtime.ContainerPort{Name: p.Name, ContainerPort: int(p.ContainerPort), Protocol: proto})
	}
	if l, ok := c.Resources.Limits[api.ResourceCPU]; ok {
		cfg.Resources.CPUMillis = l.MilliValue()
	}
	if l, ok := c.Resources.Limits[api.ResourceMemory]; ok {
		cfg.Resources.MemoryBytes = l.Value()
	}
	id, err := rt.CreateContainer(ctx, sb.ID, cfg)
	if err != nil {
		if runtime.IsAlreadyExists(err) {
			// The cache missed it; the next resync or event brings it.
			return a.cfg.ResyncInterval, nil, nil
		}
		return 0, nil, err
	}
	err = rt.StartContainer(ctx, id)
	a.refreshContainer(ctx, id)
	if err != nil {
		if !errors.Is(err, runtime.ErrStartFailed) {
			return 0, nil, err
		}
		a.cfg.Recorder.Eventf(pod, api.EventTypeWarning, "Failed", "Error: container %s failed to start: %s", c.Name, runtime.MessageOf(err))
	}
	if err == nil {
		if restartCount > 0 {
			a.cfg.Recorder.Eventf(pod, api.EventTypeNormal, "Started", "Restarted container %s (restart %d)", c.Name, restartCount)
		} else {
			a.cfg.Recorder.Eventf(pod, api.EventTypeNormal, "Started", "Started container %s", c.Name)
		}
	}
	// Keep the previous instance (for logs --previous); remove older ones.
	for _, old := range existing[min(1, len(existing)):] {
		seq := a.rtc.next()
		if err := rt.RemoveContainer(ctx, old.ID); err == nil || runtime.IsNotFound(err) {
			a.rtc.delContainer(old.ID, seq)
		}
	}
	return 0, nil, nil
}

// configFailed handles an error making container c's config: a
// *configError leaves it waiting with reasonConfigError, a *mountError
// waiting as ContainerCreating (an Event says why, as the kubelet's), and
// asks to be synced again after BackoffBase; any other error is returned,
// for the sync to be retried.
func (a *Agent) configFailed(pod *api.Pod, c *api.Container, err error) (time.Duration, *api.ContainerStateWaiting, error) {
	var ce *configError
	var me *mountError
	switch {
	case errors.As(err, &ce):
		a.cfg.Recorder.Eventf(pod, api.EventTypeWarning, "Failed", "Error: %s", ce.msg)
		return a.cfg.BackoffBase, &api.ContainerStateWaiting{Reason: reasonConfigError, Message: ce.msg}, nil
	case errors.As(err, &me):
		a.cfg.Recorder.Eventf(pod, api.EventTypeWarning, "FailedMount", "%s", me.Error())
		return a.cfg.BackoffBase, &api.ContainerStateWaiting{Reason: reasonContainerCreating, Message: me.Error()}, nil
	}
	return 0, nil, err
}

func (a *Agent) writeStatus(ctx context.Context, pod *api.Pod, sb *runtime.PodSandboxStatus, all []*runtime.ContainerStatus, waiting map[string]*api.ContainerStateWaiting) error {
	st := api.Clone(pod.Status)
	now := api.Now()
	prog := a.initProgress(pod, sb, all)
	st.InitContainerStatuses, st.ContainerStatuses = nil, nil
	allReady := true
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cs, latest := a.containerStatus(pod, sb, c, byName(all, c.Name), waiting[c.Name], reasonPodInitializing)
		if isSidecar(c) {
			allReady = allReady && cs.Ready
		} else {
			// A completed init container is ready, as in Kubernetes.
			cs.Ready = latest != nil && latest.State == runtime.ContainerExited && latest.ExitCode == 0
		}
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
	}
	notStarted := reasonContainerCreating
	if !prog.initialized {
		notStarted = reasonPodInitializing
	}
	anyRunning, anyRestarting, allDone, anyFailed := false, false, true, false
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		cs, latest := a.containerStatus(pod, sb, c, byName(all, c.Name), waiting[c.Name], notStarted)
		switch {
		case cs.State.Waiting != nil:
			allDone = false
			anyRestarting = anyRestarting || latest != nil
		case cs.State.Running != nil:
			anyRunning = true
			allDone = false
		case cs.State.Terminated != nil:
			if a.willRestart(pod, c.Name, latest) {
				allDone = false
				anyRestarting = true
			} else if latest.ExitCode != 0 {
				anyFailed = true
			}
		}
		allReady = allReady && cs.Ready
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}
	switch {
	case api.IsPodTerminal(pod):
		// Final: what still runs (sidecars) is being stopped.
	case prog.failed != "":
		st.Phase = api.PodFailed
	case !prog.initialized:
		st.Phase = api.PodPending
	case allDone && anyFailed:
		st.Phase = api.PodFailed
	case allDone:
		st.Phase = api.PodSucceeded
	case anyRunning || anyRestarting:
		st.Phase = api.PodRunning
	default:
		st.Phase = api.PodPending
	}
	st.PodIP = sb.IP
	st.PodIPs = nil
	if sb.IP != "" {
		st.PodIPs = []api.PodIP{{IP: sb.IP}}
	}
	if len(a.cfg.Addresses) > 0 {
		st.HostIP = a.cfg.Addresses[0].Address
	}
	if st.StartTime == nil {
		st.StartTime = &now
	}
	st.ObservedGeneration = pod.Generation
	cond := func(t api.PodConditionType, ok bool, reason, message string) {
		c := api.PodCondition{Type: t, Status: api.ConditionFalse, Reason: reason, Message: message}
		if ok {
			c = api.PodCondition{Type: t, Status: api.ConditionTrue}
		}
		conditions.SetPod(&st, c, now)
	}
	cond(api.PodScheduled, true, "", "")
	cond(api.PodInitialized, prog.initialized, "ContainersNotInitialized",
		"containers with incomplete status: ["+strings.Join(prog.pending, " ")+"]")
	ready := prog.initialized && allReady && st.Phase == api.PodRunning
	cond(api.ContainersReady, ready, "", "")
	cond(api.PodReady, ready, "", "")
	if jsonEqual(st, pod.Status) {
		return nil
	}
	next := pod.DeepCopyObject().(*api.Pod)
	next.Status = st
	err := a.cfg.Client.UpdateStatus(ctx, next, client.UpdateOptions{})
	if api.IsConflict(err) || api.IsNotFound(err) {
		return nil // a newer version or the deletion is on its way through the informer
	}
	return err
}

// Waiting reasons of containers not created yet, as the kubelet reports
// them.
const (
	reasonContainerCreating = "ContainerCreating"
	reasonPodInitializing   = "PodInitializing"
)

// containerStatus is the status of container c of pod from its instances
// (list, newest first) and the waiting state its sync asked for (nil if
// none); a container with no instance waits with reason notStarted. It
// also returns the latest instance (nil if none).
func (a *Agent) containerStatus(pod *api.Pod, sb *runtime.PodSandboxStatus, c *api.Container, list []*runtime.ContainerStatus,
	waiting *api.ContainerStateWaiting, notStarted string) (api.ContainerStatus, *runtime.ContainerStatus) {
	uid := string(pod.UID)
	cs := api.ContainerStatus{Name: c.Name, Image: c.Image}
	var latest *runtime.ContainerStatus
	if len(list) > 0 {
		latest = list[0]
	}
	if len(list) > 1 && list[1].State == runtime.ContainerExited {
		cs.LastTerminationState.Terminated = terminated(list[1])
	}
	switch {
	case waiting != nil:
		cs.State.Waiting = waiting
		if latest != nil {
			cs.LastTerminationState.Terminated = terminated(latest)
		}
	case latest == nil:
		cs.State.Waiting = &api.ContainerStateWaiting{Reason: notStarted}
	case latest.State == runtime.ContainerRunning:
		cs.State.Running = &api.ContainerStateRunning{StartedAt: api.NewTime(latest.StartedAt)}
	case latest.State == runtime.ContainerExited:
		cs.State.Terminated = terminated(latest)
	default:
		cs.State.Waiting = &api.ContainerStateWaiting{Reason: reasonContainerCreating}
	}
	if latest != nil {
		cs.RestartCount = int32(latest.RestartCount)
		cs.ContainerID = "flotilla://" + latest.ID
		cs.ImageID = latest.ImageID
	}
	probed := latest != nil && a.probedAs(uid, c.Name, latest.ID)
	running := cs.State.Running != nil && latest.SandboxID == sb.ID && probed
	cs.Ready = running && a.prober.Ready(uid, c.Name)
	started := running && a.prober.Started(uid, c.Name)
	cs.Started = &started
	if probed {
		rep, _ := a.prober.Reported(uid, c.Name)
		cs.Probes = probeStatuses(rep)
	}
	return cs, latest
}

// probeStatuses converts the prober's reported state for Pod status.
func probeStatuses(st []prober.ProbeStatus) []api.ContainerProbeStatus {
	var out []api.ContainerProbeStatus
	for _, s := range st {
		ps := api.ContainerProbeStatus{
			Type:   api.ProbeType(s.Kind),
			Result: api.ProbeFailure,
			// The prober stops reporting successes at successThreshold, so
			// this count does not grow with every period.
			ConsecutiveSuccesses: s.ConsecutiveSuccesses,
			ConsecutiveFailures:  s.ConsecutiveFailures,
			Successes:            s.Successes,
			Failures:             s.Failures,
			LastProbeTime:        api.NewTime(s.LastProbeTime),
			LastTransitionTime:   api.NewTime(s.LastTransitionTime),
			LastFailureMessage:   s.LastFailure,
			LastFailureTime:      api.NewTime(s.LastFailureTime),
		}
		switch {
		case s.Attempts == 0:
			ps.Result = api.ProbeUnknown
		case s.Passing:
			ps.Result = api.ProbeSuccess
		}
		out = append(out, ps)
	}
	return out
}

func terminated(c *runtime.ContainerStatus) *api.ContainerStateTerminated {
	return &api.ContainerStateTerminated{
		ExitCode: int32(c.ExitCode), Reason: c.Reason, Message: c.Message,
		StartedAt: api.NewTime(c.StartedAt), FinishedAt: api.NewTime(c.FinishedAt),
		ContainerID: "flotilla://" + c.ID,
	}
}

func jsonEqual(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}
