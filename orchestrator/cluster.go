package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/autopilot"
	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/agent"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/nodeauth"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/controller"
	"github.com/flotilla-io/flotilla/orchestrator/internal/dns"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"github.com/flotilla-io/flotilla/orchestrator/internal/rbac"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/orchestrator/internal/strategy"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
)

// Cluster is one node of a Flotilla cluster: a Raft server holding the
// cluster state, a gossip member, Autopilot (Raft membership from gossip),
// a node agent running this node's Pods, and — while this node is the Raft
// leader — the controllers and the scheduler. An agent-only node
// (Config.Role RoleAgent) is a gossip member and a node agent only, which
// reaches the cluster state through the servers' HTTPS API. Several
// Clusters may run in one process (tests do).
//
// Create it with New, then Start; Shutdown when done.
type Cluster struct {
	cfg    Config // with defaults applied
	parts  parts
	timing Timing
	log    *zap.Logger
	// metrics are the control loops' (registered by Start, unregistered
	// by stop); the store and gossip register their own.
	metrics *metrics.Node

	store *raftstore.Store
	trust *trustState // nil without cluster trust (in-memory test networks)
	gosp  *membership.Membership
	pilot *autopilot.Autopilot
	reg   *registry.Registry
	// authz is RBAC over this node's registry: the API's authorizer
	// (behind the node authorizer), ClientAs's and the escalation check's.
	authz *rbac.Authorizer
	// userAuthz is what the API and ClientAs authorize with: the node
	// authorizer, then authz (Kubernetes' Node,RBAC).
	userAuthz *nodeauth.Authorizer
	api       *apiState // nil unless Config.APIAddress is set
	// unreadable reports the stored objects reads leave out.
	unreadable *unreadableReporter
	// agentOnly is set on an agent-only node (Config.Role RoleAgent),
	// which has no store, registry, Autopilot or unreadable reporter.
	agentOnly *agentOnly

	mu       sync.Mutex
	started  bool
	stopped  bool
	cancel   context.CancelCauseFunc
	wg       sync.WaitGroup
	stopOnce sync.Once
	stopErr  error
	// dns is the cluster DNS server (under mu); nil when
	// Config.DNSAddress is empty.
	dns *dns.Server
}

// New checks cfg and returns an unstarted Cluster. It starts no goroutines
// and opens no ports or files.
//
// Errors: every problem of cfg.Validate, joined, each naming its field
// (an agent-only node without Join, say); an error of
// raftstore.New for settings it rejects, or for metrics that collide on
// Config.Registerer (another node of the same name registered there).
//
// Stored objects that cannot be read (a value that does not decrypt or
// decode) are left out of every list instead of failing it, so the
// controllers go on with the rest; each read that meets one counts in
// flotilla_registry_unreadable_objects_total{resource}, logs an error
// naming its key (at most once a minute per key) and records a Warning
// Event (reason ReasonUnreadableObject) about it. Get of it returns the
// error.
func New(cfg Config) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	c := &Cluster{cfg: cfg, parts: cfg.parts(), timing: cfg.Timing, log: cfg.Logger.With(zap.String("node", cfg.NodeName)),
		metrics: metrics.New(cfg.NodeName)}
	if !c.parts.store {
		return c.newAgentOnly(), nil
	}
	// The store, gossip and Autopilot add the node field to their logs
	// themselves.
	rc := cfg.raftConfig(cfg.Logger)
	rc.Services = map[byte]func(context.Context, net.Conn){svcDiscover: c.serveDiscover, svcLogs: c.serveLogs}
	if cfg.trusted() {
		c.trust = newTrustState(cfg.DataDir)
		rc.TLS, rc.AuthorizePeer = c.trust.tls, c.trust.authorizePeer
		rc.KeyFile = c.trust.path(fileStoreKeys)
		rc.Services[svcJoin] = c.serveJoin
	}
	store, err := raftstore.New(rc)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: raft store: %w", err)
	}
	c.store = store
	c.unreadable = newUnreadableReporter(cfg.NodeName, c.log.Named("registry"))
	// Escalation prevention judges writes of roles and bindings by API
	// users (and ClientAs users); it needs the authorizer, which needs the
	// registry, so it learns of it right after.
	escalation := &rbac.Escalation{}
	if c.reg, err = registry.New(store, registry.Config{Limits: cfg.Limits.registry(), OnUnreadable: c.unreadable.report,
		Admission:  append(registry.DefaultAdmission(), escalation),
		Strategies: strategy.WithServiceRanges(strategy.Builtin(), cfg.serviceRanges())}); err != nil {
		_ = store.Shutdown(context.Background()) // releases its metrics
		return nil, fmt.Errorf("orchestrator: registry: %w", err)
	}
	if c.authz, err = rbac.New(rbac.Config{Client: c.reg, SuperGroups: []string{rbac.GroupMasters, trust.GroupServers},
		Logger: c.log}); err != nil {
		_ = store.Shutdown(context.Background())
		return nil, fmt.Errorf("orchestrator: %w", err)
	}
	escalation.Authorizer = c.authz
	if c.userAuthz, err = nodeauth.New(nodeauth.Config{Client: c.reg, Next: c.authz}); err != nil {
		_ = store.Shutdown(context.Background())
		return nil, fmt.Errorf("orchestrator: %w", err)
	}
	if err := c.unreadable.register(cfg.Registerer); err != nil {
		_ = store.Shutdown(context.Background())
		return nil, err
	}
	c.unreadable.rec = events.New(c.reg, "registry", cfg.NodeName, c.log)
	if cfg.APIAddress != "" {
		c.api = newAPIState(c)
	}
	return c, nil
}

// Start starts the node: Raft, gossip (joining Config.Join, retrying until
// ctx ends), Autopilot or the explicit bootstrap, the agent and the
// leadership watch that runs the controllers while this node leads. It
// does not wait for a leader; Client calls made before there is one wait
// for it (up to their context deadline).
//
// On real sockets Start first makes sure the node has its cluster
// credentials (see Config.JoinToken and Config.ClusterCA): loaded from
// DataDir, made by a founder, or obtained with the join token.
//
// An agent-only node starts its log listener, gossip and its agent; it
// does not wait for an API server either: its agent's calls fail with
// ServiceUnavailable until gossip names one, and are retried.
//
// Errors: no credentials and no JoinToken on a node that does not found
// the cluster (naming Config.JoinToken); the control loops' metrics
// collide on Config.Registerer; several founders without
// Config.ClusterCA; the join was refused (a wrong, expired or revoked
// token, an agent token for a server, a CA that does not match the
// token's fingerprint: the server's reason is in the error); unreadable
// credentials under DataDir (naming the file), or an agent-only node's
// DataDir holding another node's or a server's credentials; an address
// cannot be bound (Config.LogAddress named for an agent-only node);
// the data dir cannot be opened; no server of Config.Join answered, or
// joining gossip failed, before ctx ended; Start was called twice or after
// Shutdown. On error everything started is stopped again.
func (c *Cluster) Start(ctx context.Context) (err error) {
	c.mu.Lock()
	if c.started || c.stopped {
		c.mu.Unlock()
		return errors.New("orchestrator: Start: already started or shut down")
	}
	c.started = true
	c.mu.Unlock()
	defer func() {
		if err != nil {
			_ = c.stop(context.Background(), false)
		}
	}()
	if err := c.metrics.Register(c.cfg.Registerer); err != nil {
		return fmt.Errorf("orchestrator: %w", err)
	}
	if c.agentOnly != nil {
		return c.startAgentOnly(ctx)
	}
	if c.trust != nil {
		if err := c.prepareTrust(ctx); err != nil {
			return err
		}
	}
	if err := c.store.Start(ctx); err != nil {
		return fmt.Errorf("orchestrator: raft store: %w", err)
	}
	var gossipJoin []string
	if len(c.cfg.Join) > 0 {
		if gossipJoin, err = c.discover(ctx, c.cfg.Join); err != nil {
			return err
		}
	}
	if c.trust != nil {
		c.cfg.GossipKeys = c.trust.gossipKeys() // discovery may have brought a newer keyring
	}
	c.cfg.Capacity = c.cfg.detectCapacity(c.log)
	gc := c.cfg.gossipConfig(c.store.Addr(), gossipJoin, c.cfg.Logger)
	if c.api != nil {
		// Bound before gossip starts, so the node's record tells the
		// others where it serves the API.
		c.mu.Lock()
		err := c.listenAPI()
		c.mu.Unlock()
		if err != nil {
			return err
		}
		gc.Record.APIAddr = c.apiRecordAddr()
	}
	gosp, err := c.startGossip(ctx, gc)
	if err != nil {
		return err
	}
	if err := c.advertiseAPI(ctx); err != nil {
		return err
	}
	expect := c.cfg.BootstrapExpect
	if len(c.cfg.BootstrapServers) == 0 && expect == 1 {
		// A single-server cluster needs no gossip agreement: found it now.
		c.cfg.BootstrapServers = []BootstrapServer{{Name: c.cfg.NodeName, RaftAddr: c.store.Addr()}}
	}
	if len(c.cfg.BootstrapServers) > 0 {
		expect = 0
		has, err := c.store.HasState()
		if err != nil {
			return fmt.Errorf("orchestrator: raft store: %w", err)
		}
		if !has {
			servers := make([]raftstore.Server, 0, len(c.cfg.BootstrapServers))
			for _, s := range c.cfg.BootstrapServers {
				servers = append(servers, raftstore.Server{ID: s.Name, Address: s.RaftAddr, Suffrage: raftstore.Voter})
			}
			if err := c.store.Bootstrap(ctx, servers...); err != nil && !errors.Is(err, raftstore.ErrAlreadyBootstrapped) {
				return fmt.Errorf("orchestrator: bootstrap: %w", err)
			}
		}
	}
	apc := c.cfg.autopilotConfig(c.store, gosp, expect, c.cfg.Logger)
	if c.trust != nil {
		apc.VerifyServer = c.verifyServer
	}
	pilot, err := autopilot.New(apc)
	if err != nil {
		return fmt.Errorf("orchestrator: autopilot: %w", err)
	}
	c.mu.Lock()
	c.pilot = pilot
	c.mu.Unlock()
	if err := pilot.Start(ctx); err != nil {
		return fmt.Errorf("orchestrator: autopilot: %w", err)
	}

	runCtx, cancel := context.WithCancelCause(context.Background())
	c.mu.Lock()
	c.cancel = cancel
	c.mu.Unlock()
	if c.trust != nil {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.keepTrust(runCtx) }()
	}
	c.wg.Go(func() { c.unreadable.rec.Run(runCtx) })
	c.wg.Go(func() { c.authz.Run(runCtx) })
	if c.api != nil {
		h, err := c.apiHandler()
		if err != nil {
			return err
		}
		c.serveAPI(runCtx, h)
	}
	if c.parts.controlPlane {
		c.wg.Add(1)
		go func() { defer c.wg.Done(); c.leadership(runCtx) }()
	}
	if err := c.startDNS(ctx, c.reg); err != nil {
		return err
	}
	if c.parts.agent {
		a := c.newAgent(c.reg, gosp.Addr())
		c.wg.Go(func() { a.Run(runCtx) })
	}
	c.log.Info("node started", zap.String("raft", c.store.Addr()), zap.String("gossip", gosp.Addr()))
	return nil
}

// leadership runs the controllers and scheduler while this node leads.
func (c *Cluster) leadership(ctx context.Context) {
	var (
		mgrCancel context.CancelFunc
		mgrDone   chan struct{}
		mgrTerm   uint64
	)
	stopMgr := func() {
		if mgrCancel != nil {
			mgrCancel()
			<-mgrDone
			mgrCancel = nil
			c.log.Info("controllers stopped", zap.Uint64("term", mgrTerm))
		}
	}
	defer stopMgr()
	for {
		term, leader, changed := c.store.LeaderTerm()
		if mgrCancel != nil && (!leader || term != mgrTerm) {
			stopMgr()
		}
		if leader && mgrCancel == nil {
			// Every write of the controllers and the scheduler is fenced to
			// this term: once another node is elected, none of them lands,
			// even while this node has not noticed yet.
			mctx, cancel := context.WithCancel(ctx)
			mgrCancel, mgrDone, mgrTerm = cancel, make(chan struct{}), term
			done := mgrDone
			fenced := c.reg.Fenced(term)
			c.log.Info("controllers starting", zap.Uint64("term", term))
			go func() {
				defer close(done)
				var policy sync.WaitGroup
				defer policy.Wait()
				policy.Go(func() { c.ensurePolicy(mctx, fenced) })
				controller.Run(mctx, controller.Config{
					Client: fenced, NodeName: c.cfg.NodeName,
					NodeMonitorGracePeriod: c.timing.NodeMonitorGracePeriod,
					PodEvictionTimeout:     c.timing.PodEvictionTimeout,
					SchedulerRetryInterval: c.timing.SchedulerRetryInterval,
					NodeFailed:             c.nodeFailed,
					EventTTL:               c.cfg.EventTTL,
					JobBackoff:             c.timing.JobBackoff,
					MaxJobBackoff:          c.timing.MaxJobBackoff,
					APIServices:            c.apiServices(),
					Logger:                 c.log.Named("controller"),
					Metrics:                c.metrics,
				})
			}()
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// ensurePolicy writes RBAC's built-in roles and bindings, retrying until
// it succeeds or ctx (the leader's term) ends.
func (c *Cluster) ensurePolicy(ctx context.Context, cl client.Interface) {
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		err := rbac.EnsureBootstrapPolicy(ctx, cl)
		if err == nil || ctx.Err() != nil {
			return
		}
		c.log.Warn("writing the built-in RBAC roles failed; retrying", zap.Error(err), zap.Duration("backoff", wait))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func (c *Cluster) nodeFailed(name string) bool {
	for _, m := range c.gosp.Members() {
		if m.Name == name {
			return m.Status == membership.StatusFailed || m.Status == membership.StatusLeft
		}
	}
	return false
}

// Client returns the in-process Client, which reads and writes through
// this node. Usable after Start; calls before Start fail. On an
// agent-only node it is the remote client the agent uses: it reaches the
// API servers with this node's certificate, so the servers' node
// authorizer allows it only what an agent may do (see Config.Role).
func (c *Cluster) Client() Client {
	if c.agentOnly != nil {
		return &localClient{c: c.agentOnly.api}
	}
	return &localClient{c: c.reg}
}

// NodeName returns the node's name.
func (c *Cluster) NodeName() string { return c.cfg.NodeName }

// RaftAddr returns the Raft address peers dial (empty before Start, and
// always on an agent-only node).
func (c *Cluster) RaftAddr() string {
	if c.store == nil {
		return ""
	}
	return c.store.Addr()
}

// GossipAddr returns the gossip address to give other nodes in
// Config.Join (empty before Start).
func (c *Cluster) GossipAddr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gosp == nil {
		return ""
	}
	return c.gosp.Addr()
}

// IsLeader reports whether this node is the Raft leader (and runs the
// controllers); always false on an agent-only node.
func (c *Cluster) IsLeader() bool { return c.store != nil && c.store.IsLeader() }

// RaftState returns the node's Raft state (leader, term, peers, ...); the
// zero State on an agent-only node.
func (c *Cluster) RaftState() raftstore.State {
	if c.store == nil {
		return raftstore.State{}
	}
	return c.store.State()
}

// Shutdown stops the node gracefully: it stops the controllers and the
// agent (stopping Pods if Config.StopPodsOnShutdown), hands off Raft
// leadership if it leads, leaves gossip (so the leader removes it from
// Raft) and stops Raft. It is safe to call twice and before Start and
// returns when every goroutine the Cluster started has stopped.
//
// Errors: ctx.Err() if ctx ended first (the shutdown still completes);
// an error Raft reported while closing.
func (c *Cluster) Shutdown(ctx context.Context) error { return c.stop(ctx, true) }

// Stop halts the node without handing off leadership or leaving gossip:
// to its peers it looks like a crash (test clusters use it for fault
// injection). Pods are left running, even with Config.StopPodsOnShutdown.
// Safe to call twice; errors as Shutdown.
func (c *Cluster) Stop(ctx context.Context) error { return c.stop(ctx, false) }

func (c *Cluster) stop(ctx context.Context, graceful bool) error {
	c.stopOnce.Do(func() {
		c.mu.Lock()
		c.stopped = true
		cancel, gosp, pilot := c.cancel, c.gosp, c.pilot
		c.mu.Unlock()
		if cancel != nil {
			cause := context.Canceled
			if !graceful {
				cause = agent.ErrLeavePods // a crash leaves Pods running
			}
			cancel(cause)
		}
		dnsErr := c.stopDNS(ctx)
		c.wg.Wait()
		if c.agentOnly != nil {
			c.closeAgentOnly()
		}
		c.closeAPI()
		var errs []error
		if dnsErr != nil {
			errs = append(errs, dnsErr)
		}
		if pilot != nil {
			if err := pilot.Shutdown(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		if graceful && c.store != nil && c.store.IsLeader() {
			if err := c.store.TransferLeadership(ctx); err != nil {
				c.log.Warn("leadership transfer failed; the others elect a leader after their timeout", zap.Error(err))
			}
		}
		if gosp != nil {
			if graceful {
				if err := gosp.Leave(ctx); err != nil {
					c.log.Warn("leaving gossip failed; the others see this node fail instead", zap.Error(err))
				}
			}
			if err := gosp.Shutdown(); err != nil {
				errs = append(errs, err)
			}
		}
		if c.store != nil {
			if err := c.store.Shutdown(ctx); err != nil {
				errs = append(errs, err)
			}
		}
		c.metrics.Unregister()
		if c.unreadable != nil {
			c.unreadable.unregister()
		}
		c.stopErr = errors.Join(errs...)
		c.log.Info("node stopped", zap.Bool("graceful", graceful))
	})
	return c.stopErr
}

// startGossip creates this node's gossip member from gc and starts it.
func (c *Cluster) startGossip(ctx context.Context, gc membership.Config) (*membership.Membership, error) {
	gosp, err := membership.New(gc)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: gossip: %w", err)
	}
	c.mu.Lock()
	c.gosp = gosp
	c.mu.Unlock()
	if err := gosp.Start(ctx); err != nil {
		return nil, fmt.Errorf("orchestrator: gossip: %w", err)
	}
	return gosp, nil
}

// newAgent returns this node's agent over cl, reporting the host of
// gossipAddr as the Node's internal IP.
func (c *Cluster) newAgent(cl client.Interface, gossipAddr string) *agent.Agent {
	host, _, _ := net.SplitHostPort(gossipAddr)
	addrs := []api.NodeAddress{{Type: api.NodeHostName, Address: c.cfg.NodeName}}
	if host != "" {
		addrs = append([]api.NodeAddress{{Type: api.NodeInternalIP, Address: host}}, addrs...)
	}
	return agent.New(agent.Config{
		NodeName: c.cfg.NodeName, Client: cl, Runtime: c.cfg.Runtime,
		Recorder: events.New(cl, "agent", c.cfg.NodeName, c.log, events.WithMetrics(c.metrics.Events("agent"))),
		Capacity: c.cfg.Capacity, Labels: c.cfg.Labels, Addresses: addrs,
		HeartbeatInterval: c.timing.HeartbeatInterval, ResyncInterval: c.timing.ResyncInterval,
		BackoffBase: c.timing.RestartBackoff, BackoffMax: c.timing.MaxRestartBackoff,
		BackoffResetAfter:  c.timing.RestartBackoffReset,
		StopPodsOnShutdown: c.cfg.StopPodsOnShutdown, Metrics: c.metrics.Agent(), Logger: c.log.Named("agent"),
	})
}
