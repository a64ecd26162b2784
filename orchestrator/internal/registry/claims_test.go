package registry_test

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/orchestrator/internal/strategy"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

func nodePortService(name string, ports ...int32) *api.Service {
	s := &api.Service{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       api.ServiceSpec{Type: api.ServiceTypeNodePort, Selector: map[string]string{"app": name}},
	}
	for i, np := range ports {
		s.Spec.Ports = append(s.Spec.Ports, api.ServicePort{Name: fmt.Sprintf("p%d", i), Port: 80 + int32(i), NodePort: np})
	}
	if len(ports) == 0 {
		s.Spec.Ports = []api.ServicePort{{Port: 80}}
	}
	return s
}

// wantInvalid fails unless err is Invalid and names field with msg.
func wantInvalid(t *testing.T, err error, field, msg string) {
	t.Helper()
	if !api.IsInvalid(err) || !strings.Contains(err.Error(), field) || !strings.Contains(err.Error(), msg) {
		t.Fatalf("error %v: want Invalid naming %s with %q", err, field, msg)
	}
}

// 64 Services created at once get 64 distinct cluster IPs and node ports,
// all in range.
func TestServiceAllocationConcurrent(t *testing.T) {
	r := testutil.Registry(t)
	ctx := context.Background()
	const n = 64
	svcs := make([]*api.Service, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			svcs[i] = nodePortService(fmt.Sprintf("s%d", i))
			errs[i] = r.Create(ctx, svcs[i], client.CreateOptions{})
		})
	}
	wg.Wait()
	ips, ports := map[string]string{}, map[int32]string{}
	cidr := netip.MustParsePrefix("10.96.0.0/12")
	for i, s := range svcs {
		if errs[i] != nil {
			t.Fatalf("create %s: %v", s.Name, errs[i])
		}
		ip, np := s.Spec.ClusterIP, s.Spec.Ports[0].NodePort
		if a, err := netip.ParseAddr(ip); err != nil || !cidr.Contains(a) || len(s.Spec.ClusterIPs) != 1 || s.Spec.ClusterIPs[0] != ip {
			t.Errorf("%s: clusterIP %q clusterIPs %v: want one address of %s", s.Name, ip, s.Spec.ClusterIPs, cidr)
		}
		if np < 30000 || np > 32767 {
			t.Errorf("%s: nodePort %d out of 30000-32767", s.Name, np)
		}
		if other, dup := ips[ip]; dup {
			t.Errorf("%s and %s both have %s", other, s.Name, ip)
		}
		if other, dup := ports[np]; dup {
			t.Errorf("%s and %s both have node port %d", other, s.Name, np)
		}
		ips[ip], ports[np] = s.Name, s.Name
	}
}

func TestServiceAllocationTakenAndFreed(t *testing.T) {
	kv := testutil.Store(t)
	r := testutil.RegistryOn(t, kv)
	ctx := context.Background()
	a := nodePortService("a", 30080)
	a.Spec.ClusterIP = "10.96.0.10"
	if err := r.Create(ctx, a, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	b := nodePortService("b", 30080)
	err := r.Create(ctx, b, client.CreateOptions{})
	wantInvalid(t, err, "spec.ports[0].nodePort", "provided port is already allocated")
	c := nodePortService("c")
	c.Spec.ClusterIP = "10.96.0.10"
	err = r.Create(ctx, c, client.CreateOptions{})
	wantInvalid(t, err, "spec.clusterIPs", "provided IP is already allocated")
	for _, name := range []string{"b", "c"} {
		if err := r.Get(ctx, "default", name, &api.Service{}, client.GetOptions{}); !api.IsNotFound(err) {
			t.Errorf("%s: stored after a refused create (%v)", name, err)
		}
	}
	// A dry run sees the same.
	err = r.Create(ctx, nodePortService("d", 30080), client.CreateOptions{DryRun: true})
	wantInvalid(t, err, "spec.ports[0].nodePort", "provided port is already allocated")

	// An update that keeps its values is fine; one that leaves them out
	// keeps them (as kubectl apply of a manifest without them).
	upd := a.DeepCopy()
	upd.Spec.ClusterIP, upd.Spec.ClusterIPs, upd.Spec.Ports[0].NodePort = "", nil, 0
	upd.ResourceVersion = ""
	if err := r.Update(ctx, upd, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if upd.Spec.ClusterIP != "10.96.0.10" || upd.Spec.Ports[0].NodePort != 30080 {
		t.Fatalf("update lost the allocated values: %s %d", upd.Spec.ClusterIP, upd.Spec.Ports[0].NodePort)
	}
	// Changing the cluster IP is refused.
	upd.Spec.ClusterIP, upd.Spec.ClusterIPs = "10.96.0.11", []string{"10.96.0.11"}
	wantInvalid(t, r.Update(ctx, upd, client.UpdateOptions{}), "spec.clusterIPs[0]", "field is immutable")

	// Moving the node port frees the old one.
	upd = &api.Service{}
	if err := r.Get(ctx, "default", "a", upd, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	upd.Spec.Ports[0].NodePort = 30081
	if err := r.Update(ctx, upd, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(ctx, nodePortService("b", 30080), client.CreateOptions{}); err != nil {
		t.Fatalf("30080 not freed by the update: %v", err)
	}
	// Becoming ClusterIP frees the node ports; deleting frees the IP.
	upd.Spec.Type, upd.Spec.ExternalTrafficPolicy, upd.Spec.Ports[0].NodePort = api.ServiceTypeClusterIP, "", 0
	if err := r.Update(ctx, upd, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(ctx, nodePortService("e", 30081), client.CreateOptions{}); err != nil {
		t.Fatalf("30081 not freed by the type change: %v", err)
	}
	// An update asking for a port another Service holds is refused too.
	e := &api.Service{}
	if err := r.Get(ctx, "default", "e", e, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	e.Spec.Ports[0].NodePort = 30080 // b's
	wantInvalid(t, r.Update(ctx, e, client.UpdateOptions{}), "spec.ports[0].nodePort", "provided port is already allocated")
	if err := r.Delete(ctx, "default", "a", &api.Service{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	c = nodePortService("c")
	c.Spec.ClusterIP = "10.96.0.10"
	if err := r.Create(ctx, c, client.CreateOptions{}); err != nil {
		t.Fatalf("10.96.0.10 not freed by the delete: %v", err)
	}
	// Only the records of live Services remain: b, c and e.
	kvs, _, err := kv.List(ctx, registry.ClaimPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) != 6 { // three IPs, three node ports
		var keys []string
		for _, kv := range kvs {
			keys = append(keys, kv.Key)
		}
		t.Errorf("claim records %v, want 6", keys)
	}
}

func TestServiceAllocationRange(t *testing.T) {
	kv := testutil.Store(t)
	r, err := registry.New(kv, registry.Config{Strategies: strategy.WithServiceRanges(strategy.Builtin(),
		strategy.ServiceRanges{CIDR: netip.MustParsePrefix("10.0.0.0/30"), FirstNodePort: 31000, LastNodePort: 31001})})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	s := nodePortService("a", 30080)
	wantInvalid(t, r.Create(ctx, s, client.CreateOptions{}), "spec.ports[0].nodePort",
		"provided port is not in the valid range. The range of valid ports is 31000-31001")
	s = nodePortService("a")
	s.Spec.ClusterIP = "10.96.0.1"
	wantInvalid(t, r.Create(ctx, s, client.CreateOptions{}), "spec.clusterIPs",
		"provided IP is not in the valid range. The range of valid IPs is 10.0.0.0/30")
	// A /30 has two usable addresses; the first is kept for requests.
	if err := r.Create(ctx, nodePortService("b"), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, r.Create(ctx, nodePortService("c"), client.CreateOptions{}), "spec.clusterIPs", "range 10.0.0.0/30 is full")
	s = nodePortService("c", 31000, 0)
	s.Spec.ClusterIP = "10.0.0.1"
	// b took one of the two node ports; c asks for the other and one more.
	err = r.Create(ctx, s, client.CreateOptions{})
	if err == nil || !api.IsInvalid(err) {
		t.Fatalf("create with the node port range exhausted: %v, want Invalid", err)
	}
}

// A Service held by a finalizer keeps its values until the last
// finalizer goes, which removes it and frees them in the same step.
func TestServiceAllocationFreedWithLastFinalizer(t *testing.T) {
	r := testutil.Registry(t)
	ctx := context.Background()
	s := nodePortService("held", 30500)
	s.Finalizers = []string{"example.com/hold"}
	if err := r.Create(ctx, s, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, "default", "held", &api.Service{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	wantInvalid(t, r.Create(ctx, nodePortService("next", 30500), client.CreateOptions{}), "spec.ports[0].nodePort", "provided port is already allocated")
	cur := &api.Service{}
	if err := r.Get(ctx, "default", "held", cur, client.GetOptions{}); err != nil || cur.DeletionTimestamp == nil {
		t.Fatalf("marked Service: %v %+v", err, cur.ObjectMeta)
	}
	cur.Finalizers = nil
	if err := r.Update(ctx, cur, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(ctx, nodePortService("next", 30500), client.CreateOptions{}); err != nil {
		t.Fatalf("30500 not freed with the last finalizer: %v", err)
	}
}
