package orchestrator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/internal/inmem"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// BenchmarkJoinServer: a fourth server joins a running three-server
// cluster; reported is the time from calling Start on it until the leader
// has it as a voter (TestTiming: Autopilot acts on a member stable for
// 500 ms). "tls" runs on real loopback sockets with cluster trust — the
// join with a token, certificate issue, discovery and gossip keys over
// mutual TLS, Autopilot's proof of the new server's identity; "inmem" is
// the same on in-memory plaintext networks, the baseline of the same run.
//
//	go test ./orchestrator -run '^$' -bench JoinServer -benchtime 5x
func BenchmarkJoinServer(b *testing.B) {
	for _, mode := range []string{"inmem", "tls"} {
		b.Run(mode, func(b *testing.B) {
			var total, worst time.Duration
			for range b.N {
				d := joinOnce(b, mode == "tls")
				total += d
				worst = max(worst, d)
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/to-voter")
			b.ReportMetric(worst.Seconds(), "s/worst")
			b.ReportMetric(0, "ns/op")
		})
	}
}

func joinOnce(b *testing.B, secure bool) time.Duration {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var nets *inmem.Networks
	if !secure {
		nets = inmem.New()
	}
	var nodes []*orchestrator.Cluster
	defer func() {
		for _, n := range nodes {
			_ = n.Stop(context.Background())
		}
	}()
	start := func(i int, join []string, token string) *orchestrator.Cluster {
		name := fmt.Sprintf("s%d", i)
		rt, err := fake.New(fake.Config{NodeName: name})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = rt.Close() })
		cfg := orchestrator.TestConfig(name)
		cfg.Runtime, cfg.Join, cfg.JoinToken = rt, join, token
		if nets != nil {
			inmem.Attach(&cfg, nets)
		}
		if i == 0 {
			cfg.BootstrapExpect = 1
		}
		n, err := orchestrator.New(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if err := n.Start(ctx); err != nil {
			b.Fatal(err)
		}
		nodes = append(nodes, n)
		return n
	}
	voters := func(leader *orchestrator.Cluster) int { return len(leader.RaftState().Servers) }
	wait := func(what string, cond func() bool) {
		for !cond() {
			if ctx.Err() != nil {
				b.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	first := start(0, nil, "")
	wait("a leader", first.IsLeader)
	token := ""
	if secure {
		tok, err := first.CreateJoinToken(ctx, orchestrator.JoinTokenOptions{})
		if err != nil {
			b.Fatal(err)
		}
		token = tok.Token
	}
	join := []string{first.RaftAddr()}
	start(1, join, token)
	start(2, join, token)
	wait("three voters", func() bool { return voters(first) == 3 })
	began := time.Now()
	start(3, join, token)
	wait("the fourth voter", func() bool { return voters(first) == 4 })
	return time.Since(began)
}
