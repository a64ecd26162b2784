package membership

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
)

// Benchmarks for the figures in BENCHMARKS.md. They use real UDP/TCP sockets
// on 127.0.0.1. Each iteration builds a fresh cluster, so run them with a
// small fixed count, e.g.:
//
//	go test ./membership -run '^$' -bench . -benchtime 3x

var profiles = []struct {
	name   string
	timing func() Timing
}{
	{"LAN", LANTiming},
	{"Fast", FastTiming},
}

var benchLogger = zap.NewNop()

// loopbackNodes starts n unjoined nodes on 127.0.0.1 with the given timing.
func loopbackNodes(b *testing.B, n int, timing Timing) []*Membership {
	b.Helper()
	nodes := make([]*Membership, n)
	for i := range n {
		cfg := DefaultConfig()
		cfg.NodeName = fmt.Sprintf("bench-%02d", i)
		cfg.BindAddr = "127.0.0.1"
		cfg.BindPort = 0
		cfg.Timing = timing
		cfg.Logger = benchLogger
		cfg.Record = Record{Role: RoleServer, RPCAddr: fmt.Sprintf("127.0.0.1:%d", 7000+i), APIAddr: fmt.Sprintf("127.0.0.1:%d", 8000+i),
			Capacity: Capacity{MilliCPU: 4000, MemoryBytes: 8 << 30, Pods: 110}, Labels: map[string]string{"zone": "bench-a"}}
		m, err := New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		nodes[i] = m
	}
	return nodes
}

func shutdownAll(nodes []*Membership) {
	for _, m := range nodes {
		_ = m.Shutdown()
	}
}

// joinAll makes every node but the first join through the first, all at
// once, and returns when every node sees n alive members.
func joinAll(b *testing.B, nodes []*Membership) time.Duration {
	b.Helper()
	seed := nodes[0].Addr()
	start := time.Now()
	var wg sync.WaitGroup
	for _, m := range nodes[1:] {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := m.Join(ctx, seed); err != nil {
				b.Error(err)
			}
		})
	}
	// LAN timings can take a push/pull interval (60 s at N=50) to heal a
	// missed broadcast, so wait long enough to measure that tail too.
	pollUntil(b, 150*time.Second, allSeeAlive(nodes, len(nodes)))
	d := time.Since(start)
	wg.Wait()
	return d
}

func pollUntil(b *testing.B, timeout time.Duration, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("condition not reached within %v", timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkConvergence50: 50 nodes on loopback join through one address at
// the same moment; reports the time until every node sees all 50 alive.
func BenchmarkConvergence50(b *testing.B) {
	for _, p := range profiles {
		b.Run(p.name, func(b *testing.B) {
			var total, worst time.Duration
			for range b.N {
				nodes := loopbackNodes(b, 50, p.timing())
				d := joinAll(b, nodes)
				b.Logf("converged in %v", d)
				total += d
				worst = max(worst, d)
				shutdownAll(nodes)
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/converge")
			b.ReportMetric(worst.Seconds(), "s/worst")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkFailureDetection10: in a converged 10-node loopback cluster one
// node is killed (Shutdown, no leave); reports the time until every other
// node reports it failed.
func BenchmarkFailureDetection10(b *testing.B) {
	for _, p := range profiles {
		b.Run(p.name, func(b *testing.B) {
			var total, worst time.Duration
			for range b.N {
				nodes := loopbackNodes(b, 10, p.timing())
				joinAll(b, nodes)
				victim := nodes[5]
				name := victim.LocalNode().Name
				start := time.Now()
				_ = victim.Shutdown()
				rest := append(append([]*Membership(nil), nodes[:5]...), nodes[6:]...)
				pollUntil(b, 60*time.Second, func() bool {
					for _, m := range rest {
						if statusOf(m, name) != StatusFailed {
							return false
						}
					}
					return true
				})
				d := time.Since(start)
				b.Logf("all saw the failure after %v", d)
				total += d
				worst = max(worst, d)
				shutdownAll(nodes)
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/all-see-failed")
			b.ReportMetric(worst.Seconds(), "s/worst")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkBandwidth50: gossip bytes per member per second in an idle,
// converged 50-node loopback cluster, measured over 60 s (UDP payloads plus
// both directions of TCP push/pull streams).
func BenchmarkBandwidth50(b *testing.B) {
	const window = 60 * time.Second
	for _, p := range profiles {
		b.Run(p.name, func(b *testing.B) {
			var perMember float64
			for range b.N {
				nodes := loopbackNodes(b, 50, p.timing())
				joinAll(b, nodes)
				time.Sleep(2 * time.Second) // let the join broadcasts drain
				sum := func() (bytes, packets uint64) {
					for _, m := range nodes {
						t := m.Traffic()
						bytes += t.PacketBytesSent + t.StreamBytes
						packets += t.PacketsSent
					}
					return
				}
				b0, p0 := sum()
				time.Sleep(window)
				b1, p1 := sum()
				perMember += float64(b1-b0) / 50 / window.Seconds()
				b.ReportMetric(float64(p1-p0)/50/window.Seconds(), "packets/member/s")
				shutdownAll(nodes)
			}
			b.ReportMetric(perMember/float64(b.N), "B/member/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
