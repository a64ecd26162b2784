package autopilot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/testlog"
	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
)

// testLogger logs to tb until its cleanup (see testlog).
func testLogger(tb testing.TB) *zap.Logger { return testlog.New(tb) }

func eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// env is a set of servers sharing in-memory (or, with loopback, real) networks.
type env struct {
	tb        testing.TB
	loopback  bool
	raftNet   *raftstore.InmemNetwork
	gossipNet *membership.InmemNetwork
	dir       string
	log       *zap.Logger
	apCfg     Config
}

func newEnv(tb testing.TB, loopback bool) *env {
	e := &env{tb: tb, loopback: loopback, dir: tb.TempDir()}
	if _, ok := tb.(*testing.B); ok {
		e.log = zap.NewNop()
	} else {
		e.log = testLogger(tb)
	}
	if !loopback {
		e.raftNet = raftstore.NewInmemNetwork()
		e.gossipNet = membership.NewInmemNetwork()
	}
	e.apCfg = Config{
		BootstrapExpect:     3,
		MaxVoters:           5,
		StableTime:          300 * time.Millisecond,
		FailedServerTimeout: 2 * time.Second,
		Interval:            50 * time.Millisecond,
		OpTimeout:           5 * time.Second,
	}
	return e
}

type testServer struct {
	id    string
	store *raftstore.Store
	ml    *membership.Membership
	ap    *Autopilot
	once  sync.Once
}

// gossipPort gives in-memory servers fixed gossip ports, so join lists can
// name servers that have not started yet and restarts keep their address.
func gossipPort(id string) int {
	var n int
	fmt.Sscanf(id, "s%d", &n)
	return 21000 + n
}

func gossipAddr(id string) string { return fmt.Sprintf("127.0.0.1:%d", gossipPort(id)) }

// start starts one server (Raft store from its data dir, membership joining
// join, autopilot); it blocks until membership has joined.
func (e *env) start(id string, join ...string) *testServer {
	e.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	log := e.log.Named(id)

	var rc raftstore.Config
	if e.loopback {
		rc = raftstore.FastConfig()
		rc.NodeID = id
		rc.BindAddr = "127.0.0.1:0"
	} else {
		rc = raftstore.TestConfig(id)
		rc.Network = e.raftNet
	}
	rc.DataDir = filepath.Join(e.dir, id)
	rc.Logger = log.Named("raft").WithOptions(zap.IncreaseLevel(zap.WarnLevel))
	store, err := raftstore.New(rc)
	if err != nil {
		e.tb.Fatal(err)
	}
	s := &testServer{id: id, store: store}
	e.tb.Cleanup(func() { s.stop(false) })
	if err := store.Start(ctx); err != nil {
		e.tb.Fatalf("%s: raft start: %v", id, err)
	}

	mc := membership.FastConfig()
	mc.NodeName = id
	mc.Join = join
	mc.Logger = log.Named("gossip").WithOptions(zap.IncreaseLevel(zap.WarnLevel))
	mc.Record = membership.Record{Role: membership.RoleServer, RPCAddr: store.Addr()}
	if e.loopback {
		mc.BindAddr = "127.0.0.1"
		mc.BindPort = 0
	} else {
		mc.Network = e.gossipNet
		mc.BindPort = gossipPort(id)
	}
	s.ml, err = membership.New(mc)
	if err != nil {
		e.tb.Fatal(err)
	}
	if err := s.ml.Start(ctx); err != nil {
		e.tb.Fatalf("%s: membership start: %v", id, err)
	}

	ac := e.apCfg
	ac.Raft = store
	ac.Gossip = s.ml
	ac.Logger = log.Named("autopilot")
	if s.ap, err = New(ac); err != nil {
		e.tb.Fatal(err)
	}
	if err := s.ap.Start(ctx); err != nil {
		e.tb.Fatal(err)
	}
	return s
}

// startAgent starts a gossip-only agent node (no Raft, no autopilot).
func (e *env) startAgent(id string, join ...string) *membership.Membership {
	e.tb.Helper()
	mc := membership.FastConfig()
	mc.NodeName = id
	mc.Join = join
	mc.Network = e.gossipNet
	mc.BindPort = 0
	mc.Logger = e.log.Named(id).WithOptions(zap.IncreaseLevel(zap.WarnLevel))
	mc.Record = membership.Record{Role: membership.RoleAgent}
	m, err := membership.New(mc)
	if err != nil {
		e.tb.Fatal(err)
	}
	e.tb.Cleanup(func() { _ = m.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := m.Start(ctx); err != nil {
		e.tb.Fatal(err)
	}
	return m
}

// stop shuts the server down; with leave it first leaves gossip gracefully.
func (s *testServer) stop(leave bool) {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if s.ap != nil {
			_ = s.ap.Shutdown(ctx)
		}
		if s.ml != nil && leave {
			_ = s.ml.Leave(ctx)
		}
		_ = s.store.Shutdown(ctx)
		if s.ml != nil {
			_ = s.ml.Shutdown()
		}
	})
}

// startAll starts servers concurrently (each may wait for its seed).
func (e *env) startAll(joins map[string][]string) map[string]*testServer {
	e.tb.Helper()
	var mu sync.Mutex
	out := map[string]*testServer{}
	var wg sync.WaitGroup
	for id, join := range joins {
		wg.Go(func() {
			s := e.start(id, join...)
			mu.Lock()
			out[id] = s
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(out) != len(joins) {
		e.tb.FailNow()
	}
	return out
}

func leaderOf(servers map[string]*testServer) *testServer {
	var leader *testServer
	for _, s := range servers {
		if s.store.IsLeader() {
			if leader != nil {
				return nil // two leaders claim at once (transient); ask again
			}
			leader = s
		}
	}
	return leader
}

// config returns the leader's Raft configuration as sorted "id/Suffrage".
func config(servers map[string]*testServer) (voters, nonvoters []string) {
	l := leaderOf(servers)
	if l == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conf, err := l.store.Servers(ctx)
	if err != nil {
		return nil, nil
	}
	for _, s := range conf {
		if s.Suffrage == raftstore.Voter {
			voters = append(voters, s.ID)
		} else {
			nonvoters = append(nonvoters, s.ID)
		}
	}
	slices.Sort(voters)
	slices.Sort(nonvoters)
	return voters, nonvoters
}

func votersAre(servers map[string]*testServer, want ...string) func() bool {
	return func() bool {
		v, nv := config(servers)
		return slices.Equal(v, want) && len(nv) == 0
	}
}

// writer puts a key every 50 ms through a live server and records errors:
// with quorum kept throughout, every write succeeds.
type writer struct {
	mu      sync.Mutex
	via     *testServer
	n       int
	errs    []error
	stop    chan struct{}
	stopped chan struct{}
}

func startWriter(via *testServer) *writer {
	w := &writer{via: via, stop: make(chan struct{}), stopped: make(chan struct{})}
	go func() {
		defer close(w.stopped)
		for {
			select {
			case <-w.stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			w.mu.Lock()
			via := w.via
			w.n++
			n := w.n
			w.mu.Unlock()
			// A Put is idempotent: one caught by a leader election (unknown
			// outcome, no leader) is retried. Only a cluster that cannot take
			// writes for 3 s, i.e. lost quorum, makes it fail.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			_, err := via.store.Put(ctx, fmt.Sprintf("w/%05d", n), []byte("x"))
			for err != nil && raftstore.IsRetryable(err) && ctx.Err() == nil {
				time.Sleep(20 * time.Millisecond)
				_, err = via.store.Put(ctx, fmt.Sprintf("w/%05d", n), []byte("x"))
			}
			cancel()
			if err != nil {
				w.mu.Lock()
				w.errs = append(w.errs, err)
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *writer) finish() (int, []error) {
	close(w.stop)
	<-w.stopped
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n, w.errs
}

func TestClusterFormsGrowsHealsAndRestarts(t *testing.T) {
	e := newEnv(t, false)
	// One join address each, in a ring: every server may start before its seed.
	joins := map[string][]string{
		"s1": {gossipAddr("s3")},
		"s2": {gossipAddr("s1")},
		"s3": {gossipAddr("s2")},
	}
	servers := e.startAll(joins)
	// An agent in the same gossip cluster must never enter Raft: every
	// votersAre check below also requires no non-voters.
	agent := e.startAgent("a1", gossipAddr("s1"))
	eventually(t, 15*time.Second, "one leader with voters s1-s3", votersAre(servers, "s1", "s2", "s3"))
	leaders := 0
	for _, s := range servers {
		if s.store.IsLeader() {
			leaders++
		}
	}
	if leaders != 1 {
		t.Fatalf("%d leaders", leaders)
	}
	ctx := context.Background()
	if _, err := servers["s2"].store.Put(ctx, "greeting", []byte("hello")); err != nil {
		t.Fatal(err)
	}

	w := startWriter(servers["s1"])
	// s4 and s5 join through s1 and become voters (MaxVoters 5).
	servers["s4"] = e.start("s4", gossipAddr("s1"))
	servers["s5"] = e.start("s5", gossipAddr("s1"))
	eventually(t, 15*time.Second, "s4 and s5 as voters", votersAre(servers, "s1", "s2", "s3", "s4", "s5"))

	// Pick the two to go among the non-leaders, so the writer's path stays up.
	var goners []string
	for _, id := range []string{"s5", "s4", "s3", "s2"} {
		if !servers[id].store.IsLeader() && len(goners) < 2 {
			goners = append(goners, id)
		}
	}
	leaver, victim := goners[0], goners[1]
	var rest []string
	for _, id := range []string{"s1", "s2", "s3", "s4", "s5"} {
		if id != leaver && id != victim {
			rest = append(rest, id)
		}
	}
	w.mu.Lock()
	w.via = servers[rest[0]]
	w.mu.Unlock()

	// Graceful leave: removed promptly.
	servers[leaver].stop(true)
	delete(servers, leaver)
	eventually(t, 15*time.Second, leaver+" removed after leaving", votersAre(servers, append(slices.Clone(rest), victim)...))

	// Kill: removed, but not before FailedServerTimeout.
	killed := time.Now()
	servers[victim].stop(false)
	delete(servers, victim)
	eventually(t, 20*time.Second, victim+" removed after failing", votersAre(servers, rest...))
	if d := time.Since(killed); d < e.apCfg.FailedServerTimeout {
		t.Fatalf("killed server removed after %v, before FailedServerTimeout %v", d, e.apCfg.FailedServerTimeout)
	}

	if got := len(agent.Members()); got < 4 {
		t.Fatalf("agent sees %d members", got)
	}
	n, errs := w.finish()
	if len(errs) > 0 {
		t.Fatalf("%d of %d writes failed while servers joined, left and died (quorum lost?): %v", len(errs), n, errs)
	}
	if n < 10 {
		t.Fatalf("only %d writes attempted", n)
	}

	// Restart all five from their data dirs: the same cluster, the same data.
	for _, s := range servers {
		s.stop(false)
	}
	servers = e.startAll(map[string][]string{
		"s1": {gossipAddr("s3")},
		"s2": {gossipAddr("s1")},
		"s3": {gossipAddr("s2")},
		"s4": {gossipAddr("s1")},
		"s5": {gossipAddr("s2")},
	})
	eventually(t, 20*time.Second, "all five voters after restart", votersAre(servers, "s1", "s2", "s3", "s4", "s5"))
	for id, s := range servers {
		eventually(t, 10*time.Second, "data on "+id, func() bool {
			kv, err := s.store.Get(ctx, "greeting")
			if err != nil || string(kv.Value) != "hello" {
				return false
			}
			_, err = s.store.Get(ctx, fmt.Sprintf("w/%05d", n-1))
			return err == nil
		})
	}
}

func TestLoopbackThreeServers(t *testing.T) {
	e := newEnv(t, true)
	servers := map[string]*testServer{}
	servers["s1"] = e.start("s1")
	seed := servers["s1"].ml.Addr()
	more := e.startAll(map[string][]string{"s2": {seed}, "s3": {seed}})
	servers["s2"], servers["s3"] = more["s2"], more["s3"]
	eventually(t, 15*time.Second, "one leader with voters s1-s3 over loopback", votersAre(servers, "s1", "s2", "s3"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := servers["s3"].store.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "replication", func() bool {
		for _, s := range servers {
			if kv, err := s.store.Get(ctx, "k"); err != nil || string(kv.Value) != "v" {
				return false
			}
		}
		return true
	})
}

func TestWipedServerRejoins(t *testing.T) {
	e := newEnv(t, false)
	servers := e.startAll(map[string][]string{
		"s1": {gossipAddr("s2")},
		"s2": {gossipAddr("s1")},
		"s3": {gossipAddr("s1")},
	})
	eventually(t, 15*time.Second, "voters s1-s3", votersAre(servers, "s1", "s2", "s3"))
	ctx := context.Background()
	if _, err := servers["s1"].store.Put(ctx, "k", []byte("before wipe")); err != nil {
		t.Fatal(err)
	}
	servers["s3"].stop(false)
	if err := os.RemoveAll(filepath.Join(e.dir, "s3")); err != nil {
		t.Fatal(err)
	}
	servers["s3"] = e.start("s3", gossipAddr("s1"))
	eventually(t, 15*time.Second, "the wiped server to catch up", func() bool {
		kv, err := servers["s3"].store.Get(ctx, "k")
		return err == nil && string(kv.Value) == "before wipe"
	})
	eventually(t, 10*time.Second, "voters s1-s3", votersAre(servers, "s1", "s2", "s3"))
	if _, err := servers["s3"].store.Put(ctx, "k2", []byte("after")); err != nil {
		t.Fatalf("write through the rejoined server: %v", err)
	}
}
