package orchestrator_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/promtest"
	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/internal/inmem"
	"github.com/prometheus/client_golang/prometheus"
)

// metricNodes returns, per flotilla_ subsystem (raftstore, membership),
// the node labels g's metrics carry.
func metricNodes(t *testing.T, g prometheus.Gatherer) map[string][]string {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string][]string{}
	for _, mf := range mfs {
		rest, ok := strings.CutPrefix(mf.GetName(), "flotilla_")
		if !ok {
			continue
		}
		sub, _, _ := strings.Cut(rest, "_")
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "node" && !slices.Contains(nodes[sub], l.GetValue()) {
					nodes[sub] = append(nodes[sub], l.GetValue())
				}
			}
		}
	}
	for _, v := range nodes {
		slices.Sort(v)
	}
	return nodes
}

// gauge returns the value of the gauge name{node, extra label} in g, or
// -1 if it is not there.
func gauge(t *testing.T, g prometheus.Gatherer, name, node string, label ...string) float64 {
	t.Helper()
	want := map[string]string{"node": node}
	for i := 0; i+1 < len(label); i += 2 {
		want[label[i]] = label[i+1]
	}
	return promtest.Value(t, g, name, want)
}

// Each cluster's metrics go to the registerer its Config names, labelled
// by node: two clusters in one process, even with nodes of the same name,
// never meet, nothing lands on Prometheus' default registry, and a node
// restarted on the same registerer registers again.
func TestRegisterer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	regA, regB := prometheus.NewRegistry(), prometheus.NewRegistry()

	netsA := inmem.New()
	a1 := newNode(t, netsA, "n1", func(c *orchestrator.Config) { c.BootstrapExpect, c.Registerer = 1, regA })
	if err := a1.Start(ctx); err != nil {
		t.Fatal(err)
	}
	a2 := newNode(t, netsA, "n2", func(c *orchestrator.Config) { c.Join, c.Registerer = []string{a1.RaftAddr()}, regA })
	if err := a2.Start(ctx); err != nil {
		t.Fatal(err)
	}
	startB := func() *orchestrator.Cluster {
		t.Helper()
		b := newNode(t, inmem.New(), "n1", func(c *orchestrator.Config) { c.BootstrapExpect, c.Registerer = 1, regB })
		if err := b.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := startB()
	waitFor(t, 20*time.Second, "both clusters formed", func() bool { return len(readyNodes(a1)) == 2 && len(readyNodes(b)) == 1 })

	both, one := []string{"n1", "n2"}, []string{"n1"}
	if got := metricNodes(t, regA); !slices.Equal(got["raftstore"], both) || !slices.Equal(got["membership"], both) {
		t.Errorf("cluster A's registry: nodes per subsystem %v, want raftstore and membership of n1 and n2", got)
	}
	if got := metricNodes(t, regB); !slices.Equal(got["raftstore"], one) || !slices.Equal(got["membership"], one) {
		t.Errorf("cluster B's registry: nodes per subsystem %v, want raftstore and membership of n1", got)
	}
	if got := metricNodes(t, prometheus.DefaultGatherer); len(got) > 0 {
		t.Errorf("flotilla metrics on the default registry: %v", got)
	}
	// They are the running nodes' figures, not idle collectors.
	waitFor(t, 10*time.Second, "cluster A's members alive in its metrics", func() bool {
		return gauge(t, regA, "flotilla_membership_members", "n1", "status", "alive") == 2
	})
	if v := gauge(t, regB, "flotilla_raftstore_leader", "n1"); v != 1 {
		t.Errorf("cluster B's flotilla_raftstore_leader = %v, want 1", v)
	}

	if err := b.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := metricNodes(t, regB); len(got) > 0 {
		t.Errorf("metrics left on cluster B's registry after Shutdown: %v", got)
	}
	startB() // the same node name registers again
	if got := metricNodes(t, regB); !slices.Equal(got["raftstore"], one) || !slices.Equal(got["membership"], one) {
		t.Errorf("cluster B's registry after a restart: %v", got)
	}
}
