package dns_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/testlog"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/dns"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	mdns "github.com/miekg/dns"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConfigValidate(t *testing.T) {
	err := dns.Config{Domain: "-bad", Address: "nowhere"}.Validate()
	for _, want := range []string{"Config.Client: required", "Config.Domain", "Config.Address: \"nowhere\""} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	if _, err := dns.New(dns.Config{Address: "127.0.0.1:99999"}); err == nil || !strings.Contains(err.Error(), "port \"99999\"") {
		t.Errorf("New with a bad port: %v", err)
	}
}

// startServer starts a Server on a free loopback port over a fresh
// registry, closed by t.Cleanup.
func startServer(t testing.TB) (*dns.Server, client.Interface) {
	t.Helper()
	reg := testutil.Registry(t)
	s, err := dns.New(dns.Config{Client: reg, Address: "127.0.0.1:0", Logger: testlog.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Error(err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	return s, reg
}

// Start binds UDP and TCP on one port; a second Start, and a Start on a
// taken port, fail; Close may be called twice, and before Start.
func TestLifecycle(t *testing.T) {
	s, reg := startServer(t)
	addr := s.Addr()
	if err := s.Start(context.Background()); err == nil {
		t.Error("second Start succeeded")
	}
	for _, network := range []string{"udp", "tcp"} {
		m := new(mdns.Msg)
		m.SetQuestion("cluster.local.", mdns.TypeSOA)
		r, _, err := (&mdns.Client{Net: network, Timeout: 2 * time.Second}).Exchange(m, addr)
		if err != nil || len(r.Answer) != 1 || !r.Authoritative {
			t.Errorf("%s SOA: %v %v", network, r, err)
		}
	}
	taken, err := dns.New(dns.Config{Client: reg, Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	if err := taken.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("Start on a taken address: %v", err)
	}
	if err := taken.Close(context.Background()); err != nil {
		t.Error(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Error(err)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Error(err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("still listening after Close")
	}
}

// A hand-made EndpointSlice (a Service without selector) with an
// endpoint of unknown readiness counts as ready, as in Kubernetes; a
// not-ready one does not; IPv6 and FQDN slices are ignored.
func TestHandMadeSlices(t *testing.T) {
	s, reg := startServer(t)
	ctx := context.Background()
	svc := &api.Service{ObjectMeta: api.ObjectMeta{Name: "ext-db", Namespace: "ns1"},
		Spec: api.ServiceSpec{ClusterIP: api.ClusterIPNone, Ports: []api.ServicePort{{Name: "pg", Port: 5432}}}}
	if err := reg.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "ns1"}}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Create(ctx, svc, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	f := false
	name, port := "pg", int32(5432)
	for _, sl := range []*api.EndpointSlice{
		{ObjectMeta: api.ObjectMeta{Name: "ext-db-1", Namespace: "ns1", Labels: map[string]string{api.LabelServiceName: "ext-db"}},
			AddressType: api.AddressTypeIPv4, Ports: []api.EndpointPort{{Name: &name, Port: &port}},
			Endpoints: []api.Endpoint{{Addresses: []string{"192.0.2.10"}}, {Addresses: []string{"192.0.2.11"}, Conditions: api.EndpointConditions{Ready: &f}}}},
		{ObjectMeta: api.ObjectMeta{Name: "ext-db-2", Namespace: "ns1", Labels: map[string]string{api.LabelServiceName: "ext-db"}},
			AddressType: api.AddressTypeFQDN, Ports: []api.EndpointPort{{Name: &name, Port: &port}},
			Endpoints: []api.Endpoint{{Addresses: []string{"db.example.com"}}}},
	} {
		if err := reg.Create(ctx, sl, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	testutil.Eventually(t, 5*time.Second, "the ready endpoint only", func() bool {
		m := new(mdns.Msg)
		m.SetQuestion("ext-db.ns1.svc.cluster.local.", mdns.TypeA)
		r, _, err := (&mdns.Client{Timeout: 2 * time.Second}).Exchange(m, s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, rr := range r.Answer {
			got = append(got, rr.(*mdns.A).A.String())
		}
		return len(got) == 1 && got[0] == "192.0.2.10"
	})
	// ns1.svc exists (a Service lives there); ns2.svc does not.
	for name, rcode := range map[string]int{"ns1.svc.cluster.local.": mdns.RcodeSuccess, "ns2.svc.cluster.local.": mdns.RcodeNameError, "pod.cluster.local.": mdns.RcodeNameError} {
		m := new(mdns.Msg)
		m.SetQuestion(name, mdns.TypeA)
		r, _, err := (&mdns.Client{Timeout: 2 * time.Second}).Exchange(m, s.Addr())
		if err != nil || r.Rcode != rcode {
			t.Errorf("%s: %v %v, want rcode %s", name, r, err, mdns.RcodeToString[rcode])
		}
	}
}

// Until the caches have listed, names in the domain get SERVFAIL (never
// a false NXDOMAIN a resolver would cache); names outside stay REFUSED.
func TestServfailUntilSynced(t *testing.T) {
	reg := testutil.Registry(t)
	release := make(chan struct{})
	slow := client.Intercept(reg, client.Funcs{
		ListObjects: func(ctx context.Context, c client.Interface, info api.KindInfo, o client.ListOptions) ([]api.Object, int64, error) {
			select {
			case <-release:
			case <-ctx.Done():
				return nil, 0, ctx.Err()
			}
			return c.ListObjects(ctx, info, o)
		},
	})
	s, err := dns.New(dns.Config{Client: slow, Address: "127.0.0.1:0", Logger: testlog.New(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close(context.Background())
	ask := func(name string) int {
		m := new(mdns.Msg)
		m.SetQuestion(name, mdns.TypeA)
		r, _, err := (&mdns.Client{Timeout: 2 * time.Second}).Exchange(m, s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		return r.Rcode
	}
	if rc := ask("nope.default.svc.cluster.local."); rc != mdns.RcodeServerFailure {
		t.Errorf("before sync: %s, want SERVFAIL", mdns.RcodeToString[rc])
	}
	if rc := ask("example.com."); rc != mdns.RcodeRefused {
		t.Errorf("outside, before sync: %s, want REFUSED", mdns.RcodeToString[rc])
	}
	close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if rc := ask("nope.default.svc.cluster.local."); rc != mdns.RcodeNameError {
		t.Errorf("after sync: %s, want NXDOMAIN", mdns.RcodeToString[rc])
	}
}
