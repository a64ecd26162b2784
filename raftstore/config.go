package raftstore

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Config configures one Store. Build it from DefaultConfig, FastConfig or
// TestConfig and change what you need; a zero duration or size means "the
// default from DefaultConfig". The Config must not change after New.
type Config struct {
	// NodeID names this server in the Raft configuration. Required; at most
	// 128 bytes, no whitespace. It must stay the same across restarts from
	// the same DataDir.
	NodeID string

	// BindAddr is the host:port the node listens on for Raft and for
	// forwarded requests (one port for both). Port 0 picks a free port;
	// Store.Addr tells the chosen one after Start. With Network set it is the
	// node's name on the in-memory network instead (default: NodeID).
	BindAddr string

	// AdvertiseAddr is the address peers dial. Default: the bound address.
	// Required when BindAddr's host is unspecified (0.0.0.0 or ::).
	AdvertiseAddr string

	// Network, if set, connects the node over an in-memory network instead
	// of TCP; tests use it to run many nodes without ports and to cut links.
	Network *InmemNetwork

	// TLS, if set, makes every connection on BindAddr TLS 1.3, accepted
	// and dialed, with certificates on both sides (mutual TLS). Raft and
	// the forwarding RPC accept only a peer whose client certificate
	// verified (and that AuthorizePeer accepts); Services may also serve
	// clients without one. Not allowed with Network. The Store never
	// changes this value: it works on clones, forces MinVersion to TLS
	// 1.3, disables session tickets (every connection is verified against
	// the current CAs) and, when dialing, sets ServerName to the dialed
	// host unless ServerName is set or InsecureSkipVerify comes with a
	// VerifyConnection of the caller's own. The config must hold:
	//   - this node's certificate, presented as server and as client: in
	//     Certificates, or from GetCertificate (or GetConfigForClient) and
	//     GetClientCertificate. It needs both the serverAuth and clientAuth
	//     extended key usages and, since peers dial the addresses in the
	//     Raft configuration, the advertised host as an IP or DNS SAN;
	//   - the CAs that sign peers' client certificates, in ClientCAs, with
	//     ClientAuth VerifyClientCertIfGiven (lets Services serve clients
	//     without a certificate) or RequireAndVerifyClientCert;
	//   - the CAs that sign peers' server certificates, in RootCAs; or
	//     InsecureSkipVerify with VerifyConnection (or VerifyPeerCertificate)
	//     doing the verification, for roots that change at run time.
	// A GetConfigForClient callback (per-connection server config, for
	// roots that change at run time) must return configs that verify
	// client certificates against non-nil ClientCAs; others fail the
	// handshake.
	TLS *tls.Config

	// AuthorizePeer, if set, decides which verified certificates may speak
	// Raft and forwarding: it is called with the connection state of every
	// incoming Raft or forwarding connection (holding the client's
	// verified certificate) and of every outgoing one (holding the
	// server's). An error refuses the connection; the refusing side logs
	// it at Warn and the other side gets ErrRefused (or, for an outgoing
	// refusal, nothing but a closed connection). It is not called for
	// Services. It runs on the connection's goroutine and may block it
	// briefly (a revocation lookup): on an incoming connection its time
	// counts toward HandshakeTimeout, and Shutdown waits for it. It must
	// be safe for concurrent use. Requires TLS.
	AuthorizePeer func(cs tls.ConnectionState) error

	// Services are extra protocols on the same port: a connection whose
	// first byte is a key of the map is handed, past TLS (conn is a
	// *tls.Conn when TLS is set, so the handler can read its
	// ConnectionState), to that key's handler, which owns it from then on
	// and runs on its own goroutine. ctx ends at Shutdown, which also
	// closes the connection and waits for the handler to return, so a
	// handler must return soon after either. Clients without a certificate
	// reach services too (AuthorizePeer does not apply): a handler checks
	// the peer itself if it needs to. Keys 0, 'R' (Raft) and 'F'
	// (forwarding) are reserved. Reach a service with Store.Dial.
	Services map[byte]func(ctx context.Context, conn net.Conn)

	// MaxConns is the most accepted connections the node holds at once,
	// from every peer and client together, handshakes included (default
	// 1024). A connection over it is closed at once, before any handshake,
	// and counted in flotilla_raftstore_connections_rejected_total.
	// MaxConnsPerHost is the same limit per remote IP address (default 64,
	// in effect at most MaxConns). A cluster needs few: Raft dials a peer
	// only when none of its pooled connections to it is free, so a peer
	// holds no more Raft connections on this node than it has had RPCs in
	// flight to it at once (heartbeat, replication, pipeline, vote,
	// TimeoutNow: 5), plus one for forwarding. Seven nodes sharing one IP
	// need at most 36 on each (21 seen in a test with elections under
	// load), plus what Services' clients hold.
	MaxConns        int
	MaxConnsPerHost int

	// HandshakeTimeout bounds the start of every accepted connection: the
	// TLS handshake, the protocol byte and AuthorizePeer's decision must
	// be done within it, or the connection is closed (default 5 s, at
	// least 10 ms).
	HandshakeTimeout time.Duration

	// IdleTimeout is how long a node keeps an accepted forwarding
	// connection that has no request in flight (default 5 min, at least
	// 100 ms). Followers close their own idle forwarding connections after
	// half of it, so a write never races the leader's close.
	IdleTimeout time.Duration

	// DataDir holds the Raft log, stable store and snapshots (one bbolt
	// file, raft.db, in raft-boltdb v2's layout, and a file snapshot
	// store). Empty keeps everything in memory: nothing survives Shutdown.
	DataDir string

	// HeartbeatTimeout is how long a follower waits without contact from a
	// leader before it starts an election. ElectionTimeout is how long a
	// candidate waits for votes. ElectionTimeout must be at least
	// HeartbeatTimeout. LeaderLeaseTimeout (at most HeartbeatTimeout) is how
	// long a leader stays leader without reaching a quorum. CommitTimeout
	// bounds how long a follower may lag behind a commit when the leader is
	// idle and must be below HeartbeatTimeout.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration
	CommitTimeout      time.Duration

	// SnapshotInterval is how often Raft checks whether to snapshot;
	// SnapshotThreshold is how many new log entries trigger one;
	// TrailingLogs is how many entries stay in the log after a snapshot so a
	// briefly lagging follower catches up without a snapshot transfer.
	SnapshotInterval  time.Duration
	SnapshotThreshold uint64
	TrailingLogs      uint64
	// RetainSnapshots is how many snapshots stay on disk (default 2).
	RetainSnapshots int

	// MaxValueSize is the largest value accepted, in bytes (default
	// 1.5 MiB, at most 64 MiB). Keys are limited to MaxKeySize.
	MaxValueSize int

	// HistorySize is how many recent events are kept in memory for watches
	// to replay (default 10,000). A watch from an older revision gets
	// ErrTooOld; so does a watcher that falls this far behind.
	HistorySize int
	// WatchBuffer is each watcher's channel capacity (default 256).
	WatchBuffer int

	// RequestTimeout bounds a write or linearizable read whose context has
	// no deadline (default 10 s), so a call made while there is no leader
	// fails with ErrNoLeader instead of hanging.
	RequestTimeout time.Duration

	// MaxBatch is the most requests one Raft entry carries (group commit;
	// default 256). 1 disables batching.
	MaxBatch int

	// EncryptionKeys, if any, encrypt every value at rest with AES-256-GCM:
	// values are sealed before they enter the Raft log, so the log, stable
	// store and snapshots never hold plaintext. Keys themselves (names) are
	// not encrypted. Every node needs the same keys. The first leader
	// elected with keys turns encryption on for the cluster, with its first
	// key as the primary key (the one new values are sealed with); from then
	// on the cluster refuses unencrypted values, and the primary key changes
	// only through Store.RotateEncryptionKey. The other keys decrypt.
	EncryptionKeys []EncryptionKey
	// KeyFile, if set, is the path of this node's key file (JSON; the
	// format is in keyfile.go and the package documentation). Start loads
	// it if it exists, adds EncryptionKeys to it (a configured key whose id
	// the file holds with another secret is an error) and writes it back;
	// the node then rewrites it, atomically, whenever its keyring changes
	// (rotation, retirement, keys learned from a snapshot), so a restart
	// needs nothing but the file. Its mode must not give the group or others
	// any access (0600 or stricter), and its directory must be writable by
	// the node. With KeyFile, EncryptionKeys may be empty.
	KeyFile string

	// Logger receives the store's and Raft's logs, named raftstore and
	// raftstore.raft, each line with the field node=NodeID (so give it a
	// logger without one). Default: zap.NewNop().
	Logger *zap.Logger

	// Registerer, if set, receives the store's Prometheus metrics
	// (flotilla_raftstore_*).
	Registerer prometheus.Registerer
}

// DefaultConfig is for production on a LAN: Raft's default timings (1 s
// heartbeat and election timeouts), snapshots every 8,192 entries.
func DefaultConfig() Config {
	return Config{
		BindAddr:           "0.0.0.0:7946",
		MaxConns:           1024,
		MaxConnsPerHost:    64,
		HandshakeTimeout:   5 * time.Second,
		IdleTimeout:        5 * time.Minute,
		HeartbeatTimeout:   time.Second,
		ElectionTimeout:    time.Second,
		LeaderLeaseTimeout: 500 * time.Millisecond,
		CommitTimeout:      50 * time.Millisecond,
		SnapshotInterval:   2 * time.Minute,
		SnapshotThreshold:  8192,
		TrailingLogs:       10240,
		RetainSnapshots:    2,
		MaxValueSize:       3 << 19, // 1.5 MiB
		HistorySize:        10000,
		WatchBuffer:        256,
		RequestTimeout:     10 * time.Second,
		MaxBatch:           256,
	}
}

// FastConfig is DefaultConfig with timings for a small cluster on a good
// network: a dead leader is replaced in well under a second.
func FastConfig() Config {
	c := DefaultConfig()
	c.HeartbeatTimeout = 200 * time.Millisecond
	c.ElectionTimeout = 200 * time.Millisecond
	c.LeaderLeaseTimeout = 100 * time.Millisecond
	c.CommitTimeout = 10 * time.Millisecond
	return c
}

// TestConfig is for tests in one process: node id, an in-memory network
// address equal to the id (set Network), in-memory storage and 50 ms
// timings.
func TestConfig(id string) Config {
	c := DefaultConfig()
	c.NodeID = id
	c.BindAddr = ""
	c.HeartbeatTimeout = 50 * time.Millisecond
	c.ElectionTimeout = 50 * time.Millisecond
	c.LeaderLeaseTimeout = 50 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	c.SnapshotInterval = time.Second
	c.RequestTimeout = 5 * time.Second
	return c
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setDur(&c.HeartbeatTimeout, d.HeartbeatTimeout)
	setDur(&c.ElectionTimeout, d.ElectionTimeout)
	setDur(&c.LeaderLeaseTimeout, d.LeaderLeaseTimeout)
	setDur(&c.CommitTimeout, d.CommitTimeout)
	setDur(&c.SnapshotInterval, d.SnapshotInterval)
	setDur(&c.RequestTimeout, d.RequestTimeout)
	setDur(&c.HandshakeTimeout, d.HandshakeTimeout)
	setDur(&c.IdleTimeout, d.IdleTimeout)
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = d.SnapshotThreshold
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = d.TrailingLogs
	}
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setInt(&c.RetainSnapshots, d.RetainSnapshots)
	setInt(&c.MaxValueSize, d.MaxValueSize)
	setInt(&c.HistorySize, d.HistorySize)
	setInt(&c.WatchBuffer, d.WatchBuffer)
	setInt(&c.MaxBatch, d.MaxBatch)
	setInt(&c.MaxConns, d.MaxConns)
	setInt(&c.MaxConnsPerHost, d.MaxConnsPerHost)
	if c.Network != nil && c.BindAddr == "" {
		c.BindAddr = c.NodeID
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// Validate reports every problem with the configuration at once, each
// naming its field. Zero values that have defaults are not problems.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("raftstore: config: %s: %s", field, fmt.Sprintf(format, args...)))
	}
	switch {
	case c.NodeID == "":
		bad("NodeID", "required")
	case len(c.NodeID) > 128:
		bad("NodeID", "%d bytes, at most 128", len(c.NodeID))
	case strings.ContainsAny(c.NodeID, " \t\r\n"):
		bad("NodeID", "%q contains whitespace", c.NodeID)
	}
	if c.Network == nil {
		host, port, err := net.SplitHostPort(c.BindAddr)
		switch {
		case c.BindAddr == "":
			bad("BindAddr", "required without Network")
		case err != nil:
			bad("BindAddr", "%q is not host:port: %v", c.BindAddr, err)
		default:
			if _, err := net.LookupPort("tcp", port); err != nil {
				bad("BindAddr", "port %q: %v", port, err)
			}
			if ip := net.ParseIP(host); (host == "" || (ip != nil && ip.IsUnspecified())) && c.AdvertiseAddr == "" {
				bad("AdvertiseAddr", "required when BindAddr %q has no specific host", c.BindAddr)
			}
		}
		if c.AdvertiseAddr != "" {
			if _, port, err := net.SplitHostPort(c.AdvertiseAddr); err != nil || port == "0" {
				bad("AdvertiseAddr", "%q must be host:port with a fixed port", c.AdvertiseAddr)
			}
		}
	}
	if c.HeartbeatTimeout < 5*time.Millisecond {
		bad("HeartbeatTimeout", "%v is below 5ms", c.HeartbeatTimeout)
	}
	if c.ElectionTimeout < c.HeartbeatTimeout {
		bad("ElectionTimeout", "%v must be at least HeartbeatTimeout %v", c.ElectionTimeout, c.HeartbeatTimeout)
	}
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		bad("LeaderLeaseTimeout", "%v must not exceed HeartbeatTimeout %v", c.LeaderLeaseTimeout, c.HeartbeatTimeout)
	}
	if c.LeaderLeaseTimeout < 5*time.Millisecond {
		bad("LeaderLeaseTimeout", "%v is below 5ms", c.LeaderLeaseTimeout)
	}
	if c.CommitTimeout < time.Millisecond || c.CommitTimeout >= c.HeartbeatTimeout {
		bad("CommitTimeout", "%v must be at least 1ms and below HeartbeatTimeout %v", c.CommitTimeout, c.HeartbeatTimeout)
	}
	if c.SnapshotInterval < 5*time.Millisecond {
		bad("SnapshotInterval", "%v is below 5ms", c.SnapshotInterval)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"RetainSnapshots", c.RetainSnapshots}, {"MaxValueSize", c.MaxValueSize},
		{"HistorySize", c.HistorySize}, {"WatchBuffer", c.WatchBuffer}, {"MaxBatch", c.MaxBatch}} {
		if f.v < 0 {
			bad(f.name, "%d is negative", f.v)
		}
	}
	if c.MaxValueSize > maxValueSizeLimit {
		bad("MaxValueSize", "%d exceeds the limit of %d", c.MaxValueSize, maxValueSizeLimit)
	}
	if c.RequestTimeout < 0 {
		bad("RequestTimeout", "%v is negative", c.RequestTimeout)
	}
	c.validateTransport(bad)
	seen := map[string]bool{}
	for i, k := range c.EncryptionKeys {
		field := fmt.Sprintf("EncryptionKeys[%d]", i)
		if k.ID == "" || len(k.ID) > 255 {
			bad(field+".ID", "must be 1 to 255 bytes")
		}
		if seen[k.ID] {
			bad(field+".ID", "%q is repeated", k.ID)
		}
		seen[k.ID] = true
		if len(k.Secret) != 32 {
			bad(field+".Secret", "is %d bytes, AES-256 needs 32", len(k.Secret))
		}
	}
	return errors.Join(errs...)
}
