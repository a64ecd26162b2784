package orchestratortest_test

import (
	"context"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"go.uber.org/zap"
)

func quiet() orchestratortest.Option { return orchestratortest.WithLogger(zap.NewNop()) }

func p50(d []time.Duration) time.Duration {
	slices.Sort(d)
	return d[len(d)/2]
}

// BenchmarkNewCluster3 measures NewCluster(b, 3) until ready (leader
// elected, all Nodes Ready) and the heap the ready cluster holds.
func BenchmarkNewCluster3(b *testing.B) {
	var times []time.Duration
	var heap uint64
	for range b.N {
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		c := orchestratortest.NewCluster(b, 3, quiet())
		times = append(times, time.Since(start))
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		if after.HeapAlloc > before.HeapAlloc {
			heap = max(heap, after.HeapAlloc-before.HeapAlloc)
		}
		c.Close()
	}
	b.ReportMetric(float64(p50(times).Milliseconds()), "p50-ready-ms")
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}

func bigCapacity() orchestratortest.Option {
	return orchestratortest.WithCapacity(orchestrator.ResourceList{
		api.ResourceCPU: api.MustParse("64"), api.ResourceMemory: api.MustParse("256Gi"), api.ResourcePods: api.MustParse("1000"),
	})
}

func countRunning(ctx context.Context, c orchestrator.Client, avoid string) int {
	var pods orchestrator.PodList
	if err := c.List(ctx, &pods, orchestrator.MatchingFields{"status.phase": "Running"}); err != nil {
		return 0
	}
	n := 0
	for _, p := range pods.Items {
		if p.Spec.NodeName != avoid && p.DeletionTimestamp == nil {
			n++
		}
	}
	return n
}

// BenchmarkDeployment1000 measures a 1,000-replica Deployment on 3 fake
// nodes from Create until all 1,000 Pods are Running.
func BenchmarkDeployment1000(b *testing.B) {
	var times []time.Duration
	for range b.N {
		b.StopTimer()
		c := orchestratortest.NewCluster(b, 3, quiet(), bigCapacity())
		ctx := context.Background()
		b.StartTimer()
		start := time.Now()
		if err := c.Client().Create(ctx, web(1000)); err != nil {
			b.Fatal(err)
		}
		c.Eventually(60*time.Second, "1000 pods running", func() bool { return countRunning(ctx, c.Client(), "") == 1000 })
		times = append(times, time.Since(start))
		b.StopTimer()
		c.Close()
		b.StartTimer()
	}
	b.ReportMetric(p50(times).Seconds(), "p50-all-running-s")
}

// BenchmarkNodeLoss measures, with 30 Pods on 3 nodes, the time from a
// non-leader node's crash until all 30 Pods run on the other nodes.
func BenchmarkNodeLoss(b *testing.B) {
	for _, tc := range []struct {
		name   string
		timing orchestrator.Timing
	}{
		{"test-timing", orchestrator.TestTiming()},
		{"default-timing", orchestrator.DefaultTiming()},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var times []time.Duration
			for range b.N {
				b.StopTimer()
				c := orchestratortest.NewCluster(b, 3, quiet(), orchestratortest.WithTiming(tc.timing))
				ctx := context.Background()
				if err := c.Client().Create(ctx, web(30)); err != nil {
					b.Fatal(err)
				}
				c.Eventually(60*time.Second, "30 running", func() bool { return countRunning(ctx, c.Client(), "") == 30 })
				victim := (c.Leader() + 1) % 3
				b.StartTimer()
				start := time.Now()
				c.StopNode(victim)
				c.Eventually(60*time.Second, "30 running elsewhere", func() bool {
					return countRunning(ctx, c.Client(), c.NodeName(victim)) == 30
				})
				times = append(times, time.Since(start))
				b.StopTimer()
				c.Close()
				b.StartTimer()
			}
			b.ReportMetric(p50(times).Seconds(), "p50-replaced-s")
		})
	}
}

// podsN is the Pod count of BenchmarkServer10000Pods.
const podsN = 10000

// BenchmarkServer10000Pods runs one node (server + agent + fake runtime)
// holding 10,000 running Pods and reports the process's resident memory
// and live heap once they all run. FLOTILLA_BENCH_DATADIR=1 gives the node
// a data dir (Raft log and snapshots in bolt files) instead of memory.
func BenchmarkServer10000Pods(b *testing.B) {
	for range b.N {
		opts := []orchestratortest.Option{quiet(), orchestratortest.WithCapacity(orchestrator.ResourceList{
			api.ResourceCPU: api.MustParse("1000"), api.ResourceMemory: api.MustParse("4Ti"), api.ResourcePods: api.MustParse("20000"),
		})}
		if os.Getenv("FLOTILLA_BENCH_DATADIR") == "1" {
			opts = append(opts, orchestratortest.WithDataDirs())
		}
		c := orchestratortest.NewCluster(b, 1, opts...)
		ctx := context.Background()
		start := time.Now()
		if err := c.Client().Create(ctx, web(podsN)); err != nil {
			b.Fatal(err)
		}
		// Poll the Deployment's status, not the Pods: listing 10,000 Pods
		// decodes tens of MB each time, which would inflate the heap the
		// figure is about. Pods without probes are Ready once Running;
		// one List at the end checks that.
		for {
			var d orchestrator.Deployment
			err := c.Client().Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "web"}, &d)
			if err == nil && d.Status.ReadyReplicas == podsN {
				break
			}
			if time.Since(start) > 10*time.Minute {
				b.Fatal("pods not ready after 10 minutes")
			}
			time.Sleep(250 * time.Millisecond)
		}
		b.ReportMetric(time.Since(start).Seconds(), "all-running-s")
		if n := countRunning(ctx, c.Client(), ""); n != podsN {
			b.Fatalf("the Deployment reports %d ready, but %d Pods are Running", podsN, n)
		}
		debug.FreeOSMemory() // return what the polling above allocated
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MB")
		b.ReportMetric(float64(procStatus("VmRSS"))/(1<<20), "rss-MB")
		// RssFile is mapped file pages (bolt's files under a data dir);
		// RssAnon is the process's own memory.
		b.ReportMetric(float64(procStatus("RssAnon"))/(1<<20), "rss-anon-MB")
		b.ReportMetric(float64(procStatus("RssFile"))/(1<<20), "rss-file-MB")
		b.ReportMetric(float64(runtime.NumGoroutine()), "goroutines")
		b.ReportMetric(float64(ms.StackInuse)/(1<<20), "stack-MB")
		b.ReportMetric(float64(ms.HeapSys-ms.HeapReleased)/(1<<20), "heap-sys-MB")
		if path := os.Getenv("FLOTILLA_HEAPPROFILE"); path != "" {
			// A heap profile is as of the last GC but one: collect
			// again so it shows everything HeapAlloc counted.
			runtime.GC()
			if f, err := os.Create(path); err == nil {
				_ = pprof.WriteHeapProfile(f)
				_ = f.Close()
			}
		}
		c.Close()
	}
}

// procStatus reads a size in bytes from /proc/self/status, such as VmRSS
// (0 where unavailable).
func procStatus(field string) int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
