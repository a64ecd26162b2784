package orchestratortest_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	mdns "github.com/miekg/dns"
)

// BenchmarkDNS: parallel A queries for a ClusterIP Service against one
// node's cluster DNS over UDP loopback, each goroutine on its own
// socket, one query in flight per goroutine. Reports queries/s and the
// p99 latency (ms) of one query as the client sees it.
//
//	go test ./orchestrator/orchestratortest/ -run '^$' -bench BenchmarkDNS -benchtime 3s -cpu 2,8
func BenchmarkDNS(b *testing.B) {
	c := orchestratortest.NewCluster(b, 1, orchestratortest.WithConfig(dnsConfig))
	svc := &orchestrator.Service{ObjectMeta: orchestrator.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: orchestrator.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []orchestrator.ServicePort{{Name: "http", Port: 80}}}}
	if err := c.Client().Create(context.Background(), svc); err != nil {
		b.Fatal(err)
	}
	addr := c.Node(0).DNSAddr()
	const name = "web.default.svc.cluster.local."
	c.Eventually(10*time.Second, "the Service in DNS", func() bool {
		return slices.Equal(aAddrs(dnsQuery(b, "udp", addr, name, mdns.TypeA)), []string{svc.Spec.ClusterIP})
	})
	var (
		mu  sync.Mutex
		all []time.Duration
	)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		cl := &mdns.Client{Net: "udp", Timeout: 2 * time.Second}
		conn, err := cl.Dial(addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		m := new(mdns.Msg)
		m.SetQuestion(name, mdns.TypeA)
		lat := make([]time.Duration, 0, 1024)
		for pb.Next() {
			m.Id = mdns.Id()
			t0 := time.Now()
			r, _, err := cl.ExchangeWithConn(m, conn)
			if err != nil {
				b.Error(err)
				return
			}
			lat = append(lat, time.Since(t0))
			if len(r.Answer) != 1 {
				b.Errorf("answer %v", r)
				return
			}
		}
		mu.Lock()
		all = append(all, lat...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	p99 := all[min(len(all)-1, len(all)*99/100)]
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "queries/s")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
}
