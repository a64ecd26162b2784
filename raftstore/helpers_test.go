package raftstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testCluster is a set of Stores in one process.
type testCluster struct {
	t      testing.TB
	net    *InmemNetwork // nil for TCP clusters
	tcp    bool
	dir    string
	cfgs   []Config
	stores []*Store
	mutate func(*Config)
}

type clusterOpt func(*testCluster)

// onTCP runs the nodes on loopback TCP with bolt files in a temp dir.
func onTCP() clusterOpt { return func(c *testCluster) { c.tcp = true } }

// withDisk keeps each node's data in a temp dir (in-memory network).
func withDisk() clusterOpt {
	return func(c *testCluster) { c.dir = c.t.TempDir() }
}

func withConfig(f func(*Config)) clusterOpt { return func(c *testCluster) { c.mutate = f } }

func newTestCluster(t testing.TB, n int, opts ...clusterOpt) *testCluster {
	t.Helper()
	c := &testCluster{t: t}
	for _, o := range opts {
		o(c)
	}
	if c.tcp && c.dir == "" {
		c.dir = t.TempDir()
	}
	if !c.tcp {
		c.net = NewInmemNetwork()
	}
	var servers []Server
	for i := 0; i < n; i++ {
		cfg := TestConfig(fmt.Sprintf("n%d", i))
		cfg.Logger = zaptest.NewLogger(t).Named(cfg.NodeID)
		if c.tcp {
			cfg.BindAddr = "127.0.0.1:0"
			cfg.HeartbeatTimeout = 100 * time.Millisecond
			cfg.ElectionTimeout = 100 * time.Millisecond
		} else {
			cfg.Network = c.net
		}
		if c.dir != "" {
			cfg.DataDir = filepath.Join(c.dir, cfg.NodeID)
		}
		if c.mutate != nil {
			c.mutate(&cfg)
		}
		c.cfgs = append(c.cfgs, cfg)
		s := c.start(i)
		if c.tcp {
			// Restarts must reuse the port the node was first given.
			c.cfgs[i].BindAddr = s.Addr()
		}
		servers = append(servers, Server{ID: cfg.NodeID, Address: s.Addr()})
	}
	for _, s := range c.stores {
		// A node may already hold the configuration, replicated by a
		// leader the earlier ones elected: that is the same bootstrap.
		if err := s.Bootstrap(ctxT(t), servers...); err != nil && !errors.Is(err, ErrAlreadyBootstrapped) {
			t.Fatalf("bootstrap %s: %v", s.ID(), err)
		}
	}
	t.Cleanup(c.shutdownAll)
	c.waitLeader()
	return c
}

func (c *testCluster) start(i int) *Store {
	c.t.Helper()
	s, err := New(c.cfgs[i])
	if err != nil {
		c.t.Fatalf("New %s: %v", c.cfgs[i].NodeID, err)
	}
	if err := s.Start(ctxT(c.t)); err != nil {
		c.t.Fatalf("Start %s: %v", c.cfgs[i].NodeID, err)
	}
	if i < len(c.stores) {
		c.stores[i] = s
	} else {
		c.stores = append(c.stores, s)
	}
	return s
}

func (c *testCluster) stop(i int) {
	c.t.Helper()
	if err := c.stores[i].Shutdown(ctxT(c.t)); err != nil {
		var buf bytes.Buffer
		_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
		c.t.Logf("goroutines:\n%s", buf.String())
		c.t.Fatalf("shutdown %s: %v", c.stores[i].ID(), err)
	}
}

func (c *testCluster) restart(i int) *Store {
	c.t.Helper()
	c.stop(i)
	return c.start(i)
}

func (c *testCluster) shutdownAll() {
	for _, s := range c.stores {
		_ = s.Shutdown(context.Background())
	}
}

// waitLeader waits until exactly one running node is the ready leader and
// returns its index.
func (c *testCluster) waitLeader() int {
	c.t.Helper()
	idx := -1
	eventually(c.t, 10*time.Second, "a ready leader", func() bool {
		idx = -1
		for i, s := range c.stores {
			if s.running() == nil && s.IsLeader() {
				if idx >= 0 {
					return false
				}
				idx = i
			}
		}
		return idx >= 0
	})
	return idx
}

func (c *testCluster) leader() *Store { return c.stores[c.waitLeader()] }

// follower returns the index of some running node that is not the leader.
func (c *testCluster) follower() int {
	l := c.waitLeader()
	for i, s := range c.stores {
		if i != l && s.running() == nil {
			return i
		}
	}
	c.t.Fatal("no follower")
	return -1
}

// dataFiles lists every file under the cluster's data dir.
func (c *testCluster) dataFiles() []string {
	var files []string
	_ = filepath.Walk(c.dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	return files
}
