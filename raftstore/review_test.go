package raftstore

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// Replicas with different MaxValueSize still apply the same entries: the
// limit is checked when a write is proposed, never when it is applied.
func TestDifferentValueLimitsDoNotDiverge(t *testing.T) {
	c := newTestCluster(t, 3, withConfig(func(cfg *Config) {
		if cfg.NodeID != "n0" {
			cfg.MaxValueSize = 1024
		}
	}))
	ctx := ctxT(t)
	big := make([]byte, 2000)
	var leader *Store
	eventually(t, 10*time.Second, "n0 to lead", func() bool {
		if c.stores[0].IsLeader() {
			leader = c.stores[0]
			return true
		}
		if l := c.leader(); l != c.stores[0] {
			_ = l.TransferLeadership(ctx)
		}
		return false
	})
	if _, err := leader.Put(ctx, "big", big); err != nil {
		t.Fatal(err)
	}
	for _, s := range c.stores[1:] {
		kv, err := s.Get(ctx, "big", Linearizable())
		if err != nil || len(kv.Value) != len(big) {
			t.Fatalf("%s: %d bytes, %v", s.ID(), len(kv.Value), err)
		}
		if _, err := s.Put(ctx, "big2", big); !IsTooLarge(err) {
			t.Fatalf("%s accepted a value over its own limit: %v", s.ID(), err)
		}
	}
}

// A Txn is judged by its encoded, sealed size, so leader and follower give
// the same answer.
func TestTxnSizeSameOnLeaderAndFollower(t *testing.T) {
	c := newTestCluster(t, 3, withConfig(func(cfg *Config) {
		cfg.MaxValueSize = 1024
		cfg.EncryptionKeys = []EncryptionKey{{ID: strings.Repeat("k", 255), Secret: make([]byte, 32)}}
	}))
	ctx := ctxT(t)
	var ops []Op
	for i := 0; i < MaxTxnOps; i++ {
		ops = append(ops, OpPut(strings.Repeat("x", 100)+string(rune('a'+i%26))+strings.Repeat("y", i), make([]byte, 1000)))
	}
	l := c.leader()
	f := c.stores[c.follower()]
	_, errL := l.Txn(ctx, ops...)
	_, errF := f.Txn(ctx, ops...)
	if !IsTooLarge(errL) || !IsTooLarge(errF) {
		t.Fatalf("leader: %v; follower: %v", errL, errF)
	}
	if _, err := f.Txn(ctx, append(ops, OpPut("one-more", nil))...); !IsTooLarge(err) {
		t.Fatalf("more than MaxTxnOps: %v", err)
	}
	if _, err := f.Txn(ctx, ops[:20]...); err != nil {
		t.Fatalf("a small txn through the follower: %v", err)
	}
}

// While the leader shuts down, a healthy follower's callers see retryable
// errors or success, never ErrStopped.
func TestLeaderShutdownDoesNotStopFollowers(t *testing.T) {
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	l := c.waitLeader()
	f := c.stores[(l+1)%3]
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var mu sync.Mutex
	var stopped []error
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				_, err := f.Put(cctx, "k", nil)
				if err == nil {
					_, err = f.Get(cctx, "k", Linearizable())
				}
				cancel()
				if errors.Is(err, ErrStopped) {
					mu.Lock()
					stopped = append(stopped, err)
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	c.stop(l)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(stopped) > 0 {
		t.Fatalf("%d calls on a healthy follower failed with ErrStopped: %v", len(stopped), stopped[0])
	}
}

// A Store whose Start failed is spent, not half-alive.
func TestFailedStartLeavesStoreStopped(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := TestConfig("busy")
	cfg.BindAddr = ln.Addr().String()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := s.Start(ctx); err == nil || !strings.Contains(err.Error(), "BindAddr") {
		t.Fatalf("start on a busy port: %v", err)
	}
	if err := s.Start(ctx); !errors.Is(err, ErrStopped) {
		t.Fatalf("second start: %v", err)
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown after a failed start: %v", err)
	}
}
