package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/flotilla-io/flotilla/raftstore"
)

func runtimeProcs() int { return runtime.GOMAXPROCS(0) }
func goVersion() string { return runtime.Version() }

// cpuTime is the user+system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func runChild(name string) error {
	switch name {
	case "memory":
		r, err := childMemory(*flagChildMemNode, *flagMemKeys, *flagMemValue, *flagWriters)
		if err != nil {
			return err
		}
		return json.NewEncoder(os.Stdout).Encode(r)
	}
	return fmt.Errorf("unknown child %q", name)
}

// heap returns HeapAlloc after two full collections.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "  [child] "+format+"\n", args...)
}

// childMemory loads keys into an n-node cluster (alone in this process)
// and measures the heap it holds, then restarts one node from disk twice:
// once replaying the log, once after a snapshot.
func childMemory(n, keys, vsize, writers int) (*memResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	r := &memResult{Nodes: n, Keys: keys, RawBytes: int64(keys) * int64(keySize+vsize)}
	base := heap()
	r.BaseHeap = base

	c, err := newClusterN(ctx, raftstore.DefaultConfig(), "raftstore-mem-", n)
	if err != nil {
		return nil, err
	}
	defer c.close()
	li, err := c.waitLeader(ctx, nil)
	if err != nil {
		return nil, err
	}
	leader := c.stores[li]

	t := time.Now()
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= keys {
					return
				}
				if _, err := leader.Put(ctx, key16("m", i), value(vsize, i)); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		return nil, fmt.Errorf("load: %w", e.(error))
	}
	r.LoadSeconds = time.Since(t).Seconds()
	target := leader.Revision()
	r.RaftEntries = target
	for _, s := range c.stores {
		for s.Revision() < target {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			time.Sleep(time.Millisecond)
		}
	}
	logf("%d nodes: loaded %d keys in %.1f s, revision %d", n, keys, r.LoadSeconds, target)
	r.LoadedHeap = heap()
	r.PerReplica = (float64(r.LoadedHeap) - float64(base)) / float64(n)
	logf("heap base %d, loaded %d, per replica %.0f", base, r.LoadedHeap, r.PerReplica)

	// The node to restart: a follower, or the only node.
	ri := 0
	if n > 1 {
		ri = (li + 1) % n
	}
	restart := func() (time.Duration, error) {
		sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
		err := c.stores[ri].Shutdown(sctx)
		scancel()
		if err != nil {
			return 0, fmt.Errorf("shutdown: %w", err)
		}
		t0 := time.Now()
		s, err := c.startNode(ctx, ri)
		if err != nil {
			return 0, fmt.Errorf("restart: %w", err)
		}
		c.stores[ri] = s
		for s.Revision() < target {
			if ctx.Err() != nil {
				return 0, fmt.Errorf("restarted node at revision %d of %d: %w", s.Revision(), target, ctx.Err())
			}
			time.Sleep(200 * time.Microsecond)
		}
		kvs, _, err := s.List(ctx, "m")
		if err != nil {
			return 0, err
		}
		d := time.Since(t0)
		if len(kvs) != keys {
			return 0, fmt.Errorf("restarted node lists %d keys, want %d", len(kvs), keys)
		}
		// Spot-check values.
		for _, i := range []int{0, keys / 2, keys - 1} {
			kv, err := s.Get(ctx, key16("m", i))
			if err != nil {
				return 0, err
			}
			if string(kv.Value) != string(value(vsize, i)) {
				return 0, fmt.Errorf("key %d: wrong value after restart", i)
			}
		}
		return d, nil
	}
	d, err := restart()
	if err != nil {
		return nil, fmt.Errorf("restart (log replay): %w", err)
	}
	r.RestartLogMs = float64(d) / 1e6
	logf("restart with log replay: %s", d)

	// Snapshot, then restart again: the node restores the snapshot and
	// replays only what follows it.
	if n == 1 {
		if _, err := c.waitLeader(ctx, nil); err != nil {
			return nil, err
		}
	}
	if err := c.stores[ri].Snapshot(ctx); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	d, err = restart()
	if err != nil {
		return nil, fmt.Errorf("restart (snapshot): %w", err)
	}
	r.RestartSnapMs = float64(d) / 1e6
	logf("restart from snapshot: %s", d)
	if n == 1 {
		r.RestartHeap = heap() - base
	}
	_ = filepath.WalkDir(filepath.Join(c.dir, fmt.Sprintf("n%d", ri)), func(p string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() {
			return nil
		}
		info, err := de.Info()
		if err != nil {
			return nil
		}
		switch {
		case strings.HasSuffix(p, "raft.db"):
			r.BoltFileBytes += info.Size()
		case strings.Contains(p, "snapshots"):
			r.SnapshotsBytes += info.Size()
		}
		return nil
	})
	return r, nil
}
