package membership

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"go.uber.org/zap"
)

// Status is a member's state as seen by this node.
type Status int

const (
	// StatusAlive: the member answers probes.
	StatusAlive Status = iota + 1
	// StatusLeaving: the member announced it is about to leave.
	StatusLeaving
	// StatusLeft: the member left gracefully.
	StatusLeft
	// StatusFailed: the member stopped answering and was declared dead.
	StatusFailed
)

func (s Status) String() string {
	switch s {
	case StatusAlive:
		return "alive"
	case StatusLeaving:
		return "leaving"
	case StatusLeft:
		return "left"
	case StatusFailed:
		return "failed"
	}
	return "unknown(" + strconv.Itoa(int(s)) + ")"
}

// Member is one node as seen by this node.
type Member struct {
	// Name is the node name.
	Name string
	// Addr is the gossip address (ip:port).
	Addr string
	// Record is the node's latest valid record.
	Record Record
	// Status is alive, leaving, left or failed.
	Status Status
	// Since is when Status last changed (local clock).
	Since time.Time
}

func (m Member) clone() Member {
	m.Record = m.Record.Clone()
	return m
}

// EventType says what happened to a member.
type EventType int

const (
	// EventJoin: a member appeared (or came back after leaving or failing).
	EventJoin EventType = iota + 1
	// EventUpdate: a member's record changed (including Leaving being set).
	EventUpdate
	// EventLeave: a member left gracefully.
	EventLeave
	// EventFailed: a member was declared dead after failing probes.
	EventFailed
)

func (t EventType) String() string {
	switch t {
	case EventJoin:
		return "join"
	case EventUpdate:
		return "update"
	case EventLeave:
		return "leave"
	case EventFailed:
		return "failed"
	}
	return "unknown(" + strconv.Itoa(int(t)) + ")"
}

// Event reports a change of one member. Member is its state after the change.
type Event struct {
	Type   EventType
	Member Member
}

type lifecycle int

const (
	stateNew lifecycle = iota
	stateStarted
	stateShutdown
)

// Membership is one node's view of the cluster, kept up to date by gossip.
// Create it with New, then Start it. All methods are safe for concurrent use.
type Membership struct {
	cfg         Config
	log         *zap.Logger
	proto       int
	events      chan Event
	dropped     atomic.Uint64
	eventCounts eventCounters
	collector   *collector // registered on Config.Registerer while started

	// life serializes Start, Join's setup, Leave, UpdateRecord and Shutdown.
	// It may be held while calling into memberlist.
	life      sync.Mutex
	state     lifecycle
	left      bool
	ml        *memberlist.Memberlist
	transport *countingTransport
	keyring   *memberlist.Keyring
	limiter   *limitingTransport // the current start's; its refusals are a metric

	// mu guards the fields below. memberlist calls our delegates while it
	// holds its own node lock, so mu must never be held while calling
	// memberlist.
	mu       sync.Mutex
	record   Record
	meta     []byte
	members  map[string]*Member
	rejected map[string]string // peer name -> record text last rejected (log once)
	reject   error             // last join veto from NotifyMerge
}

// New validates cfg and returns an unstarted Membership. It starts no
// goroutines and opens no sockets.
//
// Errors: every problem in cfg, joined, each wrapping ErrInvalidConfig.
func New(cfg Config) (*Membership, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Join = slices.Clone(cfg.Join)
	cfg.GossipKeys = slices.Clone(cfg.GossipKeys)
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.EventBuffer == 0 {
		cfg.EventBuffer = 1024
	}
	if cfg.BroadcastTimeout == 0 {
		cfg.BroadcastTimeout = 5 * time.Second
	}
	if cfg.TombstoneTimeout == 0 {
		cfg.TombstoneTimeout = 24 * time.Hour
	}
	if cfg.BindAddr == "" {
		cfg.BindAddr = "0.0.0.0"
	}
	proto := ProtocolVersionMax
	if cfg.protocol != 0 {
		proto = cfg.protocol
	}
	rec := cfg.Record.Clone()
	rec.Name = cfg.NodeName
	rec.Protocol = proto
	rec.Leaving = false
	meta, err := rec.encode()
	if err != nil {
		return nil, fmt.Errorf("%w: Record: %w", ErrInvalidConfig, err)
	}
	return &Membership{
		cfg:      cfg,
		log:      cfg.Logger.With(zap.String("node", cfg.NodeName)),
		proto:    proto,
		events:   make(chan Event, cfg.EventBuffer),
		record:   rec,
		meta:     meta,
		members:  make(map[string]*Member),
		rejected: make(map[string]string),
	}, nil
}

// Events returns the event stream. The channel is buffered (Config.EventBuffer,
// default 1024) and never closed. When it is full, new events are dropped and
// counted (DroppedEvents): gossip never waits for a slow consumer. A consumer
// that may fall behind should treat events as hints and re-read Members.
// Events include this node's own join and updates.
func (m *Membership) Events() <-chan Event { return m.events }

// DroppedEvents returns how many events were dropped because the Events
// channel was full.
func (m *Membership) DroppedEvents() uint64 { return m.dropped.Load() }

// Start opens the gossip transport, starts memberlist and, if Config.Join is
// not empty, joins those addresses as Join does (retrying until ctx ends).
// If joining fails, everything started is stopped again and Start may be
// called again.
//
// Errors: ErrAlreadyStarted, ErrShutdown, a bind error, a metrics
// registration error (a second Membership with the same NodeName on the same
// Registerer), or any error of Join.
func (m *Membership) Start(ctx context.Context) error {
	m.life.Lock()
	switch m.state {
	case stateStarted:
		m.life.Unlock()
		return ErrAlreadyStarted
	case stateShutdown:
		m.life.Unlock()
		return ErrShutdown
	}
	if err := m.startLocked(); err != nil {
		m.life.Unlock()
		return err
	}
	if reg := m.cfg.Registerer; reg != nil {
		c := newCollector(m)
		if err := reg.Register(c); err != nil {
			_ = m.ml.Shutdown()
			m.ml, m.transport = nil, nil
			m.life.Unlock()
			return fmt.Errorf("membership: register metrics: %w", err)
		}
		m.collector = c
	}
	m.state = stateStarted
	m.life.Unlock()

	if len(m.cfg.Join) == 0 {
		return nil
	}
	if err := m.Join(ctx, m.cfg.Join...); err != nil {
		m.life.Lock()
		defer m.life.Unlock()
		if m.state == stateStarted {
			_ = m.ml.Shutdown()
			m.unregisterLocked()
			m.ml, m.transport, m.left = nil, nil, false
			m.state = stateNew
			m.mu.Lock()
			m.members = make(map[string]*Member)
			m.mu.Unlock()
		}
		return err
	}
	return nil
}

func (m *Membership) startLocked() error {
	var inner memberlist.NodeAwareTransport
	if m.cfg.Network != nil {
		t, err := m.cfg.Network.newTransport(m.cfg.BindPort)
		if err != nil {
			return err
		}
		inner = t
	} else {
		t, err := m.netTransport()
		if err != nil {
			return err
		}
		inner = t
	}
	maxStreams, perHost := m.cfg.MaxStreams, m.cfg.MaxStreamsPerHost
	if maxStreams == 0 {
		maxStreams = 1024
	}
	if perHost == 0 {
		perHost = 128
	}
	m.limiter = newLimitingTransport(inner, maxStreams, perHost, m.log.Named("memberlist"))
	ct := &countingTransport{NodeAwareTransport: m.limiter}

	mlc := memberlist.DefaultLANConfig()
	mlc.Name = m.cfg.NodeName
	m.cfg.Timing.apply(mlc)
	mlc.Transport = ct
	mlc.BindAddr = m.cfg.BindAddr
	mlc.AdvertiseAddr = m.cfg.AdvertiseAddr
	mlc.AdvertisePort = m.cfg.AdvertisePort
	if nt, ok := inner.(*memberlist.NetTransport); ok {
		mlc.BindPort = nt.GetAutoBindPort()
		if mlc.AdvertisePort == 0 {
			mlc.AdvertisePort = mlc.BindPort
		}
	}
	mlc.Logger = newStdLogger(m.log.Named("memberlist"))
	mlc.LogOutput = nil
	d := &delegate{m}
	mlc.Delegate = d
	mlc.Events = d
	mlc.Alive = d
	mlc.Merge = d
	mlc.Conflict = d
	if len(m.cfg.GossipKeys) > 0 {
		kr, err := memberlist.NewKeyring(m.cfg.GossipKeys[1:], m.cfg.GossipKeys[0])
		if err != nil {
			_ = ct.Shutdown()
			return fmt.Errorf("%w: GossipKeys: %v", ErrInvalidConfig, err)
		}
		mlc.Keyring = kr
		m.keyring = kr
	}
	ml, err := memberlist.Create(mlc)
	if err != nil {
		_ = ct.Shutdown()
		return fmt.Errorf("membership: start memberlist: %w", err)
	}
	m.ml = ml
	m.transport = ct
	m.log.Debug("membership started", zap.String("addr", m.addrLocked()))
	return nil
}

func (m *Membership) unregisterLocked() {
	if m.collector != nil {
		m.cfg.Registerer.Unregister(m.collector)
		m.collector = nil
	}
}

func (m *Membership) netTransport() (*memberlist.NetTransport, error) {
	nc := &memberlist.NetTransportConfig{
		BindAddrs: []string{m.cfg.BindAddr},
		BindPort:  m.cfg.BindPort,
		Logger:    newStdLogger(m.log.Named("memberlist")),
	}
	// Port 0 binds UDP and TCP separately, which can race with other
	// programs; memberlist itself retries, so do we.
	tries := 1
	if m.cfg.BindPort == 0 {
		tries = 10
	}
	var err error
	for range tries {
		var t *memberlist.NetTransport
		if t, err = memberlist.NewNetTransport(nc); err == nil {
			return t, nil
		}
	}
	return nil, fmt.Errorf("membership: bind %s: %w", net.JoinHostPort(m.cfg.BindAddr, strconv.Itoa(m.cfg.BindPort)), err)
}

// Addr returns this node's advertised gossip address (ip:port), the address
// other nodes put in their join lists. Empty before Start.
func (m *Membership) Addr() string {
	m.life.Lock()
	defer m.life.Unlock()
	return m.addrLocked()
}

func (m *Membership) addrLocked() string {
	if m.ml == nil {
		return ""
	}
	n := m.ml.LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

func (m *Membership) running() (*memberlist.Memberlist, error) {
	m.life.Lock()
	defer m.life.Unlock()
	switch m.state {
	case stateNew:
		return nil, ErrNotStarted
	case stateShutdown:
		return nil, ErrShutdown
	}
	if m.left {
		return nil, ErrLeft
	}
	return m.ml, nil
}

// Join contacts the given gossip addresses (host:port) and merges state with
// every one that answers; one live address is enough. While none answers it
// retries with backoff (50 ms doubling to 1 s, with jitter) until ctx ends,
// so a node may start before its seeds. Each attempt can block up to
// Timing.TCPTimeout per unreachable address.
//
// Errors: ErrNotStarted, ErrShutdown, ErrLeft; ErrJoinFailed naming every address and
// its last error when ctx ends first; ErrGossipKey, ErrProtocolMismatch or
// ErrNameConflict immediately, because retrying would not help.
func (m *Membership) Join(ctx context.Context, addrs ...string) error {
	if len(addrs) == 0 {
		return fmt.Errorf("%w: no addresses given", ErrJoinFailed)
	}
	for i, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return fmt.Errorf("%w: addrs[%d]: %q is not host:port: %v", ErrJoinFailed, i, a, err)
		}
	}
	backoff := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		ml, err := m.running()
		if err != nil {
			return err
		}
		var errs []error
		joined := 0
		for _, a := range addrs {
			m.mu.Lock()
			m.reject = nil
			m.mu.Unlock()
			n, err := ml.Join([]string{a})
			if err == nil && n > 0 {
				joined++
				continue
			}
			if err == nil {
				err = errors.New("no node answered")
			}
			m.mu.Lock()
			reject := m.reject
			m.mu.Unlock()
			if perm := m.classifyJoinError(a, err, reject); perm != nil {
				return perm
			}
			errs = append(errs, fmt.Errorf("%s: %v", a, err))
		}
		if joined > 0 {
			m.log.Debug("joined cluster", zap.Int("contacted", joined), zap.Strings("addrs", addrs), zap.Int("attempt", attempt))
			return nil
		}
		m.log.Debug("join attempt failed, retrying", zap.Int("attempt", attempt), zap.Error(errors.Join(errs...)))
		wait := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w after %d attempts (%v): %w", ErrJoinFailed, attempt, context.Cause(ctx), errors.Join(errs...))
		case <-t.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}

// classifyJoinError returns a permanent, typed error for a join failure that
// retrying cannot fix, or nil.
func (m *Membership) classifyJoinError(addr string, err, reject error) error {
	if reject != nil && strings.Contains(err.Error(), reject.Error()) {
		return fmt.Errorf("join %s: %w", addr, reject)
	}
	msg := err.Error()
	for _, s := range []string{
		"no installed keys could decrypt",
		"encryption is not configured",
		"Encryption is configured but remote state is not encrypted",
		"remote state is not encrypted",
		"message authentication failed",
	} {
		if strings.Contains(msg, s) {
			hint := "the peer uses a different gossip key"
			if m.keyring == nil {
				hint = "the peer uses gossip encryption and this node has no key"
			}
			return fmt.Errorf("%w: join %s: %s (%v)", ErrGossipKey, addr, hint, err)
		}
	}
	return nil
}

// Leave announces that this node leaves the cluster: it marks its record as
// leaving, then broadcasts memberlist's leave message, waiting for each
// broadcast at most Config.BroadcastTimeout (less if ctx ends sooner). The
// bound matters when every node leaves at once: a broadcast that no live
// peer remains to carry never completes.
// Peers then report EventLeave instead of EventFailed. Call Shutdown after.
// Calling Leave twice is a no-op.
//
// Errors: ErrNotStarted, ErrShutdown, or a timeout waiting for the broadcast
// (the node has still left; peers learn it by gossip or probing).
func (m *Membership) Leave(ctx context.Context) error {
	m.life.Lock()
	defer m.life.Unlock()
	switch m.state {
	case stateNew:
		return ErrNotStarted
	case stateShutdown:
		return ErrShutdown
	}
	if m.left {
		return nil
	}
	m.left = true
	m.mu.Lock()
	rec := m.record.Clone()
	m.mu.Unlock()
	rec.Leaving = true
	var errs []error
	if err := m.setRecordLocked(ctx, rec); err != nil {
		errs = append(errs, err)
	}
	if err := m.ml.Leave(m.timeout(ctx)); err != nil {
		errs = append(errs, fmt.Errorf("membership: leave: %w", err))
	}
	m.log.Debug("left cluster")
	return errors.Join(errs...)
}

// Shutdown stops gossip without a leave message (peers will report this node
// as failed unless Leave was called first). It is safe to call more than
// once and before Start. memberlist's own background goroutines exit shortly
// after it returns (memberlist does not wait for them).
//
// Errors: only what memberlist reports while closing its transport.
func (m *Membership) Shutdown() error {
	m.life.Lock()
	defer m.life.Unlock()
	prev := m.state
	m.state = stateShutdown
	if prev != stateStarted {
		return nil
	}
	err := m.ml.Shutdown()
	m.unregisterLocked()
	m.log.Debug("membership shut down")
	if err != nil {
		return fmt.Errorf("membership: shutdown: %w", err)
	}
	return nil
}

// UpdateRecord changes this node's record with update (which gets a copy;
// Name, Protocol and Leaving are kept) and broadcasts it, waiting for the
// broadcast at most Config.BroadcastTimeout (less if ctx ends sooner).
// Every member then reports EventUpdate.
//
// Errors: ErrInvalidRecord or ErrRecordTooLarge (nothing changed),
// ErrNotStarted, ErrShutdown, ErrLeft, or a broadcast timeout (the record has changed
// and still spreads by gossip).
func (m *Membership) UpdateRecord(ctx context.Context, update func(r *Record)) error {
	m.life.Lock()
	defer m.life.Unlock()
	switch m.state {
	case stateNew:
		return ErrNotStarted
	case stateShutdown:
		return ErrShutdown
	}
	if m.left {
		return ErrLeft
	}
	m.mu.Lock()
	cur := m.record.Clone()
	m.mu.Unlock()
	next := cur.Clone()
	update(&next)
	next.Name, next.Protocol, next.Leaving = cur.Name, cur.Protocol, cur.Leaving
	return m.setRecordLocked(ctx, next)
}

func (m *Membership) setRecordLocked(ctx context.Context, rec Record) error {
	meta, err := rec.encode()
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.record, m.meta = rec, meta
	m.mu.Unlock()
	if err := m.ml.UpdateNode(m.timeout(ctx)); err != nil {
		return fmt.Errorf("membership: broadcast record: %w", err)
	}
	return nil
}

func (m *Membership) timeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return min(max(time.Until(d), time.Millisecond), m.cfg.BroadcastTimeout)
	}
	return m.cfg.BroadcastTimeout
}

// Members returns every member this node knows, itself included, sorted by
// name: alive and leaving members, and those that left or failed within
// Config.TombstoneTimeout.
func (m *Membership) Members() []Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	out := make([]Member, 0, len(m.members))
	for name, mem := range m.members {
		if (mem.Status == StatusLeft || mem.Status == StatusFailed) && now.Sub(mem.Since) > m.cfg.TombstoneTimeout {
			delete(m.members, name)
			continue
		}
		out = append(out, mem.clone())
	}
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// LocalNode returns this node as a Member. Before Start its Addr is empty and
// its Status is zero.
func (m *Membership) LocalNode() Member {
	m.mu.Lock()
	defer m.mu.Unlock()
	if me, ok := m.members[m.cfg.NodeName]; ok {
		return me.clone()
	}
	return Member{Name: m.cfg.NodeName, Record: m.record.Clone()}
}

// Traffic returns the bytes this node has sent through its gossip transport
// since Start (zero before Start).
func (m *Membership) Traffic() Traffic {
	m.life.Lock()
	defer m.life.Unlock()
	if m.transport == nil {
		return Traffic{}
	}
	return m.transport.traffic()
}

// HealthScore returns memberlist's awareness score: 0 is healthy, higher
// means this node has trouble meeting the protocol's deadlines (it is slow
// or its network drops packets). ErrNotStarted or ErrShutdown without a
// running memberlist.
func (m *Membership) HealthScore() (int, error) {
	ml, err := m.running()
	if err != nil {
		return 0, err
	}
	return ml.GetHealthScore(), nil
}

// Key rotation. Gossip encryption must be enabled (Config.GossipKeys). To
// rotate the cluster key without downtime: InstallKey(new) on every node,
// then UseKey(new) on every node, then RemoveKey(old) on every node. Each
// call changes this node only.

// InstallKey adds key to the keyring; it is accepted for decryption at once.
//
// Errors: ErrInvalidConfig for a bad key length or without encryption.
func (m *Membership) InstallKey(key []byte) error {
	kr, err := m.ring()
	if err != nil {
		return err
	}
	if err := kr.AddKey(key); err != nil {
		return fmt.Errorf("%w: key: %v", ErrInvalidConfig, err)
	}
	return nil
}

// UseKey makes an installed key the one used to encrypt.
//
// Errors: ErrKeyNotFound, ErrInvalidConfig without encryption.
func (m *Membership) UseKey(key []byte) error {
	kr, err := m.ring()
	if err != nil {
		return err
	}
	if err := kr.UseKey(key); err != nil {
		return fmt.Errorf("%w: %v", ErrKeyNotFound, err)
	}
	return nil
}

// RemoveKey removes a key that is not the primary one.
//
// Errors: ErrInvalidConfig for the primary key or without encryption.
func (m *Membership) RemoveKey(key []byte) error {
	kr, err := m.ring()
	if err != nil {
		return err
	}
	if err := kr.RemoveKey(key); err != nil {
		return fmt.Errorf("%w: key: %v", ErrInvalidConfig, err)
	}
	return nil
}

func (m *Membership) ring() (*memberlist.Keyring, error) {
	m.life.Lock()
	defer m.life.Unlock()
	if len(m.cfg.GossipKeys) == 0 {
		return nil, fmt.Errorf("%w: GossipKeys: gossip encryption is not enabled", ErrInvalidConfig)
	}
	if m.keyring == nil {
		return nil, ErrNotStarted
	}
	return m.keyring, nil
}

// emit sends ev without blocking; callers hold m.mu.
func (m *Membership) emit(ev Event) {
	if i := int(ev.Type) - 1; i >= 0 && i < len(m.eventCounts) {
		m.eventCounts[i].Add(1)
	}
	select {
	case m.events <- ev:
	default:
		if n := m.dropped.Add(1); n == 1 || n%1000 == 0 {
			m.log.Warn("event channel full, dropping events", zap.Uint64("dropped", n), zap.Int("buffer", cap(m.events)))
		}
	}
}
