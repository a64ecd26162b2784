package controller

import (
	"context"
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

// nodeLifecycle marks a Node NotReady when its agent stops renewing the
// Node's status for GracePeriod (measured on the leader's clock from the
// last status write it saw, as Kubernetes' node controller does) or when
// gossip reports the node failed or left, and deletes the Pods of a Node
// that has been NotReady for EvictionTimeout so their controllers replace
// them elsewhere. When the node comes back its agent finds those Pods gone
// and stops them.
type nodeLifecycle struct {
	reg   client.Interface
	nodes *informer.Informer
	pods  *informer.Informer
	rec   *events.Recorder
	log   *zap.Logger
	// failures logs failed status writes and evictions at Warn,
	// rate-limited.
	failures *ratelog.Limiter
	grace    time.Duration
	eviction time.Duration
	failed   func(node string) bool

	mu            sync.Mutex
	lastSeen      map[string]time.Time
	lastRV        map[string]string
	notReadySince map[string]time.Time
	start         time.Time
}

func newNodeLifecycle(reg client.Interface, nodes, pods *informer.Informer, rec *events.Recorder, grace, eviction time.Duration, failed func(string) bool, log *zap.Logger) *nodeLifecycle {
	c := &nodeLifecycle{
		reg: reg, nodes: nodes, pods: pods, rec: rec, log: log.Named("nodelifecycle"),
		failures: ratelog.New(log.Named("nodelifecycle"), ratelog.DefaultInterval),
		grace:    grace, eviction: eviction, failed: failed,
		lastSeen: map[string]time.Time{}, lastRV: map[string]string{}, notReadySince: map[string]time.Time{},
		start: time.Now(),
	}
	seen := func(o api.Object) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.lastRV[o.GetName()] != o.GetResourceVersion() && api.IsNodeReady(o.(*api.Node)) {
			c.lastSeen[o.GetName()] = time.Now()
		}
		c.lastRV[o.GetName()] = o.GetResourceVersion()
	}
	nodes.AddHandler(informer.Handler{OnAdd: seen, OnUpdate: func(_, o api.Object) { seen(o) }})
	return c
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
		if now.Sub(since) < c.eviction {
			continue
		}
		for _, po := range c.pods.ByIndex(informer.IndexNodeName, n.Name) {
			p := po.(*api.Pod)
			if p.DeletionTimestamp != nil {
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
