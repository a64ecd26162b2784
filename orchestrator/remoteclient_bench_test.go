package orchestrator_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// BenchmarkRemoteCreate64 measures ConfigMap creates from 64 goroutines
// at once on a 3-server in-process cluster, through a follower: Remote
// through the HTTPS Kubernetes API on loopback (HTTP/2, the admin client
// certificate),
// Local through the same node's in-process Client. It reports creates/s
// and the p99 latency of one create, for BENCHMARKS.md's ratio.
//
//	go test -run '^$' -bench BenchmarkRemoteCreate64 -benchtime 5000x ./orchestrator/
func BenchmarkRemoteCreate64(b *testing.B) {
	// Raft's "fast" timings: the 50 ms test timings lose the leader when
	// 64 writers starve a small machine, which is not what is measured.
	tc := orchestratortest.NewCluster(b, 3, orchestratortest.WithAPI(), orchestratortest.WithConfig(func(_ int, cfg *orchestrator.Config) {
		cfg.Timing.Raft = "fast"
	}))
	i := (tc.Leader() + 1) % 3
	node := tc.Node(i)
	remote := remoteClient(b, tc, i)
	var run atomic.Int64
	b.Run("Remote", func(b *testing.B) { benchCreates(b, remote, run.Add(1)) })
	b.Run("Local", func(b *testing.B) { benchCreates(b, node.Client(), run.Add(1)) })
}

// benchCreates creates b.N ConfigMaps in a fresh Namespace from 64
// goroutines and reports creates/s and p99-ms.
func benchCreates(b *testing.B, cl orchestrator.Client, run int64) {
	const workers = 64
	ctx := context.Background()
	ns := fmt.Sprintf("bench-%d", run)
	if err := cl.Create(ctx, &orchestrator.Namespace{ObjectMeta: orchestrator.ObjectMeta{Name: ns}}); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	lat := make([][]time.Duration, workers)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				cm := &orchestrator.ConfigMap{
					ObjectMeta: orchestrator.ObjectMeta{Name: fmt.Sprintf("cm-%d", i), Namespace: ns},
					Data:       map[string]string{"key": "value"},
				}
				t0 := time.Now()
				if err := cl.Create(ctx, cm); err != nil {
					errs <- err
					return
				}
				lat[w] = append(lat[w], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "creates/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
}
