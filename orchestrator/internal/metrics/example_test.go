package metrics_test

import (
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"github.com/flotilla-io/flotilla/orchestrator/internal/workqueue"
	"github.com/prometheus/client_golang/prometheus"
)

// A node's metrics on a registry of its own; a work queue and a
// controller report to them.
func Example() {
	reg := prometheus.NewRegistry()
	m := metrics.New("node-1")
	if err := m.Register(reg); err != nil {
		panic(err)
	}
	defer m.Unregister()

	q := workqueue.New(time.Millisecond, time.Second, workqueue.WithMetrics(m.Queue("replicaset")))
	defer q.Shutdown()
	q.Add("default/web")
	m.Controller("replicaset").Reconciled(0, nil)

	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			if s.GetCounter() != nil && s.GetCounter().GetValue() > 0 || s.GetGauge() != nil && s.GetGauge().GetValue() > 0 {
				labels := ""
				for _, l := range s.GetLabel() {
					labels += fmt.Sprintf(" %s=%s", l.GetName(), l.GetValue())
				}
				fmt.Println(mf.GetName() + labels)
			}
		}
	}
	// Output:
	// flotilla_controller_reconcile_total controller=replicaset node=node-1 result=success
	// workqueue_adds_total name=replicaset node=node-1
	// workqueue_depth name=replicaset node=node-1
}
