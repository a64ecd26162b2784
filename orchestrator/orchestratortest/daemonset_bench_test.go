package orchestratortest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// BenchmarkDaemonSet measures a DaemonSet on 10, 25, 50 and 100 in-process
// nodes (fake runtimes; every node is a Raft server, as NewCluster makes
// them) from Create until its Pod is Running on every node, and then the
// time from a new node's Ready until its Pod runs there. The issue's
// target is 100 nodes in 2 s; the cluster of 100 servers needs more than
// two shared cores to start at all.
func BenchmarkDaemonSet(b *testing.B) {
	for _, n := range []int{10, 25, 50, 100} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) { benchmarkDaemonSet(b, n) })
	}
}

func benchmarkDaemonSet(b *testing.B, nodes int) {
	var times, joins []time.Duration
	for range b.N {
		b.StopTimer()
		c := orchestratortest.NewCluster(b, nodes, quiet(), orchestratortest.WithReadyTimeout(5*time.Minute))
		cl := c.Client()
		ctx := context.Background()
		ds := agentSet("agent:1")
		ds.Spec.Template.Spec.NodeSelector = nil
		ds.Spec.Template.Spec.Containers[0].ReadinessProbe = nil
		b.StartTimer()
		start := time.Now()
		if err := cl.Create(ctx, ds); err != nil {
			b.Fatal(err)
		}
		c.Eventually(60*time.Second, "a Pod running on every node", func() bool {
			return countRunning(ctx, cl, "") == nodes
		})
		times = append(times, time.Since(start))
		b.StopTimer()
		var got orchestrator.DaemonSet
		if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "agent"}, &got); err != nil {
			b.Fatal(err)
		}
		if got.Status.DesiredNumberScheduled != int32(nodes) {
			b.Fatalf("desiredNumberScheduled %d, want %d", got.Status.DesiredNumberScheduled, nodes)
		}
		joins = append(joins, joinLatency(b, c, cl))
		c.Close()
		b.StartTimer()
	}
	b.ReportMetric(p50(times).Seconds(), "p50-all-running-s")
	b.ReportMetric(float64(p50(joins).Milliseconds()), "p50-join-ms")
}

// joinLatency adds a node to c and returns the time from when its Node is
// seen Ready until the DaemonSet's Pod is seen Running on it (both polled
// every 10 ms, which bounds the resolution).
func joinLatency(b *testing.B, c *orchestratortest.TestCluster, cl orchestrator.Client) time.Duration {
	ctx := context.Background()
	name := c.NodeName(c.AddNode())
	var ready time.Time
	c.Eventually(60*time.Second, name+" Ready", func() bool {
		var n orchestrator.Node
		if cl.Get(ctx, orchestrator.ObjectKey{Name: name}, &n) == nil && orchestrator.IsNodeReady(&n) {
			ready = time.Now()
			return true
		}
		return false
	})
	c.Eventually(30*time.Second, "a Pod running on "+name, func() bool {
		var pods orchestrator.PodList
		if err := cl.List(ctx, &pods, orchestrator.MatchingFields{"spec.nodeName": name}); err != nil {
			return false
		}
		for _, p := range pods.Items {
			if p.Status.Phase == orchestrator.PodRunning {
				return true
			}
		}
		return false
	})
	return time.Since(ready)
}
