// Package autopilot turns gossip membership into Raft configuration, so a
// cluster of Flotilla servers forms, grows and heals itself without an
// operator.
//
// Every server runs one Autopilot over its Raft node (RaftCluster, which
// *raftstore.Store implements) and its membership (Gossip, which
// *membership.Membership implements). The membership node name is the Raft
// server ID and the record's RPCAddr is the Raft address. Agents never run
// an Autopilot and never become Raft members.
//
// # Usage
//
//  1. Start the Raft store, then membership with Record.Role server,
//     Record.RPCAddr set to the store's address and the gossip addresses of
//     one or more peers in Join.
//  2. Build a Config (FastConfig for small clusters on a good network, or
//     the zero value for conservative defaults) with Raft, Gossip and
//     BootstrapExpect: the number of servers that found a new cluster (0 to
//     only ever join an existing one).
//  3. New, then Start. Shutdown stops the loop; it does not touch Raft or
//     membership, which you shut down yourself (call membership Leave first
//     so the leader removes this server at once).
//
// # What it does
//
// Bootstrap: a server without Raft state waits until it sees, by gossip,
// at least BootstrapExpect alive servers, none advertising Raft state, and
// the set has stayed unchanged for StableTime. Then each of them calls
// Bootstrap with the same configuration (all visible servers sorted by
// name, the first MaxVoters as voters). A server with Raft state (after a
// restart, or once a leader added it) never bootstraps and advertises
// Record.Bootstrapped, so newcomers wait to be added instead of founding a
// second cluster. While waiting it logs why, at most every 10 s.
//
// On the leader, one change per round (every Interval), each decided afresh
// from the Raft configuration and the gossip view:
//   - servers that left gracefully (StatusLeft for StableTime) are removed;
//   - servers failed (or absent from gossip) for FailedServerTimeout are
//     removed;
//   - a voter is never removed when the healthy voters left would not form a
//     quorum of the new configuration;
//   - alive servers, stable for StableTime, are added as voters up to
//     MaxVoters and as non-voters beyond; non-voters are promoted when a
//     voter slot frees up; a changed RPCAddr is written to Raft.
//
// A member that keeps changing state (flapping) is never stable for
// StableTime and is left alone.
//
// # What it does not do
//
//   - It cannot make servers that see different gossip views agree: if the
//     founders' views still differ after StableTime, they may bootstrap
//     different configurations. Give every founder join addresses so gossip
//     converges, and keep StableTime well above the gossip convergence time
//     plus Interval (the time a new cluster needs to advertise its state).
//   - It does not demote voters, balance voters across zones, or transfer
//     leadership; nor does it remove the leader itself.
//   - It does not repair a cluster that lost quorum (that needs an operator
//     and Raft's recovery procedure).
//   - It does not tell a wiped server from a restarted one. A server that
//     lost its data dir but kept its name is still in the configuration
//     (unless it was removed meanwhile, then it is added as new): the leader
//     replicates everything to it from the start and it advertises its new
//     Raft state. Raft assumes a voter's vote survives restarts, so for strict
//     safety remove a server (Leave) before wiping it.
package autopilot
