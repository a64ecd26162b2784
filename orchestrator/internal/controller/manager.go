package controller

import (
	"context"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/scheduler"
	"go.uber.org/zap"
)

// Config configures the leader-side Manager.
type Config struct {
	Registry client.Interface
	NodeName string
	// NodeMonitorGracePeriod: a Node whose status was not renewed this long
	// is marked NotReady. PodEvictionTimeout: its Pods are deleted after it
	// has been NotReady this long.
	NodeMonitorGracePeriod time.Duration
	PodEvictionTimeout     time.Duration
	// SchedulerRetryInterval: unschedulable Pods are retried at least this
	// often.
	SchedulerRetryInterval time.Duration
	// NodeFailed, if set, reports whether gossip declared a node failed or
	// left.
	NodeFailed func(node string) bool
	// EventTTL: Events last recorded longer ago than this are deleted
	// (0: DefaultEventTTL, one hour).
	EventTTL time.Duration
	Logger   *zap.Logger
}

// Run runs the informers, controllers and scheduler until ctx ends and
// returns when all of them have stopped. The Cluster calls it while this
// node leads.
func Run(ctx context.Context, cfg Config) {
	log := cfg.Logger
	if log == nil {
		log = zap.NewNop()
	}
	reg := cfg.Registry
	pods := informer.New(reg, &api.Pod{}, client.ListOptions{}, log)
	pods.AddIndex(informer.IndexNamespace, informer.NamespaceIndex)
	pods.AddIndex(informer.IndexOwner, informer.OwnerIndex)
	pods.AddIndex(informer.IndexNodeName, informer.NodeNameIndex)
	rss := informer.New(reg, &api.ReplicaSet{}, client.ListOptions{}, log)
	rss.AddIndex(informer.IndexNamespace, informer.NamespaceIndex)
	rss.AddIndex(informer.IndexOwner, informer.OwnerIndex)
	deps := informer.New(reg, &api.Deployment{}, client.ListOptions{}, log)
	deps.AddIndex(informer.IndexOwner, informer.OwnerIndex)
	nodes := informer.New(reg, &api.Node{}, client.ListOptions{}, log)
	namespaces := informer.New(reg, &api.Namespace{}, client.ListOptions{}, log)

	rec := events.New(reg, "controller-manager", cfg.NodeName, log)
	schedRec := events.New(reg, "scheduler", cfg.NodeName, log)
	rsc := newReplicaSetController(reg, pods, rss, rec, log)
	dc := newDeploymentController(reg, deps, rss, rec, log)
	gc := newGarbageCollector(reg, map[string]*informer.Informer{"Pod": pods, "ReplicaSet": rss, "Deployment": deps}, log)
	nl := newNodeLifecycle(reg, nodes, pods, rec, cfg.NodeMonitorGracePeriod, cfg.PodEvictionTimeout, cfg.NodeFailed, log)
	nsc := newNamespaceController(reg, namespaces, log)
	ttl := newEventExpirer(reg, cfg.EventTTL, log)
	sched := scheduler.New(scheduler.Config{Registry: reg, Pods: pods, Nodes: nodes, Recorder: schedRec, RetryInterval: cfg.SchedulerRetryInterval, Logger: log.Named("scheduler")})

	var wg sync.WaitGroup
	goRun := func(f func(context.Context)) {
		wg.Add(1)
		go func() { defer wg.Done(); f(ctx) }()
	}
	defer wg.Wait()
	for _, inf := range []*informer.Informer{pods, rss, deps, nodes, namespaces} {
		goRun(inf.Run)
	}
	goRun(rec.Run)
	goRun(schedRec.Run)
	for _, inf := range []*informer.Informer{pods, rss, deps, nodes, namespaces} {
		if inf.WaitSynced(ctx) != nil {
			return
		}
	}
	log.Info("controllers started")
	goRun(rsc.run)
	goRun(dc.run)
	goRun(gc.run)
	goRun(nl.run)
	goRun(nsc.run)
	goRun(ttl.run)
	goRun(sched.Run)
	<-ctx.Done()
}
