package membership

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Timing holds memberlist's protocol timings. The two presets are LANTiming
// (memberlist's LAN defaults) and FastTiming. Each field maps one to one onto
// the memberlist.Config field of the same name; see there for details.
type Timing struct {
	// ProbeInterval is how often each node probes one random peer. Must be > 0.
	ProbeInterval time.Duration
	// ProbeTimeout is how long a direct probe waits for an ack before falling
	// back to indirect probes. Must be > 0 and less than ProbeInterval.
	ProbeTimeout time.Duration
	// IndirectChecks is how many peers are asked to probe a node that missed
	// a direct probe. Must be >= 0.
	IndirectChecks int
	// SuspicionMult scales the time a suspect node has to refute before it
	// is declared failed: SuspicionMult * log10(max(N,10)) * ProbeInterval.
	// Must be >= 1.
	SuspicionMult int
	// SuspicionMaxTimeoutMult caps how much the suspicion timeout grows when
	// no other node confirms the suspicion. Must be >= 1.
	SuspicionMaxTimeoutMult int
	// GossipInterval is how often a node sends queued broadcasts. Must be > 0.
	GossipInterval time.Duration
	// GossipNodes is how many random peers each gossip round goes to. Must be >= 1.
	GossipNodes int
	// GossipToTheDeadTime is how long gossip is still sent to a dead node
	// (and how long memberlist remembers it). Must be >= 0.
	GossipToTheDeadTime time.Duration
	// RetransmitMult: each broadcast is sent RetransmitMult * log10(N+1) times.
	// Must be >= 1.
	RetransmitMult int
	// PushPullInterval is the period of full state syncs (0 disables them).
	PushPullInterval time.Duration
	// TCPTimeout bounds stream (TCP) operations such as push/pull. Must be > 0.
	TCPTimeout time.Duration
	// AwarenessMaxMultiplier bounds how far a node slows its own probing
	// when it detects it is itself unhealthy. Must be >= 1.
	AwarenessMaxMultiplier int
	// DeadNodeReclaimTime: after a node has been dead this long, another node
	// may take its name at a new address (0 means only after it left).
	DeadNodeReclaimTime time.Duration
}

// LANTiming returns memberlist's DefaultLANConfig timings: conservative,
// designed for large clusters; a killed node is reported failed after about
// 5-9 s at N=10.
func LANTiming() Timing {
	return timingFrom(memberlist.DefaultLANConfig())
}

// FastTiming returns timings for small clusters (up to about 100 nodes) on a
// good network (LAN, loopback, one data centre). Measured on loopback: a
// killed node is reported failed by every other member in about 1.5-2 s at
// N=10 (LAN: 5-9 s), and 50 nodes joining at once converge in under a second.
//
// It is derived from LANTiming, not from memberlist's DefaultLocalConfig,
// which gossips to too few nodes with too few retransmissions and converges
// badly past about ten nodes. Changes from LAN:
//   - probing every 300 ms with a 150 ms timeout and a suspicion multiplier
//     of 3 (capped at 3x), so failures are confirmed in about a second;
//   - gossip every 50 ms to 6 peers with each broadcast retransmitted
//     6*log10(N+1) times: with LAN's 3 peers and 4*log10(N+1) a 50-node join
//     storm leaves about one member unaware of another per run (e^-8 per
//     pair, ~2,500 pairs) until the next push/pull, tens of seconds later;
//   - push/pull every 5 s (memberlist doubles it past 32 nodes) to heal any
//     broadcast that was still missed.
func FastTiming() Timing {
	t := LANTiming()
	t.ProbeInterval = 300 * time.Millisecond
	t.ProbeTimeout = 150 * time.Millisecond
	t.IndirectChecks = 3
	t.SuspicionMult = 3
	t.SuspicionMaxTimeoutMult = 3
	t.GossipInterval = 50 * time.Millisecond
	t.GossipNodes = 6
	t.GossipToTheDeadTime = 5 * time.Second
	t.RetransmitMult = 6
	t.PushPullInterval = 5 * time.Second
	t.TCPTimeout = 2 * time.Second
	t.AwarenessMaxMultiplier = 4
	t.DeadNodeReclaimTime = 5 * time.Second
	return t
}

func timingFrom(c *memberlist.Config) Timing {
	return Timing{
		ProbeInterval:           c.ProbeInterval,
		ProbeTimeout:            c.ProbeTimeout,
		IndirectChecks:          c.IndirectChecks,
		SuspicionMult:           c.SuspicionMult,
		SuspicionMaxTimeoutMult: c.SuspicionMaxTimeoutMult,
		GossipInterval:          c.GossipInterval,
		GossipNodes:             c.GossipNodes,
		GossipToTheDeadTime:     c.GossipToTheDeadTime,
		RetransmitMult:          c.RetransmitMult,
		PushPullInterval:        c.PushPullInterval,
		TCPTimeout:              c.TCPTimeout,
		AwarenessMaxMultiplier:  c.AwarenessMaxMultiplier,
		DeadNodeReclaimTime:     c.DeadNodeReclaimTime,
	}
}

func (t Timing) apply(c *memberlist.Config) {
	c.ProbeInterval = t.ProbeInterval
	c.ProbeTimeout = t.ProbeTimeout
	c.IndirectChecks = t.IndirectChecks
	c.SuspicionMult = t.SuspicionMult
	c.SuspicionMaxTimeoutMult = t.SuspicionMaxTimeoutMult
	c.GossipInterval = t.GossipInterval
	c.GossipNodes = t.GossipNodes
	c.GossipToTheDeadTime = t.GossipToTheDeadTime
	c.RetransmitMult = t.RetransmitMult
	c.PushPullInterval = t.PushPullInterval
	c.TCPTimeout = t.TCPTimeout
	c.AwarenessMaxMultiplier = t.AwarenessMaxMultiplier
	c.DeadNodeReclaimTime = t.DeadNodeReclaimTime
}

func (t Timing) validate(field string) []error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s.%s: %s", ErrInvalidConfig, field, name, fmt.Sprintf(format, args...)))
	}
	if t.ProbeInterval <= 0 {
		bad("ProbeInterval", "%v must be > 0", t.ProbeInterval)
	}
	if t.ProbeTimeout <= 0 || t.ProbeTimeout >= t.ProbeInterval {
		bad("ProbeTimeout", "%v must be > 0 and less than ProbeInterval (%v)", t.ProbeTimeout, t.ProbeInterval)
	}
	if t.IndirectChecks < 0 {
		bad("IndirectChecks", "%d must be >= 0", t.IndirectChecks)
	}
	if t.SuspicionMult < 1 {
		bad("SuspicionMult", "%d must be >= 1", t.SuspicionMult)
	}
	if t.SuspicionMaxTimeoutMult < 1 {
		bad("SuspicionMaxTimeoutMult", "%d must be >= 1", t.SuspicionMaxTimeoutMult)
	}
	if t.GossipInterval <= 0 {
		bad("GossipInterval", "%v must be > 0", t.GossipInterval)
	}
	if t.GossipNodes < 1 {
		bad("GossipNodes", "%d must be >= 1", t.GossipNodes)
	}
	if t.GossipToTheDeadTime < 0 {
		bad("GossipToTheDeadTime", "%v must be >= 0", t.GossipToTheDeadTime)
	}
	if t.RetransmitMult < 1 {
		bad("RetransmitMult", "%d must be >= 1", t.RetransmitMult)
	}
	if t.PushPullInterval < 0 {
		bad("PushPullInterval", "%v must be >= 0", t.PushPullInterval)
	}
	if t.TCPTimeout <= 0 {
		bad("TCPTimeout", "%v must be > 0", t.TCPTimeout)
	}
	if t.AwarenessMaxMultiplier < 1 {
		bad("AwarenessMaxMultiplier", "%d must be >= 1", t.AwarenessMaxMultiplier)
	}
	if t.DeadNodeReclaimTime < 0 {
		bad("DeadNodeReclaimTime", "%v must be >= 0", t.DeadNodeReclaimTime)
	}
	return errs
}

// Config configures a Membership. Build it from DefaultConfig or FastConfig
// and set at least NodeName and Record.Role. It must not change after New.
type Config struct {
	// NodeName is the unique name of this node in the cluster. Required.
	NodeName string

	// BindAddr is the IP address gossip listens on (UDP and TCP). Empty
	// means all interfaces ("0.0.0.0"). Ignored with Network.
	BindAddr string
	// BindPort is the gossip port; 0 picks a free port, readable from Addr
	// after Start. With Network, 0 picks the next free in-memory port.
	BindPort int
	// AdvertiseAddr is the IP address other nodes use to reach this one.
	// Empty means the bind address, or a private address of this host when
	// binding to all interfaces. Ignored with Network.
	AdvertiseAddr string
	// AdvertisePort is the port advertised to peers; 0 means the bound port.
	// Ignored with Network.
	AdvertisePort int

	// Join lists gossip addresses (host:port) of existing members that Start
	// joins. Any one live member is enough. Empty means Start does not join
	// (the first node of a cluster, or the caller calls Join itself).
	Join []string

	// Record is this node's record. Name and Protocol are filled in by New;
	// Role is required, RPCAddr is required for servers.
	Record Record

	// GossipKeys are the AES keys (16, 24 or 32 bytes each) for gossip
	// encryption. The first is used to encrypt; all are tried to decrypt,
	// which is what key rotation needs. Empty means no encryption.
	GossipKeys [][]byte

	// Timing is memberlist's protocol timing: LANTiming or FastTiming.
	Timing Timing

	// MaxStreams caps the inbound gossip streams (TCP connections) served
	// at once, MaxStreamsPerHost those from one remote IP; a stream over
	// a cap is closed before a byte is read, and counted in
	// flotilla_membership_streams_refused_total. memberlist closes each
	// stream after its TCP timeout. 0 means 1024 and 128.
	MaxStreams        int
	MaxStreamsPerHost int

	// EventBuffer is the capacity of the Events channel. When it is full,
	// further events are dropped (and counted, see DroppedEvents) so that a
	// slow consumer never stalls gossip. 0 means 1024.
	EventBuffer int

	// BroadcastTimeout bounds how long UpdateRecord and Leave wait for their
	// broadcast; a context deadline can only shorten it. 0 means 5 s.
	BroadcastTimeout time.Duration

	// TombstoneTimeout is how long a member that left or failed stays in
	// Members (with its status) before it is forgotten. 0 means 24 h.
	TombstoneTimeout time.Duration

	// Logger receives structured logs, memberlist's own log lines included
	// (bridged at their level, named memberlist), each line with the
	// field node=NodeName (so give it a logger without one). nil means
	// zap.NewNop().
	Logger *zap.Logger

	// Registerer, if set, receives this node's Prometheus metrics while it
	// is started (registered by Start, unregistered by Shutdown); names are
	// flotilla_membership_*, with the constant label node=NodeName.
	// memberlist's own metrics go to go-metrics' global sink regardless.
	Registerer prometheus.Registerer

	// Network, when set, replaces UDP/TCP with an in-process network (tests).
	Network *InmemNetwork

	// protocol overrides the advertised protocol version (tests only).
	protocol int
}

// DefaultConfig returns a configuration with memberlist's LAN timings,
// binding to all interfaces on port 7946, with role agent. Set NodeName.
func DefaultConfig() Config {
	return Config{
		BindAddr: "0.0.0.0",
		BindPort: 7946,
		Record:   Record{Role: RoleAgent},
		Timing:   LANTiming(),
	}
}

// FastConfig returns DefaultConfig with FastTiming: quicker failure
// detection and convergence for clusters of up to about 100 nodes on a good
// network.
func FastConfig() Config {
	c := DefaultConfig()
	c.Timing = FastTiming()
	return c
}

// Validate reports every problem with c at once, each naming its field.
// All errors wrap ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...)))
	}
	if c.NodeName == "" {
		bad("NodeName", "must not be empty")
	}
	if c.Record.Name != "" && c.Record.Name != c.NodeName {
		bad("Record.Name", "%q differs from NodeName %q (leave it empty)", c.Record.Name, c.NodeName)
	}
	if c.BindAddr != "" && net.ParseIP(c.BindAddr) == nil {
		bad("BindAddr", "%q is not an IP address", c.BindAddr)
	}
	if c.BindPort < 0 || c.BindPort > 65535 {
		bad("BindPort", "%d is out of range 0-65535", c.BindPort)
	}
	if c.AdvertiseAddr != "" && net.ParseIP(c.AdvertiseAddr) == nil {
		bad("AdvertiseAddr", "%q is not an IP address", c.AdvertiseAddr)
	}
	if c.AdvertisePort < 0 || c.AdvertisePort > 65535 {
		bad("AdvertisePort", "%d is out of range 0-65535", c.AdvertisePort)
	}
	for i, a := range c.Join {
		if _, _, err := net.SplitHostPort(a); err != nil {
			bad(fmt.Sprintf("Join[%d]", i), "%q is not host:port: %v", a, err)
		}
	}
	for i, k := range c.GossipKeys {
		if l := len(k); l != 16 && l != 24 && l != 32 {
			bad(fmt.Sprintf("GossipKeys[%d]", i), "%d bytes; must be 16, 24 or 32", l)
		}
	}
	errs = append(errs, c.Timing.validate("Timing")...)
	if c.MaxStreams < 0 {
		bad("MaxStreams", "%d must be >= 0", c.MaxStreams)
	}
	if c.MaxStreamsPerHost < 0 {
		bad("MaxStreamsPerHost", "%d must be >= 0", c.MaxStreamsPerHost)
	}
	if c.EventBuffer < 0 {
		bad("EventBuffer", "%d must be >= 0", c.EventBuffer)
	}
	if c.BroadcastTimeout < 0 {
		bad("BroadcastTimeout", "%v must be >= 0", c.BroadcastTimeout)
	}
	if c.TombstoneTimeout < 0 {
		bad("TombstoneTimeout", "%v must be >= 0", c.TombstoneTimeout)
	}
	r := c.Record.Clone()
	r.Name = c.NodeName
	r.Protocol = ProtocolVersionMax
	if r.Name == "" {
		r.Name = "-" // already reported above
	}
	if _, err := r.encode(); err != nil {
		errs = append(errs, fmt.Errorf("%w: Record: %w", ErrInvalidConfig, err))
	}
	return errors.Join(errs...)
}
