// Package controller holds Flotilla's leader-side control loops —
// ReplicaSet, Deployment, Job, DaemonSet, EndpointSlice (with the
// LoadBalancer Services' ingress), the `kubernetes` Service
// (Config.APIServices), garbage collector, node lifecycle, namespace
// (creates the system namespaces, empties and removes deleted ones) and
// Event expiry (Config.EventTTL) — and the Manager that runs them with the
// scheduler while this node leads.
//
// The node lifecycle controller reads liveness as Kubernetes' does: a
// heartbeat is a renewal of the Node's Lease (coordination.k8s.io/v1,
// kube-node-lease/<node>, a renewTime later than the last seen, which its
// agent writes every heartbeat interval) or a new lastHeartbeatTime of the
// Node's Ready condition. A Ready Node with no heartbeat seen for
// NodeMonitorGracePeriod, on this node's clock, or one that gossip reports
// failed, gets Ready Unknown (NodeStatusUnknown); its Pods are evicted
// after PodEvictionTimeout, or their tolerationSeconds. A Node whose Lease
// was never seen counts from the controller's start.
//
// # Using it
//
//  1. NewManager(c, log) over the node's client seam (client.Interface:
//     the local registry on a server).
//  2. Register controllers: each Registration asks the Manager for the
//     shared informers it reads (Informer for whole objects,
//     MetadataInformer for metadata alone), adds its indexes and handlers,
//     and adds its loop with Add. Builtin lists the built-in ones; a new
//     controller is one more entry there. Run(ctx, cfg) does 1–3 for them.
//  3. Manager.Run(ctx): one informer per kind, shared by every controller
//     that reads it, lists and watches; when all have listed, the loops
//     run until ctx ends; Run returns when every goroutine has stopped.
//
// Every loop is level-triggered: reconcile reads the desired and observed
// state from informer caches and takes idempotent steps, so a missed event
// or a change of leader loses nothing. After its own writes a loop waits
// until its cache has seen them (informer.WaitForRevision) before it reads
// again, which is what keeps a ReplicaSet from creating a Pod twice.
//
// Controllers write only through client.Interface, so a test can inject
// faults between a controller and the store with client.Intercept.
//
// What it does not do: it does not elect a leader (the Cluster runs it
// while its Raft node leads), and its informers are per leadership term,
// not shared with the node's agent (whose informer holds only its own
// node's Pods; decoded Pods are still shared between them by the
// registry).
package controller
