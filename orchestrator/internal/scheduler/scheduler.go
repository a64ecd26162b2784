// Package scheduler binds pending Pods to Nodes, on the Raft leader only.
//
// It keeps an in-memory view of every Node's allocatable resources, the
// requests of the Pods bound or being bound to it, its host ports and how
// many Pods of each owner it runs, fed by the shared Pod and Node
// informers. For each pending Pod it filters the Nodes (Ready, not
// unschedulable unless the Pod tolerates node.kubernetes.io/unschedulable
// as DaemonSet Pods do, untolerated NoSchedule/NoExecute taints, nodeSelector and
// node affinity, resource requests vs allocatable, Pod count, host ports),
// scores the rest (least allocated plus spread of the Pod's owner across
// Nodes, plus preferred node affinity), assumes the best Node at once in
// its view and binds asynchronously with a compare-and-swap write of
// spec.nodeName, so scheduling decisions never wait for Raft.
//
// A Pod no Node fits gets PodScheduled=False with reason Unschedulable and a
// message counting why each Node was rejected, plus a FailedScheduling
// Event; it is retried when a Node is added or changes in a way that can
// matter, when a Pod goes away, and every RetryInterval.
//
// What it does not do yet: pod affinity/anti-affinity, topology spread
// constraints, zones, preemption, volume locality.
package scheduler

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/internal/ratelog"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"github.com/flotilla-io/flotilla/orchestrator/internal/workqueue"
	"go.uber.org/zap"
)

// Config configures a Scheduler.
type Config struct {
	Client   client.Interface
	Pods     *informer.Informer // all Pods
	Nodes    *informer.Informer // all Nodes
	Recorder *events.Recorder
	// Binders is how many binds run concurrently (64).
	Binders int
	// RetryInterval is how often unschedulable Pods are retried even if
	// nothing changed (5 s).
	RetryInterval time.Duration
	Logger        *zap.Logger
	// Metrics receives the scheduling attempts and the work queue's
	// figures (as the queue "scheduler"); nil means none.
	Metrics *metrics.Node
}

type nodeInfo struct {
	name               string
	node               *api.Node
	allocCPU, allocMem int64 // milli, bytes; 0 = not reported (unlimited)
	allocPods          int64
	usedCPU, usedMem   int64
	pods               int64
	ports              map[int32]int
	owners             map[api.UID]int
	schedulable        bool // Ready and not cordoned
	labels             map[string]string
	hasTaints          bool
}

type placement struct {
	node     string
	cpu, mem int64
	owner    api.UID
	ports    []int32
}

// Scheduler is the leader-side Pod scheduler. Create with New (before the
// informers run), then Run.
type Scheduler struct {
	cfg   Config
	log   *zap.Logger
	queue *workqueue.Queue
	// failures logs failed binds and status writes at Warn, rate-limited.
	failures *ratelog.Limiter
	attempts *metrics.Scheduler

	mu            sync.Mutex
	nodes         map[string]*nodeInfo
	order         []*nodeInfo
	placed        map[string]placement // pod key -> where it is accounted
	unschedulable map[string]bool
	offset        int

	bindCh chan bindReq
}

type bindReq struct {
	pod  *api.Pod
	node string
	// start is when the scheduling attempt began.
	start time.Time
}

// New registers the Scheduler's handlers on the informers.
func New(cfg Config) *Scheduler {
	if cfg.Binders <= 0 {
		cfg.Binders = 64
	}
	if cfg.RetryInterval <= 0 {
		cfg.RetryInterval = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	s := &Scheduler{
		cfg: cfg, log: cfg.Logger,
		failures:      ratelog.New(cfg.Logger, ratelog.DefaultInterval),
		attempts:      cfg.Metrics.Scheduler(),
		queue:         workqueue.New(10*time.Millisecond, 5*time.Second, workqueue.WithMetrics(cfg.Metrics.Queue("scheduler"))),
		nodes:         map[string]*nodeInfo{},
		placed:        map[string]placement{},
		unschedulable: map[string]bool{},
		bindCh:        make(chan bindReq, 4096),
	}
	cfg.Pods.AddHandler(informer.Handler{
		OnAdd:    func(o api.Object) { s.podChanged(o.(*api.Pod)) },
		OnUpdate: func(_, o api.Object) { s.podChanged(o.(*api.Pod)) },
		OnDelete: func(o api.Object) { s.podGone(api.KeyOf(o)) },
	})
	cfg.Nodes.AddHandler(informer.Handler{
		OnAdd:    func(o api.Object) { s.nodeChanged(o.(*api.Node)) },
		OnUpdate: func(_, o api.Object) { s.nodeChanged(o.(*api.Node)) },
		OnDelete: func(o api.Object) { s.nodeGone(o.GetName()) },
	})
	return s
}

func podRequests(p *api.Pod) placement {
	req := api.ResourceRequests(&p.Spec)
	pl := placement{node: p.Spec.NodeName}
	if q, ok := req[api.ResourceCPU]; ok {
		pl.cpu = q.MilliValue()
	}
	if q, ok := req[api.ResourceMemory]; ok {
		pl.mem = q.Value()
	}
	if ref := api.GetControllerOf(p); ref != nil {
		pl.owner = ref.UID
	}
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			if port.HostPort > 0 {
				pl.ports = append(pl.ports, port.HostPort)
			}
		}
	}
	return pl
}

func (s *Scheduler) podChanged(p *api.Pod) {
	key := api.KeyOf(p)
	if p.Spec.NodeName == "" {
		if !api.IsPodTerminal(p) && p.DeletionTimestamp == nil {
			s.mu.Lock()
			_, inFlight := s.placed[key]
			s.mu.Unlock()
			if !inFlight {
				s.queue.Add(key)
			}
		}
		return
	}
	if api.IsPodTerminal(p) {
		s.podGone(key)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if pl, ok := s.placed[key]; ok {
		if pl.node == p.Spec.NodeName {
			return
		}
		s.unaccountLocked(key, pl)
	}
	pl := podRequests(p)
	s.accountLocked(key, pl)
}

func (s *Scheduler) podGone(key string) {
	s.mu.Lock()
	pl, ok := s.placed[key]
	if ok {
		s.unaccountLocked(key, pl)
	}
	delete(s.unschedulable, key)
	s.mu.Unlock()
	if ok {
		s.flushUnschedulable()
	}
}

func (s *Scheduler) accountLocked(key string, pl placement) {
	s.placed[key] = pl
	n := s.nodes[pl.node]
	if n == nil {
		n = s.addNodeLocked(pl.node, nil)
	}
	n.usedCPU += pl.cpu
	n.usedMem += pl.mem
	n.pods++
	if pl.owner != "" {
		n.owners[pl.owner]++
	}
	for _, p := range pl.ports {
		n.ports[p]++
	}
}

func (s *Scheduler) unaccountLocked(key string, pl placement) {
	delete(s.placed, key)
	n := s.nodes[pl.node]
	if n == nil {
		return
	}
	n.usedCPU -= pl.cpu
	n.usedMem -= pl.mem
	n.pods--
	if pl.owner != "" {
		if n.owners[pl.owner]--; n.owners[pl.owner] <= 0 {
			delete(n.owners, pl.owner)
		}
	}
	for _, p := range pl.ports {
		if n.ports[p]--; n.ports[p] <= 0 {
			delete(n.ports, p)
		}
	}
}

func (s *Scheduler) addNodeLocked(name string, node *api.Node) *nodeInfo {
	n := &nodeInfo{name: name, ports: map[int32]int{}, owners: map[api.UID]int{}}
	s.nodes[name] = n
	s.order = append(s.order, n)
	slices.SortFunc(s.order, func(a, b *nodeInfo) int { return strings.Compare(a.name, b.name) })
	return n
}

func (s *Scheduler) nodeChanged(node *api.Node) {
	s.mu.Lock()
	n := s.nodes[node.Name]
	if n == nil {
		n = s.addNodeLocked(node.Name, node)
	}
	old := n.node
	n.node = node
	alloc := node.Status.Allocatable
	if len(alloc) == 0 {
		alloc = node.Status.Capacity
	}
	n.allocCPU, n.allocMem, n.allocPods = 0, 0, 0
	if q, ok := alloc[api.ResourceCPU]; ok {
		n.allocCPU = q.MilliValue()
	}
	if q, ok := alloc[api.ResourceMemory]; ok {
		n.allocMem = q.Value()
	}
	if q, ok := alloc[api.ResourcePods]; ok {
		n.allocPods = q.Value()
	}
	n.schedulable = api.IsNodeReady(node) && !node.Spec.Unschedulable
	n.labels = node.Labels
	n.hasTaints = len(node.Spec.Taints) > 0
	s.mu.Unlock()
	if old == nil || api.IsNodeReady(old) != api.IsNodeReady(node) || old.Spec.Unschedulable != node.Spec.Unschedulable ||
		!maps.Equal(old.Labels, node.Labels) || !jsonEqualish(old.Status.Allocatable, node.Status.Allocatable) ||
		len(old.Spec.Taints) != len(node.Spec.Taints) {
		s.flushUnschedulable()
	}
}

func jsonEqualish(a, b api.ResourceList) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || !v.Equal(w) {
			return false
		}
	}
	return true
}

func (s *Scheduler) nodeGone(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.nodes[name]; n != nil {
		n.node = nil
		n.schedulable = false
	}
}

func (s *Scheduler) flushUnschedulable() {
	s.mu.Lock()
	keys := slices.Collect(maps.Keys(s.unschedulable))
	clear(s.unschedulable)
	s.mu.Unlock()
	for _, k := range keys {
		s.queue.Add(k)
	}
}

// Run schedules until ctx ends and returns when its goroutines stopped.
// Call after the informers synced.
func (s *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range s.cfg.Binders {
		wg.Add(1)
		go func() { defer wg.Done(); s.binder(ctx) }()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(s.cfg.RetryInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				s.queue.Shutdown()
				return
			case <-t.C:
				s.flushUnschedulable()
			}
		}
	}()
	for _, o := range s.cfg.Pods.List() {
		if p := o.(*api.Pod); p.Spec.NodeName == "" {
			s.queue.Add(api.KeyOf(p))
		}
	}
	for {
		key, ok := s.queue.Get()
		if !ok {
			break
		}
		s.scheduleOne(ctx, key)
		s.queue.Done(key)
	}
	wg.Wait()
}

func (s *Scheduler) binder(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-s.bindCh:
			key := api.KeyOf(req.pod)
			_, err := s.cfg.Client.Bind(ctx, req.pod, req.node, client.UpdateOptions{})
			if err != nil {
				s.mu.Lock()
				if pl, ok := s.placed[key]; ok && pl.node == req.node {
					s.unaccountLocked(key, pl)
				}
				s.mu.Unlock()
				if ctx.Err() != nil {
					return
				}
				s.attempts.Attempt(metrics.Error, req.start)
				switch {
				case api.IsNotFound(err): // deleted meanwhile: nothing to retry
				case api.IsConflict(err):
					// Changed meanwhile; the retry reads the new version.
					s.log.Debug("bind conflict; retrying", zap.String("pod", key), zap.Error(err))
					s.queue.AddRateLimited(key)
				default:
					s.failures.Warn("bind", "bind failed; retrying", zap.String("pod", key), zap.String("nodeName", req.node), zap.Error(err))
					s.queue.AddRateLimited(key)
				}
				continue
			}
			s.attempts.Attempt(metrics.Scheduled, req.start)
			s.queue.Forget(key)
			s.cfg.Recorder.Eventf(req.pod, api.EventTypeNormal, "Scheduled", "Successfully assigned %s to %s", key, req.node)
		}
	}
}

func (s *Scheduler) scheduleOne(ctx context.Context, key string) {
	start := time.Now()
	o, ok := s.cfg.Pods.Get(key)
	if !ok {
		return
	}
	pod := o.(*api.Pod)
	if pod.Spec.NodeName != "" || pod.DeletionTimestamp != nil || api.IsPodTerminal(pod) {
		return
	}
	req := podRequests(pod)
	s.mu.Lock()
	if _, inFlight := s.placed[key]; inFlight {
		s.mu.Unlock()
		return
	}
	best, reasons := s.pickLocked(pod, req)
	if best != nil {
		req.node = best.name
		s.accountLocked(key, req)
	} else {
		s.unschedulable[key] = true
	}
	s.mu.Unlock()
	if best == nil {
		s.attempts.Attempt(metrics.Unschedulable, start)
		s.markUnschedulable(ctx, pod, reasons)
		return
	}
	select {
	case s.bindCh <- bindReq{pod: pod, node: best.name, start: start}:
	case <-ctx.Done():
	}
}

func (s *Scheduler) pickLocked(pod *api.Pod, req placement) (*nodeInfo, map[string]int) {
	var best *nodeInfo
	bestScore := int64(-1 << 62)
	var reasons map[string]int
	reject := func(r string) {
		if reasons == nil {
			reasons = map[string]int{}
		}
		reasons[r]++
	}
	needMatch := len(pod.Spec.NodeSelector) > 0 || (pod.Spec.Affinity != nil && pod.Spec.Affinity.NodeAffinity != nil)
	n := len(s.order)
	if n == 0 {
		return nil, map[string]int{}
	}
	s.offset = (s.offset + 1) % n
	for i := range n {
		ni := s.order[(s.offset+i)%n]
		switch {
		case ni.node == nil:
			continue
		case !ni.schedulable && !(ni.node.Spec.Unschedulable && api.IsNodeReady(ni.node) && toleratesUnschedulable(&pod.Spec)):
			// A cordoned Node still takes Pods that tolerate its
			// unschedulable taint (Kubernetes' NodeUnschedulable filter).
			if ni.node.Spec.Unschedulable {
				reject("node(s) were unschedulable")
			} else {
				reject("node(s) were not ready")
			}
			continue
		case ni.hasTaints:
			if t, bad := untoleratedTaint(ni.node.Spec.Taints, pod.Spec.Tolerations, api.TaintEffectNoSchedule, api.TaintEffectNoExecute); bad {
				reject(fmt.Sprintf("node(s) had untolerated taint {%s: %s}", t.Key, t.Value))
				continue
			}
		}
		if needMatch && !podMatchesNode(&pod.Spec, ni.node) {
			reject("node(s) didn't match Pod's node affinity/selector")
			continue
		}
		if ni.allocPods > 0 && ni.pods+1 > ni.allocPods {
			reject("Too many pods")
			continue
		}
		if ni.allocCPU > 0 && ni.usedCPU+req.cpu > ni.allocCPU || ni.allocCPU == 0 && req.cpu > 0 && ni.node.Status.Allocatable != nil && hasKey(ni.node.Status.Allocatable, api.ResourceCPU) {
			reject("Insufficient cpu")
			continue
		}
		if ni.allocMem > 0 && ni.usedMem+req.mem > ni.allocMem {
			reject("Insufficient memory")
			continue
		}
		portClash := false
		for _, p := range req.ports {
			if ni.ports[p] > 0 {
				portClash = true
			}
		}
		if portClash {
			reject("node(s) didn't have free ports for the requested pod ports")
			continue
		}
		score := leastAllocated(ni, req)
		if req.owner != "" {
			score -= 10 * int64(ni.owners[req.owner])
		}
		if needMatch {
			score += preferredNodeAffinityScore(&pod.Spec, ni.node)
		}
		if score > bestScore {
			best, bestScore = ni, score
		}
	}
	return best, reasons
}

func hasKey(l api.ResourceList, k api.ResourceName) bool { _, ok := l[k]; return ok }

// leastAllocated scores 0-100: the mean free fraction of cpu and memory
// after placing the Pod (a dimension the node does not report counts as
// free), with Pod count as a tie-breaker for Pods without requests.
func leastAllocated(n *nodeInfo, req placement) int64 {
	frac := func(used, alloc int64) int64 {
		if alloc <= 0 {
			return 100
		}
		return max(0, (alloc-used)*100/alloc)
	}
	score := (frac(n.usedCPU+req.cpu, n.allocCPU) + frac(n.usedMem+req.mem, n.allocMem)) / 2
	if n.allocPods > 0 {
		score = (score*3 + frac(n.pods+1, n.allocPods)) / 4
	}
	return score
}

func (s *Scheduler) markUnschedulable(ctx context.Context, pod *api.Pod, reasons map[string]int) {
	s.mu.Lock()
	total := 0
	for _, n := range s.order {
		if n.node != nil {
			total++
		}
	}
	s.mu.Unlock()
	parts := make([]string, 0, len(reasons))
	for r, c := range reasons {
		parts = append(parts, fmt.Sprintf("%d %s", c, r))
	}
	sort.Strings(parts)
	msg := fmt.Sprintf("0/%d nodes are available", total)
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, ", ")
	}
	msg += "."
	if c := api.GetPodCondition(&pod.Status, api.PodScheduled); c != nil && c.Status == api.ConditionFalse && c.Message == msg {
		return
	}
	s.log.Debug("pod unschedulable", zap.String("pod", api.KeyOf(pod)), zap.String("why", msg))
	next := pod.DeepCopyObject().(*api.Pod)
	conditions.SetPod(&next.Status, api.PodCondition{Type: api.PodScheduled, Status: api.ConditionFalse, Reason: "Unschedulable", Message: msg}, api.Now())
	if next.Status.Phase == "" {
		next.Status.Phase = api.PodPending
	}
	if err := s.cfg.Client.UpdateStatus(ctx, next, client.UpdateOptions{}); err != nil && ctx.Err() == nil {
		if api.IsConflict(err) || api.IsNotFound(err) {
			s.log.Debug("unschedulable status not written", zap.String("pod", api.KeyOf(pod)), zap.Error(err))
		} else {
			s.failures.Warn("status", "unschedulable status not written", zap.String("pod", api.KeyOf(pod)), zap.Error(err))
		}
	}
	s.cfg.Recorder.Eventf(pod, api.EventTypeWarning, "FailedScheduling", "%s", msg)
}
