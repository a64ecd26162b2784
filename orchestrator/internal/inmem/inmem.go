// Package inmem connects the nodes of an in-process test cluster over
// in-memory Raft and gossip networks instead of TCP and UDP. It is for
// package orchestratortest and orchestrator's own tests: being internal,
// it keeps these networks out of orchestrator's public API, so a
// production Config cannot name them and its documentation does not
// mention them.
//
// # Usage
//
//  1. Make one Networks per test cluster with New.
//  2. Build each node's orchestrator.Config as usual and call
//     Attach(&cfg, nets) before orchestrator.New.
//  3. Inject faults through nets.Raft (Isolate by Raft address, which is
//     the node's name unless Config.RaftBindAddr says otherwise) and
//     nets.Gossip (Isolate by gossip address).
//
// # How it reaches a Config
//
// orchestrator.Config keeps the networks in an unexported field. Package
// orchestrator installs, in its init, the one function that sets that field
// (Install); Attach calls it. That function is the only package-level state
// here: it is set once, before any code that can hold a Config runs, and
// never changed; it carries no cluster's data, so clusters in one process
// still see nothing of each other.
//
// # What it does not do
//
// The networks model what raftstore.InmemNetwork and
// membership.InmemNetwork model (see there): no latency, reordering or
// bandwidth limits. A Config with Networks attached still listens on no
// port, so nothing outside the process can reach such a node.
package inmem

import (
	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/raftstore"
)

// Networks are the two in-memory networks one test cluster's nodes share.
type Networks struct {
	Raft   *raftstore.InmemNetwork
	Gossip *membership.InmemNetwork
}

// New returns a fresh pair of empty networks.
func New() *Networks {
	return &Networks{Raft: raftstore.NewInmemNetwork(), Gossip: membership.NewInmemNetwork()}
}

// attach is orchestrator's setter for its Config's networks field; see the
// package documentation.
var attach func(cfg any, n *Networks)

// Install is called once, by package orchestrator's init, with the function
// that attaches networks to a *orchestrator.Config. A second call panics.
func Install(f func(cfg any, n *Networks)) {
	if attach != nil {
		panic("inmem: Install called twice")
	}
	attach = f
}

// Attach connects the node that cfg (a *orchestrator.Config) configures to
// n instead of TCP and UDP; nil n detaches it. It panics if cfg is not a
// *orchestrator.Config, a mistake of the calling test code.
func Attach(cfg any, n *Networks) {
	if attach == nil {
		panic("inmem: package orchestrator is not linked in")
	}
	attach(cfg, n)
}
