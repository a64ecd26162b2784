package raftstore

import (
	"fmt"
	dto "github.com/prometheus/client_model/go"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWatchersHandOffUnderLoad runs watchers with tiny buffers whose
// consumers pause at random, so each is demoted from the dispatcher and
// catches up on its own many times, and checks that every one of them saw
// exactly the writes under its prefix, in order, once.
func TestWatchersHandOffUnderLoad(t *testing.T) {
	c := newTestCluster(t, 1, withConfig(func(cfg *Config) { cfg.WatchBuffer = 2 }))
	s := c.stores[0]
	ctx := ctxT(t)
	const writes = 600
	type watch struct {
		prefix string
		w      *Watcher
		got    []string
	}
	var watches []*watch
	for i := 0; i < 40; i++ {
		prefix := []string{"", "a/", "b/"}[i%3]
		w, err := s.Watch(ctx, prefix, 0)
		if err != nil {
			t.Fatal(err)
		}
		watches = append(watches, &watch{prefix: prefix, w: w})
	}
	var wg sync.WaitGroup
	for i, wt := range watches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 1))
			for ev := range wt.w.Events() {
				wt.got = append(wt.got, fmt.Sprintf("%d:%s", ev.Revision, ev.Key))
				if rng.IntN(50) == 0 {
					time.Sleep(time.Duration(rng.IntN(3)) * time.Millisecond)
				}
				if len(wt.got) == expected(wt.prefix, writes) {
					return
				}
			}
		}()
	}
	var mu sync.Mutex
	var acked []string
	var wwg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			for i := g; i < writes; i += 4 {
				key := fmt.Sprintf("%s/%03d", []string{"a", "b"}[i%2], i)
				rev, err := s.Put(ctx, key, nil)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, fmt.Sprintf("%d:%s", rev, key))
				mu.Unlock()
			}
		}()
	}
	wwg.Wait()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("watchers did not receive every event")
	}
	rev := func(a string) int {
		var r int
		fmt.Sscan(strings.Split(a, ":")[0], &r)
		return r
	}
	// Events of one revision come in write order, which the writers cannot
	// see; compare revision order, then the sets within each revision.
	byRevKey := func(a, b string) int {
		if d := rev(a) - rev(b); d != 0 {
			return d
		}
		return strings.Compare(a, b)
	}
	slices.SortFunc(acked, byRevKey)
	var m dtoMetric
	if err := s.metrics.demotions.Write(&m); err != nil || m.GetCounter().GetValue() == 0 {
		t.Fatalf("no watcher was ever demoted (%v): the test exercised only the live path", err)
	}
	for i, wt := range watches {
		wt.w.Stop()
		var want []string
		for _, a := range acked {
			if strings.HasPrefix(strings.SplitN(a, ":", 2)[1], wt.prefix) {
				want = append(want, a)
			}
		}
		if !slices.IsSortedFunc(wt.got, func(a, b string) int { return rev(a) - rev(b) }) {
			t.Fatalf("watcher %d saw revisions out of order: %v", i, head(wt.got))
		}
		slices.SortFunc(wt.got, byRevKey)
		if !slices.Equal(wt.got, want) {
			t.Fatalf("watcher %d (%q) saw %d events, want %d in order\n got %v\nwant %v", i, wt.prefix, len(wt.got), len(want), head(wt.got), head(want))
		}
	}
}

type dtoMetric = dto.Metric

func expected(prefix string, writes int) int {
	if prefix == "" {
		return writes
	}
	return writes / 2
}

func head(s []string) []string { return s[:min(len(s), 20)] }
