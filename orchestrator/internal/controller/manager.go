package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"go.uber.org/zap"
)

// Config configures the leader-side controllers.
type Config struct {
	// Client is the node's view of the cluster state (the seam: the local
	// registry on a server).
	Client   client.Interface
	NodeName string
	// NodeMonitorGracePeriod: a Node whose status was not renewed this long
	// is marked NotReady. PodEvictionTimeout: its Pods are deleted after it
	// has been NotReady this long.
	NodeMonitorGracePeriod time.Duration
	PodEvictionTimeout     time.Duration
	// OrphanedPodGrace: a Pod bound to a Node that does not exist is
	// marked Failed and deleted once the Node has been missing this long
	// (Kubernetes' pod GC quarantine). 0: NodeMonitorGracePeriod +
	// PodEvictionTimeout, when the Pods of a lost Node are replaced.
	OrphanedPodGrace time.Duration
	// SchedulerRetryInterval: unschedulable Pods are retried at least this
	// often.
	SchedulerRetryInterval time.Duration
	// NodeFailed, if set, reports whether gossip declared a node failed or
	// left.
	NodeFailed func(node string) bool
	// EventTTL: Events last recorded longer ago than this are deleted
	// (0: DefaultEventTTL, one hour).
	EventTTL time.Duration
	// JobBackoff is the delay before a failed Job's next Pod, doubling
	// with each failure since its last success up to MaxJobBackoff
	// (0: DefaultJobBackoff, 10 s, and DefaultMaxJobBackoff, 6 min, as
	// Kubernetes; a MaxJobBackoff below JobBackoff means the default).
	JobBackoff    time.Duration
	MaxJobBackoff time.Duration
	// APIServices, if set, makes the leader keep the `kubernetes` Service
	// pointing at the API servers; nil: the cluster serves no API.
	APIServices *APIServices
	Logger      *zap.Logger
	// Metrics receives the controllers', work queues', scheduler's and
	// Event recorders' figures; nil means none.
	Metrics *metrics.Node
}

// Registration adds one controller (its informers, handlers and run
// function) to a Manager.
type Registration func(m *Manager, cfg Config)

// Builtin returns the controllers every leader runs. A new controller is
// one more entry here; nothing else names it.
func Builtin() []Registration {
	return []Registration{
		addReplicaSetController,
		addDeploymentController,
		addJobController,
		addDaemonSetController,
		addEndpointSliceController,
		addKubernetesService,
		addNodeLifecycle,
		addPodGC,
		addNamespaceController,
		addEventExpirer,
		addScheduler,
		addGarbageCollector,
	}
}

// Run runs the Builtin controllers until ctx ends and returns when all of
// them have stopped. The Cluster calls it while this node leads.
func Run(ctx context.Context, cfg Config) {
	m := NewManager(cfg.Client, cfg.Logger, WithMetrics(cfg.Metrics))
	for _, add := range Builtin() {
		add(m, cfg)
	}
	m.Run(ctx)
}

// Manager owns one shared informer per kind for the controllers
// registered with it, starts them, waits for their first lists, then runs
// the controllers; every goroutine it starts has stopped when Run returns.
// Register everything (Informer, MetadataInformer, Add) before Run.
type Manager struct {
	client  client.Interface
	log     *zap.Logger
	metrics *metrics.Node

	informers map[string]*managedInformer // by kind
	kinds     []string                    // informers in creation order
	recorders map[string]*events.Recorder // by component
	runs      []namedRun
}

type managedInformer struct {
	*informer.Informer
	// metadataOnly: only MetadataInformer asked for the kind, so the cache
	// keeps object metadata alone.
	metadataOnly bool
}

type namedRun struct {
	name string
	run  func(context.Context)
}

// ManagerOption changes a Manager NewManager returns.
type ManagerOption func(*Manager)

// WithMetrics makes the Manager's controllers, work queues, scheduler and
// Event recorders report to m (nil: no metrics).
func WithMetrics(m *metrics.Node) ManagerOption { return func(mgr *Manager) { mgr.metrics = m } }

// NewManager returns a Manager over c. log nil: no logging.
func NewManager(c client.Interface, log *zap.Logger, opts ...ManagerOption) *Manager {
	if log == nil {
		log = zap.NewNop()
	}
	m := &Manager{client: c, log: log, informers: map[string]*managedInformer{}, recorders: map[string]*events.Recorder{}}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Client returns the client controllers write through.
func (m *Manager) Client() client.Interface { return m.client }

// Logger returns the manager's logger.
func (m *Manager) Logger() *zap.Logger { return m.log }

// Metrics returns the metrics controllers report to (nil: none; a nil
// *metrics.Node hands out parts that do nothing).
func (m *Manager) Metrics() *metrics.Node { return m.metrics }

// Informer returns the shared informer of sample's kind, caching whole
// objects of every namespace. It panics for an unregistered kind (a
// programming error caught by every test).
func (m *Manager) Informer(sample api.Object) *informer.Informer {
	info, ok := m.client.Scheme().KindFor(sample)
	if !ok {
		panic(fmt.Sprintf("controller: %T is not a registered kind", sample))
	}
	mi := m.informer(info)
	mi.metadataOnly = false
	return mi.Informer
}

// MetadataInformer returns the shared informer of info's kind for a
// controller that reads only object metadata (the garbage collector).
// Unless another controller asks for whole objects of the kind, its cache
// holds metadata alone (informer.MetadataOnly), so watching every kind
// costs little memory.
func (m *Manager) MetadataInformer(info api.KindInfo) *informer.Informer {
	mi, ok := m.informers[info.Kind]
	if !ok {
		mi = m.informer(info)
		mi.metadataOnly = true
	}
	return mi.Informer
}

func (m *Manager) informer(info api.KindInfo) *managedInformer {
	if mi, ok := m.informers[info.Kind]; ok {
		return mi
	}
	mi := &managedInformer{Informer: informer.New(m.client, info.New(), client.ListOptions{}, m.log)}
	m.informers[info.Kind] = mi
	m.kinds = append(m.kinds, info.Kind)
	return mi
}

// Recorder returns the Event recorder of component (one per component,
// shared by the controllers that name it), run by the Manager.
func (m *Manager) Recorder(component, host string) *events.Recorder {
	r, ok := m.recorders[component]
	if !ok {
		r = events.New(m.client, component, host, m.log, events.WithMetrics(m.metrics.Events(component)))
		m.recorders[component] = r
	}
	return r
}

// Add registers a controller's run function; it starts once every
// informer has listed, and must return when its context ends.
func (m *Manager) Add(name string, run func(context.Context)) {
	m.runs = append(m.runs, namedRun{name, run})
}

// Run starts the informers, waits for their first lists and runs the
// controllers until ctx ends; it returns when every goroutine it started
// has stopped.
func (m *Manager) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, r := range m.recorders {
		wg.Go(func() { r.Run(ctx) })
	}
	infs := make([]*informer.Informer, 0, len(m.kinds))
	for _, kind := range m.kinds {
		mi := m.informers[kind]
		if mi.metadataOnly {
			mi.SetTransform(informer.MetadataOnly)
		}
		infs = append(infs, mi.Informer)
		wg.Go(func() { mi.Run(ctx) })
	}
	for _, inf := range infs {
		if inf.WaitSynced(ctx) != nil {
			return
		}
	}
	m.log.Info("controllers started", zap.Int("controllers", len(m.runs)), zap.Int("informers", len(infs)))
	for _, r := range m.runs {
		wg.Go(func() { r.run(ctx) })
	}
	<-ctx.Done()
}
