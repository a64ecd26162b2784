package metrics

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/promtest"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// find returns the metric name{labels} of g, or nil.
func find(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	return promtest.Find(t, g, name, labels)
}

// Every part reports under Kubernetes' names (or flotilla_ ones) with the
// node's label, on the registerer given, and two nodes share one.
func TestParts(t *testing.T) {
	reg := prometheus.NewRegistry()
	n1, n2 := New("n1"), New("n2")
	for _, n := range []*Node{n1, n2} {
		if err := n.Register(reg); err != nil {
			t.Fatal(err)
		}
	}
	q := n1.Queue("replicaset")
	q.Adds.Inc()
	q.Depth.Set(3)
	n1.Controller("replicaset").Reconciled(0, errors.New("boom"))
	n1.Controller("replicaset").Reconciled(time.Second, nil)
	n1.Controller("replicaset").Reconciled(0, nil)
	start := time.Now()
	n1.Scheduler().Attempt(Scheduled, start)
	n1.Scheduler().Attempt(Unschedulable, start)
	n1.Events("agent").Dropped.Inc()
	n1.Events("agent").Failed.Add(2)
	a := n2.Agent()
	a.PodStarted(start)
	a.PodStartFailed()
	a.RuntimeOperation("create_container", start, nil)
	a.RuntimeOperation("create_container", start, errors.New("no such image"))
	a.Queue().Retries.Inc()
	a.HeartbeatFailed()
	a.PodSyncFailed()
	a.PodSyncFailed()

	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"workqueue_adds_total", map[string]string{"node": "n1", "name": "replicaset"}, 1},
		{"workqueue_depth", map[string]string{"node": "n1", "name": "replicaset"}, 3},
		{"workqueue_retries_total", map[string]string{"node": "n2", "name": "agent"}, 1},
		{"flotilla_controller_reconcile_errors_total", map[string]string{"node": "n1", "controller": "replicaset"}, 1},
		{"flotilla_controller_reconcile_total", map[string]string{"node": "n1", "controller": "replicaset", "result": "error"}, 1},
		{"flotilla_controller_reconcile_total", map[string]string{"node": "n1", "controller": "replicaset", "result": "requeue"}, 1},
		{"flotilla_controller_reconcile_total", map[string]string{"node": "n1", "controller": "replicaset", "result": "success"}, 1},
		{"scheduler_schedule_attempts_total", map[string]string{"node": "n1", "result": "scheduled"}, 1},
		{"scheduler_schedule_attempts_total", map[string]string{"node": "n1", "result": "unschedulable"}, 1},
		{"scheduler_scheduling_attempt_duration_seconds", map[string]string{"node": "n1", "result": "scheduled"}, 1},
		{"flotilla_events_dropped_total", map[string]string{"node": "n1", "component": "agent", "reason": "queue_full"}, 1},
		{"flotilla_events_dropped_total", map[string]string{"node": "n1", "component": "agent", "reason": "write_failed"}, 2},
		{"kubelet_started_pods_total", map[string]string{"node": "n2"}, 1},
		{"kubelet_started_pods_errors_total", map[string]string{"node": "n2"}, 1},
		{"kubelet_pod_start_duration_seconds", map[string]string{"node": "n2"}, 1},
		{"kubelet_runtime_operations_total", map[string]string{"node": "n2", "operation_type": "create_container"}, 2},
		{"kubelet_runtime_operations_errors_total", map[string]string{"node": "n2", "operation_type": "create_container"}, 1},
		{"kubelet_runtime_operations_duration_seconds", map[string]string{"node": "n2", "operation_type": "create_container"}, 2},
		{"flotilla_agent_heartbeat_failures_total", map[string]string{"node": "n2"}, 1},
		{"flotilla_agent_pod_sync_failures_total", map[string]string{"node": "n2"}, 2},
	} {
		m := find(t, reg, c.name, c.labels)
		var got float64
		switch {
		case m == nil:
			t.Errorf("%s%v missing", c.name, c.labels)
			continue
		case m.Counter != nil:
			got = m.GetCounter().GetValue()
		case m.Gauge != nil:
			got = m.GetGauge().GetValue()
		case m.Histogram != nil:
			got = float64(m.GetHistogram().GetSampleCount())
		}
		if got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

// A second node of the same name cannot register beside the first, and
// leaves nothing behind; once the first unregisters it can.
func TestRegisterLifecycle(t *testing.T) {
	reg := prometheus.NewRegistry()
	first, second := New("n1"), New("n1")
	if err := first.Register(reg); err != nil {
		t.Fatal(err)
	}
	if err := first.Register(reg); err == nil {
		t.Error("a second Register of the same Node succeeded")
	}
	err := second.Register(reg)
	if err == nil || !strings.Contains(err.Error(), "workqueue_depth") {
		t.Fatalf("registering a node of the same name: %v, want an error naming workqueue_depth", err)
	}
	first.Unregister()
	first.Unregister()
	if mfs, _ := reg.Gather(); len(mfs) != 0 {
		t.Fatalf("%d metric families left after Unregister", len(mfs))
	}
	if err := second.Register(reg); err != nil {
		t.Fatalf("after the first node unregistered: %v", err)
	}
	second.Queue("x").Adds.Inc()
	mfs, _ := reg.Gather()
	if !slices.ContainsFunc(mfs, func(mf *dto.MetricFamily) bool { return mf.GetName() == "workqueue_adds_total" }) {
		t.Error("the second node's metrics are not gathered")
	}
}

// A nil Node hands out parts that do nothing, so components built without
// metrics need no checks.
func TestNil(t *testing.T) {
	var n *Node
	if err := n.Register(prometheus.NewRegistry()); err != nil {
		t.Fatal(err)
	}
	n.Unregister()
	if q := n.Queue("x"); q.Adds != nil || q.Depth != nil {
		t.Error("a nil Node's queue metrics are not empty")
	}
	n.Controller("x").Reconciled(0, errors.New("x"))
	n.Scheduler().Attempt(Error, time.Now())
	a := n.Agent()
	a.PodStarted(time.Now())
	a.PodStartFailed()
	a.RuntimeOperation("x", time.Now(), nil)
	a.HeartbeatFailed()
	a.PodSyncFailed()
	if q := a.Queue(); q.Retries != nil {
		t.Error("a nil Agent's queue metrics are not empty")
	}
	if e := n.Events("x"); e.Dropped != nil {
		t.Error("a nil Node's event metrics are not empty")
	}
}
