package raftstore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/internal/boltlog"
	"github.com/hashicorp/raft"
	"go.uber.org/zap"
)

// Suffrage says whether a server votes.
type Suffrage int

// Suffrages.
const (
	Voter    Suffrage = iota // counts toward quorum
	Nonvoter                 // receives the log but does not vote
)

func (s Suffrage) String() string {
	if s == Nonvoter {
		return "nonvoter"
	}
	return "voter"
}

// Server is one member of the Raft configuration.
type Server struct {
	ID       string
	Address  string
	Suffrage Suffrage
}

// State is a point-in-time view of the node for health checks and status.
type State struct {
	ID           string
	Addr         string // the address peers dial
	Role         string // "leader", "follower", "candidate" or "shutdown"
	LeaderID     string // empty when no leader is known
	LeaderAddr   string
	Term         uint64
	CommitIndex  uint64
	AppliedIndex uint64
	Revision     int64 // last applied revision of the key space
	LastContact  time.Time
	Servers      []Server
}

// Store is one node of a replicated, revisioned key-value store. Create it
// with New, then Start it, then either Bootstrap a new cluster or let an
// existing member add it. All methods are safe for concurrent use.
type Store struct {
	cfg        Config
	log        *zap.Logger
	metrics    *metrics
	fsm        *fsm
	maxRequest int

	lifeMu   sync.Mutex
	started  bool
	stopped  bool
	stopErr  error
	stopDone chan struct{}

	ctx    context.Context // ends at Shutdown
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// raftOps counts goroutines that wait on Raft futures. Shutdown waits
	// for them before it stops Raft: a future whose entry was committed but
	// not yet applied when Raft stops is never answered, so nobody may be
	// waiting on one then. While Raft runs, every future is answered (the
	// entry applies, or the leader steps down within its lease).
	raftOps sync.WaitGroup

	raft   *raft.Raft
	trans  *raft.NetworkTransport
	mux    *mux
	rpc    *rpcClient
	logs   raft.LogStore
	stable raft.StableStore
	snaps  raft.SnapshotStore
	bolt   *boltlog.Store
	addr   string

	reqCh    chan *request
	inflight chan *pendingBatch
	slots    chan struct{} // one per Raft entry in flight (maxInflightEntries)
	readCh   chan readReq
	hub      watchHub

	leaderMu      sync.Mutex
	leaderReady   bool
	leaderTerm    uint64 // the term led while leaderReady, else 0
	leaderChanged chan struct{}
}

// New checks cfg and returns an unstarted Store. It starts no goroutines
// and opens no files.
//
// Errors: the joined problems of cfg.Validate, each naming its field; an
// error from building the encryption keys or registering metrics.
func New(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	// Ours from here on: the caller's are never changed, nor read again.
	cfg.TLS, cfg.Services = cfg.TLS.Clone(), maps.Clone(cfg.Services)
	keys, err := newKeyring(cfg.EncryptionKeys)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer, cfg.NodeID)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger.Named("raftstore").With(zap.String("node", cfg.NodeID))
	s := &Store{
		cfg:           cfg,
		log:           log,
		metrics:       m,
		fsm:           newFSM(cfg.HistorySize, log, m),
		maxRequest:    4*cfg.MaxValueSize + 64<<10,
		stopDone:      make(chan struct{}),
		reqCh:         make(chan *request, 4*cfg.MaxBatch),
		inflight:      make(chan *pendingBatch, maxInflightEntries),
		slots:         make(chan struct{}, maxInflightEntries),
		readCh:        make(chan readReq, 1024),
		leaderChanged: make(chan struct{}),
	}
	s.fsm.setKeys(keys, "")
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.rpc = &rpcClient{s: s, conns: map[string]*rpcConn{}}
	s.hub.live = map[*watchState]struct{}{}
	return s, nil
}

// Start opens the stores, starts listening and starts Raft. A node with
// existing state (a restart from DataDir) rejoins its cluster; a new node
// waits to be bootstrapped or added. ctx bounds only the start-up itself.
// Unfinished snapshots a killed node left in DataDir (snapshots/*.tmp)
// are removed, with a Warn naming them.
//
// Errors: the key file cannot be read, is corrupt, gives the group or
// others access, or holds a configured key id with another secret; the
// address cannot be bound; the data dir cannot be opened (for
// example, locked by another process); an unfinished snapshot cannot be
// removed (naming it); Raft refuses the configuration;
// ErrStopped after Shutdown or after an earlier failed Start (a failed Start
// releases everything and leaves the Store shut down: create a new one);
// an error if already started.
func (s *Store) Start(ctx context.Context) (err error) {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	switch {
	case s.stopped:
		return ErrStopped
	case s.started:
		return errors.New("raftstore: already started")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	hlog := newHCLogger(s.log.Named("raft"), "raft_", "node")
	defer func() {
		if err != nil {
			// A Store whose Start failed is spent: everything it opened is
			// closed and it behaves as shut down (create a new one to retry).
			s.stopped = true
			s.cancel()
			s.closeResources()
			s.metrics.unregister()
			close(s.stopDone)
		}
	}()

	if s.cfg.KeyFile != "" {
		keys, err := loadKeys(s.cfg, s.log)
		if err != nil {
			return err
		}
		s.fsm.setKeys(keys, s.cfg.KeyFile)
	}

	var ln net.Listener
	var advertise net.Addr
	var dial dialer
	if n := s.cfg.Network; n != nil {
		if ln, err = n.listen(s.cfg.BindAddr); err != nil {
			return err
		}
		addr := s.cfg.BindAddr
		if s.cfg.AdvertiseAddr != "" {
			addr = s.cfg.AdvertiseAddr
		}
		advertise, dial = inmemAddr(addr), n.dialer(addr)
	} else {
		var lc net.ListenConfig
		if ln, err = lc.Listen(ctx, "tcp", s.cfg.BindAddr); err != nil {
			return fmt.Errorf("raftstore: listen on BindAddr %s: %w", s.cfg.BindAddr, err)
		}
		advertise = ln.Addr()
		if s.cfg.AdvertiseAddr != "" {
			if advertise, err = net.ResolveTCPAddr("tcp", s.cfg.AdvertiseAddr); err != nil {
				ln.Close()
				return fmt.Errorf("raftstore: AdvertiseAddr %s: %w", s.cfg.AdvertiseAddr, err)
			}
		}
		dial = tcpDialer
	}
	s.addr = advertise.String()
	s.mux = newMux(s.ctx, muxConfig{ln: ln, advertise: advertise, dial: dial,
		tls: newPeerTLS(s.cfg.TLS), authorize: s.cfg.AuthorizePeer, services: s.cfg.Services,
		maxConns: s.cfg.MaxConns, maxConnsPerHost: min(s.cfg.MaxConnsPerHost, s.cfg.MaxConns),
		handshake: s.cfg.HandshakeTimeout, log: s.log, metrics: s.metrics.conns})

	if s.cfg.DataDir != "" {
		if err = os.MkdirAll(s.cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("raftstore: DataDir: %w", err)
		}
		if s.bolt, err = boltlog.Open(filepath.Join(s.cfg.DataDir, "raft.db"), time.Second); err != nil {
			return fmt.Errorf("raftstore: %w", err)
		}
		s.logs, s.stable = s.bolt, s.bolt
		// The log store's lock is ours: no other process snapshots here.
		var removed []string
		removed, err = removeTempSnapshots(s.cfg.DataDir)
		if len(removed) > 0 {
			s.log.Warn("removed unfinished snapshots left by an earlier stop", zap.Strings("dirs", removed))
		}
		if err != nil {
			return err
		}
		if s.snaps, err = raft.NewFileSnapshotStoreWithLogger(s.cfg.DataDir, s.cfg.RetainSnapshots, hlog); err != nil {
			return fmt.Errorf("raftstore: snapshot store in %s: %w", s.cfg.DataDir, err)
		}
	} else {
		mem := raft.NewInmemStore()
		s.logs, s.stable, s.snaps = mem, mem, raft.NewInmemSnapshotStore()
	}

	s.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  raftLayer{s.mux},
		MaxPool: 4,
		Timeout: 10 * time.Second,
		Logger:  hlog,
	})
	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(s.cfg.NodeID)
	rc.HeartbeatTimeout = s.cfg.HeartbeatTimeout
	rc.ElectionTimeout = s.cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = s.cfg.LeaderLeaseTimeout
	rc.CommitTimeout = s.cfg.CommitTimeout
	rc.SnapshotInterval = s.cfg.SnapshotInterval
	rc.SnapshotThreshold = s.cfg.SnapshotThreshold
	rc.TrailingLogs = s.cfg.TrailingLogs
	rc.Logger = hlog
	if s.raft, err = raft.NewRaft(rc, s.fsm, s.logs, s.stable, s.snaps, pipelineTransport{s.trans}); err != nil {
		return fmt.Errorf("raftstore: start raft: %w", err)
	}
	s.mux.start(s.serveRPC)
	s.wg.Add(1)
	go s.dispatch()
	s.raftOps.Add(4)
	go s.readLoop()
	go s.batchLoop()
	go s.completeLoop()
	go s.leaderLoop()
	s.started = true
	s.log.Debug("started", zap.String("addr", s.addr), zap.String("dataDir", s.cfg.DataDir))
	return nil
}

// closeResources releases whatever Start opened, in reverse order.
func (s *Store) closeResources() {
	if s.trans != nil {
		_ = s.trans.Close()
	}
	if s.rpc != nil {
		s.rpc.close()
	}
	if s.mux != nil {
		s.mux.close()
	}
	if s.bolt != nil {
		_ = s.bolt.Close()
	}
}

// Shutdown stops the node: Raft, the listener, watches and every goroutine
// the Store started, then closes the data files. It does not hand off
// leadership (call TransferLeadership first for a graceful stop of a
// leader). Safe to call more than once and before Start; it returns when
// everything has stopped or, if ctx ends first, with ctx's error while the
// shutdown completes in the background of the caller's goroutine exit.
//
// Errors: an error Raft or the log store reported while closing; ctx.Err().
func (s *Store) Shutdown(ctx context.Context) error {
	s.lifeMu.Lock()
	if s.stopped {
		s.lifeMu.Unlock()
		select {
		case <-s.stopDone:
			return s.stopErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.stopped = true
	started := s.started
	s.lifeMu.Unlock()

	go func() {
		defer close(s.stopDone)
		s.cancel()
		if !started {
			s.metrics.unregister()
			return
		}
		s.raftOps.Wait()
		var errs []error
		if err := s.raft.Shutdown().Error(); err != nil {
			errs = append(errs, fmt.Errorf("raftstore: raft shutdown: %w", err))
		}
		s.closeResources()
		s.wg.Wait()
		s.metrics.unregister()
		s.stopErr = errors.Join(errs...)
		s.log.Debug("stopped")
	}()
	select {
	case <-s.stopDone:
		return s.stopErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) running() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	switch {
	case s.stopped:
		return ErrStopped
	case !s.started:
		return ErrNotStarted
	}
	return nil
}

// Addr is the address peers dial (Raft and forwarding share it); empty
// before Start.
func (s *Store) Addr() string {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.addr
}

// ID is the node id.
func (s *Store) ID() string { return s.cfg.NodeID }

// HasState reports whether the node already has Raft state (it was
// bootstrapped, or joined a cluster, possibly before a restart).
//
// Errors: ErrNotStarted, ErrStopped, or a read error of the stores.
func (s *Store) HasState() (bool, error) {
	if err := s.running(); err != nil {
		return false, err
	}
	return raft.HasExistingState(s.logs, s.stable, s.snaps)
}

// Bootstrap makes this node found a new cluster with the given servers (all
// must use the same list); with none, a single-node cluster of this node.
// A node that has state already never bootstraps again.
//
// Errors: ErrAlreadyBootstrapped; ErrInvalidArgument for an empty or
// repeated server id or address, or a list without this node;
// ErrNotStarted; ErrStopped; ctx.Err().
func (s *Store) Bootstrap(ctx context.Context, servers ...Server) error {
	if err := s.running(); err != nil {
		return err
	}
	if len(servers) == 0 {
		servers = []Server{{ID: s.cfg.NodeID, Address: s.Addr(), Suffrage: Voter}}
	}
	var conf raft.Configuration
	ids, addrs, self := map[string]bool{}, map[string]bool{}, false
	for i, sv := range servers {
		switch {
		case sv.ID == "" || sv.Address == "":
			return fmt.Errorf("%w: servers[%d]: ID and Address are required", ErrInvalidArgument, i)
		case ids[sv.ID] || addrs[sv.Address]:
			return fmt.Errorf("%w: servers[%d]: id %q or address %q repeated", ErrInvalidArgument, i, sv.ID, sv.Address)
		}
		ids[sv.ID], addrs[sv.Address] = true, true
		self = self || sv.ID == s.cfg.NodeID
		conf.Servers = append(conf.Servers, raft.Server{ID: raft.ServerID(sv.ID), Address: raft.ServerAddress(sv.Address), Suffrage: toRaftSuffrage(sv.Suffrage)})
	}
	if !self {
		return fmt.Errorf("%w: servers do not include this node %q", ErrInvalidArgument, s.cfg.NodeID)
	}
	err := s.raftCall(ctx, func() raft.Future { return s.raft.BootstrapCluster(conf) })
	if errors.Is(err, raft.ErrCantBootstrap) {
		return ErrAlreadyBootstrapped
	}
	return err
}

func toRaftSuffrage(s Suffrage) raft.ServerSuffrage {
	if s == Nonvoter {
		return raft.Nonvoter
	}
	return raft.Voter
}

// raftCall starts a Raft operation and waits for its future or ctx,
// whichever ends first, mapping Raft's errors to ours. The waiting
// goroutine counts in raftOps so that Shutdown lets it finish first.
//
// Errors: ErrStopped once Shutdown has begun; Raft's error, mapped;
// ctx.Err().
func (s *Store) raftCall(ctx context.Context, call func() raft.Future) error {
	s.lifeMu.Lock()
	if s.stopped {
		s.lifeMu.Unlock()
		return ErrStopped
	}
	s.raftOps.Add(1)
	s.lifeMu.Unlock()
	f := call()
	done := make(chan error, 1)
	go func() {
		defer s.raftOps.Done()
		done <- f.Error()
	}()
	select {
	case err := <-done:
		return mapRaftErr(err)
	case <-ctx.Done():
		return ctx.Err()
	}
}

func mapRaftErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrNotVoter):
		return fmt.Errorf("%w (%v)", ErrNotLeader, err)
	case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return fmt.Errorf("%w (%v)", ErrUnknownOutcome, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrStopped
	}
	return err
}

// configChange runs a membership change on the leader.
func (s *Store) configChange(ctx context.Context, change func(timeout time.Duration) raft.Future) error {
	if err := s.running(); err != nil {
		return err
	}
	if s.raft.State() != raft.Leader {
		return ErrNotLeader
	}
	ctx, cancel := s.requestContext(ctx)
	defer cancel()
	timeout := time.Until(deadline(ctx))
	return s.raftCall(ctx, func() raft.Future { return change(timeout) })
}

func deadline(ctx context.Context) time.Time {
	d, _ := ctx.Deadline()
	return d
}

// AddVoter adds (or promotes) a voting server. Leader only.
//
// Errors: ErrNotLeader on a follower; ErrInvalidArgument for an empty id or
// address; ErrUnknownOutcome if leadership was lost meanwhile; ctx.Err().
func (s *Store) AddVoter(ctx context.Context, id, addr string) error {
	if id == "" || addr == "" {
		return fmt.Errorf("%w: id and addr are required", ErrInvalidArgument)
	}
	return s.configChange(ctx, func(t time.Duration) raft.Future {
		return s.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, t)
	})
}

// AddNonvoter adds a server that receives the log but does not vote.
// Leader only; errors as AddVoter.
func (s *Store) AddNonvoter(ctx context.Context, id, addr string) error {
	if id == "" || addr == "" {
		return fmt.Errorf("%w: id and addr are required", ErrInvalidArgument)
	}
	return s.configChange(ctx, func(t time.Duration) raft.Future {
		return s.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, t)
	})
}

// RemoveServer removes a server from the configuration. Leader only. A
// leader may remove itself; it steps down after the change commits.
//
// Errors: ErrNotLeader on a follower; ErrInvalidArgument for an empty id;
// ErrUnknownOutcome; ctx.Err().
func (s *Store) RemoveServer(ctx context.Context, id string) error {
	if id == "" {
		return fmt.Errorf("%w: id is required", ErrInvalidArgument)
	}
	return s.configChange(ctx, func(t time.Duration) raft.Future {
		return s.raft.RemoveServer(raft.ServerID(id), 0, t)
	})
}

// Servers returns the latest Raft configuration (possibly not yet
// committed).
//
// Errors: ErrNotStarted, ErrStopped.
func (s *Store) Servers(ctx context.Context) ([]Server, error) {
	if err := s.running(); err != nil {
		return nil, err
	}
	var f raft.ConfigurationFuture
	if err := s.raftCall(ctx, func() raft.Future { f = s.raft.GetConfiguration(); return f }); err != nil {
		return nil, err
	}
	var out []Server
	for _, sv := range f.Configuration().Servers {
		su := Voter
		if sv.Suffrage != raft.Voter {
			su = Nonvoter
		}
		out = append(out, Server{ID: string(sv.ID), Address: string(sv.Address), Suffrage: su})
	}
	return out, nil
}

// TransferLeadership hands leadership to another voter, for a graceful stop
// of the leader.
//
// Errors: ErrNotLeader on a follower; an error from Raft if no voter can
// take over; ctx.Err().
func (s *Store) TransferLeadership(ctx context.Context) error {
	if err := s.running(); err != nil {
		return err
	}
	if s.raft.State() != raft.Leader {
		return ErrNotLeader
	}
	return s.raftCall(ctx, s.raft.LeadershipTransfer)
}

// Snapshot takes a snapshot now (Raft also takes them on its own per
// SnapshotInterval and SnapshotThreshold). Nothing new to snapshot is not
// an error.
//
// Errors: ErrNotStarted, ErrStopped, a snapshot store error, ctx.Err().
func (s *Store) Snapshot(ctx context.Context) error {
	if err := s.running(); err != nil {
		return err
	}
	err := s.raftCall(ctx, func() raft.Future { return s.raft.Snapshot() })
	if errors.Is(err, raft.ErrNothingNewToSnapshot) {
		return nil
	}
	return err
}

// IsLeader reports whether this node is the leader and has applied every
// entry of earlier terms. It is this node's belief: a leader cut off from
// the others keeps it until its lease runs out (LeaderLeaseTimeout) while a
// new leader may already serve, so fence leader-only writes with
// OpFence(term), term from LeaderTerm, rather than relying on it alone.
func (s *Store) IsLeader() bool {
	ready, _ := s.Leadership()
	return ready
}

// Leadership returns whether this node is the ready leader now and a
// channel that is closed at the next change. Use it to run leader-only
// work: start on true, stop when the channel closes and re-check.
func (s *Store) Leadership() (bool, <-chan struct{}) {
	s.leaderMu.Lock()
	defer s.leaderMu.Unlock()
	return s.leaderReady, s.leaderChanged
}

// LeaderTerm returns, while this node is the ready leader (as
// Leadership), the Raft term it leads, for OpFence; leader is false and
// term 0 otherwise. changed is closed at the next change of either, as
// Leadership's channel: a node that loses and regains leadership reports
// the new term after changed closed. The term is one this node won: put
// it in an OpFence and the write lands only while this node's term lasts.
func (s *Store) LeaderTerm() (term uint64, leader bool, changed <-chan struct{}) {
	s.leaderMu.Lock()
	defer s.leaderMu.Unlock()
	return s.leaderTerm, s.leaderReady, s.leaderChanged
}

// setLeader records readiness to lead term (0 when not ready).
func (s *Store) setLeader(ready bool, term uint64) {
	s.leaderMu.Lock()
	defer s.leaderMu.Unlock()
	if s.leaderReady == ready && s.leaderTerm == term {
		return
	}
	s.leaderReady, s.leaderTerm = ready, term
	close(s.leaderChanged)
	s.leaderChanged = make(chan struct{})
	s.metrics.setLeader(ready)
}

// ledTerm returns the term this node leads now, if it leads. Raft steps a
// leader down (state Follower) before it moves to a higher term and sets
// the term of an election before it can win it, so a term read before and
// after a Leader state is the term of that leadership; if the term moved
// meanwhile, leadership changed and the leader loop hears of it.
func (s *Store) ledTerm() (uint64, bool) {
	before := s.raft.CurrentTerm()
	leading := s.raft.State() == raft.Leader
	after := s.raft.CurrentTerm()
	return after, leading && before == after
}

// leaderLoop follows Raft leadership. A new leader first applies a barrier
// so that every entry of earlier terms is in its state before it serves
// linearizable reads or reports itself leader.
func (s *Store) leaderLoop() {
	defer s.raftOps.Done()
	for {
		select {
		case <-s.ctx.Done():
			s.setLeader(false, 0)
			return
		case isLeader := <-s.raft.LeaderCh():
			// Readiness belongs to one term: drop it before earning it anew,
			// in case leadership was lost and regained unseen.
			s.setLeader(false, 0)
			if !isLeader {
				continue
			}
			if err := s.raft.Barrier(0).Error(); err != nil {
				s.log.Debug("barrier after election failed", zap.Error(err))
				s.setLeader(false, 0)
				continue
			}
			s.turnOnEncryption()
			term, leading := s.ledTerm()
			if !leading {
				term = 0
			}
			s.setLeader(leading, term)
			s.log.Debug("leading", zap.Uint64("term", term), zap.Bool("ready", leading))
		}
	}
}

// State returns the node's current Raft state.
func (s *Store) State() State {
	st := State{ID: s.cfg.NodeID, Addr: s.Addr(), Role: "shutdown", Revision: s.fsm.revision()}
	if s.running() != nil {
		return st
	}
	st.Role = map[raft.RaftState]string{raft.Leader: "leader", raft.Follower: "follower",
		raft.Candidate: "candidate", raft.Shutdown: "shutdown"}[s.raft.State()]
	addr, id := s.raft.LeaderWithID()
	st.LeaderID, st.LeaderAddr = string(id), string(addr)
	st.Term = s.raft.CurrentTerm()
	st.CommitIndex = s.raft.CommitIndex()
	st.AppliedIndex = s.raft.AppliedIndex()
	st.LastContact = s.raft.LastContact()
	if servers, err := s.Servers(context.Background()); err == nil {
		st.Servers = servers
	}
	return st
}

// requestContext bounds ctx by RequestTimeout when it has no deadline.
func (s *Store) requestContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, s.cfg.RequestTimeout)
}
