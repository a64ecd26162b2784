package orchestratortest_test

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// serviceSlices returns the endpoints of the EndpointSlices of Service
// name by Pod name, and the slices.
func serviceSlices(t testing.TB, cl orchestrator.Client, name string) (map[string]orchestrator.Endpoint, []orchestrator.EndpointSlice) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var l orchestrator.EndpointSliceList
	if err := cl.List(ctx, &l, orchestrator.InNamespace("default"), orchestrator.MatchingLabels{api.LabelServiceName: name}); err != nil {
		t.Fatal(err)
	}
	eps := map[string]orchestrator.Endpoint{}
	for _, s := range l.Items {
		for _, ep := range s.Endpoints {
			if ep.TargetRef != nil {
				eps[ep.TargetRef.Name] = ep
			} else {
				eps[ep.Addresses[0]] = ep
			}
		}
	}
	return eps, l.Items
}

func webPod(name, node string, named bool) *orchestrator.Pod {
	p := probedPod(name, nil, httpProbe(1))
	p.Labels = map[string]string{"app": "web"}
	p.Spec.NodeName = node
	p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, orchestrator.ContainerPort{ContainerPort: 9090})
	if !named {
		p.Spec.Containers[0].Ports[0].Name = "web" // the Service's "http" does not resolve
		p.Spec.Containers[0].ReadinessProbe = nil
	}
	return p
}

func isTrue(b *bool) bool { return b != nil && *b }

// TestEndpointSlices: the EndpointSlice controller follows Pods as they
// come, turn unready and go, resolves named ports per Pod, honours
// publishNotReadyAddresses, and its slices go with the Service.
func TestEndpointSlices(t *testing.T) {
	c := orchestratortest.NewCluster(t, 2, orchestratortest.WithNodeLabels(func(i int) map[string]string {
		return map[string]string{api.LabelTopologyZone: fmt.Sprintf("zone-%d", i)}
	}))
	cl := c.Client()
	ctx := context.Background()
	svc := &orchestrator.Service{ObjectMeta: orchestrator.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: orchestrator.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []orchestrator.ServicePort{
			{Name: "http", Port: 80, TargetPort: api.FromString("http")}, {Name: "metrics", Port: 9090}}}}
	if err := cl.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(svc.Spec.ClusterIP, "10.") || svc.Spec.Type != orchestrator.ServiceTypeClusterIP {
		t.Fatalf("created Service: %+v", svc.Spec)
	}
	// No Pods yet: one empty slice.
	c.Eventually(10*time.Second, "an empty slice", func() bool {
		eps, sl := serviceSlices(t, cl, "web")
		return len(sl) == 1 && len(eps) == 0
	})
	for i, name := range []string{"web-0", "web-1"} {
		if err := cl.Create(ctx, webPod(name, c.NodeName(i), true)); err != nil {
			t.Fatal(err)
		}
	}
	var eps map[string]orchestrator.Endpoint
	var sl []orchestrator.EndpointSlice
	c.Eventually(20*time.Second, "both Pods ready in the slice", func() bool {
		eps, sl = serviceSlices(t, cl, "web")
		return len(sl) == 1 && len(eps) == 2 && isTrue(eps["web-0"].Conditions.Ready) && isTrue(eps["web-1"].Conditions.Ready)
	})
	s := sl[0]
	if s.Labels[api.LabelManagedBy] != api.EndpointSliceControllerName || len(s.OwnerReferences) != 1 ||
		s.OwnerReferences[0].UID != svc.UID || s.AddressType != orchestrator.AddressTypeIPv4 {
		t.Errorf("slice metadata: %+v %v", s.ObjectMeta, s.AddressType)
	}
	gotPorts := map[string]int32{}
	for _, p := range s.Ports {
		gotPorts[*p.Name] = *p.Port
	}
	if gotPorts["http"] != 8080 || gotPorts["metrics"] != 9090 || len(gotPorts) != 2 {
		t.Errorf("ports %v, want http 8080 (by name) and metrics 9090", gotPorts)
	}
	for i, name := range []string{"web-0", "web-1"} {
		var p orchestrator.Pod
		if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: name}, &p); err != nil {
			t.Fatal(err)
		}
		ep := eps[name]
		if len(ep.Addresses) != 1 || ep.Addresses[0] != p.Status.PodIP || *ep.NodeName != c.NodeName(i) ||
			ep.Zone == nil || *ep.Zone != fmt.Sprintf("zone-%d", i) || ep.TargetRef.UID != p.UID || isTrue(ep.Conditions.Terminating) {
			t.Errorf("%s: endpoint %+v (Pod IP %s)", name, ep, p.Status.PodIP)
		}
	}
	if eps["web-0"].Addresses[0] == eps["web-1"].Addresses[0] {
		t.Errorf("two Pods with one address %s", eps["web-0"].Addresses[0])
	}

	// Readiness lost: not ready, not serving; the endpoint stays.
	p0, _ := getPod(t, cl, "web-0")
	id := strings.TrimPrefix(p0.Status.ContainerStatuses[0].ContainerID, "flotilla://")
	if err := c.Runtime(0).SetHealthy(id, false); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "web-0 not ready in the slice", func() bool {
		eps, _ = serviceSlices(t, cl, "web")
		e, ok := eps["web-0"]
		return ok && !isTrue(e.Conditions.Ready) && !isTrue(e.Conditions.Serving) && isTrue(eps["web-1"].Conditions.Ready)
	})
	// publishNotReadyAddresses: ready again in the slice.
	if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "web"}, svc); err != nil {
		t.Fatal(err)
	}
	svc.Spec.PublishNotReadyAddresses = true
	if err := cl.Update(ctx, svc); err != nil {
		t.Fatal(err)
	}
	c.Eventually(10*time.Second, "web-0 published although not ready", func() bool {
		eps, _ = serviceSlices(t, cl, "web")
		return isTrue(eps["web-0"].Conditions.Ready)
	})

	// A Pod without the named port: a slice of its own, metrics only.
	if err := cl.Create(ctx, webPod("web-2", c.NodeName(1), false)); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "web-2 in a slice of its own", func() bool {
		eps, sl = serviceSlices(t, cl, "web")
		if len(sl) != 2 || len(eps) != 3 {
			return false
		}
		for _, s := range sl {
			if slices.ContainsFunc(s.Endpoints, func(e orchestrator.Endpoint) bool { return e.TargetRef.Name == "web-2" }) {
				return len(s.Endpoints) == 1 && len(s.Ports) == 1 && *s.Ports[0].Name == "metrics"
			}
		}
		return false
	})

	// A Pod that goes leaves the slices.
	if err := cl.Delete(ctx, &orchestrator.Pod{ObjectMeta: orchestrator.ObjectMeta{Name: "web-1", Namespace: "default"}}); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "web-1 gone from the slices", func() bool {
		eps, _ = serviceSlices(t, cl, "web")
		_, ok := eps["web-1"]
		return !ok && len(eps) == 2
	})

	// The slices go with the Service (garbage collector).
	if err := cl.Delete(ctx, svc); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "slices deleted with the Service", func() bool {
		_, sl = serviceSlices(t, cl, "web")
		return len(sl) == 0
	})
}

// TestLoadBalancerIngress: a LoadBalancer Service gets a node port and a
// cluster IP from the configured ranges and the nodes' addresses in its
// status.
func TestLoadBalancerIngress(t *testing.T) {
	c := orchestratortest.NewCluster(t, 2, orchestratortest.WithConfig(func(_ int, cfg *orchestrator.Config) {
		cfg.ServiceCIDR = netip.MustParsePrefix("172.20.0.0/24")
		cfg.NodePortRange = orchestrator.PortRange{First: 20000, Last: 20010}
	}))
	cl := c.Client()
	ctx := context.Background()
	svc := &orchestrator.Service{ObjectMeta: orchestrator.ObjectMeta{Name: "lb", Namespace: "default"},
		Spec: orchestrator.ServiceSpec{Type: orchestrator.ServiceTypeLoadBalancer, Selector: map[string]string{"app": "lb"},
			Ports: []orchestrator.ServicePort{{Port: 443}}}}
	if err := cl.Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	if np, ip := svc.Spec.Ports[0].NodePort, netip.MustParseAddr(svc.Spec.ClusterIP); np < 20000 || np > 20010 ||
		!netip.MustParsePrefix("172.20.0.0/24").Contains(ip) {
		t.Fatalf("nodePort %d, clusterIP %s: want them from 20000-20010 and 172.20.0.0/24", np, ip)
	}
	var nodes orchestrator.NodeList
	if err := cl.List(ctx, &nodes); err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, n := range nodes.Items {
		for _, a := range n.Status.Addresses {
			if a.Type == orchestrator.NodeInternalIP {
				want = append(want, a.Address)
			}
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	if len(want) == 0 {
		t.Fatal("nodes have no InternalIP")
	}
	c.Eventually(10*time.Second, "ingress = the nodes' addresses", func() bool {
		var s orchestrator.Service
		if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "lb"}, &s); err != nil {
			return false
		}
		var got []string
		for _, in := range s.Status.LoadBalancer.Ingress {
			got = append(got, in.IP)
		}
		return slices.Equal(got, want)
	})
}

// TestKubernetesService: with the API served, the leader keeps the
// `kubernetes` Service at the range's first address with a slice of the
// servers' API addresses; kubectl lists Services and EndpointSlices.
func TestKubernetesService(t *testing.T) {
	c := orchestratortest.NewCluster(t, 2, orchestratortest.WithAPI())
	cl := c.Client()
	ctx := context.Background()
	var want []string
	for i := range 2 {
		want = append(want, c.APIAddr(i))
	}
	slices.Sort(want)
	var svc orchestrator.Service
	c.Eventually(10*time.Second, "the kubernetes Service and its slices", func() bool {
		if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "kubernetes"}, &svc); err != nil {
			return false
		}
		_, sl := serviceSlices(t, cl, "kubernetes")
		var got []string
		for _, s := range sl {
			for _, ep := range s.Endpoints {
				got = append(got, fmt.Sprintf("%s:%d", ep.Addresses[0], *s.Ports[0].Port))
			}
		}
		slices.Sort(got)
		return slices.Equal(got, want)
	})
	if svc.Spec.ClusterIP != "10.96.0.1" || svc.Spec.Ports[0].Port != 443 || len(svc.Spec.Selector) != 0 {
		t.Errorf("kubernetes Service: %+v", svc.Spec)
	}
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Log("kubectl not installed: its part is not run")
		return
	}
	kubeconfig := c.Kubeconfig(t)
	kubectl := func(stdin string, args ...string) (string, error) {
		cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig, "--request-timeout=20s"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := kubectl("", "get", "svc,endpointslices", "-n", "default")
	if err != nil || !strings.Contains(out, "service/kubernetes") || !strings.Contains(out, "10.96.0.1") ||
		!strings.Contains(out, "443/TCP") || !strings.Contains(out, "endpointslice.discovery.k8s.io/kubernetes") {
		t.Errorf("kubectl get svc,endpointslices: %v\n%s", err, out)
	}
	// kubectl apply twice: the second apply (a strategic merge patch
	// without clusterIP or nodePort) keeps the allocated values.
	const manifest = `apiVersion: v1
kind: Service
metadata: {name: shop, namespace: default}
spec:
  type: NodePort
  selector: {app: shop}
  ports: [{name: http, port: 80, targetPort: http}]
`
	if out, err := kubectl(manifest, "apply", "-f", "-"); err != nil || !strings.Contains(out, "service/shop created") {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	var first orchestrator.Service
	if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "shop"}, &first); err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(manifest, "port: 80,", "port: 8080,", 1)
	if out, err := kubectl(changed, "apply", "-f", "-"); err != nil || !strings.Contains(out, "service/shop configured") {
		t.Fatalf("kubectl apply again: %v\n%s", err, out)
	}
	var second orchestrator.Service
	if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "shop"}, &second); err != nil {
		t.Fatal(err)
	}
	if second.Spec.ClusterIP != first.Spec.ClusterIP || second.Spec.Ports[0].Port != 8080 || second.Spec.Ports[0].NodePort == 0 {
		t.Errorf("after a second apply: clusterIP %s (was %s), ports %+v", second.Spec.ClusterIP, first.Spec.ClusterIP, second.Spec.Ports)
	}
	// Bad input: one clear error with the field path, nothing stored.
	bad := strings.Replace(strings.Replace(manifest, "name: shop,", "name: bad,", 1), "[{name: http, port: 80, targetPort: http}]",
		"[{name: a, port: 80}, {name: b, port: 80}, {name: c, port: 70000}]", 1)
	out, err = kubectl(bad, "apply", "--validate=false", "-f", "-")
	if err == nil || !strings.Contains(out, `The Service "bad" is invalid`) || !strings.Contains(out, "spec.ports[1]: Duplicate value") ||
		!strings.Contains(out, "spec.ports[2].port: Invalid value: 70000: must be between 1 and 65535, inclusive") {
		t.Errorf("kubectl apply of a bad Service: %v\n%s", err, out)
	}
	if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "bad"}, &orchestrator.Service{}); !orchestrator.IsNotFound(err) {
		t.Errorf("a refused Service was stored (%v)", err)
	}
}

// TestServiceAllocationAcrossServers: 64 Services created at once through
// the three servers of a cluster (followers forward their writes, reading
// the pools from their own, possibly stale, state) get distinct cluster
// IPs and node ports.
func TestServiceAllocationAcrossServers(t *testing.T) {
	c := orchestratortest.NewCluster(t, 3)
	ctx := context.Background()
	const n = 64
	svcs := make([]*orchestrator.Service, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			svcs[i] = &orchestrator.Service{ObjectMeta: orchestrator.ObjectMeta{Name: fmt.Sprintf("s%d", i), Namespace: "default"},
				Spec: orchestrator.ServiceSpec{Type: orchestrator.ServiceTypeNodePort, Ports: []orchestrator.ServicePort{{Port: 80}}}}
			errs[i] = c.Node(i%3).Client().Create(ctx, svcs[i])
		})
	}
	wg.Wait()
	ips, ports := map[string]bool{}, map[int32]bool{}
	for i, s := range svcs {
		if errs[i] != nil {
			t.Fatalf("create %s: %v", s.Name, errs[i])
		}
		if ips[s.Spec.ClusterIP] || ports[s.Spec.Ports[0].NodePort] {
			t.Errorf("%s: clusterIP %s or node port %d given twice", s.Name, s.Spec.ClusterIP, s.Spec.Ports[0].NodePort)
		}
		ips[s.Spec.ClusterIP], ports[s.Spec.Ports[0].NodePort] = true, true
	}
}
