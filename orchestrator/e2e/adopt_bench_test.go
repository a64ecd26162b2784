package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// BenchmarkAgentRestart30 restarts a node that runs 30 Pods: the node and
// its Docker runtime stop (the containers keep running), a new runtime and
// node start, and the new agent adopts the containers. It measures from the
// restart until the agent logs that every Pod bound to it at start is
// synced; afterwards all 30 Pods must be Running and Ready with the same
// containers (TestNodeRestartKeepsPodsReady checks they stay Ready all
// along). It reports the containers replaced or restarted, and fails if
// there are any.
func BenchmarkAgentRestart30(b *testing.B) {
	core, logs := observer.New(zapcore.InfoLevel)
	// The node is down for as long as a restart takes: its Pods must not
	// be evicted meanwhile (TestTiming evicts after 0.8 s).
	timing := e2eTiming()
	timing.NodeMonitorGracePeriod, timing.PodEvictionTimeout = 10*time.Second, 30*time.Second
	dc := newDockerClusterWith(b, 3, clusterOptions{logger: zap.New(core), test: []orchestratortest.Option{orchestratortest.WithTiming(timing)}})
	const node = 2
	name := "adopt30"
	d := benchDeployment(name, 30)
	d.Spec.Template.Spec.NodeSelector = map[string]string{api.LabelHostname: dc.NodeName(node)}
	if err := dc.Client().Create(context.Background(), d); err != nil {
		b.Fatal(err)
	}
	before := waitRunning(b, dc.Client(), name, 30, 2*time.Minute)
	ids := map[string]string{}
	for _, p := range before {
		ids[p.Name] = containerID(&p)
	}
	var took, agentTook []time.Duration
	replaced := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dc.StopNode(node)
		if err := dc.runtimes[node].Close(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		rt, err := docker.New(ctx, docker.Config{
			ClusterID: dc.clusterID, NodeName: dc.NodeName(node), Network: "flotilla-" + dc.clusterID,
			Client: dc.cli, Logger: zap.NewNop(),
		})
		if err == nil {
			err = rt.Start(ctx)
		}
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		dc.runtimes[node] = rt
		dc.RestartNode(node)
		entry := waitLog(b, logs, start, "initial sync finished", dc.NodeName(node))
		took = append(took, entry.Time.Sub(start))
		for _, f := range entry.Context {
			if f.Key == "took" {
				agentTook = append(agentTook, time.Duration(f.Integer))
			}
		}
		b.StopTimer()
		after, total, err := runningPods(context.Background(), dc.Client(), name)
		if err != nil || len(after) != 30 || total != 30 {
			b.Fatalf("after the restart: %d of %d Pods Running and Ready (%v)", len(after), total, err)
		}
		for _, p := range after {
			if ids[p.Name] != containerID(&p) || p.Status.ContainerStatuses[0].RestartCount != 0 {
				replaced++
			}
		}
		if replaced > 0 {
			b.Fatalf("%d containers replaced or restarted across the agent restart", replaced)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(p50ms(took), "ms-p50-restart-to-adopted")
	b.ReportMetric(maxms(took), "ms-max-restart-to-adopted")
	b.ReportMetric(p50ms(agentTook), "ms-p50-agent-adoption")
	b.ReportMetric(float64(replaced), "containers-replaced")
}

// waitLog waits for a log entry after since whose message starts with msg,
// logged by node's components.
func waitLog(tb testing.TB, logs *observer.ObservedLogs, since time.Time, msg, node string) observer.LoggedEntry {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, e := range logs.FilterMessageSnippet(msg).All() {
			if !e.Time.Before(since) && strings.HasPrefix(e.LoggerName, node) {
				return e
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no %q log of %s within 30 s", msg, node)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
