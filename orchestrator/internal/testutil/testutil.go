// Package testutil holds helpers for the orchestrator's internal tests:
// a started single-node raftstore, a registry over it, and condition
// polling.
package testutil

import (
	"context"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// Store starts a single-node in-memory raftstore that is leader when it
// returns; t.Cleanup shuts it down.
func Store(tb testing.TB) *raftstore.Store {
	tb.Helper()
	return StoreWith(tb, nil)
}

// Registry returns a registry of the built-in kinds, strategies and
// default admission over a new Store.
func Registry(tb testing.TB) *registry.Registry {
	tb.Helper()
	return RegistryOn(tb, Store(tb))
}

// RegistryOn is Registry over the given store.
func RegistryOn(tb testing.TB, kv registry.KV) *registry.Registry {
	tb.Helper()
	r, err := registry.New(kv, registry.Config{})
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// StoreWith is Store with a hook to change the configuration.
func StoreWith(tb testing.TB, change func(*raftstore.Config)) *raftstore.Store {
	tb.Helper()
	cfg := raftstore.TestConfig("n1")
	cfg.Network = raftstore.NewInmemNetwork()
	if _, bench := tb.(*testing.B); bench {
		cfg.Logger = zap.NewNop() // benchmarks print every log line
	} else {
		cfg.Logger = zaptest.NewLogger(tb, zaptest.Level(zap.InfoLevel))
	}
	cfg.HistorySize = 100000
	if change != nil {
		change(&cfg)
	}
	s, err := raftstore.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	if err := s.Bootstrap(ctx); err != nil {
		tb.Fatal(err)
	}
	Eventually(tb, 10*time.Second, "store leader", func() bool { return s.IsLeader() })
	return s
}

// Eventually polls cond every few milliseconds until it holds or the
// deadline passes, then fails the test naming what.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
