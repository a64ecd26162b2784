package e2e

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker"
	"github.com/moby/moby/client"
)

// The benchmarks report the p50 of their iterations as custom metrics
// (ns/op includes only the timed part but is an average). Run them with
// a fixed iteration count, e.g.
//
//	go test ./orchestrator/e2e -run '^$' -bench . -benchtime 5x

func p50ms(d []time.Duration) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[(len(s)-1)/2].Microseconds()) / 1000
}

func maxms(d []time.Duration) float64 {
	return float64(slices.Max(d).Microseconds()) / 1000
}

// benchDeployment is deployment without probes: the benchmarks measure
// scheduling and container start, not probe periods (a readiness probe's
// first result waits up to its 1 s minimum period).
func benchDeployment(name string, replicas int32) *orchestrator.Deployment {
	d := deployment(name, replicas)
	for i := range d.Spec.Template.Spec.Containers {
		d.Spec.Template.Spec.Containers[i].ReadinessProbe = nil
		d.Spec.Template.Spec.Containers[i].LivenessProbe = nil
	}
	return d
}

// warmVariants runs a benchmark with the runtime's default (no warm
// sandboxes: a sandbox started for each Pod, with the Pod's hostname) and
// with 4 warm sandboxes per node (Pods on them have the sandbox's
// hostname), side by side.
func warmVariants(b *testing.B, run func(b *testing.B, o clusterOptions)) {
	b.Run("warm=default", func(b *testing.B) { run(b, clusterOptions{}) })
	b.Run("warm=4", func(b *testing.B) {
		run(b, clusterOptions{runtime: func(c *docker.Config) { c.WarmSandboxes = 4 }})
	})
}

// BenchmarkDeployment10 measures a 10-replica Deployment across 3
// in-process nodes on the real daemon, from Create until all 10 Pods are
// Running (the agents have started their containers and written status).
// Each iteration starts with full warm-sandbox pools, as on nodes that have
// been up for a few seconds.
func BenchmarkDeployment10(b *testing.B) { warmVariants(b, benchDeployment10) }

func benchDeployment10(b *testing.B, o clusterOptions) {
	dc := newDockerClusterWith(b, 3, o)
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		name := "d10-" + strconv.Itoa(i)
		b.StopTimer()
		dc.waitWarm(b)
		b.StartTimer()
		start := time.Now()
		if err := dc.Client().Create(context.Background(), benchDeployment(name, 10)); err != nil {
			b.Fatal(err)
		}
		waitRunning(b, dc.Client(), name, 10, 30*time.Second)
		took = append(took, time.Since(start))
		b.StopTimer()
		removeDeployment(b, dc, name)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(p50ms(took), "ms-p50-all-running")
	b.ReportMetric(maxms(took), "ms-max-all-running")
}

// BenchmarkScale10To50 measures scaling a running 10-replica Deployment to
// 50 replicas until all 50 Pods are Running. Besides the default (no warm
// sandboxes) and 4, warm=16 is a node sized for such a burst: the 40 new Pods (13-14
// per node) all find a warm sandbox, so the daemon starts one container
// per Pod within the timed part, as Swarm does.
func BenchmarkScale10To50(b *testing.B) {
	warmVariants(b, benchScale10To50)
	b.Run("warm=16", func(b *testing.B) {
		benchScale10To50(b, clusterOptions{runtime: func(c *docker.Config) { c.WarmSandboxes = 16 }})
	})
}

func benchScale10To50(b *testing.B, o clusterOptions) {
	dc := newDockerClusterWith(b, 3, o)
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		name := "s50-" + strconv.Itoa(i)
		d := benchDeployment(name, 10)
		if err := dc.Client().Create(context.Background(), d); err != nil {
			b.Fatal(err)
		}
		waitRunning(b, dc.Client(), name, 10, 30*time.Second)
		dc.waitWarm(b)
		b.StartTimer()
		start := time.Now()
		if err := dc.Client().Patch(context.Background(), d, orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"spec":{"replicas":50}}`))); err != nil {
			b.Fatal(err)
		}
		waitRunning(b, dc.Client(), name, 50, 60*time.Second)
		took = append(took, time.Since(start))
		b.Logf("scale 10 -> 50: all Running after %v", took[len(took)-1])
		b.StopTimer()
		removeDeployment(b, dc, name)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(p50ms(took), "ms-p50-all-running")
	b.ReportMetric(maxms(took), "ms-max-all-running")
}

// BenchmarkKillRestart kills the container of a fresh Pod (so the
// restart is the Pod's first one) with the Docker API and measures, through
// the API, until the agent has reported it (the Pod's container is no
// longer the running, ready one) and until the restarted container is
// Running and Ready. It uses TestTiming, whose first restart backoff is
// 20 ms (DefaultTiming: 10 s).
func BenchmarkKillRestart(b *testing.B) {
	dc := newDockerCluster(b, 3, true)
	c := dc.Client()
	var seen, restarted []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		name := "kill-" + strconv.Itoa(i)
		if err := c.Create(context.Background(), benchDeployment(name, 1)); err != nil {
			b.Fatal(err)
		}
		pod := waitRunning(b, c, name, 1, 30*time.Second)[0]
		old := containerID(&pod)
		b.StartTimer()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		if _, err := dc.cli.ContainerKill(ctx, old, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
			b.Fatal(err)
		}
		var sawAt time.Duration
		for {
			var p orchestrator.Pod
			if err := c.Get(ctx, orchestrator.KeyFor(&pod), &p); err == nil && len(p.Status.ContainerStatuses) > 0 {
				cs := p.Status.ContainerStatuses[0]
				changed := !cs.Ready || cs.State.Running == nil || containerID(&p) != old
				if changed && sawAt == 0 {
					sawAt = time.Since(start)
				}
				if containerID(&p) != old && cs.Ready && cs.State.Running != nil {
					restarted = append(restarted, time.Since(start))
					seen = append(seen, sawAt)
					break
				}
			}
			select {
			case <-ctx.Done():
				b.Fatalf("pod %s: no restart after kill: %v", pod.Name, ctx.Err())
			case <-time.After(2 * time.Millisecond):
			}
		}
		cancel()
		b.StopTimer()
		removeDeployment(b, dc, name)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(p50ms(seen), "ms-p50-seen")
	b.ReportMetric(p50ms(restarted), "ms-p50-restarted")
	b.ReportMetric(maxms(restarted), "ms-max-restarted")
}

// BenchmarkNodeMemory30Pods runs 30 Pods on a one-node cluster and reports
// the process's RSS and Go heap. The agent cannot be isolated in-process:
// the figure is a whole Flotilla node (Raft, gossip, store, controllers,
// scheduler, agent and Docker runtime) plus the test binary, an upper
// bound of the agent's share.
func BenchmarkNodeMemory30Pods(b *testing.B) {
	dc := newDockerCluster(b, 1, true)
	for i := 0; i < b.N; i++ {
		name := "mem-" + strconv.Itoa(i)
		if err := dc.Client().Create(context.Background(), benchDeployment(name, 30)); err != nil {
			b.Fatal(err)
		}
		waitRunning(b, dc.Client(), name, 30, 60*time.Second)
		b.StopTimer()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(rssBytes(b))/(1<<20), "MiB-RSS")
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MiB-heap-inuse")
		removeDeployment(b, dc, name)
		b.StartTimer()
	}
}

// rssBytes reads the process's resident set size from /proc (Linux).
func rssBytes(tb testing.TB) int64 {
	tb.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skipf("no /proc/self/status: %v", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS in /proc/self/status")
	return 0
}
