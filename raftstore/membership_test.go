package raftstore

import (
	"errors"
	"fmt"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"
)

// TestMembershipChanges grows a one-node cluster with a voter and a
// nonvoter, checks that only the leader may change it, and shrinks it again.
func TestMembershipChanges(t *testing.T) {
	c := newTestCluster(t, 1)
	ctx := ctxT(t)
	leader := c.stores[0]
	if _, err := leader.Put(ctx, "before", []byte("x")); err != nil {
		t.Fatal(err)
	}
	var joiners []*Store
	for _, id := range []string{"v1", "nv1"} {
		cfg := TestConfig(id)
		cfg.Network = c.net
		cfg.Logger = zaptest.NewLogger(t).Named(id)
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Shutdown(ctx) })
		joiners = append(joiners, s)
	}
	if err := leader.AddVoter(ctx, "v1", joiners[0].Addr()); err != nil {
		t.Fatal(err)
	}
	if err := leader.AddNonvoter(ctx, "nv1", joiners[1].Addr()); err != nil {
		t.Fatal(err)
	}
	servers, err := leader.Servers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(servers); got != "[{n0 n0 voter} {v1 v1 voter} {nv1 nv1 nonvoter}]" {
		t.Fatalf("servers = %s", got)
	}
	// The newcomers replicate everything, the nonvoter included.
	for _, s := range joiners {
		if _, err := s.Get(ctx, "before", Linearizable()); err != nil {
			t.Fatalf("%s: %v", s.ID(), err)
		}
	}
	if err := joiners[0].AddVoter(ctx, "x", "x"); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("AddVoter on a follower: %v", err)
	}
	if err := leader.AddVoter(ctx, "", "addr"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("AddVoter without id: %v", err)
	}
	if err := leader.RemoveServer(ctx, "nv1"); err != nil {
		t.Fatal(err)
	}
	if servers, _ := leader.Servers(ctx); len(servers) != 2 {
		t.Fatalf("after removal: %v", servers)
	}
	if st := leader.State(); st.Role != "leader" || len(st.Servers) != 2 || st.AppliedIndex == 0 {
		t.Fatalf("state %+v", st)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := newTestCluster(t, 1, withConfig(func(cfg *Config) { cfg.Registerer = reg }))
	ctx := ctxT(t)
	for i := 0; i < 3; i++ {
		c.stores[0].Put(ctx, "k", nil)
	}
	c.stores[0].Create(ctx, "k", nil) // fails: exists
	values := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		m := f.GetMetric()[0]
		values[f.GetName()] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
	}
	if values["flotilla_raftstore_writes_total"] != 3 || values["flotilla_raftstore_write_failures_total"] != 1 ||
		values["flotilla_raftstore_leader"] != 1 || values["flotilla_raftstore_applied_requests_total"] != 4 {
		t.Fatalf("metrics %v", values)
	}
	// A second store with the same id on the same registry is refused.
	cfg := TestConfig("n0")
	cfg.Registerer = reg
	if _, err := New(cfg); err == nil {
		t.Fatal("duplicate metrics registration accepted")
	}
}
