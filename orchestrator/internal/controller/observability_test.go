package controller

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/promtest"
	"github.com/flotilla-io/flotilla/internal/ratelog"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// gathered returns the value of the counter name{labels} in g (0 if
// absent).
func gathered(t *testing.T, g prometheus.Gatherer, name string, labels map[string]string) float64 {
	t.Helper()
	return max(0, promtest.Value(t, g, name, labels))
}

// A reconcile that keeps failing is one Warn line per interval however
// often it is retried (the retries go to Debug), and every failure is
// counted; a conflict, which the retry resolves, stays at Debug.
func TestLoopLogsPersistentFailuresAtWarn(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	reg := prometheus.NewRegistry()
	met := metrics.New("n1")
	if err := met.Register(reg); err != nil {
		t.Fatal(err)
	}
	l := newLoop("broken", 1, zap.New(core), met, func(_ context.Context, key string) (time.Duration, error) {
		if key == "conflicting" {
			return 0, api.NewConflict("Pod", key, errors.New("the object has been modified"))
		}
		return 0, errors.New("no leader")
	})
	l.failures = ratelog.New(l.log, time.Hour) // the whole test is one interval
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { l.run(ctx) })
	l.queue.Add("default/web")
	l.queue.Add("conflicting")
	errs := func(name string) float64 {
		return gathered(t, reg, "flotilla_controller_reconcile_errors_total", map[string]string{"controller": name})
	}
	testutil.Eventually(t, 10*time.Second, "five failed reconciles of each key", func() bool { return errs("broken") >= 10 })
	cancel()
	wg.Wait()

	warn := logs.FilterLevelExact(zapcore.WarnLevel).AllUntimed()
	if len(warn) != 1 || warn[0].Message != "reconcile failed; retrying" || warn[0].ContextMap()["key"] != "default/web" ||
		warn[0].ContextMap()["error"] != "no leader" || warn[0].LoggerName != "broken" {
		t.Errorf("Warn lines %+v, want one about default/web's error", warn)
	}
	failed := logs.FilterMessage("reconcile failed; retrying").Len()
	conflicts := logs.FilterMessage("reconcile conflict; retrying").FilterLevelExact(zapcore.DebugLevel).Len()
	if n := errs("broken"); float64(failed+conflicts) != n || failed < 5 || conflicts < 5 {
		t.Errorf("%d failure and %d conflict lines for %v reconcile errors counted", failed, conflicts, n)
	}
	if got := gathered(t, reg, "workqueue_retries_total", map[string]string{"name": "broken"}); got < 10 {
		t.Errorf("work queue retries %v, want at least 10", got)
	}
}

// On the real path: a ReplicaSet controller whose Pod creates fail shows
// in the log at Warn and in its metrics, through the Manager.
func TestReplicaSetFailureShows(t *testing.T) {
	failing := client.Intercept(testutil.Registry(t), client.Funcs{
		Create: func(ctx context.Context, c client.Interface, obj api.Object, o client.CreateOptions) error {
			if _, ok := obj.(*api.Pod); ok {
				return api.NewForbidden("Pod", obj.GetName(), errors.New("exceeded quota"))
			}
			return c.Create(ctx, obj, o)
		},
	})
	core, logs := observer.New(zapcore.WarnLevel)
	reg := prometheus.NewRegistry()
	met := metrics.New("n1")
	if err := met.Register(reg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		Run(ctx, Config{Client: failing, NodeName: "n1", NodeMonitorGracePeriod: time.Second, PodEvictionTimeout: time.Second,
			Logger: zap.New(core), Metrics: met})
	})
	defer func() { cancel(); wg.Wait() }()
	labels := map[string]string{"app": "x"}
	rs := &api.ReplicaSet{
		ObjectMeta: api.ObjectMeta{Name: "x", Namespace: "default"},
		Spec: api.ReplicaSetSpec{Replicas: api.Ptr(int32(2)), Selector: &api.LabelSelector{MatchLabels: labels},
			Template: api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: labels}, Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "i:1"}}}}},
	}
	if err := failing.Create(ctx, rs, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "the failure counted", func() bool {
		return gathered(t, reg, "flotilla_controller_reconcile_errors_total", map[string]string{"controller": "replicaset"}) > 0
	})
	testutil.Eventually(t, 10*time.Second, "the failure logged at Warn", func() bool {
		for _, e := range logs.FilterMessage("reconcile failed; retrying").AllUntimed() {
			if e.LoggerName == "replicaset" && e.ContextMap()["key"] == "default/x" {
				return true
			}
		}
		return false
	})
	if got := gathered(t, reg, "workqueue_adds_total", map[string]string{"name": "replicaset"}); got == 0 {
		t.Error("the replicaset work queue counted no adds")
	}
}
