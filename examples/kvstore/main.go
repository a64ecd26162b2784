// Command kvstore runs a three-node raftstore cluster inside one process on
// loopback TCP, with data in a temporary directory, and shows what the store
// guarantees: writes through any node, compare-and-swap, a watch that
// follows every change, and a write that succeeds after the leader is
// stopped.
//
//	go run ./examples/kvstore
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flotilla-io/flotilla/raftstore"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kvstore:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir, err := os.MkdirTemp("", "flotilla-kvstore-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// 1. Start three nodes on loopback, each with its own data dir.
	var nodes []*raftstore.Store
	defer func() {
		for _, n := range nodes {
			n.Shutdown(context.Background())
		}
	}()
	var servers []raftstore.Server
	for i := 1; i <= 3; i++ {
		cfg := raftstore.FastConfig()
		cfg.NodeID = fmt.Sprintf("node-%d", i)
		cfg.BindAddr = "127.0.0.1:0"
		cfg.DataDir = filepath.Join(dir, cfg.NodeID)
		s, err := raftstore.New(cfg)
		if err != nil {
			return err
		}
		if err := s.Start(ctx); err != nil {
			return err
		}
		nodes = append(nodes, s)
		servers = append(servers, raftstore.Server{ID: cfg.NodeID, Address: s.Addr()})
		fmt.Printf("started %s on %s\n", cfg.NodeID, s.Addr())
	}
	// 2. Found the cluster: every founder bootstraps with the same list. A
	// founder that the first ones already reached (the new leader's first
	// heartbeat gives it state) reports ErrAlreadyBootstrapped: it is in the
	// same cluster, so that is success too.
	for _, s := range nodes {
		if err := s.Bootstrap(ctx, servers...); err != nil && !errors.Is(err, raftstore.ErrAlreadyBootstrapped) {
			return err
		}
	}
	leader, err := waitLeader(ctx, nodes)
	if err != nil {
		return err
	}
	fmt.Printf("leader: %s\n\n", leader.ID())

	// 3. Watch a prefix from a follower while writing through another one.
	follower := other(nodes, leader, nil)
	w, err := follower.Watch(ctx, "config/", 0)
	if err != nil {
		return err
	}
	defer w.Stop()
	writer := other(nodes, leader, follower)
	rev, err := writer.Create(ctx, "config/replicas", []byte("3"))
	if err != nil {
		return err
	}
	fmt.Printf("created config/replicas=3 through %s (a follower) at revision %d\n", writer.ID(), rev)

	// 4. Compare-and-swap: a stale revision is refused.
	if _, err := writer.Update(ctx, "config/replicas", []byte("5"), rev-1); raftstore.IsConflict(err) {
		fmt.Println("update with a stale revision: refused (conflict), as it should be")
	} else {
		return fmt.Errorf("stale update was not refused: %v", err)
	}
	rev, err = writer.Update(ctx, "config/replicas", []byte("5"), rev)
	if err != nil {
		return err
	}
	fmt.Printf("update with the current revision: ok, now revision %d\n", rev)

	// 5. Stop the leader; the survivors elect a new one and keep writing.
	fmt.Printf("\nstopping the leader %s...\n", leader.ID())
	start := time.Now()
	if err := leader.Shutdown(ctx); err != nil {
		return err
	}
	var survivors []*raftstore.Store
	for _, n := range nodes {
		if n != leader {
			survivors = append(survivors, n)
		}
	}
	for {
		_, err = survivors[0].Put(ctx, "config/replicas", []byte("7"))
		if err == nil || !raftstore.IsRetryable(err) || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return err
	}
	newLeader, err := waitLeader(ctx, survivors)
	if err != nil {
		return err
	}
	fmt.Printf("new leader %s; first write accepted %v after the stop\n\n", newLeader.ID(), time.Since(start).Round(time.Millisecond))

	// 6. The watcher on the follower saw every change in order.
	for i := 0; i < 3; i++ {
		select {
		case ev := <-w.Events():
			fmt.Printf("watch on %s: %-6s %s=%s (revision %d)\n", follower.ID(), ev.Type, ev.Key, ev.Value, ev.Revision)
		case <-ctx.Done():
			return errors.New("watch event did not arrive")
		}
	}
	kv, err := survivors[1].Get(ctx, "config/replicas", raftstore.Linearizable())
	if err != nil {
		return err
	}
	fmt.Printf("\nlinearizable read on %s: %s=%s\n", survivors[1].ID(), kv.Key, kv.Value)
	return nil
}

func waitLeader(ctx context.Context, nodes []*raftstore.Store) (*raftstore.Store, error) {
	for {
		for _, n := range nodes {
			if n.IsLeader() {
				return n, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, errors.New("no leader elected")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// other returns a node that is neither a nor b.
func other(nodes []*raftstore.Store, a, b *raftstore.Store) *raftstore.Store {
	for _, n := range nodes {
		if n != a && n != b {
			return n
		}
	}
	return nil
}
