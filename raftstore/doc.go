// Package raftstore is a replicated, revisioned key-value store on
// hashicorp/raft: the part of etcd that an orchestrator needs, as a library.
//
// Every write is applied at a revision equal to the Raft index of the log
// entry that carried it, so revisions only grow and order all changes.
// Objects stored by the orchestrator carry that revision as their
// resourceVersion.
//
// # Using it
//
//  1. Build a Config from DefaultConfig (LAN timings), FastConfig (small
//     clusters, sub-second failover) or TestConfig (in-process tests), set
//     NodeID, BindAddr (port 0 is fine), DataDir (empty: in memory) and,
//     for encryption at rest, EncryptionKeys or KeyFile (see below). Off a
//     fully trusted network, set TLS and AuthorizePeer too (see Transport
//     security below).
//  2. New(cfg) checks the configuration and returns a Store; Start(ctx)
//     listens, opens the data dir and starts Raft. One port carries
//     Raft, the store's own forwarding RPC and any Config.Services.
//  3. On the first start of a new cluster, call Bootstrap on every founding
//     node with the same server list (or on one node with none to found a
//     single-node cluster). A node restarted from its DataDir needs nothing:
//     it rejoins. Grow or shrink a running cluster with AddVoter,
//     AddNonvoter and RemoveServer on the leader.
//  4. Write with Create, Put, Update, Delete (compare-and-swap on the
//     expected revision) or Txn (several ops, atomically) on any node:
//     followers forward to the leader, and requests that arrive together
//     share one Raft entry (group commit) without delaying a lone request.
//  5. Read with Get and List from local state (fast, possibly stale on a
//     follower) or with the Linearizable option (read index: sees every
//     write acknowledged before the call). List returns the revision it is
//     consistent at; with SkipUnreadable it leaves out (and reports) a
//     value it cannot decrypt instead of failing whole. Count counts the
//     keys under a prefix without reading their values.
//  6. Watch(ctx, prefix, rev) replays recent history after rev and then
//     streams changes in revision order without gaps or duplicates. A
//     revision older than the retained history returns ErrTooOld: list
//     again and watch from the list's revision (Kubernetes' 410 Gone).
//  7. Shutdown(ctx) stops everything the Store started. For a graceful stop
//     of a leader, call TransferLeadership first.
//
// # Leader-only work
//
// Leadership (or LeaderTerm) says whether this node is the ready leader
// and gives a channel closed at the next change: start leader-only work
// on true and stop it when the channel closes. That is this node's
// belief; a deposed leader keeps it until it hears of the new term, and
// meanwhile its writes would reach the new leader through forwarding. To
// fence them, take the term from LeaderTerm and put OpFence(term) in every
// Txn of that work: the state machine applies such a Txn only from a log
// entry of that term, and refuses it whole (ErrFenced, counted in
// flotilla_raftstore_fenced_writes_total) once another node leads. Since
// a term's entries all come before the next term's in the log, no fenced
// write lands after the next leader's first. (A node of an earlier version
// cannot decode OpFence: upgrade every node before using it.)
//
// Errors are sentinels (ErrNotFound, ErrConflict, ErrNoLeader, ...) wrapped
// with context; test them with errors.Is or IsNotFound, IsConflict, IsTooOld
// and IsRetryable. Writes made while there is no leader wait for one until
// the context's deadline (or Config.RequestTimeout) and then fail with
// ErrNoLeader, which is retryable and guarantees nothing was applied; so
// does a write whose deadline ends while it waits on a follower for the
// next batch to the leader.
// ErrUnknownOutcome and ErrStopped during a write mean it may or may not
// have been applied.
//
// # Encryption at rest
//
// With encryption keys (Config.EncryptionKeys, Config.KeyFile or both)
// every value is sealed with AES-256-GCM, bound to its key, before it is
// proposed, so no value reaches the Raft log, the stable store or a
// snapshot in plaintext. Keys (the names), revisions and the shape of the
// key space are not encrypted.
//
// The first leader elected with keys commits an entry that turns
// encryption on for the cluster, with its primary key (the key new values
// are sealed with: the key file's choice, else the first configured key).
// From that log index on every replica refuses a value that is not sealed
// (a forged forwarded write or log entry fails and is stored nowhere), and
// reads never serve one: a value stored before, in a snapshot or a log
// entry from then, fails with ErrDecrypt ("value is not encrypted") until
// it is overwritten; EncryptionStatus counts them. Encryption cannot be
// turned off.
//
// Supplying keys: every node needs the keys in use, from EncryptionKeys or
// from its key file (Config.KeyFile), which holds
//
//	{"version": 1, "primary": "k2",
//	 "keys": [{"id": "k1", "secret": "<32 bytes, base64>"}, {"id": "k2", "secret": "..."}],
//	 "retired": ["k0"]}
//
// and must be mode 0600 or stricter (looser is refused), in a directory
// the node may write. An operator may write it before the first start (as
// Kubernetes-style operators supply keys); the node merges EncryptionKeys
// into it and rewrites it, atomically, whenever its keyring changes, so
// after rotations a restart needs nothing but the file.
//
// Rotating keys while serving, in this order:
//
//  1. RotateEncryptionKey(ctx, EncryptionKey{}) makes a new random key
//     primary on every replica at one log index (the entry carries the key
//     sealed with the old primary key, never in plaintext); each replica
//     writes it to its key file first. New writes use it; values sealed
//     with older keys stay readable.
//  2. Reencrypt(ctx) rewrites every value still sealed with an older key,
//     keeping its revisions and sending no watch events; a write racing
//     it wins.
//  3. RetireEncryptionKey(ctx, oldID) removes the old key from every
//     replica and key file; it is refused (ErrKeyInUse, with the count)
//     while values still use it. EncryptionStatus shows the count per key.
//
// All three work on any node. A node that was down meanwhile learns new
// keys from the log or from a snapshot (which carries the keyring, sealed
// under each of its keys) as long as it holds a key still in use then:
// retire a key only once every node has caught up.
//
// Old snapshots and the Raft log keep the ciphertext they were written
// with until they are compacted (SnapshotThreshold, TrailingLogs,
// RetainSnapshots): values sealed with a retired key, and rotation entries
// that seal a new key under an old one, stay on disk until then, readable
// by whoever holds the old key. Retiring a key does not erase them.
//
// # Transport security
//
// With Config.TLS every connection on the port, accepted or dialed, is TLS
// 1.3 with certificates on both sides. Raft and forwarding accept only a
// peer whose client certificate verified against the configured CAs and
// that Config.AuthorizePeer accepts (an orchestrator admits the server
// role and checks revocation there); a node dialing a peer checks the
// peer's server certificate the same way. Anything else is closed before
// a byte of Raft or forwarding is read, logged at Warn (at most once a
// second per reason) and counted in
// flotilla_raftstore_connections_rejected_total{reason}. Services share
// the port and may serve clients without a certificate, such as a node
// that has yet to be issued one; Store.Dial reaches them. Without TLS,
// anyone who reaches the port can write to the store through forwarding
// and forge Raft messages: run such a cluster only where every host on
// the network is trusted.
//
// # Limits on the port
//
// What a node accepts on BindAddr is bounded as follows.
//
//   - Connections: MaxConns in all and MaxConnsPerHost per remote IP,
//     handshakes included; one over either is closed before its handshake.
//     The TLS handshake, the protocol byte and AuthorizePeer's decision
//     must be done within HandshakeTimeout. A forwarding connection with no request in flight
//     for IdleTimeout is closed. Raft's connections have no idle limit
//     (Raft pools them) and services set their own.
//   - TLS: crypto/tls's own limits on handshake messages and certificate
//     chains.
//   - Forwarding requests: a frame of at most 4 × MaxValueSize + 64 KiB +
//     64 bytes (about 6 MiB by default), allocated when its length arrives; at
//     most 64 requests in flight per connection, each write of a batch
//     counting as one (a batch carries 1 to 64 writes), after which the
//     node stops reading that connection. So one forwarding connection
//     can make a node hold 64 frames, about 390 MiB at the default
//     MaxValueSize; with TLS, only an authenticated server can. A request
//     decodes to at most MaxTxnOps operations of keys up to MaxKeySize and
//     values up to MaxValueSize (plus the encryption overhead); every
//     length is checked against the bytes that remain.
//   - Forwarding responses, read by followers: at most 1,354 bytes (an id
//     and 64 results).
//   - Raft: hashicorp/raft's NetworkTransport decodes each RPC as msgpack
//     with no size limit: an AppendEntries may carry any number of entries
//     of any size, and an InstallSnapshot streams as many bytes as it
//     announces into the snapshot store. With TLS only a peer with a
//     verified certificate that AuthorizePeer accepts reaches it; without
//     TLS, anyone who reaches the port does.
//   - Services: the node bounds the handshake and the protocol byte; the
//     handler bounds the rest.
//
// # What it does not do
//
//   - It keeps the whole key space in memory (as etcd's index does, plus the
//     values); it is meant for cluster state, not bulk data.
//   - It does not compact revisions of live keys: each key holds only its
//     latest value, and history for watches is a bounded in-memory ring
//     (Config.HistorySize), not a multi-version store. There are no
//     range-at-revision reads.
//   - It does not encrypt keys. Without Config.TLS it does not encrypt or
//     authenticate Raft traffic, the forwarding RPC or services.
//   - It does not bound the memory an authenticated peer can make it use
//     through Raft messages (see Limits on the port), nor tell a flood of
//     connections from one IP apart from a peer's at the same IP: both
//     share MaxConnsPerHost.
//   - Raft's own metrics go to hashicorp/go-metrics' process-global sink,
//     which this package never touches; call gometrics.Install once per
//     process to send them to Prometheus. The store's own metrics
//     (flotilla_raftstore_*) are collectors on Config.Registerer.
package raftstore
