package gometrics

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/raftstore"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestRaftMetricsReachPrometheus runs a Store on disk and expects Raft's
// metrics, the log store's write timing among them, in the registry.
func TestRaftMetricsReachPrometheus(t *testing.T) {
	reg := prometheus.NewRegistry()
	if err := Install(reg); err != nil {
		t.Fatal(err)
	}
	if err := Install(prometheus.NewRegistry()); err != nil {
		t.Fatalf("second Install: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cfg := raftstore.TestConfig("m1")
	cfg.BindAddr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	s, err := raftstore.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	if err := s.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	for !s.IsLeader() {
		if ctx.Err() != nil {
			t.Fatal("no leader")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i := 0; i < 5; i++ {
		if _, err := s.Put(ctx, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var raftSeen, storeSeen bool
	var names []string
	for _, f := range families {
		n := f.GetName()
		names = append(names, n)
		raftSeen = raftSeen || strings.HasPrefix(n, "raft_apply") || strings.HasPrefix(n, "raft_commitTime")
		storeSeen = storeSeen || strings.HasPrefix(n, "raft_leader_dispatchLog")
	}
	if !raftSeen || !storeSeen {
		t.Fatalf("raft metrics %v, log store timing %v; have %v", raftSeen, storeSeen, names)
	}
}
