package metrics

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/workqueue"
	"github.com/prometheus/client_golang/prometheus"
)

// Node is the set of one node's metrics. Create it with New.
type Node struct {
	queueDepth    *prometheus.GaugeVec
	queueAdds     *prometheus.CounterVec
	queueDuration *prometheus.HistogramVec
	workDuration  *prometheus.HistogramVec
	queueRetries  *prometheus.CounterVec

	reconciles      *prometheus.CounterVec
	reconcileErrors *prometheus.CounterVec

	scheduleAttempts   *prometheus.CounterVec
	scheduleDurations  *prometheus.HistogramVec
	eventsDropped      *prometheus.CounterVec
	podStarts          prometheus.Counter
	podStartErrors     prometheus.Counter
	podStartDuration   prometheus.Histogram
	runtimeOps         *prometheus.CounterVec
	runtimeOpErrors    *prometheus.CounterVec
	runtimeOpDurations *prometheus.HistogramVec
	heartbeatFailures  prometheus.Counter
	podSyncFailures    prometheus.Counter

	mu  sync.Mutex
	reg prometheus.Registerer // while registered
}

// Kubernetes' buckets for each histogram, so dashboards built for
// Kubernetes read these too.
var (
	// k8s.io/component-base/metrics/prometheus/workqueue: 10 ns to 1000 s.
	queueBuckets = prometheus.ExponentialBuckets(10e-9, 10, 12)
	// kube-scheduler's scheduling_attempt_duration_seconds: 1 ms to 16 s.
	scheduleBuckets = prometheus.ExponentialBuckets(0.001, 2, 15)
	// The kubelet's pod_start_duration_seconds.
	podStartBuckets = []float64{0.5, 1, 2, 3, 4, 5, 6, 8, 10, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700, 3600}
	// The kubelet's runtime_operations_duration_seconds: 5 ms to about 745 s.
	runtimeBuckets = prometheus.ExponentialBuckets(0.005, 2.5, 14)
)

// New returns the metrics of the node named node, not yet registered.
func New(node string) *Node {
	labels := prometheus.Labels{"node": node}
	counters := func(name, help string, vars ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help, ConstLabels: labels}, vars)
	}
	histograms := func(name, help string, buckets []float64, vars ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, ConstLabels: labels, Buckets: buckets}, vars)
	}
	return &Node{
		queueDepth: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "workqueue_depth",
			Help: "Current depth of workqueue.", ConstLabels: labels}, []string{"name"}),
		queueAdds: counters("workqueue_adds_total", "Total number of adds handled by workqueue.", "name"),
		queueDuration: histograms("workqueue_queue_duration_seconds",
			"How long in seconds an item stays in workqueue before being requested.", queueBuckets, "name"),
		workDuration: histograms("workqueue_work_duration_seconds",
			"How long in seconds processing an item from workqueue takes.", queueBuckets, "name"),
		queueRetries: counters("workqueue_retries_total", "Total number of retries handled by workqueue.", "name"),

		reconciles: counters("flotilla_controller_reconcile_total",
			"Reconciles per controller, by result: success, error, or requeue (success, asked to run again later).", "controller", "result"),
		reconcileErrors: counters("flotilla_controller_reconcile_errors_total",
			"Reconciles that returned an error, per controller (each is retried with backoff).", "controller"),

		scheduleAttempts: counters("scheduler_schedule_attempts_total",
			"Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem (a failed bind).", "result"),
		scheduleDurations: histograms("scheduler_scheduling_attempt_duration_seconds",
			"Scheduling attempt latency in seconds (scheduling algorithm + binding), by result.", scheduleBuckets, "result"),

		eventsDropped: counters("flotilla_events_dropped_total",
			"Event occurrences not recorded, per component, by reason: queue_full (the recorder's queue was full) or write_failed.", "component", "reason"),

		podStarts: prometheus.NewCounter(prometheus.CounterOpts{Name: "kubelet_started_pods_total",
			Help: "Cumulative number of pods started (sandbox created).", ConstLabels: labels}),
		podStartErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "kubelet_started_pods_errors_total",
			Help: "Cumulative number of errors when starting pods.", ConstLabels: labels}),
		podStartDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "kubelet_pod_start_duration_seconds",
			Help:        "Duration in seconds from the agent seeing a pod for the first time to the pod starting to run.",
			ConstLabels: labels, Buckets: podStartBuckets}),
		runtimeOps: counters("kubelet_runtime_operations_total",
			"Cumulative number of runtime operations by operation type.", "operation_type"),
		runtimeOpErrors: counters("kubelet_runtime_operations_errors_total",
			"Cumulative number of runtime operation errors by operation type.", "operation_type"),
		runtimeOpDurations: histograms("kubelet_runtime_operations_duration_seconds",
			"Duration in seconds of runtime operations, by operation type.", runtimeBuckets, "operation_type"),
		heartbeatFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "flotilla_agent_heartbeat_failures_total",
			Help: "Node status renewals (heartbeats) that failed.", ConstLabels: labels}),
		podSyncFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "flotilla_agent_pod_sync_failures_total",
			Help: "Pod syncs that failed and were retried.", ConstLabels: labels}),
	}
}

func (n *Node) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		n.queueDepth, n.queueAdds, n.queueDuration, n.workDuration, n.queueRetries,
		n.reconciles, n.reconcileErrors,
		n.scheduleAttempts, n.scheduleDurations,
		n.eventsDropped,
		n.podStarts, n.podStartErrors, n.podStartDuration, n.runtimeOps, n.runtimeOpErrors, n.runtimeOpDurations,
		n.heartbeatFailures, n.podSyncFailures,
	}
}

// Register registers the metrics on reg; a nil reg (or a nil Node) does
// nothing. Errors: the error of reg.Register naming the metric that could
// not be registered (for example, a node of the same name registered
// there already; the ones registered before it are unregistered again);
// an error if they are registered already.
func (n *Node) Register(reg prometheus.Registerer) error {
	if n == nil || reg == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.reg != nil {
		return errors.New("metrics: registered already")
	}
	cs := n.collectors()
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			for _, done := range cs[:i] {
				reg.Unregister(done)
			}
			return fmt.Errorf("metrics: register %s: %w", name(c), err)
		}
	}
	n.reg = reg
	return nil
}

// name returns the name of a collector's metric, for errors (each
// collector here describes one).
func name(c prometheus.Collector) string {
	ch := make(chan *prometheus.Desc, 1)
	c.Describe(ch)
	close(ch)
	if d, ok := <-ch; ok {
		return d.String()
	}
	return "a collector"
}

// Unregister removes the metrics from the registerer Register put them
// on. Safe to call twice, and without Register.
func (n *Node) Unregister() {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.reg == nil {
		return
	}
	for _, c := range n.collectors() {
		n.reg.Unregister(c)
	}
	n.reg = nil
}

// Queue returns the metrics of the work queue called name (one queue per
// name at a time: its depth is the last queue's).
func (n *Node) Queue(name string) workqueue.Metrics {
	if n == nil {
		return workqueue.Metrics{}
	}
	return workqueue.Metrics{
		Depth:         n.queueDepth.WithLabelValues(name),
		Adds:          n.queueAdds.WithLabelValues(name),
		QueueDuration: n.queueDuration.WithLabelValues(name),
		WorkDuration:  n.workDuration.WithLabelValues(name),
		Retries:       n.queueRetries.WithLabelValues(name),
	}
}

// Events returns the metrics of the Event recorder of component.
func (n *Node) Events(component string) events.Metrics {
	if n == nil {
		return events.Metrics{}
	}
	return events.Metrics{
		Dropped: n.eventsDropped.WithLabelValues(component, "queue_full"),
		Failed:  n.eventsDropped.WithLabelValues(component, "write_failed"),
	}
}

// Controller is one controller's part of the metrics.
type Controller struct {
	success, failure, requeue prometheus.Counter
	errors                    prometheus.Counter
}

// Controller returns the metrics of the controller called name (nil for a
// nil Node).
func (n *Node) Controller(name string) *Controller {
	if n == nil {
		return nil
	}
	return &Controller{
		success: n.reconciles.WithLabelValues(name, "success"),
		failure: n.reconciles.WithLabelValues(name, "error"),
		requeue: n.reconciles.WithLabelValues(name, "requeue"),
		errors:  n.reconcileErrors.WithLabelValues(name),
	}
}

// Reconciled counts one reconcile: an error, or a success that asked to
// run again after requeueAfter (> 0) or not.
func (c *Controller) Reconciled(requeueAfter time.Duration, err error) {
	switch {
	case c == nil:
	case err != nil:
		c.failure.Inc()
		c.errors.Inc()
	case requeueAfter > 0:
		c.requeue.Inc()
	default:
		c.success.Inc()
	}
}

// Results of a scheduling attempt, as kube-scheduler names them.
const (
	// Scheduled: the Pod was bound to a Node.
	Scheduled = "scheduled"
	// Unschedulable: no Node fits the Pod.
	Unschedulable = "unschedulable"
	// Error: a Node was chosen but the bind failed.
	Error = "error"
)

// Scheduler is the scheduler's part of the metrics.
type Scheduler struct {
	attempts  *prometheus.CounterVec
	durations *prometheus.HistogramVec
}

// Scheduler returns the scheduler's metrics (nil for a nil Node).
func (n *Node) Scheduler() *Scheduler {
	if n == nil {
		return nil
	}
	return &Scheduler{attempts: n.scheduleAttempts, durations: n.scheduleDurations}
}

// Attempt counts one scheduling attempt with its result (Scheduled,
// Unschedulable or Error) that began at start.
func (s *Scheduler) Attempt(result string, start time.Time) {
	if s == nil {
		return
	}
	s.attempts.WithLabelValues(result).Inc()
	s.durations.WithLabelValues(result).Observe(time.Since(start).Seconds())
}

// Agent is the agent's part of the metrics; each method is the one line
// the agent adds where the figure arises.
type Agent struct {
	n *Node
}

// Agent returns the agent's metrics (nil for a nil Node).
func (n *Node) Agent() *Agent {
	if n == nil {
		return nil
	}
	return &Agent{n: n}
}

// Queue returns the metrics of the agent's work queue (named "agent"), for
// workqueue.WithMetrics.
func (a *Agent) Queue() workqueue.Metrics {
	if a == nil {
		return workqueue.Metrics{}
	}
	return a.n.Queue("agent")
}

// PodStarted counts a Pod whose sandbox started, firstSeen being when the
// agent first saw the Pod bound to its node.
func (a *Agent) PodStarted(firstSeen time.Time) {
	if a == nil {
		return
	}
	a.n.podStarts.Inc()
	a.n.podStartDuration.Observe(time.Since(firstSeen).Seconds())
}

// PodStartFailed counts a failed attempt to start a Pod's sandbox.
func (a *Agent) PodStartFailed() {
	if a != nil {
		a.n.podStartErrors.Inc()
	}
}

// RuntimeOperation counts one call of the container runtime named op
// (the kubelet's operation types: "pull_image", "run_podsandbox",
// "stop_podsandbox", "remove_podsandbox", "podsandbox_status",
// "list_podsandbox", "create_container", "start_container",
// "stop_container", "remove_container", "container_status",
// "list_containers", "exec_sync") that began at start and returned err:
//
//	start := time.Now()
//	id, err := rt.CreateContainer(ctx, ...)
//	a.metrics.RuntimeOperation("create_container", start, err)
func (a *Agent) RuntimeOperation(op string, start time.Time, err error) {
	if a == nil {
		return
	}
	a.n.runtimeOps.WithLabelValues(op).Inc()
	a.n.runtimeOpDurations.WithLabelValues(op).Observe(time.Since(start).Seconds())
	if err != nil {
		a.n.runtimeOpErrors.WithLabelValues(op).Inc()
	}
}

// HeartbeatFailed counts a failed renewal of the Node's status.
func (a *Agent) HeartbeatFailed() {
	if a != nil {
		a.n.heartbeatFailures.Inc()
	}
}

// PodSyncFailed counts a Pod sync that failed (and is retried).
func (a *Agent) PodSyncFailed() {
	if a != nil {
		a.n.podSyncFailures.Inc()
	}
}
