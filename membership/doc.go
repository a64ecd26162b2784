// Package membership tells every Flotilla node who else is in the cluster.
//
// It runs hashicorp/memberlist (SWIM gossip: probing, suspicion, piggybacked
// broadcasts and periodic full syncs) and gives each member a small node
// record — name, role (server or agent), Raft/RPC address, API address,
// protocol version, capacity and labels — carried in memberlist's node
// metadata as compact JSON (at most MaxRecordSize = 512 bytes).
//
// # Usage
//
//  1. Build a Config from DefaultConfig (memberlist's LAN timings) or
//     FastConfig (quicker failure detection for clusters of up to about 100
//     nodes on a good network). Set NodeName, Record.Role (and
//     Record.RPCAddr for servers), the addresses of one or more existing
//     members in Join, GossipKeys to encrypt gossip, and Logger.
//  2. Call New, which validates the Config and starts nothing.
//  3. Read Events in a goroutine of your own if you want to react to
//     changes: join, update, leave (graceful) and failed events, including
//     this node's own. The channel is buffered (Config.EventBuffer) and
//     events are dropped when it is full, so treat events as hints and
//     Members as the truth.
//  4. Call Start. It binds the gossip port (BindPort 0 picks one; Addr tells
//     which) and joins Config.Join, retrying until its context ends, so a
//     node may start before its seeds. Join can also be called later.
//  5. Read Members and LocalNode at any time; change this node's labels or
//     capacity with UpdateRecord, which every member then sees.
//  6. To stop, call Leave (peers see EventLeave and StatusLeft), then
//     Shutdown. Shutdown alone looks like a crash: peers see EventFailed.
//
// A node refuses to join, with a typed error, when the other side uses a
// different gossip key (ErrGossipKey), a membership protocol version it does
// not understand (ErrProtocolMismatch), or a node name already used by a live
// member at another address (ErrNameConflict). A peer whose record is
// malformed or too large is logged once and ignored.
//
// Tests can run many nodes in one process without sockets by giving each the
// same InmemNetwork in Config.Network.
//
// # What it does not do
//
//   - It does not manage Raft membership; package autopilot turns server
//     members into Raft configuration.
//   - It does not distribute gossip keys. Rotation (InstallKey, UseKey,
//     RemoveKey) changes one node; run each step on every node.
//   - It does not resolve name conflicts: the member that was there first
//     keeps the name. A node restarted on a different address before its
//     peers noticed the old one fail is refused as a conflict until they do
//     (Timing decides how long that takes); restarting on the same address
//     is always fine.
//   - Left or failed members are not gossiped forever: memberlist forgets
//     them after Timing.GossipToTheDeadTime and Members after
//     Config.TombstoneTimeout.
//   - Telling a graceful leave from a failure relies on the leaving node's
//     last record update reaching a peer before its leave message; a peer
//     that had already declared the node dead, or missed that update, reports
//     it as failed.
//   - It installs no go-metrics sink: memberlist reports its own metrics
//     through go-metrics' process-wide default sink (memberlist's choice);
//     gometrics.Install bridges that sink to Prometheus. This package's
//     metrics (members by status, events, dropped events, gossip bytes,
//     health score) are Prometheus collectors on Config.Registerer.
package membership
