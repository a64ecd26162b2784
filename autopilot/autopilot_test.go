package autopilot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// harness runs autopilots over a fakeWorld with per-node gossip views and a
// manual clock; step runs one reconcile round on every running node.
type harness struct {
	t      *testing.T
	w      *fakeWorld
	clock  time.Time
	ids    []string
	nodes  map[string]*Autopilot
	views  map[string]*fakeGossip
	logs   *observer.ObservedLogs
	logger *zap.Logger
}

func newHarness(t *testing.T) *harness {
	core, logs := observer.New(zap.DebugLevel)
	return &harness{t: t, w: newFakeWorld(), clock: t0, nodes: map[string]*Autopilot{},
		views: map[string]*fakeGossip{}, logs: logs, logger: zap.New(core)}
}

func server(name string, status membership.Status, since time.Time) membership.Member {
	return membership.Member{Name: name, Addr: "gossip-" + name, Status: status, Since: since,
		Record: membership.Record{Name: name, Role: membership.RoleServer, RPCAddr: name + ":7000", Protocol: 1}}
}

func testCfg() Config {
	return Config{MaxVoters: 5, StableTime: time.Second, FailedServerTimeout: 5 * time.Second, BootstrapExpect: 3}
}

// add creates (or re-creates, as after a restart) the autopilot of server id.
func (h *harness) add(id string, cfg Config) *Autopilot {
	h.t.Helper()
	view, ok := h.views[id]
	if !ok {
		view = newFakeGossip(id)
		view.set(server(id, membership.StatusAlive, h.clock))
		h.ids = append(h.ids, id)
	}
	cfg.Raft = h.w.node(id)
	cfg.Gossip = view
	cfg.Logger = h.logger.Named(id)
	a, err := New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	a.now = func() time.Time { return h.clock }
	h.nodes[id], h.views[id] = a, view
	return a
}

// everyone puts m into every node's view (keeping a node's own record flags).
func (h *harness) everyone(m membership.Member) {
	for _, v := range h.views {
		mm := m
		if v.self == m.Name {
			mm.Record.Bootstrapped = v.LocalNode().Record.Bootstrapped
		}
		v.set(mm)
	}
}

func (h *harness) step(d time.Duration) {
	h.clock = h.clock.Add(d)
	for _, id := range h.ids {
		if !h.w.down[id] {
			h.nodes[id].reconcile(context.Background())
		}
	}
}

func (h *harness) logged(substr string) bool {
	for _, e := range h.logs.All() {
		if strings.Contains(e.Message, substr) {
			return true
		}
	}
	return false
}

// cluster bootstraps s1..sn (BootstrapExpect n) through gossip; s1 leads.
func (h *harness) cluster(n int, cfg Config) {
	h.t.Helper()
	cfg.BootstrapExpect = n
	for i := 1; i <= n; i++ {
		h.add(fmt.Sprintf("s%d", i), cfg)
	}
	for _, id := range h.ids {
		h.everyone(server(id, membership.StatusAlive, t0))
	}
	for range 3 {
		h.step(time.Second)
	}
	if len(h.w.bootstraps) != n {
		h.t.Fatalf("bootstrapped %d of %d nodes", len(h.w.bootstraps), n)
	}
	h.w.leader = "s1"
}

func confString(conf []raftstore.Server) string {
	var ids []string
	for _, s := range conf {
		ids = append(ids, s.ID+"@"+s.Address+"/"+s.Suffrage.String())
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}

func TestBootstrapExpectFormsOneCluster(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"s3", "s1", "s2"} {
		h.add(id, testCfg())
	}
	for _, id := range h.ids {
		h.everyone(server(id, membership.StatusAlive, t0))
	}
	h.everyone(membership.Member{Name: "a1", Status: membership.StatusAlive, Since: t0,
		Record: membership.Record{Name: "a1", Role: membership.RoleAgent, Protocol: 1}})
	h.step(0)
	if len(h.w.bootstraps) != 0 {
		t.Fatal("bootstrapped before the server set was stable for StableTime")
	}
	h.step(time.Second)
	if len(h.w.bootstraps) != 3 {
		t.Fatalf("bootstraps = %v, want all three", h.w.bootstraps)
	}
	want := "s1@s1:7000/" + raftstore.Voter.String() + ",s2@s2:7000/" + raftstore.Voter.String() + ",s3@s3:7000/" + raftstore.Voter.String()
	for id, conf := range h.w.bootstraps {
		if got := confString(conf); got != want {
			t.Fatalf("%s bootstrapped %s, want %s (agents excluded, all identical)", id, got, want)
		}
	}
	h.step(time.Second) // advertise
	for _, id := range h.ids {
		if !h.views[id].LocalNode().Record.Bootstrapped {
			t.Errorf("%s does not advertise its Raft state", id)
		}
	}
	// More rounds, and fresh Autopilots over the same state (a restart),
	// never bootstrap again.
	clear(h.w.bootstraps)
	for _, id := range slices.Clone(h.ids) {
		h.add(id, testCfg())
	}
	for range 5 {
		h.step(time.Minute)
	}
	if len(h.w.bootstraps) != 0 {
		t.Fatalf("bootstrapped again: %v", h.w.bootstraps)
	}
}

func TestBootstrapWaitsAndSaysWhy(t *testing.T) {
	h := newHarness(t)
	h.add("s1", testCfg())
	for range 5 {
		h.step(5 * time.Second)
	}
	if len(h.w.bootstraps) != 0 {
		t.Fatal("bootstrapped alone with BootstrapExpect 3")
	}
	if !h.logged("1 of 3 servers visible") || !h.logged("join addresses") {
		t.Fatalf("no log explaining the wait: %v", h.logs.All())
	}
	// A second server is not enough either.
	h.add("s2", testCfg())
	h.everyone(server("s1", membership.StatusAlive, t0))
	h.everyone(server("s2", membership.StatusAlive, t0))
	h.step(time.Minute)
	h.step(time.Minute)
	if len(h.w.bootstraps) != 0 || !h.logged("2 of 3 servers visible") {
		t.Fatalf("bootstraps %v", h.w.bootstraps)
	}
}

func TestNoBootstrapNextToExistingCluster(t *testing.T) {
	h := newHarness(t)
	h.cluster(3, testCfg())
	h.step(time.Second) // everyone advertises Bootstrapped
	for _, id := range []string{"s1", "s2", "s3"} {
		m := server(id, membership.StatusAlive, t0)
		m.Record.Bootstrapped = true
		h.everyone(m)
	}
	// A new server with BootstrapExpect 3 sees four servers but must not
	// found a second cluster; the leader adds it instead.
	h.add("s4", testCfg())
	h.everyone(server("s4", membership.StatusAlive, h.clock))
	clear(h.w.bootstraps)
	h.step(2 * time.Second)
	h.step(2 * time.Second)
	if len(h.w.bootstraps) != 0 {
		t.Fatalf("s4 bootstrapped next to an existing cluster: %v", h.w.bootstraps)
	}
	if !slices.Contains(h.w.voters(), "s4") {
		t.Fatalf("leader did not add s4: voters %v", h.w.voters())
	}
}

func TestBootstrapWaitsForStableServerSet(t *testing.T) {
	h := newHarness(t)
	for _, id := range []string{"s1", "s2", "s3"} {
		h.add(id, testCfg())
		h.everyone(server(id, membership.StatusAlive, t0))
	}
	h.step(0)
	// A fourth server shows up before StableTime passed: the timer restarts.
	h.step(600 * time.Millisecond)
	h.add("s4", testCfg())
	for _, id := range h.ids {
		h.everyone(server(id, membership.StatusAlive, t0))
	}
	h.step(600 * time.Millisecond)
	if len(h.w.bootstraps) != 0 {
		t.Fatalf("bootstrapped on a changing server set: %v", h.w.bootstraps)
	}
	h.step(time.Second)
	if len(h.w.bootstraps) != 4 {
		t.Fatalf("bootstraps: %v", h.w.bootstraps)
	}
	for _, conf := range h.w.bootstraps {
		if len(conf) != 4 {
			t.Fatalf("configuration %v, want all four", confString(conf))
		}
	}
}

func TestLeaderAddsVotersUpToMaxThenNonvoters(t *testing.T) {
	h := newHarness(t)
	h.cluster(3, testCfg())
	for i := 4; i <= 7; i++ {
		h.add(fmt.Sprintf("s%d", i), Config{MaxVoters: 5, StableTime: time.Second, FailedServerTimeout: 5 * time.Second})
		h.everyone(server(fmt.Sprintf("s%d", i), membership.StatusAlive, h.clock))
	}
	h.everyone(membership.Member{Name: "agent", Status: membership.StatusAlive, Since: t0,
		Record: membership.Record{Name: "agent", Role: membership.RoleAgent, Protocol: 1}})
	h.step(500 * time.Millisecond)
	if len(h.w.changes) != 0 {
		t.Fatalf("acted on members not yet stable: %v", h.w.changes)
	}
	for range 6 {
		h.step(time.Second)
	}
	if got := h.w.voters(); !slices.Equal(got, []string{"s1", "s2", "s3", "s4", "s5"}) {
		t.Fatalf("voters %v", got)
	}
	if got := h.w.nonvoters(); !slices.Equal(got, []string{"s6", "s7"}) {
		t.Fatalf("nonvoters %v", got)
	}
	if len(h.w.bootstraps) != 3 {
		t.Fatalf("new servers bootstrapped: %v", h.w.bootstraps)
	}

	// s5 leaves: removed once its leave is StableTime old; s6 is promoted.
	h.everyone(server("s5", membership.StatusLeft, h.clock))
	h.w.down["s5"] = true
	h.step(500 * time.Millisecond)
	if !slices.Contains(h.w.voters(), "s5") {
		t.Fatal("removed a left server before StableTime")
	}
	h.step(time.Second)
	h.step(time.Second)
	if got := h.w.voters(); !slices.Equal(got, []string{"s1", "s2", "s3", "s4", "s6"}) {
		t.Fatalf("after s5 left: voters %v nonvoters %v", got, h.w.nonvoters())
	}
}

func TestFailedServerRemovedAfterTimeout(t *testing.T) {
	h := newHarness(t)
	h.cluster(5, testCfg())
	h.everyone(server("s4", membership.StatusFailed, h.clock))
	h.w.down["s4"] = true
	h.step(4 * time.Second)
	if !slices.Contains(h.w.voters(), "s4") {
		t.Fatal("removed a failed server before FailedServerTimeout")
	}
	h.step(2 * time.Second)
	if slices.Contains(h.w.voters(), "s4") {
		t.Fatal("failed server not removed after FailedServerTimeout")
	}
	// A server that vanished from gossip altogether is treated the same way.
	for _, v := range h.views {
		v.remove("s5")
	}
	h.w.down["s5"] = true
	h.step(time.Second)
	h.step(3 * time.Second)
	if !slices.Contains(h.w.voters(), "s5") {
		t.Fatal("removed an absent server too early")
	}
	h.step(3 * time.Second)
	if got := h.w.voters(); !slices.Equal(got, []string{"s1", "s2", "s3"}) {
		t.Fatalf("voters %v", got)
	}
}

func TestNeverRemovesBelowQuorum(t *testing.T) {
	h := newHarness(t)
	h.cluster(5, testCfg())
	for _, id := range []string{"s3", "s4", "s5"} {
		h.everyone(server(id, membership.StatusFailed, h.clock))
		h.w.down[id] = true
	}
	for range 10 {
		h.step(10 * time.Second)
	}
	// Removing any one failed voter would leave 4 voters with 2 healthy.
	if got := h.w.voters(); len(got) != 5 {
		t.Fatalf("voters %v: removed a server although quorum would be lost", got)
	}
	if !h.logged("would not form a quorum") {
		t.Fatal("no log saying why nothing was removed")
	}
	// One comes back: now two failed voters can go, one at a time.
	h.everyone(server("s3", membership.StatusAlive, h.clock))
	h.w.down["s3"] = false
	for range 4 {
		h.step(10 * time.Second)
	}
	if got := h.w.voters(); !slices.Equal(got, []string{"s1", "s2", "s3"}) {
		t.Fatalf("voters %v", got)
	}
}

func TestQuorumSafeArithmetic(t *testing.T) {
	a := &Autopilot{id: "s1"}
	v := func(ids ...string) []raftstore.Server {
		var out []raftstore.Server
		for _, id := range ids {
			out = append(out, raftstore.Server{ID: id, Suffrage: raftstore.Voter})
		}
		return out
	}
	alive := func(ids ...string) map[string]membership.Member {
		m := map[string]membership.Member{}
		for _, id := range ids {
			m[id] = membership.Member{Name: id, Status: membership.StatusAlive}
		}
		return m
	}
	cases := []struct {
		name    string
		servers []raftstore.Server
		healthy map[string]membership.Member
		remove  string
		want    bool
	}{
		{"3 voters, 1 failed", v("s1", "s2", "s3"), alive("s2"), "s3", true},
		{"3 voters, 2 failed", v("s1", "s2", "s3"), alive(), "s3", false},
		{"5 voters, 2 failed", v("s1", "s2", "s3", "s4", "s5"), alive("s2", "s3"), "s5", true},
		{"5 voters, 3 failed", v("s1", "s2", "s3", "s4", "s5"), alive("s2"), "s5", false},
		{"2 voters, 1 failed", v("s1", "s2"), alive(), "s2", true},
		{"nonvoters do not count", append(v("s1", "s2", "s3"), raftstore.Server{ID: "n1", Suffrage: raftstore.Nonvoter}), alive("n1"), "s3", false},
	}
	for _, tc := range cases {
		if got := a.quorumSafe(tc.servers, tc.healthy, tc.remove); got != tc.want {
			t.Errorf("%s: quorumSafe = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestFlappingMemberIsLeftAlone(t *testing.T) {
	h := newHarness(t)
	h.cluster(3, testCfg())
	h.add("s4", Config{MaxVoters: 5, StableTime: time.Second, FailedServerTimeout: 5 * time.Second})
	// s4 flaps between alive and failed every 800 ms: never stable for a
	// second, so it is neither added nor (once it would be) removed.
	status := membership.StatusAlive
	for range 20 {
		h.everyone(server("s4", status, h.clock))
		h.step(800 * time.Millisecond)
		if status == membership.StatusAlive {
			status = membership.StatusFailed
		} else {
			status = membership.StatusAlive
		}
	}
	if len(h.w.changes) != 0 {
		t.Fatalf("acted on a flapping member: %v", h.w.changes)
	}
	h.everyone(server("s4", membership.StatusAlive, h.clock))
	h.step(time.Second)
	h.step(time.Second)
	if !slices.Contains(h.w.voters(), "s4") {
		t.Fatalf("stable member not added: %v", h.w.changes)
	}
}

func TestAddressChangeUpdatesRaft(t *testing.T) {
	h := newHarness(t)
	h.cluster(3, testCfg())
	m := server("s3", membership.StatusAlive, h.clock)
	m.Record.RPCAddr = "s3:7777"
	h.everyone(m)
	h.step(2 * time.Second)
	for _, s := range h.w.config {
		if s.ID == "s3" && (s.Address != "s3:7777" || s.Suffrage != raftstore.Voter) {
			t.Fatalf("s3 is %+v", s)
		}
	}
}

func TestOnlyLeaderActs(t *testing.T) {
	h := newHarness(t)
	h.cluster(3, testCfg())
	h.w.leader = "" // no leader: nobody may change anything
	h.add("s4", Config{StableTime: time.Second, FailedServerTimeout: 5 * time.Second})
	h.everyone(server("s4", membership.StatusAlive, t0))
	h.everyone(server("s3", membership.StatusLeft, t0))
	for range 5 {
		h.step(10 * time.Second)
	}
	if len(h.w.changes) != 0 {
		t.Fatalf("changes without a leader: %v", h.w.changes)
	}
}

func TestConfigValidate(t *testing.T) {
	err := Config{BootstrapExpect: -1, MaxVoters: -2, StableTime: time.Minute, FailedServerTimeout: time.Second}.Validate()
	for _, field := range []string{"Raft", "Gossip", "BootstrapExpect", "MaxVoters", "FailedServerTimeout"} {
		if !strings.Contains(fmt.Sprint(err), field) {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
	if !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("not ErrInvalidConfig: %v", err)
	}
	agent := newFakeGossip("a1")
	agent.set(membership.Member{Name: "a1", Record: membership.Record{Name: "a1", Role: membership.RoleAgent}})
	_, err = New(Config{Raft: newFakeWorld().node("a1"), Gossip: agent})
	if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "servers only") {
		t.Errorf("autopilot on an agent: %v", err)
	}
}

func TestStartShutdown(t *testing.T) {
	h := newHarness(t)
	a := h.add("s1", Config{BootstrapExpect: 1, Interval: 5 * time.Millisecond, StableTime: time.Millisecond, FailedServerTimeout: time.Second})
	a.now = time.Now
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(ctx); !errors.Is(err, ErrAlreadyStarted) {
		t.Fatalf("second Start: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(h.w.voters()) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("single-server cluster not bootstrapped")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for range 2 {
		if err := a.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Start(ctx); !errors.Is(err, ErrShutdown) {
		t.Fatalf("Start after Shutdown: %v", err)
	}
}

// A member that claims the server role in gossip but fails VerifyServer is
// neither counted for bootstrap nor added to Raft; once it proves itself
// (here: a different address that verifies), it is added.
func TestUnprovenServerIsLeftOut(t *testing.T) {
	h := newHarness(t)
	var calls []string
	verify := func(_ context.Context, name, addr string) error {
		calls = append(calls, name+"@"+addr)
		if addr == "impostor:7000" {
			return errors.New("tls: certificate signed by unknown authority")
		}
		return nil
	}
	cfg := testCfg()
	cfg.VerifyServer = verify
	h.cluster(3, cfg)
	if h.w.leader != "s1" || len(h.w.bootstraps) != 3 {
		t.Fatalf("proven founders did not bootstrap: %v", h.w.bootstraps)
	}

	// The impostor gossips a server record with no credentials behind it.
	claim := server("s4", membership.StatusAlive, h.clock)
	claim.Record.RPCAddr = "impostor:7000"
	h.everyone(claim)
	for range 5 {
		h.step(time.Second)
	}
	if got := confString(h.w.config); strings.Contains(got, "s4") {
		t.Fatalf("unproven server joined Raft: %s", got)
	}
	if !h.logged("did not prove it") {
		t.Fatal("refusal was not logged")
	}

	// The real s4 (a verifiable address) is added; success is remembered.
	h.everyone(server("s4", membership.StatusAlive, h.clock))
	for range 3 {
		h.step(time.Second)
	}
	if got := h.w.voters(); !slices.Contains(got, "s4") {
		t.Fatalf("proven server not added: voters %v", got)
	}
	n := len(calls)
	h.step(time.Second)
	h.step(time.Second)
	if len(calls) != n {
		t.Fatalf("re-verified an unchanged, proven member: %v", calls[n:])
	}
}

// Before bootstrap, an unproven claimant does not count toward
// BootstrapExpect.
func TestUnprovenServerDoesNotCountForBootstrap(t *testing.T) {
	h := newHarness(t)
	cfg := testCfg()
	cfg.BootstrapExpect = 3
	cfg.VerifyServer = func(_ context.Context, name, _ string) error {
		if name == "evil" {
			return errors.New("no certificate")
		}
		return nil
	}
	h.add("s1", cfg)
	h.add("s2", cfg)
	h.everyone(server("s1", membership.StatusAlive, t0))
	h.everyone(server("s2", membership.StatusAlive, t0))
	h.everyone(server("evil", membership.StatusAlive, t0))
	for range 5 {
		h.step(time.Second)
	}
	if len(h.w.bootstraps) != 0 {
		t.Fatalf("bootstrapped with an unproven server: %v", h.w.bootstraps)
	}
}
