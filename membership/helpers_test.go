package membership

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/leakcheck"
	"github.com/flotilla-io/flotilla/internal/testlog"
	"go.uber.org/zap"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testConfig(tb testing.TB, nw *InmemNetwork, name string) Config {
	cfg := FastConfig()
	cfg.NodeName = name
	cfg.Network = nw
	cfg.BindPort = 0
	cfg.Logger = testLogger(tb).Named(name)
	return cfg
}

// startNode starts a node from cfg and shuts it down at cleanup.
func startNode(tb testing.TB, cfg Config) *Membership {
	tb.Helper()
	m, err := New(cfg)
	if err != nil {
		tb.Fatalf("New(%s): %v", cfg.NodeName, err)
	}
	tb.Cleanup(func() { _ = m.Shutdown() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := m.Start(ctx); err != nil {
		tb.Fatalf("Start(%s): %v", cfg.NodeName, err)
	}
	return m
}

// startCluster starts n nodes on nw; every node joins through node 0.
func startCluster(tb testing.TB, nw *InmemNetwork, n int, mod func(*Config)) []*Membership {
	tb.Helper()
	nodes := make([]*Membership, n)
	for i := range n {
		cfg := testConfig(tb, nw, fmt.Sprintf("node-%02d", i))
		if i > 0 {
			cfg.Join = []string{nodes[0].Addr()}
		}
		if mod != nil {
			mod(&cfg)
		}
		nodes[i] = startNode(tb, cfg)
	}
	return nodes
}

func countStatus(m *Membership, s Status) int {
	c := 0
	for _, mem := range m.Members() {
		if mem.Status == s {
			c++
		}
	}
	return c
}

func allSeeAlive(nodes []*Membership, n int) func() bool {
	return func() bool {
		for _, m := range nodes {
			if countStatus(m, StatusAlive) != n {
				return false
			}
		}
		return true
	}
}

func statusOf(m *Membership, name string) Status {
	for _, mem := range m.Members() {
		if mem.Name == name {
			return mem.Status
		}
	}
	return 0
}

// eventLog drains a node's Events channel in the background until cleanup.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func recordEvents(tb testing.TB, m *Membership) *eventLog {
	l := &eventLog{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case ev := <-m.Events():
				l.mu.Lock()
				l.events = append(l.events, ev)
				l.mu.Unlock()
			case <-done:
				return
			}
		}
	}()
	tb.Cleanup(func() { close(done); wg.Wait() })
	return l
}

func (l *eventLog) has(typ EventType, name string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range l.events {
		if ev.Type == typ && ev.Member.Name == name {
			return true
		}
	}
	return false
}

// testLogger logs to tb until its cleanup (see testlog).
func testLogger(tb testing.TB) *zap.Logger { return testlog.New(tb) }
