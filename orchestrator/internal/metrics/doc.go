// Package metrics holds the Prometheus metrics of one node's control loops,
// above the store: work queues, controllers, the scheduler, the Event
// recorders and the agent. Names are Kubernetes' where Kubernetes has the
// metric (workqueue_*, scheduler_*, kubelet_*), flotilla_<component>_*
// otherwise, and every metric has the constant label node=<node name>, so
// the nodes of several clusters may share one registerer.
//
//	workqueue_depth{name}                                gauge
//	workqueue_adds_total{name}                           counter
//	workqueue_queue_duration_seconds{name}               histogram
//	workqueue_work_duration_seconds{name}                histogram
//	workqueue_retries_total{name}                        counter
//	flotilla_controller_reconcile_total{controller,result}  counter: result success, error, requeue
//	flotilla_controller_reconcile_errors_total{controller}  counter
//	scheduler_schedule_attempts_total{result}            counter: result scheduled, unschedulable, error
//	scheduler_scheduling_attempt_duration_seconds{result} histogram
//	flotilla_events_dropped_total{component,reason}      counter: reason queue_full, write_failed
//	kubelet_started_pods_total                           counter
//	kubelet_started_pods_errors_total                    counter
//	kubelet_pod_start_duration_seconds                   histogram
//	kubelet_runtime_operations_total{operation_type}     counter
//	kubelet_runtime_operations_errors_total{operation_type} counter
//	kubelet_runtime_operations_duration_seconds{operation_type} histogram
//	flotilla_agent_heartbeat_failures_total              counter
//	flotilla_agent_pod_sync_failures_total               counter
//
// # Usage
//
//  1. New(nodeName) when the node is built.
//  2. Register(reg) when it starts (nil reg: the metrics count but are
//     exported nowhere); Unregister when it stops, so a node of the same
//     name may register again.
//  3. Hand each component its part: Queue(name) to workqueue.WithMetrics,
//     Controller(name), Scheduler(), Events(component) to
//     events.WithMetrics, Agent().
//
// Every method works on a nil *Node, and every part's methods on a nil
// part, doing nothing: a component built without metrics (in a unit test)
// needs no checks.
//
// # What it does not do
//
// It holds no metrics of the store or gossip (raftstore and membership
// register their own) and registers nothing on Prometheus' global
// registry. It starts no goroutines.
package metrics
