package orchestratortest_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

var burstRounds = flag.Int("burst-rounds", 1, "leader partitions per TestBurstFailoverKeepsCapacity run (a longer soak: more)")

// TestBurstFailoverKeepsCapacity forces an old and a new control plane to
// overlap: a Deployment far beyond the cluster's capacity (200 replicas,
// 3 nodes of 20 Pods) is scaling when its leader is cut off; another node
// is elected and binds Pods while the old leader's controllers and
// scheduler still run until it notices, and after Heal its pending writes
// reach the new leader. Every write of the old term is fenced to it, so
// none lands: no node ever has more Pods bound than its capacity (the
// scheduler's own check holds because no deposed scheduler binds beside
// it), and no Pod had to be refused by an agent (OutOfpods).
func TestBurstFailoverKeepsCapacity(t *testing.T) {
	const perNode, replicas = 20, 200
	reg := prometheus.NewRegistry()
	c := orchestratortest.NewCluster(t, 3,
		orchestratortest.WithCapacity(orchestrator.ResourceList{
			api.ResourceCPU: api.MustParse("64"), api.ResourceMemory: api.MustParse("256Gi"), api.ResourcePods: api.MustParse("20"),
		}),
		orchestratortest.WithConfig(func(_ int, cfg *orchestrator.Config) { cfg.Registerer = reg }))
	c.WaitReady(20 * time.Second)
	ctx := context.Background()
	cl := c.Client()
	if err := cl.Create(ctx, web(replicas)); err != nil {
		t.Fatal(err)
	}
	for round := 0; round < *burstRounds; round++ {
		old := c.Leader()
		if old < 0 {
			c.WaitReady(20 * time.Second)
			old = c.Leader()
		}
		// Mid-burst: Pods are being created and bound.
		seen := boundPods(t, c.Node((old+1)%3).Client())
		c.Eventually(20*time.Second, "binding under way", func() bool {
			return boundPods(t, c.Node((old+1)%3).Client()) > seen
		})
		c.Partition(old)
		c.Eventually(20*time.Second, "a new leader among the others", func() bool {
			return c.Node((old+1)%3).IsLeader() || c.Node((old+2)%3).IsLeader()
		})
		// Let the new control plane work while the old one still may.
		other := c.Node((old + 1) % 3).Client()
		now := boundPods(t, other)
		c.Eventually(20*time.Second, "the new leader binding", func() bool { return boundPods(t, other) > now || now >= 2*perNode })
		c.Heal()
		c.WaitReady(20 * time.Second)
	}
	c.Eventually(20*time.Second, "every node full", func() bool { return boundPods(t, cl) == 3*perNode })

	var pods orchestrator.PodList
	if err := cl.List(ctx, &pods); err != nil {
		t.Fatal(err)
	}
	perNodeBound := map[string]int{}
	for _, p := range pods.Items {
		if p.Status.Reason == "OutOfpods" {
			t.Errorf("Pod %s on %s was refused by its agent (OutOfpods): the control plane overcommitted the node", p.Name, p.Spec.NodeName)
		}
		if p.Spec.NodeName != "" && !terminal(&p) {
			perNodeBound[p.Spec.NodeName]++
		}
	}
	for node, n := range perNodeBound {
		if n > perNode {
			t.Errorf("%s has %d Pods bound, capacity %d", node, n, perNode)
		}
	}
	t.Logf("bound per node: %v; writes refused by the fence (per node, as applied): %v", perNodeBound, fencedWrites(t, reg))
}

func terminal(p *orchestrator.Pod) bool {
	return p.Status.Phase == orchestrator.PodFailed || p.Status.Phase == orchestrator.PodSucceeded
}

// boundPods counts the Pods bound to a node and not terminated, as cl
// reads them.
func boundPods(t *testing.T, cl orchestrator.Client) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var pods orchestrator.PodList
	if err := cl.List(ctx, &pods); err != nil {
		t.Logf("list: %v", err)
		return -1
	}
	n := 0
	for _, p := range pods.Items {
		if p.Spec.NodeName != "" && !terminal(&p) {
			n++
		}
	}
	return n
}

// fencedWrites reads flotilla_raftstore_fenced_writes_total per node.
func fencedWrites(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "flotilla_raftstore_fenced_writes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			out[label(m, "node")] = m.GetCounter().GetValue()
		}
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
