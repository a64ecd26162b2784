// Package flotilla is container orchestration as a Go library.
//
// A Go service imports Flotilla, starts a Cluster on each of its hosts and gets
// what Kubernetes gives an operator: declared workloads, health checking,
// self-healing and rolling updates, with no separate control plane to run.
// Peers find each other by gossip, agree on state with Raft and run containers
// through the Docker Engine API.
//
// The library is built in layers, each usable on its own:
//
//  1. [github.com/flotilla-io/flotilla/raftstore] is a replicated, revisioned
//     key-value store on hashicorp/raft: compare-and-swap writes from any
//     node, local or linearizable reads, ordered watches that resume from a
//     revision, snapshots, restart from disk and optional encryption at rest.
//     It is the state store every other layer stands on.
//
//  2. [github.com/flotilla-io/flotilla/membership] is gossip membership on
//     hashicorp/memberlist: nodes find each other from one known address and
//     learn of joins, updates, departures and failures.
//
//  3. [github.com/flotilla-io/flotilla/autopilot] joins the two: servers
//     that see each other by gossip form one Raft cluster (bootstrap-expect),
//     and the leader adds new servers and removes departed or dead ones
//     without ever breaking quorum.
//
//  4. [github.com/flotilla-io/flotilla/orchestrator/api] is the object
//     model: Kubernetes-compatible Pods, Deployments, ReplicaSets, Nodes and
//     more, decoded strictly from YAML or JSON, defaulted and validated with
//     field paths.
//
//  5. [github.com/flotilla-io/flotilla/orchestrator/runtime] is the seam to
//     containers, with a Docker Engine implementation that needs no
//     registry and an in-memory fake with fault injection for tests.
//
//  6. [github.com/flotilla-io/flotilla/orchestrator] ties them together:
//     a Cluster per host (Raft server, gossip, node agent, and on the leader
//     the scheduler and controllers) and a typed Client for Kubernetes-style
//     objects. [github.com/flotilla-io/flotilla/orchestrator/orchestratortest]
//     starts whole clusters inside one test.
//
// [github.com/flotilla-io/flotilla/gometrics] sends the metrics that Raft and
// memberlist report to go-metrics' process-global sink to Prometheus. This
// package holds only this overview; import the packages above.
package flotilla
