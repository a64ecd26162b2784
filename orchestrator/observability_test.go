package orchestrator_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/promtest"
	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/internal/inmem"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// sample returns the value of the counter or gauge name{labels} in g, or
// -1 if it is not there.
func sample(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	return promtest.Value(t, g, name, labels)
}

// A node's log lines, its store's, Raft's, gossip's and Autopilot's
// included, carry the node field once, under names that do not repeat,
// with hclog's formatted values formatted; its control loops report
// metrics on Config.Registerer until Shutdown; and a Capacity that names
// only pods keeps it while cpu and memory are found on the host.
func TestNodeLogsMetricsCapacity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	core, logs := observer.New(zapcore.DebugLevel)
	reg := prometheus.NewRegistry()
	n := newNode(t, inmem.New(), "n1", func(c *orchestrator.Config) {
		c.BootstrapExpect, c.Registerer, c.Logger = 1, reg, zap.New(core)
		c.Capacity = orchestrator.ResourceList{orchestrator.ResourcePods: orchestrator.MustParseQuantity("7")}
	})
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the node ready", func() bool { return len(readyNodes(n)) == 1 })
	pod := &orchestrator.Pod{
		ObjectMeta: orchestrator.ObjectMeta{Name: "p", Namespace: "default"},
		Spec:       orchestrator.PodSpec{Containers: []orchestrator.Container{{Name: "c", Image: "img:1"}}},
	}
	if err := n.Client().Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	node := map[string]string{"node": "n1"}
	waitFor(t, 10*time.Second, "the Pod's scheduling counted", func() bool {
		return sample(t, reg, "scheduler_schedule_attempts_total", map[string]string{"node": "n1", "result": "scheduled"}) == 1
	})
	waitFor(t, 10*time.Second, "the Pod's start counted by the agent", func() bool {
		return sample(t, reg, "kubelet_started_pods_total", node) == 1 &&
			sample(t, reg, "kubelet_runtime_operations_total", map[string]string{"node": "n1", "operation_type": "run_podsandbox"}) == 1
	})
	for _, name := range []string{"workqueue_adds_total", "workqueue_depth", "flotilla_controller_reconcile_total"} {
		if sample(t, reg, name, node) < 0 {
			t.Errorf("%s of n1 not on the registerer", name)
		}
	}

	var got orchestrator.Node
	if err := n.Client().Get(ctx, orchestrator.ObjectKey{Name: "n1"}, &got); err != nil {
		t.Fatal(err)
	}
	capacity := got.Status.Capacity
	if q := capacity[orchestrator.ResourcePods]; q.Value() != 7 {
		t.Errorf("pods %v, want the 7 of Config.Capacity", q.String())
	}
	if q := capacity[orchestrator.ResourceCPU]; q.MilliValue() <= 0 {
		t.Errorf("cpu %v, want the host's", q.String())
	}
	if q := capacity[orchestrator.ResourceMemory]; q.Value() <= 0 {
		t.Errorf("memory %v, want the host's", q.String())
	}
	if lines := logs.FilterMessage("node capacity").AllUntimed(); len(lines) != 1 || lines[0].ContextMap()["cpuFrom"] == nil {
		t.Errorf("node capacity lines %v, want one saying where cpu came from", lines)
	}

	if err := n.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if v := sample(t, reg, "workqueue_adds_total", node); v >= 0 {
		t.Error("workqueue metrics of n1 left on the registerer after Shutdown")
	}

	names := map[string]bool{}
	for _, e := range logs.AllUntimed() {
		names[e.LoggerName] = true
		var nodes []string
		for _, f := range e.Context {
			if f.Key == "node" {
				nodes = append(nodes, f.String)
			}
			if f.Type == zapcore.StringType && (strings.Contains(f.String, "%+v") || strings.Contains(f.String, "%!")) {
				t.Errorf("%s %q: field %s=%q is not formatted", e.LoggerName, e.Message, f.Key, f.String)
			}
		}
		if !slices.Equal(nodes, []string{"n1"}) {
			t.Errorf("%s %q: node fields %q, want n1 once", e.LoggerName, e.Message, nodes)
		}
	}
	for name := range names {
		parts := strings.Split(name, ".")
		if len(slices.Compact(slices.Clone(parts))) != len(parts) {
			t.Errorf("logger name %q repeats itself", name)
		}
	}
	for _, want := range []string{"raftstore", "raftstore.raft", "membership", "agent", "controller"} {
		if !names[want] {
			t.Errorf("no line from logger %q; names seen: %v", want, slices.Sorted(maps.Keys(names)))
		}
	}
}
