package controller

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/internal/ratelog"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"go.uber.org/zap"
)

// nodeLifecycle marks a Node NotReady when its agent stops heartbeating
// for GracePeriod or when gossip reports the node failed or left, and
// deletes the Pods of a Node that has been NotReady for EvictionTimeout so
// their controllers replace them elsewhere. When the node comes back its
// agent finds those Pods gone and stops them.
//
// A heartbeat is, as for Kubernetes' node lifecycle controller, a renewal
// of the Node's Lease (kube-node-lease/<node>: a renewTime later than the
// last one seen) or a new lastHeartbeatTime of its Ready condition. Its
// age is measured on the leader's clock from when the controller saw it,
// never from the times written in it, so clock skew between nodes does
// not matter; a Node with no heartbeat seen yet counts from the
// controller's start.
type nodeLifecycle struct {
	reg    client.Interface
	nodes  *informer.Informer
	pods   *informer.Informer
	leases *informer.Informer
	rec    *events.Recorder
	log    *zap.Logger
	// failures logs failed status writes and evictions at Warn,
	// rate-limited.
	failures *ratelog.Limiter
	grace    time.Duration
	eviction time.Duration
	failed   func(node string) bool

	mu sync.Mutex
	// lastSeen is when the last heartbeat of each node was seen.
	lastSeen map[string]time.Time
	// heartbeat and renewed are the Ready condition's lastHeartbeatTime
	// and the Lease's renewTime last seen, by node.
	heartbeat     map[string]time.Time
	renewed       map[string]time.Time
	notReadySince map[string]time.Time
	start         time.Time
}

func newNodeLifecycle(reg client.Interface, nodes, pods, leases *informer.Informer, rec *events.Recorder, grace, eviction time.Duration, failed func(string) bool, log *zap.Logger) *nodeLifecycle {
	c := &nodeLifecycle{
		reg: reg, nodes: nodes, pods: pods, leases: leases, rec: rec, log: log.Named("nodelifecycle"),
		failures: ratelog.New(log.Named("nodelifecycle"), ratelog.DefaultInterval),
		grace:    grace, eviction: eviction, failed: failed,
		lastSeen: map[string]time.Time{}, heartbeat: map[string]time.Time{}, renewed: map[string]time.Time{},
		notReadySince: map[string]time.Time{}, start: time.Now(),
	}
	nodeSeen := func(o api.Object) {
		n := o.(*api.Node)
		cond := api.GetNodeCondition(&n.Status, api.NodeReady)
		if cond == nil || cond.Status != api.ConditionTrue {
			return
		}
		c.observe(n.Name, cond.LastHeartbeatTime.Time, c.heartbeat)
	}
	nodes.AddHandler(informer.Handler{OnAdd: nodeSeen, OnUpdate: func(_, o api.Object) { nodeSeen(o) },
		OnDelete: func(o api.Object) { c.forget(o.GetName()) }})
	leaseSeen := func(o api.Object) {
		l := o.(*api.Lease)
		if l.Namespace != api.NodeLeaseNamespace || l.Spec.RenewTime == nil {
			return
		}
		c.observe(l.Name, l.Spec.RenewTime.Time, c.renewed)
	}
	leases.AddHandler(informer.Handler{OnAdd: leaseSeen, OnUpdate: func(_, o api.Object) { leaseSeen(o) },
		OnDelete: func(o api.Object) {
			// A new Lease may start from an earlier renewTime.
			c.mu.Lock()
			defer c.mu.Unlock()
			if o.GetNamespace() == api.NodeLeaseNamespace {
				delete(c.renewed, o.GetName())
			}
		}})
	return c
}

// observe records node's heartbeat time t from one source (last holds
// that source's times): a time later than the last one seen is a
// heartbeat now.
func (c *nodeLifecycle) observe(node string, t time.Time, last map[string]time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := last[node]; ok && !t.After(prev) {
		return
	}
	last[node] = t
	c.lastSeen[node] = time.Now()
}

// forget drops what was seen of a deleted Node.
func (c *nodeLifecycle) forget(node string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.lastSeen, node)
	delete(c.heartbeat, node)
	delete(c.renewed, node)
	delete(c.notReadySince, node)
}

func (c *nodeLifecycle) run(ctx context.Context) {
	tick := max(c.grace/5, 20*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.check(ctx)
		}
	}
}

func (c *nodeLifecycle) check(ctx context.Context) {
	now := time.Now()
	for _, o := range c.nodes.List() {
		n := o.(*api.Node)
		c.mu.Lock()
		seen, ok := c.lastSeen[n.Name]
		if !ok || seen.Before(c.start) {
			seen = c.start
		}
		c.mu.Unlock()
		stale := now.Sub(seen) > c.grace
		gossipFailed := c.failed != nil && c.failed(n.Name)
		if api.IsNodeReady(n) {
			if stale || gossipFailed {
				msg := "Flotilla agent stopped posting node status."
				if gossipFailed {
					msg = "Node failed gossip health checks."
				}
				next := n.DeepCopyObject().(*api.Node)
				conditions.SetNode(&next.Status, api.NodeCondition{Type: api.NodeReady, Status: api.ConditionUnknown, Reason: "NodeStatusUnknown", Message: msg,
					LastHeartbeatTime: api.GetNodeCondition(&n.Status, api.NodeReady).LastHeartbeatTime}, api.Now())
				if err := c.reg.UpdateStatus(ctx, next, client.UpdateOptions{}); err != nil {
					if ctx.Err() == nil {
						c.failures.Warn("notready", "marking the node not ready failed; retrying", zap.String("nodeName", n.Name), zap.Error(err))
					}
					continue
				}
				c.log.Info("node not ready", zap.String("nodeName", n.Name), zap.String("why", msg))
				c.rec.Eventf(n, api.EventTypeNormal, "NodeNotReady", "Node %s status is now: NodeNotReady (%s)", n.Name, msg)
				c.mu.Lock()
				c.notReadySince[n.Name] = now
				c.mu.Unlock()
			} else {
				c.mu.Lock()
				delete(c.notReadySince, n.Name)
				c.mu.Unlock()
			}
			continue
		}
		c.mu.Lock()
		since, ok := c.notReadySince[n.Name]
		if !ok {
			since = now
			c.notReadySince[n.Name] = now
		}
		c.mu.Unlock()
		taint := notReadyTaint(n)
		for _, po := range c.pods.ByIndex(informer.IndexNodeName, n.Name) {
			p := po.(*api.Pod)
			if p.DeletionTimestamp != nil {
				continue
			}
			if after, ok := evictAfter(p, taint, c.eviction); !ok || now.Sub(since) < after {
				continue
			}
			var out api.Pod
			err := c.reg.Delete(ctx, p.Namespace, p.Name, &out, client.DeleteOptions{ResourceVersion: p.ResourceVersion})
			if err == nil {
				c.rec.Eventf(p, api.EventTypeNormal, "NodeControllerEviction", "Deleting pod %s from node %s, which is not ready", p.Name, n.Name)
			} else if ignoreConflict(err) != nil {
				if ctx.Err() == nil {
					c.failures.Warn("evict", "evicting the pod failed; retrying", zap.String("pod", api.KeyOf(p)), zap.String("nodeName", n.Name), zap.Error(err))
				}
			}
		}
	}
}

// Kubernetes taints a node that is not ready with one of these NoExecute
// taints; Flotilla does not write the taint, but honours a Pod's
// toleration of it (tolerationSeconds) when the node is not ready.
const (
	taintNodeNotReady    = "node.kubernetes.io/not-ready"
	taintNodeUnreachable = "node.kubernetes.io/unreachable"
)

// notReadyTaint is the taint Kubernetes would put on n, which is not
// ready: unreachable when its Ready condition is Unknown (its agent
// stopped reporting), not-ready when it is False.
func notReadyTaint(n *api.Node) api.Taint {
	key := taintNodeUnreachable
	if c := api.GetNodeCondition(&n.Status, api.NodeReady); c != nil && c.Status == api.ConditionFalse {
		key = taintNodeNotReady
	}
	return api.Taint{Key: key, Effect: api.TaintEffectNoExecute}
}

// evictAfter returns how long after its node stopped being ready pod is
// evicted, with the kubelet's rules for the Pod's tolerations of taint:
// the least tolerationSeconds among them (0 or less: at once), never (ok
// false) when none of them has tolerationSeconds, and def, Flotilla's
// eviction timeout, when none tolerates taint (Kubernetes'
// DefaultTolerationSeconds admission gives such Pods 300 s).
func evictAfter(pod *api.Pod, taint api.Taint, def time.Duration) (after time.Duration, ok bool) {
	const maxSeconds = int64(math.MaxInt64 / time.Second)
	tolerated, least := false, int64(-1)
	for _, t := range pod.Spec.Tolerations {
		if t.Effect != "" && t.Effect != taint.Effect {
			continue
		}
		matches := t.Key == taint.Key || (t.Key == "" && t.Operator == api.TolerationOpExists)
		if !matches || (t.Operator != api.TolerationOpExists && t.Value != taint.Value) {
			continue
		}
		tolerated = true
		if s := t.TolerationSeconds; s != nil && (least < 0 || *s < least) {
			least = max(0, *s)
		}
	}
	switch {
	case !tolerated:
		return def, true
	case least < 0:
		return 0, false
	}
	return time.Duration(min(least, maxSeconds)) * time.Second, true
}
