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
//  2. [github.com/flotilla-io/flotilla/membership] is gossip membership on
//     hashicorp/memberlist: nodes find each other from one known address and
//     learn of joins, updates, departures and failures.
//
// This package holds only this overview; import the packages above.
package flotilla
