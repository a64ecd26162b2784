package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"go.uber.org/zap"
)

// APIServices says where the cluster's API servers are, for the
// `kubernetes` Service in the default namespace.
type APIServices struct {
	// ClusterIP is the Service's address: the first address of the
	// service range, which dynamic allocation never hands out.
	ClusterIP netip.Addr
	// Servers returns the API addresses of the live servers (from gossip);
	// it must not block.
	Servers func() []netip.AddrPort
	// Resync is how often the endpoints are compared with Servers even
	// when no Node changed; 0: 5 s.
	Resync time.Duration
}

// The `kubernetes` Service, as Kubernetes names it.
const (
	kubernetesServiceName      = "kubernetes"
	kubernetesServiceNamespace = "default"
	// kubernetesSliceManager is the managed-by label of its slices.
	kubernetesSliceManager = "apiservers.flotilla.io"
)

// kubernetesServiceController keeps the `kubernetes` Service (ClusterIP,
// port 443 named https) and its EndpointSlices, which list the API
// servers' addresses, as kube-apiserver's endpoint reconciler does. The
// Service has no selector, so the EndpointSlice controller leaves it
// alone. Servers on different ports go to different slices (one per
// port); the Service's targetPort is the lowest. A Node event or the
// resync interval brings a change of servers to the slices.
type kubernetesServiceController struct {
	reg      client.Interface
	cfg      APIServices
	services *informer.Informer
	slices   *informer.Informer
	*loop
}

const kubernetesServiceKey = kubernetesServiceNamespace + "/" + kubernetesServiceName

func newKubernetesServiceController(reg client.Interface, cfg APIServices, services, sliceInf, nodes *informer.Informer, log *zap.Logger, met *metrics.Node) *kubernetesServiceController {
	if cfg.Resync <= 0 {
		cfg.Resync = 5 * time.Second
	}
	c := &kubernetesServiceController{reg: reg, cfg: cfg, services: services, slices: sliceInf}
	c.loop = newLoop("kubernetesservice", 1, log, met, c.reconcile)
	ours := func(o api.Object) {
		if o.GetNamespace() == kubernetesServiceNamespace &&
			(o.GetName() == kubernetesServiceName || o.GetObjectMeta().Labels[api.LabelServiceName] == kubernetesServiceName) {
			c.queue.Add(kubernetesServiceKey)
		}
	}
	h := informer.Handler{OnAdd: ours, OnUpdate: func(_, o api.Object) { ours(o) }, OnDelete: ours}
	services.AddHandler(h)
	sliceInf.AddHandler(h)
	resync := func(api.Object) { c.queue.Add(kubernetesServiceKey) }
	nodes.AddHandler(informer.Handler{OnAdd: resync, OnDelete: resync})
	c.queue.Add(kubernetesServiceKey)
	return c
}

func (c *kubernetesServiceController) reconcile(ctx context.Context, _ string) (time.Duration, error) {
	servers := slices.Clone(c.cfg.Servers())
	slices.SortFunc(servers, func(a, b netip.AddrPort) int { return a.Compare(b) })
	servers = slices.Compact(servers)
	byPort := map[uint16][]string{}
	for _, s := range servers {
		if s.Addr().Is4() && s.Port() != 0 {
			byPort[s.Port()] = append(byPort[s.Port()], s.Addr().String())
		}
	}
	if len(byPort) == 0 {
		return c.cfg.Resync, nil // no server known yet: nothing to point at
	}
	ports := slices.Sorted(maps.Keys(byPort))
	svc, err := c.ensureService(ctx, int32(ports[0]))
	if err != nil {
		return 0, err
	}
	var errs []error
	want := map[string]bool{}
	for _, port := range ports {
		name := kubernetesServiceName
		if port != ports[0] {
			name = fmt.Sprintf("%s-%d", kubernetesServiceName, port)
		}
		want[name] = true
		if err := c.ensureSlice(ctx, svc, name, int32(port), byPort[port]); err != nil {
			errs = append(errs, err)
		}
	}
	for _, o := range c.slices.ByIndex(indexServiceName, kubernetesServiceKey) {
		es := o.(*api.EndpointSlice)
		if es.Labels[api.LabelManagedBy] == kubernetesSliceManager && !want[es.Name] {
			if err := c.reg.Delete(ctx, es.Namespace, es.Name, &api.EndpointSlice{}, client.DeleteOptions{ResourceVersion: es.ResourceVersion}); err != nil && !api.IsNotFound(err) {
				errs = append(errs, err)
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return 0, fmt.Errorf("kubernetes service: %w", err)
	}
	return c.cfg.Resync, nil
}

// ensureService creates the Service, or sets its port back to 443 →
// targetPort when someone changed it.
func (c *kubernetesServiceController) ensureService(ctx context.Context, targetPort int32) (*api.Service, error) {
	port := api.ServicePort{Name: "https", Protocol: api.ProtocolTCP, Port: 443, TargetPort: api.FromInt(targetPort)}
	if o, ok := c.services.Get(kubernetesServiceKey); ok {
		svc := o.(*api.Service)
		if len(svc.Spec.Ports) == 1 && svc.Spec.Ports[0] == port && len(svc.Spec.Selector) == 0 {
			return svc, nil
		}
		upd := svc.DeepCopy()
		upd.Spec.Ports, upd.Spec.Selector = []api.ServicePort{port}, nil
		if err := c.reg.Update(ctx, upd, client.UpdateOptions{}); err != nil {
			return nil, fmt.Errorf("kubernetes service: %w", err)
		}
		return upd, nil
	}
	svc := &api.Service{
		TypeMeta: api.TypeMeta{APIVersion: api.CoreV1, Kind: "Service"},
		ObjectMeta: api.ObjectMeta{Name: kubernetesServiceName, Namespace: kubernetesServiceNamespace,
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: api.ServiceSpec{Type: api.ServiceTypeClusterIP, Ports: []api.ServicePort{port},
			ClusterIP: c.cfg.ClusterIP.String(), SessionAffinity: api.ServiceAffinityNone},
	}
	if err := c.reg.Create(ctx, svc, client.CreateOptions{}); err != nil {
		// AlreadyExists too: the cache has not seen it yet, and the retry
		// reads it from there.
		return nil, fmt.Errorf("kubernetes service: %w", err)
	}
	return svc, nil
}

func (c *kubernetesServiceController) ensureSlice(ctx context.Context, svc *api.Service, name string, port int32, addrs []string) error {
	eps := make([]api.Endpoint, 0, len(addrs))
	for _, a := range addrs {
		eps = append(eps, api.Endpoint{Addresses: []string{a}, Conditions: api.EndpointConditions{Ready: api.Ptr(true), Serving: api.Ptr(true), Terminating: api.Ptr(false)}})
	}
	slices.SortFunc(eps, func(a, b api.Endpoint) int { return cmp.Compare(a.Addresses[0], b.Addresses[0]) })
	want := &api.EndpointSlice{
		TypeMeta: api.TypeMeta{APIVersion: api.DiscoveryV1, Kind: "EndpointSlice"},
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: kubernetesServiceNamespace,
			Labels: map[string]string{api.LabelServiceName: kubernetesServiceName, api.LabelManagedBy: kubernetesSliceManager},
			OwnerReferences: []api.OwnerReference{{APIVersion: api.CoreV1, Kind: "Service", Name: svc.Name, UID: svc.UID,
				Controller: api.Ptr(true), BlockOwnerDeletion: api.Ptr(true)}}},
		AddressType: api.AddressTypeIPv4, Endpoints: eps,
		Ports: []api.EndpointPort{{Name: api.Ptr("https"), Protocol: api.Ptr(api.ProtocolTCP), Port: api.Ptr(port)}},
	}
	o, ok := c.slices.Get(api.Key(kubernetesServiceNamespace, name))
	if !ok {
		if err := c.reg.Create(ctx, want, client.CreateOptions{}); err != nil && !api.IsAlreadyExists(err) {
			return fmt.Errorf("create EndpointSlice %s: %w", name, err)
		}
		return nil
	}
	cur := o.(*api.EndpointSlice)
	if jsonEqual(cur.Endpoints, want.Endpoints) && jsonEqual(cur.Ports, want.Ports) && jsonEqual(cur.OwnerReferences, want.OwnerReferences) {
		return nil
	}
	upd := cur.DeepCopy()
	upd.Endpoints, upd.Ports, upd.Labels, upd.OwnerReferences = want.Endpoints, want.Ports, want.Labels, want.OwnerReferences
	if err := c.reg.Update(ctx, upd, client.UpdateOptions{}); err != nil {
		return fmt.Errorf("update EndpointSlice %s: %w", name, err)
	}
	return nil
}
