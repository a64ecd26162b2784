package orchestrator

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/inmem"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// unreadableCount returns flotilla_registry_unreadable_objects_total for
// node and resource in g (0 when absent).
func unreadableCount(t *testing.T, g prometheus.Gatherer, node, resource string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "flotilla_registry_unreadable_objects_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["node"] == node && labels["resource"] == resource {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

// One value under /registry/pods/ that is not a Pod (invalid JSON written
// straight into the store, as corruption or an old bug would leave it)
// does not stop the control plane: a Deployment scaled afterwards gets
// its Pods, List works and leaves the bad value out, Get of it fails, and
// the bad key is reported in an error log naming it, the
// flotilla_registry_unreadable_objects_total counter and a Warning Event.
func TestUnreadableObjectIsSkippedAndReported(t *testing.T) {
	rt, err := fake.New(fake.Config{NodeName: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	core, logs := observer.New(zap.ErrorLevel)
	metrics := prometheus.NewRegistry()
	cfg := TestConfig("n1")
	cfg.Runtime, cfg.Logger, cfg.Registerer, cfg.BootstrapExpect = rt, zap.New(core), metrics, 1
	inmem.Attach(&cfg, inmem.New())
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Shutdown(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	cl := c.Client()
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	running := func() int {
		var pods PodList
		if err := cl.List(ctx, &pods, MatchingFields{"status.phase": "Running"}); err != nil {
			t.Errorf("List: %v", err)
			return -1
		}
		return len(pods.Items)
	}
	labels := map[string]string{"app": "web"}
	d := &Deployment{ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"},
		Spec: DeploymentSpec{Replicas: api.Ptr(int32(2)), Selector: &LabelSelector{MatchLabels: labels},
			Template: PodTemplateSpec{ObjectMeta: ObjectMeta{Labels: labels}, Spec: PodSpec{Containers: []Container{{Name: "app", Image: "web:1"}}}}}}
	eventually("the Deployment created", func() bool { return cl.Create(ctx, d) == nil })
	eventually("2 Pods running", func() bool { return running() == 2 })

	const key = "/registry/pods/default/corrupt"
	if _, err := c.store.Put(ctx, key, []byte(`{"metadata": {"name": "corr`)); err != nil {
		t.Fatal(err)
	}
	if err := cl.Patch(ctx, &Deployment{ObjectMeta: ObjectMeta{Name: "web", Namespace: "default"}},
		RawPatch(MergePatchType, []byte(`{"spec":{"replicas":5}}`))); err != nil {
		t.Fatal(err)
	}
	eventually("5 Pods running", func() bool { return running() == 5 })

	if err := cl.Get(ctx, ObjectKey{Namespace: "default", Name: "corrupt"}, &Pod{}); err == nil || !strings.Contains(err.Error(), key) {
		t.Errorf("Get of the bad Pod: %v, want an error naming its key", err)
	}
	if n := unreadableCount(t, metrics, "n1", "pods"); n < 1 {
		t.Errorf("flotilla_registry_unreadable_objects_total{resource=pods} = %v, want at least 1", n)
	}
	if n := logs.FilterField(zap.String("key", key)).Len(); n < 1 {
		t.Errorf("no error log names %s; logs: %v", key, logs.All())
	}
	eventually("a Warning Event about the bad Pod", func() bool {
		var evs EventList
		if err := cl.List(ctx, &evs, MatchingFields{"reason": ReasonUnreadableObject}); err != nil {
			return false
		}
		for _, e := range evs.Items {
			if e.InvolvedObject.Kind == "Pod" && e.InvolvedObject.Name == "corrupt" && e.InvolvedObject.Namespace == "default" && e.Type == api.EventTypeWarning {
				return true
			}
		}
		return false
	})
	// Reads repeat; the log does not (once a minute per key).
	before := logs.FilterField(zap.String("key", key)).Len()
	for range 3 {
		running()
	}
	if after := logs.FilterField(zap.String("key", key)).Len(); after != before {
		t.Errorf("%d more log lines for the same key within a minute", after-before)
	}
}
