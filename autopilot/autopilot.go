package autopilot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
)

// RaftCluster is the part of a Raft node that autopilot drives.
// *raftstore.Store implements it.
type RaftCluster interface {
	// IsLeader reports whether this node is the leader.
	IsLeader() bool
	// HasState reports whether this node already has Raft state (it was
	// bootstrapped or added to a cluster, possibly before a restart).
	HasState() (bool, error)
	// Bootstrap founds a new cluster with the given servers; every founding
	// node must pass the same list. ErrAlreadyBootstrapped-style errors
	// (errors.Is raftstore.ErrAlreadyBootstrapped) mean state exists.
	Bootstrap(ctx context.Context, servers ...raftstore.Server) error
	// Servers returns the current Raft configuration.
	Servers(ctx context.Context) ([]raftstore.Server, error)
	// AddVoter adds (or promotes, or re-addresses) a voting server. Leader only.
	AddVoter(ctx context.Context, id, addr string) error
	// AddNonvoter adds a non-voting server. Leader only.
	AddNonvoter(ctx context.Context, id, addr string) error
	// RemoveServer removes a server. Leader only.
	RemoveServer(ctx context.Context, id string) error
}

// Gossip is the membership view autopilot reads. *membership.Membership
// implements it.
type Gossip interface {
	// Members returns every known member, including left and failed ones.
	Members() []membership.Member
	// LocalNode returns this node.
	LocalNode() membership.Member
	// UpdateRecord changes and broadcasts this node's record.
	UpdateRecord(ctx context.Context, update func(r *membership.Record)) error
}

var (
	_ RaftCluster = (*raftstore.Store)(nil)
	_ Gossip      = (*membership.Membership)(nil)
)

// Errors.
var (
	// ErrInvalidConfig wraps every problem Config.Validate reports.
	ErrInvalidConfig = errors.New("autopilot: invalid config")
	// ErrAlreadyStarted is returned by a second Start.
	ErrAlreadyStarted = errors.New("autopilot: already started")
	// ErrShutdown is returned by Start after Shutdown.
	ErrShutdown = errors.New("autopilot: shut down")
)

// Config configures an Autopilot. Raft and Gossip are required; zero
// durations and counts take the defaults named on each field.
type Config struct {
	// Raft is this server's Raft node. Required.
	Raft RaftCluster
	// Gossip is this server's membership; its node name is the Raft server
	// ID and its record's RPCAddr the Raft address. Its role must be server.
	// Required.
	Gossip Gossip

	// BootstrapExpect is how many servers found the cluster: once this many
	// servers (this one included) see each other by gossip, none of them has
	// Raft state and none advertises one, each bootstraps Raft with the same
	// sorted list of them. 0 means never bootstrap (join an existing cluster
	// only); 1 founds a single-server cluster at once.
	BootstrapExpect int

	// MaxVoters is how many voters the leader keeps; further servers are
	// added as non-voters and promoted when a voter is removed. 0 means 5.
	// Use an odd number.
	MaxVoters int

	// StableTime is how long a member must have stayed in its gossip state
	// (alive, or left) before autopilot acts on it, and how long the visible
	// server set must stay unchanged before bootstrapping; it keeps a
	// flapping member from churning the Raft configuration. 0 means 10 s.
	StableTime time.Duration

	// FailedServerTimeout is how long a server must have been failed (or
	// absent from gossip) before the leader removes it from Raft. Must be at
	// least StableTime. 0 means 2 min.
	FailedServerTimeout time.Duration

	// Interval is how often autopilot reconciles. 0 means 1 s.
	Interval time.Duration

	// OpTimeout bounds each Raft call autopilot makes. 0 means 10 s.
	OpTimeout time.Duration

	// VerifyServer, if set, proves that a gossip member claiming the
	// server role is that server: gossip records are only claims, so
	// without proof any process that can gossip could make itself a
	// voter. Autopilot calls it, with the member's name and advertised
	// RPC address and a context bounded by OpTimeout, before it counts
	// the member for bootstrap and before it adds the member to Raft or
	// changes its address; a member it refuses is left out, and the
	// refusal is logged at Warn (at most every 10 s per member). A success
	// is remembered for that name and address until either changes. The
	// orchestrator dials the address over mutual TLS and checks that the
	// certificate names the member as a server of this cluster. nil trusts
	// every record (in-process test clusters without TLS).
	VerifyServer func(ctx context.Context, name, rpcAddr string) error

	// Logger receives logs, each line with the field node=<the local
	// gossip member's name> (so give it a logger without one). nil means
	// zap.NewNop().
	Logger *zap.Logger
}

// FastConfig returns settings to pair with membership.FastTiming on a small
// cluster: reconcile every 100 ms, act on a member after 500 ms of stable
// state, remove a server failed for 10 s. Servers started together form a
// cluster in about a second; the price is less protection against flapping
// than the defaults give.
func FastConfig() Config {
	return Config{
		StableTime:          500 * time.Millisecond,
		FailedServerTimeout: 10 * time.Second,
		Interval:            100 * time.Millisecond,
		OpTimeout:           5 * time.Second,
	}
}

func (c Config) withDefaults() Config {
	if c.MaxVoters == 0 {
		c.MaxVoters = 5
	}
	if c.StableTime == 0 {
		c.StableTime = 10 * time.Second
	}
	if c.FailedServerTimeout == 0 {
		c.FailedServerTimeout = 2 * time.Minute
	}
	if c.Interval == 0 {
		c.Interval = time.Second
	}
	if c.OpTimeout == 0 {
		c.OpTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}

// Validate reports every problem with c at once, each naming its field.
// All errors wrap ErrInvalidConfig.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalidConfig, field, fmt.Sprintf(format, args...)))
	}
	if c.Raft == nil {
		bad("Raft", "required")
	}
	if c.Gossip == nil {
		bad("Gossip", "required")
	} else if r := c.Gossip.LocalNode().Record; r.Role != membership.RoleServer {
		bad("Gossip", "local node role is %q; autopilot runs on servers only (agents never join Raft)", r.Role)
	}
	if c.BootstrapExpect < 0 {
		bad("BootstrapExpect", "%d must be >= 0", c.BootstrapExpect)
	}
	if c.MaxVoters < 0 {
		bad("MaxVoters", "%d must be >= 0", c.MaxVoters)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"StableTime", c.StableTime}, {"FailedServerTimeout", c.FailedServerTimeout}, {"Interval", c.Interval}, {"OpTimeout", c.OpTimeout}} {
		if d.v < 0 {
			bad(d.name, "%v must be >= 0", d.v)
		}
	}
	if d := c.withDefaults(); d.FailedServerTimeout < d.StableTime {
		bad("FailedServerTimeout", "%v must be at least StableTime (%v)", d.FailedServerTimeout, d.StableTime)
	}
	return errors.Join(errs...)
}

// Autopilot turns gossip membership into Raft configuration on one server.
// Run one on every server. Create it with New, then Start it.
type Autopilot struct {
	cfg Config
	log *zap.Logger
	id  string
	now func() time.Time

	life    sync.Mutex
	started bool
	stopped bool
	cancel  context.CancelFunc
	done    chan struct{}

	// Owned by the reconcile loop (or by tests calling reconcile directly).
	bootstrapped bool                 // this node has Raft state
	advertised   bool                 // the gossip record says Bootstrapped
	serverSet    string               // last visible server set before bootstrap
	serverSetAt  time.Time            // when serverSet was first seen
	missingSince map[string]time.Time // raft servers absent from gossip
	lastWait     string               // last "waiting" message logged
	lastWaitAt   time.Time
	verified     map[string]string    // member name -> RPC address VerifyServer accepted
	refusedAt    map[string]time.Time // member name -> when its last refusal was logged
}

// New validates cfg and returns an unstarted Autopilot; it starts nothing.
//
// Errors: every problem in cfg, joined, each wrapping ErrInvalidConfig.
func New(cfg Config) (*Autopilot, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	id := cfg.Gossip.LocalNode().Name
	return &Autopilot{
		cfg:          cfg,
		log:          cfg.Logger.With(zap.String("node", id)),
		id:           id,
		now:          time.Now,
		missingSince: make(map[string]time.Time),
		verified:     make(map[string]string),
		refusedAt:    make(map[string]time.Time),
	}, nil
}

// Start runs the reconcile loop in a goroutine until Shutdown. ctx only
// bounds Start itself (which does not block); the loop's lifetime is
// Shutdown's business.
//
// Errors: ErrAlreadyStarted, ErrShutdown.
func (a *Autopilot) Start(ctx context.Context) error {
	a.life.Lock()
	defer a.life.Unlock()
	if a.stopped {
		return ErrShutdown
	}
	if a.started {
		return ErrAlreadyStarted
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	a.started = true
	loopCtx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	a.done = make(chan struct{})
	go a.run(loopCtx)
	return nil
}

// Shutdown stops the loop and waits for it (at most until ctx ends). It is
// safe to call more than once and before Start.
//
// Errors: ctx.Err() if the loop did not stop in time (it still stops once
// its current Raft call returns).
func (a *Autopilot) Shutdown(ctx context.Context) error {
	a.life.Lock()
	a.stopped = true
	cancel, done := a.cancel, a.done
	a.life.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("autopilot: shutdown: %w", ctx.Err())
	}
}

func (a *Autopilot) run(ctx context.Context) {
	defer close(a.done)
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		a.reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
