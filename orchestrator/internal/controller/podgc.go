package controller

import (
	"context"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"go.uber.org/zap"
)

// podGC deletes the Pods bound to a Node that does not exist, as
// Kubernetes' pod garbage collector does with orphaned Pods: no agent
// will ever run them, and their controllers replace them only once they
// are gone. A missing Node is first quarantined (a Node may be written
// after the Pods bound to it, or be re-created) and, once the quarantine
// is over, looked up again with a linearizable read; a Pod still bound
// to a missing Node is then marked Failed with the DisruptionTarget
// condition (reason DeletionByPodGC, message "PodGC: node no longer
// exists") unless it has finished, and deleted.
type podGC struct {
	reg        client.Interface
	nodes      *informer.Informer
	pods       *informer.Informer
	log        *zap.Logger
	quarantine time.Duration
	now        func() time.Time

	mu      sync.Mutex
	missing map[string]time.Time // node name -> when first seen missing
}

func newPodGC(reg client.Interface, nodes, pods *informer.Informer, quarantine time.Duration, log *zap.Logger) *podGC {
	return &podGC{reg: reg, nodes: nodes, pods: pods, log: log.Named("podgc"), quarantine: quarantine, now: time.Now,
		missing: map[string]time.Time{}}
}

func (g *podGC) run(ctx context.Context) {
	t := time.NewTicker(min(max(g.quarantine/4, 20*time.Millisecond), 10*time.Second))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.collect(ctx)
		}
	}
}

// collect deletes the Pods of every Node missing for the quarantine and
// returns how many it deleted.
func (g *podGC) collect(ctx context.Context) int {
	now := g.now()
	bound := map[string][]*api.Pod{} // missing node -> its Pods
	for _, o := range g.pods.List() {
		p := o.(*api.Pod)
		if n := p.Spec.NodeName; n != "" && p.DeletionTimestamp == nil {
			if _, ok := g.nodes.Get(n); !ok {
				bound[n] = append(bound[n], p)
			}
		}
	}
	g.mu.Lock()
	var due []string
	for n, since := range g.missing {
		if _, ok := bound[n]; !ok {
			delete(g.missing, n) // the Node is back, or its Pods are gone
			continue
		}
		if now.Sub(since) >= g.quarantine {
			due = append(due, n)
		}
	}
	for n := range bound {
		if _, ok := g.missing[n]; !ok {
			g.missing[n] = now
		}
	}
	g.mu.Unlock()

	deleted := 0
	for _, n := range due {
		pods := bound[n]
		if len(pods) == 0 {
			continue
		}
		// The cache may lag: only the store says the Node is gone.
		err := g.reg.Get(ctx, "", n, &api.Node{}, client.GetOptions{Consistent: true})
		if !api.IsNotFound(err) {
			if err != nil && ctx.Err() == nil {
				g.log.Debug("look up node", zap.String("node", n), zap.Error(err))
			}
			continue
		}
		for _, p := range pods {
			if err := g.failAndDelete(ctx, p); err != nil {
				if ctx.Err() == nil {
					g.log.Debug("delete orphaned pod", zap.String("pod", api.KeyOf(p)), zap.String("node", n), zap.Error(err))
				}
				continue
			}
			deleted++
			g.log.Info("deleted a pod bound to a node that does not exist", zap.String("pod", api.KeyOf(p)), zap.String("node", n))
		}
	}
	return deleted
}

// failAndDelete marks p Failed, unless it has finished, and deletes it.
func (g *podGC) failAndDelete(ctx context.Context, p *api.Pod) error {
	if !api.IsPodTerminal(p) {
		next := p.DeepCopyObject().(*api.Pod)
		next.Status.Phase = api.PodFailed
		conditions.SetPod(&next.Status, api.PodCondition{Type: api.DisruptionTarget, Status: api.ConditionTrue,
			Reason: "DeletionByPodGC", Message: "PodGC: node no longer exists"}, api.Now())
		if err := g.reg.UpdateStatus(ctx, next, client.UpdateOptions{}); err != nil {
			return api.IgnoreNotFound(err)
		}
	}
	return api.IgnoreNotFound(g.reg.Delete(ctx, p.Namespace, p.Name, &api.Pod{}, client.DeleteOptions{}))
}
