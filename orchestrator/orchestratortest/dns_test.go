package orchestratortest_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	mdns "github.com/miekg/dns"
)

// dnsQuery asks addr over net ("udp" or "tcp") for name's qtype records.
func dnsQuery(t testing.TB, net, addr, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	cl := &mdns.Client{Net: net, Timeout: 2 * time.Second}
	r, _, err := cl.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", net, name, mdns.TypeToString[qtype], err)
	}
	return r
}

// aAddrs returns the sorted addresses of r's A records.
func aAddrs(r *mdns.Msg) []string {
	var out []string
	for _, rr := range r.Answer {
		if a, ok := rr.(*mdns.A); ok {
			out = append(out, a.A.String())
		}
	}
	slices.Sort(out)
	return out
}

func dnsConfig(_ int, cfg *orchestrator.Config) { cfg.DNSAddress = "127.0.0.1:0" }

// TestClusterDNS: a node's cluster DNS answers, over UDP and TCP, A for a
// ClusterIP Service, the ready endpoints for a headless one (a readiness
// loss removes one), an endpoint's hostname, SRV for named ports, CNAME
// for ExternalName; NOERROR without records for AAAA, NXDOMAIN for
// unknown names in the domain (search-path expansions), REFUSED outside.
func TestClusterDNS(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1, orchestratortest.WithConfig(func(i int, cfg *orchestrator.Config) {
		dnsConfig(i, cfg)
		cfg.ClusterDomain = "flotilla.test"
	}))
	cl := c.Client()
	ctx := context.Background()
	addr := c.Node(0).DNSAddr()
	if addr == "" {
		t.Fatal("DNSAddr empty with DNSAddress set")
	}
	web := &orchestrator.Service{ObjectMeta: orchestrator.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: orchestrator.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []orchestrator.ServicePort{
			{Name: "http", Port: 80, TargetPort: api.FromString("http")}, {Name: "metrics", Port: 9090}}}}
	db := &orchestrator.Service{ObjectMeta: orchestrator.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: orchestrator.ServiceSpec{ClusterIP: orchestrator.ClusterIPNone, Selector: map[string]string{"app": "web"},
			Ports: []orchestrator.ServicePort{{Name: "http", Port: 80, TargetPort: api.FromString("http")}}}}
	ext := &orchestrator.Service{ObjectMeta: orchestrator.ObjectMeta{Name: "ext", Namespace: "default"},
		Spec: orchestrator.ServiceSpec{Type: orchestrator.ServiceTypeExternalName, ExternalName: "example.com"}}
	for _, s := range []*orchestrator.Service{web, db, ext} {
		if err := cl.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	p0 := webPod("web-0", c.NodeName(0), true)
	p0.Spec.Hostname, p0.Spec.Subdomain = "first", "db"
	for _, p := range []*orchestrator.Pod{p0, webPod("web-1", c.NodeName(0), true)} {
		if err := cl.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	var ip0, ip1 string
	c.Eventually(20*time.Second, "both Pods ready with IPs", func() bool {
		a, _ := getPod(t, cl, "web-0")
		b, _ := getPod(t, cl, "web-1")
		ip0, ip1 = a.Status.PodIP, b.Status.PodIP
		return ip0 != "" && ip1 != "" && isPodReady(a) && isPodReady(b)
	})
	both := []string{ip0, ip1}
	slices.Sort(both)

	const zone = "default.svc.flotilla.test."
	for _, net := range []string{"udp", "tcp"} {
		c.Eventually(10*time.Second, net+": the ClusterIP and both headless endpoints", func() bool {
			r1 := dnsQuery(t, net, addr, "web."+zone, mdns.TypeA)
			r2 := dnsQuery(t, net, addr, "db."+zone, mdns.TypeA)
			return slices.Equal(aAddrs(r1), []string{web.Spec.ClusterIP}) && slices.Equal(aAddrs(r2), both)
		})
		r := dnsQuery(t, net, addr, "WEB.Default.SVC.flotilla.test.", mdns.TypeA)
		if !r.Authoritative || r.Rcode != mdns.RcodeSuccess || !slices.Equal(aAddrs(r), []string{web.Spec.ClusterIP}) {
			t.Errorf("%s: upper-case name: %v", net, r)
		}
		if r := dnsQuery(t, net, addr, "first.db."+zone, mdns.TypeA); !slices.Equal(aAddrs(r), []string{ip0}) {
			t.Errorf("%s: endpoint hostname: %v, want %s", net, r, ip0)
		}
		dashed := strings.ReplaceAll(ip1, ".", "-")
		if r := dnsQuery(t, net, addr, dashed+".db."+zone, mdns.TypeA); !slices.Equal(aAddrs(r), []string{ip1}) {
			t.Errorf("%s: endpoint by dashed address: %v, want %s", net, r, ip1)
		}
		r = dnsQuery(t, net, addr, "_http._tcp.web."+zone, mdns.TypeSRV)
		if len(r.Answer) != 1 || r.Answer[0].(*mdns.SRV).Port != 80 || r.Answer[0].(*mdns.SRV).Target != "web."+zone {
			t.Errorf("%s: SRV of a ClusterIP Service: %v", net, r)
		}
		r = dnsQuery(t, net, addr, "web."+zone, mdns.TypeSRV)
		if len(r.Answer) != 2 {
			t.Errorf("%s: SRV of every named port: %v", net, r)
		}
		r = dnsQuery(t, net, addr, "_http._tcp.db."+zone, mdns.TypeSRV)
		var targets []string
		for _, rr := range r.Answer {
			srv := rr.(*mdns.SRV)
			if srv.Port != 8080 {
				t.Errorf("%s: headless SRV port %d, want the endpoints' 8080", net, srv.Port)
			}
			targets = append(targets, srv.Target)
		}
		slices.Sort(targets)
		if want := []string{dashed + ".db." + zone, "first.db." + zone}; !slices.Equal(targets, want) || len(aAddrs(&mdns.Msg{Answer: r.Extra})) != 2 {
			t.Errorf("%s: headless SRV targets %v (extra %v), want %v with their A records", net, targets, r.Extra, want)
		}
		if r := dnsQuery(t, net, addr, "_tcp.web."+zone, mdns.TypeA); r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 {
			t.Errorf("%s: the empty non-terminal above an SRV name: %v, want NOERROR without answer", net, r)
		}
		r = dnsQuery(t, net, addr, "ext."+zone, mdns.TypeA)
		if len(r.Answer) != 1 || r.Answer[0].(*mdns.CNAME).Target != "example.com." {
			t.Errorf("%s: ExternalName: %v", net, r)
		}
		r = dnsQuery(t, net, addr, "web."+zone, mdns.TypeAAAA)
		if r.Rcode != mdns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
			t.Errorf("%s: AAAA of an existing name: %v, want NOERROR, no answer, the SOA", net, r)
		}
		for _, name := range []string{"nope." + zone, "web." + zone + "default.svc.flotilla.test.", "_grpc._tcp.web." + zone, "_udp.web." + zone, "x.web." + zone, "web.other.svc.flotilla.test."} {
			if r := dnsQuery(t, net, addr, name, mdns.TypeA); r.Rcode != mdns.RcodeNameError || len(r.Ns) != 1 {
				t.Errorf("%s: %s: %v, want NXDOMAIN with the SOA", net, name, r)
			}
		}
		if r := dnsQuery(t, net, addr, "example.org.", mdns.TypeA); r.Rcode != mdns.RcodeRefused {
			t.Errorf("%s: outside the domain: %v, want REFUSED", net, r)
		}
	}

	// Readiness lost: web-1 leaves the headless answer.
	p1, _ := getPod(t, cl, "web-1")
	id := strings.TrimPrefix(p1.Status.ContainerStatuses[0].ContainerID, "flotilla://")
	if err := c.Runtime(0).SetHealthy(id, false); err != nil {
		t.Fatal(err)
	}
	c.Eventually(10*time.Second, "web-1 out of the headless answer", func() bool {
		return slices.Equal(aAddrs(dnsQuery(t, "udp", addr, "db."+zone, mdns.TypeA)), []string{ip0})
	})
	// Deleted: NXDOMAIN.
	if err := cl.Delete(ctx, web); err != nil {
		t.Fatal(err)
	}
	c.Eventually(10*time.Second, "a deleted Service's name gone", func() bool {
		return dnsQuery(t, "udp", addr, "web."+zone, mdns.TypeA).Rcode == mdns.RcodeNameError
	})
}

func isPodReady(p orchestrator.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == orchestrator.PodReady {
			return c.Status == orchestrator.ConditionTrue
		}
	}
	return false
}

// TestClusterDNSAgentOnly: an agent-only node serves cluster DNS from
// the servers' API, through its node credentials.
func TestClusterDNSAgentOnly(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1, orchestratortest.WithTLS(), orchestratortest.WithAPI(), orchestratortest.WithConfig(dnsConfig))
	i := c.AddAgent()
	addr := c.Node(i).DNSAddr()
	svc := &orchestrator.Service{ObjectMeta: orchestrator.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: orchestrator.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []orchestrator.ServicePort{{Port: 80}}}}
	if err := c.Client().Create(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	c.Eventually(10*time.Second, "the agent-only node answers for the new Service", func() bool {
		return slices.Equal(aAddrs(dnsQuery(t, "udp", addr, "web.default.svc.cluster.local.", mdns.TypeA)), []string{svc.Spec.ClusterIP})
	})
	// The kubernetes Service, made by the servers, is there too.
	r := dnsQuery(t, "tcp", addr, "kubernetes.default.svc.cluster.local.", mdns.TypeA)
	if len(aAddrs(r)) != 1 {
		t.Errorf("kubernetes Service: %v", r)
	}
}
