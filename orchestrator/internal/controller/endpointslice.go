package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"go.uber.org/zap"
)

// maxEndpointsPerSlice is how many endpoints the controller puts in one
// EndpointSlice, Kubernetes' default (--max-endpoints-per-slice).
const maxEndpointsPerSlice = 100

// indexServiceName indexes EndpointSlices by namespace/service name (the
// kubernetes.io/service-name label).
const indexServiceName = "serviceName"

func serviceNameIndex(o api.Object) []string {
	if name := o.GetObjectMeta().Labels[api.LabelServiceName]; name != "" {
		return []string{api.Key(o.GetNamespace(), name)}
	}
	return nil
}

// labelHeadless marks the slices of a headless Service, as Kubernetes
// does.
const labelHeadless = "service.kubernetes.io/headless"

// endpointSliceController keeps the EndpointSlices of every Service with
// a selector, as Kubernetes' EndpointSlice controller does:
//
//   - Every Pod of the Service's namespace that the selector matches, has
//     an IP and is not finished for good is an endpoint, with conditions
//     ready (ready and not terminating), serving (ready) and terminating
//     (being deleted), its node, its node's topology.kubernetes.io/zone
//     label, its hostname and a targetRef to the Pod. With
//     publishNotReadyAddresses every endpoint is ready and serving.
//   - A named targetPort is resolved per Pod from its containers' ports;
//     Pods that resolve the Service's ports to different numbers go to
//     different slices. A Pod that lacks a named port is left out of that
//     port.
//   - At most 100 endpoints per slice; slices carry the labels
//     kubernetes.io/service-name and endpointslice.kubernetes.io/managed-by
//     and a controller owner reference to the Service, so the garbage
//     collector deletes them with it.
//   - It is event-driven: a Pod event enqueues the Services selecting the
//     Pod, so a readiness change reaches the slices in one reconcile.
//   - LoadBalancer Services get their status.loadBalancer.ingress: the
//     InternalIP addresses of the Ready nodes (the Service is served as
//     NodePort on every node).
//
// Slices of Services without a selector are left to their owners; slices
// not labelled as managed by this controller are never touched.
type endpointSliceController struct {
	reg      client.Interface
	services *informer.Informer
	pods     *informer.Informer
	slices   *informer.Informer
	nodes    *informer.Informer
	log      *zap.Logger
	*loop
}

func newEndpointSliceController(reg client.Interface, services, pods, sliceInf, nodes *informer.Informer, log *zap.Logger, met *metrics.Node) *endpointSliceController {
	c := &endpointSliceController{reg: reg, services: services, pods: pods, slices: sliceInf, nodes: nodes, log: log.Named("endpointslice")}
	c.loop = newLoop("endpointslice", 4, log, met, c.reconcile)
	enqueue := func(o api.Object) { c.queue.Add(api.KeyOf(o)) }
	services.AddHandler(informer.Handler{OnAdd: enqueue, OnUpdate: func(_, o api.Object) { enqueue(o) }, OnDelete: enqueue})
	podEvent := func(old, cur api.Object) {
		for _, o := range []api.Object{old, cur} {
			if o == nil {
				continue
			}
			for _, s := range services.ByIndex(informer.IndexNamespace, o.GetNamespace()) {
				svc := s.(*api.Service)
				if len(svc.Spec.Selector) > 0 && api.SelectorFromSet(svc.Spec.Selector).Matches(o.GetObjectMeta().Labels) {
					enqueue(svc)
				}
			}
		}
	}
	pods.AddHandler(informer.Handler{
		OnAdd:    func(o api.Object) { podEvent(nil, o) },
		OnUpdate: func(old, cur api.Object) { podEvent(old, cur) },
		OnDelete: func(o api.Object) { podEvent(nil, o) },
	})
	sliceEvent := func(o api.Object) {
		if name := o.GetObjectMeta().Labels[api.LabelServiceName]; name != "" {
			c.queue.Add(api.Key(o.GetNamespace(), name))
		}
	}
	sliceInf.AddHandler(informer.Handler{OnAdd: sliceEvent, OnUpdate: func(_, o api.Object) { sliceEvent(o) }, OnDelete: sliceEvent})
	all := func() {
		for _, o := range services.List() {
			enqueue(o)
		}
	}
	nodes.AddHandler(informer.Handler{
		OnAdd:    func(api.Object) { all() },
		OnDelete: func(api.Object) { all() },
		OnUpdate: func(old, cur api.Object) {
			o, n := old.(*api.Node), cur.(*api.Node)
			if o.Labels[api.LabelTopologyZone] != n.Labels[api.LabelTopologyZone] || api.IsNodeReady(o) != api.IsNodeReady(n) ||
				!slices.Equal(internalIPs(o), internalIPs(n)) {
				all()
			}
		},
	})
	return c
}

func internalIPs(n *api.Node) []string {
	var out []string
	for _, a := range n.Status.Addresses {
		if a.Type == api.NodeInternalIP {
			out = append(out, a.Address)
		}
	}
	return out
}

func (c *endpointSliceController) reconcile(ctx context.Context, key string) (_ time.Duration, err error) {
	o, ok := c.services.Get(key)
	if !ok {
		return 0, nil // its slices go with it (garbage collector)
	}
	svc := o.(*api.Service)
	if svc.DeletionTimestamp != nil {
		return 0, nil
	}
	if err := c.syncLoadBalancer(ctx, svc); err != nil {
		return 0, err
	}
	if len(svc.Spec.Selector) == 0 {
		return 0, nil // endpoints managed by hand
	}
	var groups map[string]*endpointGroup
	if svc.Spec.Type != api.ServiceTypeExternalName {
		groups = c.desiredEndpoints(svc)
	}
	return 0, c.apply(ctx, svc, groups)
}

// syncLoadBalancer writes the ingress of a LoadBalancer Service: the
// Ready nodes' InternalIP addresses, sorted.
func (c *endpointSliceController) syncLoadBalancer(ctx context.Context, svc *api.Service) error {
	var ingress []api.LoadBalancerIngress
	if svc.Spec.Type == api.ServiceTypeLoadBalancer {
		var ips []string
		for _, o := range c.nodes.List() {
			if n := o.(*api.Node); api.IsNodeReady(n) {
				ips = append(ips, internalIPs(n)...)
			}
		}
		slices.Sort(ips)
		for _, ip := range slices.Compact(ips) {
			ingress = append(ingress, api.LoadBalancerIngress{IP: ip})
		}
	}
	if jsonEqual(ingress, svc.Status.LoadBalancer.Ingress) {
		return nil
	}
	upd := svc.DeepCopy()
	upd.Status.LoadBalancer.Ingress = ingress
	if err := c.reg.UpdateStatus(ctx, upd, client.UpdateOptions{}); err != nil {
		return fmt.Errorf("service %s: status: %w", api.KeyOf(svc), err)
	}
	return nil
}

// endpointFor returns the endpoint of pod for svc, or false when the Pod
// is no endpoint (no IP yet, or finished for good).
func (c *endpointSliceController) endpointFor(svc *api.Service, pod *api.Pod) (api.Endpoint, bool) {
	if pod.Status.PodIP == "" || pod.Spec.NodeName == "" {
		return api.Endpoint{}, false
	}
	if a, err := netip.ParseAddr(pod.Status.PodIP); err != nil || !a.Is4() {
		return api.Endpoint{}, false
	}
	switch {
	case pod.Status.Phase == api.PodFailed && pod.Spec.RestartPolicy != api.RestartPolicyAlways,
		pod.Status.Phase == api.PodSucceeded && pod.Spec.RestartPolicy != api.RestartPolicyAlways:
		return api.Endpoint{}, false
	}
	// Kubernetes' rules: a published not-ready address is ready and
	// serving whatever the Pod says, even while it terminates.
	serving := svc.Spec.PublishNotReadyAddresses || api.IsPodReady(pod)
	terminating := pod.DeletionTimestamp != nil
	ready := svc.Spec.PublishNotReadyAddresses || (serving && !terminating)
	ep := api.Endpoint{
		Addresses:  []string{pod.Status.PodIP},
		Conditions: api.EndpointConditions{Ready: api.Ptr(ready), Serving: api.Ptr(serving), Terminating: api.Ptr(terminating)},
		TargetRef:  &api.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		NodeName:   api.Ptr(pod.Spec.NodeName),
	}
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name {
		ep.Hostname = api.Ptr(pod.Spec.Hostname)
	}
	if n, ok := c.nodes.Get(pod.Spec.NodeName); ok {
		if z := n.GetObjectMeta().Labels[api.LabelTopologyZone]; z != "" {
			ep.Zone = api.Ptr(z)
		}
	}
	return ep, true
}

// podPorts resolves the Service's ports for pod: by number, or by the
// name of a container port of the same protocol. Ports the Pod does not
// have are left out.
func podPorts(svc *api.Service, pod *api.Pod) []api.EndpointPort {
	out := make([]api.EndpointPort, 0, len(svc.Spec.Ports))
	for _, sp := range svc.Spec.Ports {
		num, ok := sp.TargetPort.IntVal, sp.TargetPort.Type == api.Int
		if !ok {
			num, ok = findNamedPort(pod, sp.TargetPort.StrVal, sp.Protocol)
		}
		if !ok {
			continue
		}
		ep := api.EndpointPort{Port: api.Ptr(num), Protocol: api.Ptr(sp.Protocol), AppProtocol: sp.AppProtocol}
		ep.Name = api.Ptr(sp.Name)
		out = append(out, ep)
	}
	return out
}

func findNamedPort(pod *api.Pod, name string, proto api.Protocol) (int32, bool) {
	for _, c := range pod.Spec.Containers {
		for _, p := range c.Ports {
			pp := p.Protocol
			if pp == "" {
				pp = api.ProtocolTCP
			}
			if p.Name == name && pp == proto {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

// portsKey identifies a set of resolved ports.
func portsKey(ports []api.EndpointPort) string {
	var b strings.Builder
	for _, p := range ports {
		fmt.Fprintf(&b, "%s/%s/%d;", deref(p.Name), deref(p.Protocol), deref(p.Port))
	}
	return b.String()
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// endpointGroup is the endpoints of a Service that share one set of
// resolved ports.
type endpointGroup struct {
	ports     []api.EndpointPort
	endpoints map[string]api.Endpoint // by address
}

// desiredEndpoints returns the endpoints svc should have, grouped by
// their resolved ports (by portsKey). A Service without endpoints gets
// one empty group with its numeric ports, as Kubernetes keeps one empty
// slice so that consumers see the Service's ports.
func (c *endpointSliceController) desiredEndpoints(svc *api.Service) map[string]*endpointGroup {
	sel := api.SelectorFromSet(svc.Spec.Selector)
	groups := map[string]*endpointGroup{}
	for _, o := range c.pods.ByIndex(informer.IndexNamespace, svc.Namespace) {
		pod := o.(*api.Pod)
		if !sel.Matches(pod.Labels) {
			continue
		}
		ep, ok := c.endpointFor(svc, pod)
		if !ok {
			continue
		}
		ports := podPorts(svc, pod)
		k := portsKey(ports)
		g := groups[k]
		if g == nil {
			g = &endpointGroup{ports: ports, endpoints: map[string]api.Endpoint{}}
			groups[k] = g
		}
		g.endpoints[ep.Addresses[0]] = ep
	}
	if len(groups) == 0 {
		ports := []api.EndpointPort{}
		for _, sp := range svc.Spec.Ports {
			if sp.TargetPort.Type == api.Int {
				ports = append(ports, api.EndpointPort{Name: api.Ptr(sp.Name), Protocol: api.Ptr(sp.Protocol), Port: api.Ptr(sp.TargetPort.IntVal), AppProtocol: sp.AppProtocol})
			}
		}
		groups[portsKey(ports)] = &endpointGroup{ports: ports, endpoints: map[string]api.Endpoint{}}
	}
	return groups
}

func (c *endpointSliceController) newSlice(svc *api.Service, ports []api.EndpointPort, eps []api.Endpoint) *api.EndpointSlice {
	labels := map[string]string{api.LabelServiceName: svc.Name, api.LabelManagedBy: api.EndpointSliceControllerName}
	if svc.Spec.ClusterIP == api.ClusterIPNone {
		labels[labelHeadless] = ""
	}
	if ports == nil {
		ports = []api.EndpointPort{}
	}
	if eps == nil {
		eps = []api.Endpoint{}
	}
	return &api.EndpointSlice{
		TypeMeta: api.TypeMeta{APIVersion: api.DiscoveryV1, Kind: "EndpointSlice"},
		ObjectMeta: api.ObjectMeta{GenerateName: svc.Name + "-", Namespace: svc.Namespace, Labels: labels,
			OwnerReferences: []api.OwnerReference{{APIVersion: api.CoreV1, Kind: "Service", Name: svc.Name, UID: svc.UID,
				Controller: api.Ptr(true), BlockOwnerDeletion: api.Ptr(true)}}},
		AddressType: api.AddressTypeIPv4, Endpoints: eps, Ports: ports,
	}
}

// apply makes the managed slices of svc hold the endpoints of groups.
// An endpoint stays in the slice that holds it (updated in place); new
// endpoints fill slices with room, then new slices of at most
// maxEndpointsPerSlice; slices left empty are deleted (but one, for a
// Service without endpoints). So a readiness change rewrites one slice,
// and a steady Service writes nothing. It waits until the slice cache has
// seen its writes, so that the next reconcile of svc does not create a
// slice twice.
func (c *endpointSliceController) apply(ctx context.Context, svc *api.Service, groups map[string]*endpointGroup) error {
	have := map[string][]*api.EndpointSlice{}
	for _, o := range c.slices.ByIndex(indexServiceName, api.KeyOf(svc)) {
		es := o.(*api.EndpointSlice)
		if es.Labels[api.LabelManagedBy] != api.EndpointSliceControllerName {
			continue
		}
		if !slices.ContainsFunc(es.OwnerReferences, func(r api.OwnerReference) bool { return r.UID == svc.UID }) {
			// A slice of an earlier Service of the same name: its owner
			// is gone and the garbage collector will remove it.
			continue
		}
		k := portsKey(es.Ports)
		have[k] = append(have[k], es)
	}
	labels := c.newSlice(svc, nil, nil).Labels
	var creates, updates, deletes []*api.EndpointSlice
	for k, g := range groups {
		existing := have[k]
		delete(have, k)
		slices.SortFunc(existing, func(a, b *api.EndpointSlice) int { return cmp.Compare(a.Name, b.Name) })
		placed := map[string]bool{}
		next := make([][]api.Endpoint, len(existing))
		for i, es := range existing {
			for _, ep := range es.Endpoints {
				if len(ep.Addresses) == 0 || placed[ep.Addresses[0]] {
					continue
				}
				if want, ok := g.endpoints[ep.Addresses[0]]; ok && len(next[i]) < maxEndpointsPerSlice {
					next[i] = append(next[i], want)
					placed[ep.Addresses[0]] = true
				}
			}
		}
		var rest []api.Endpoint
		for _, a := range slices.Sorted(maps.Keys(g.endpoints)) {
			if !placed[a] {
				rest = append(rest, g.endpoints[a])
			}
		}
		for i := range next {
			n := min(maxEndpointsPerSlice-len(next[i]), len(rest))
			next[i], rest = append(next[i], rest[:n]...), rest[n:]
		}
		for chunk := range slices.Chunk(rest, maxEndpointsPerSlice) {
			creates = append(creates, c.newSlice(svc, g.ports, slices.Clone(chunk)))
		}
		kept := false
		for i, es := range existing {
			eps := next[i]
			slices.SortFunc(eps, func(a, b api.Endpoint) int { return cmp.Compare(a.Addresses[0], b.Addresses[0]) })
			if len(eps) == 0 && (len(g.endpoints) > 0 || kept) {
				deletes = append(deletes, es)
				continue
			}
			kept = true
			if eps == nil {
				eps = []api.Endpoint{}
			}
			if jsonEqual(es.Endpoints, eps) && maps.Equal(es.Labels, labels) {
				continue
			}
			upd := es.DeepCopy()
			upd.Endpoints, upd.Labels = eps, maps.Clone(labels)
			updates = append(updates, upd)
		}
		if len(g.endpoints) == 0 && !kept {
			creates = append(creates, c.newSlice(svc, g.ports, nil))
		}
	}
	for _, l := range have {
		deletes = append(deletes, l...) // ports no endpoint has any more
	}

	var last int64
	var errs []error
	note := func(obj api.Object) {
		if rv, err := strconv.ParseInt(obj.GetResourceVersion(), 10, 64); err == nil && rv > last {
			last = rv
		}
	}
	for _, es := range updates {
		if err := c.reg.Update(ctx, es, client.UpdateOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("update EndpointSlice %s: %w", api.KeyOf(es), err))
			continue
		}
		note(es)
	}
	for _, es := range creates {
		if err := c.reg.Create(ctx, es, client.CreateOptions{}); err != nil {
			errs = append(errs, fmt.Errorf("create EndpointSlice for %s: %w", api.KeyOf(svc), err))
			continue
		}
		note(es)
	}
	for _, es := range deletes {
		gone := &api.EndpointSlice{}
		err := c.reg.Delete(ctx, es.Namespace, es.Name, gone, client.DeleteOptions{ResourceVersion: es.ResourceVersion})
		if err != nil && !api.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete EndpointSlice %s: %w", api.KeyOf(es), err))
			continue
		}
		if err == nil {
			note(gone)
		}
	}
	if last > 0 {
		if err := c.slices.WaitForRevision(ctx, last); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
