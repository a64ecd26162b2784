package controller

import (
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/scheduler"
)

// The registrations of the built-in controllers: each asks the Manager
// for the shared informers (and indexes) it reads and adds its loop.

// ownedInformer is the shared informer of sample's kind indexed by
// namespace and owner, as the workload controllers read them.
func ownedInformer(m *Manager, sample api.Object) *informer.Informer {
	inf := m.Informer(sample)
	inf.AddIndex(informer.IndexNamespace, informer.NamespaceIndex)
	inf.AddIndex(informer.IndexOwner, informer.OwnerIndex)
	return inf
}

func addReplicaSetController(m *Manager, cfg Config) {
	pods, rss := ownedInformer(m, &api.Pod{}), ownedInformer(m, &api.ReplicaSet{})
	c := newReplicaSetController(m.Client(), pods, rss, m.Recorder("controller-manager", cfg.NodeName), m.Logger(), m.Metrics())
	m.Add("replicaset", c.run)
}

func addDeploymentController(m *Manager, cfg Config) {
	deps, rss := m.Informer(&api.Deployment{}), ownedInformer(m, &api.ReplicaSet{})
	deps.AddIndex(informer.IndexOwner, informer.OwnerIndex)
	c := newDeploymentController(m.Client(), deps, rss, m.Recorder("controller-manager", cfg.NodeName), m.Logger(), m.Metrics())
	m.Add("deployment", c.run)
}

func addJobController(m *Manager, cfg Config) {
	pods, jobs := ownedInformer(m, &api.Pod{}), m.Informer(&api.Job{})
	c := newJobController(m.Client(), pods, jobs, m.Recorder("controller-manager", cfg.NodeName),
		cfg.JobBackoff, cfg.MaxJobBackoff, m.Logger(), m.Metrics())
	m.Add("job", c.run)
}

func addDaemonSetController(m *Manager, cfg Config) {
	pods, dss := ownedInformer(m, &api.Pod{}), m.Informer(&api.DaemonSet{})
	c := newDaemonSetController(m.Client(), pods, m.Informer(&api.Node{}), dss, m.Recorder("controller-manager", cfg.NodeName), m.Logger(), m.Metrics())
	m.Add("daemonset", c.run)
}

func addEndpointSliceController(m *Manager, _ Config) {
	services, pods := m.Informer(&api.Service{}), m.Informer(&api.Pod{})
	services.AddIndex(informer.IndexNamespace, informer.NamespaceIndex)
	pods.AddIndex(informer.IndexNamespace, informer.NamespaceIndex)
	slices := m.Informer(&api.EndpointSlice{})
	slices.AddIndex(indexServiceName, serviceNameIndex)
	c := newEndpointSliceController(m.Client(), services, pods, slices, m.Informer(&api.Node{}), m.Logger(), m.Metrics())
	m.Add("endpointslice", c.run)
}

func addKubernetesService(m *Manager, cfg Config) {
	if cfg.APIServices == nil || cfg.APIServices.Servers == nil {
		return // no API served: no `kubernetes` Service
	}
	services := m.Informer(&api.Service{})
	slices := m.Informer(&api.EndpointSlice{})
	slices.AddIndex(indexServiceName, serviceNameIndex)
	c := newKubernetesServiceController(m.Client(), *cfg.APIServices, services, slices, m.Informer(&api.Node{}), m.Logger(), m.Metrics())
	m.Add("kubernetesservice", c.run)
}

func addNodeLifecycle(m *Manager, cfg Config) {
	nodes, pods := m.Informer(&api.Node{}), m.Informer(&api.Pod{})
	pods.AddIndex(informer.IndexNodeName, informer.NodeNameIndex)
	c := newNodeLifecycle(m.Client(), nodes, pods, m.Informer(&api.Lease{}), m.Recorder("controller-manager", cfg.NodeName),
		cfg.NodeMonitorGracePeriod, cfg.PodEvictionTimeout, cfg.NodeFailed, m.Logger())
	m.Add("nodelifecycle", c.run)
}

func addPodGC(m *Manager, cfg Config) {
	grace := cfg.OrphanedPodGrace
	if grace <= 0 {
		grace = cfg.NodeMonitorGracePeriod + cfg.PodEvictionTimeout
	}
	g := newPodGC(m.Client(), m.Informer(&api.Node{}), m.Informer(&api.Pod{}), grace, m.Logger())
	m.Add("podgc", g.run)
}

func addNamespaceController(m *Manager, _ Config) {
	c := newNamespaceController(m.Client(), m.Informer(&api.Namespace{}), m.Logger(), m.Metrics())
	m.Add("namespace", c.run)
}

func addEventExpirer(m *Manager, cfg Config) {
	c := newEventExpirer(m.Client(), cfg.EventTTL, m.Logger())
	m.Add("eventttl", c.run)
}

func addScheduler(m *Manager, cfg Config) {
	pods, nodes := m.Informer(&api.Pod{}), m.Informer(&api.Node{})
	pods.AddIndex(informer.IndexNodeName, informer.NodeNameIndex)
	s := scheduler.New(scheduler.Config{
		Client: m.Client(), Pods: pods, Nodes: nodes, Recorder: m.Recorder("scheduler", cfg.NodeName),
		RetryInterval: cfg.SchedulerRetryInterval, Logger: m.Logger().Named("scheduler"),
		Metrics: m.Metrics(),
	})
	m.Add("scheduler", s.Run)
}

// addGarbageCollector watches every kind of the scheme: whatever kind an
// object is, its ownerReferences are followed.
func addGarbageCollector(m *Manager, _ Config) {
	kinds := map[string]*informer.Informer{}
	for _, info := range m.Client().Scheme().Kinds() {
		inf := m.MetadataInformer(info)
		inf.AddIndex(informer.IndexOwner, informer.OwnerIndex)
		kinds[info.Kind] = inf
	}
	g := newGarbageCollector(m.Client(), kinds, m.Logger(), m.Metrics())
	m.Add("garbagecollector", g.run)
}
