package raftstore

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// next reads one event or fails the test.
func next(t testing.TB, w *Watcher) Event {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatalf("watch closed: %v", w.Err())
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return Event{}
}

func TestWatchReplayAndLive(t *testing.T) {
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	s := c.leader()
	r1, _ := s.Put(ctx, "w/a", []byte("1"))
	s.Put(ctx, "other/x", []byte("ignored"))
	r2, _ := s.Put(ctx, "w/b", []byte("2"))

	// Watch on a follower from before the writes: replay, then live.
	f := c.stores[c.follower()]
	w, err := f.Watch(ctx, "w/", r1-1)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if ev := next(t, w); ev.Key != "w/a" || ev.Revision != r1 || ev.Type != EventPut || ev.Version != 1 {
		t.Fatalf("first event %+v", ev)
	}
	if ev := next(t, w); ev.Key != "w/b" || ev.Revision != r2 {
		t.Fatalf("second event %+v", ev)
	}
	r3, _ := s.Delete(ctx, "w/a", r1)
	if ev := next(t, w); ev.Key != "w/a" || ev.Type != EventDelete || ev.Revision != r3 || string(ev.Value) != "1" || ev.CreateRevision != r1 {
		t.Fatalf("delete event %+v", ev)
	}
	r4, _ := s.Txn(ctx, OpPut("w/c", nil), OpPut("w/d", nil))
	e1, e2 := next(t, w), next(t, w)
	if e1.Key != "w/c" || e2.Key != "w/d" || e1.Revision != r4 || e2.Revision != r4 {
		t.Fatalf("txn events %+v %+v", e1, e2)
	}

	// From "now" sees only later writes; from a future revision waits for it.
	now, _ := f.Watch(ctx, "w/", 0)
	defer now.Stop()
	future, _ := f.Watch(ctx, "w/", r4+1)
	defer future.Stop()
	r5, _ := s.Put(ctx, "w/e", nil)
	r6, _ := s.Put(ctx, "w/f", nil)
	if ev := next(t, now); ev.Revision != r5 {
		t.Fatalf("watch from now got %+v, want rev %d", ev, r5)
	}
	if ev := next(t, future); ev.Revision <= r4+1 || (ev.Revision != r5 && ev.Revision != r6) {
		t.Fatalf("watch from future got %+v", ev)
	}

	w.Stop()
	for range w.Events() { // buffered events may remain; then it is closed
	}
	if !errors.Is(w.Err(), context.Canceled) {
		t.Fatalf("Err after Stop = %v", w.Err())
	}
	if _, err := f.Watch(ctx, "w/", -1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative revision: %v", err)
	}
}

func TestWatchTooOldAndSlow(t *testing.T) {
	c := newTestCluster(t, 1, withConfig(func(cfg *Config) {
		cfg.HistorySize = 16
		cfg.WatchBuffer = 1
	}))
	ctx := ctxT(t)
	s := c.stores[0]
	first, _ := s.Put(ctx, "k", nil)
	slow, err := s.Watch(ctx, "", first)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Stop()
	for i := 0; i < 40; i++ {
		if _, err := s.Put(ctx, fmt.Sprintf("k/%d", i), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Watch(ctx, "", first); !IsTooOld(err) {
		t.Fatalf("watch from a compacted revision: %v", err)
	}
	// The slow watcher never read; writes went on, and now it is cut loose.
	n := 0
	for range slow.Events() {
		n++
	}
	if !IsTooOld(slow.Err()) || n >= 40 {
		t.Fatalf("slow watcher read %d events, err %v", n, slow.Err())
	}
	// Shutdown ends every watch with ErrStopped.
	w, _ := s.Watch(ctx, "", 0)
	c.stop(0)
	for range w.Events() {
	}
	if !errors.Is(w.Err(), ErrStopped) {
		t.Fatalf("watch after shutdown: %v", w.Err())
	}
}

// TestWatchAcrossLeaderChange follows every acknowledged write through a
// leader failure, resuming on another node from the last revision seen: no
// gap, no duplicate.
func TestWatchAcrossLeaderChange(t *testing.T) {
	c := newTestCluster(t, 3)
	ctx := ctxT(t)
	var acked []int64
	write := func(i int) {
		for {
			for _, s := range c.stores {
				if s.running() != nil {
					continue
				}
				rev, err := s.Put(ctx, fmt.Sprintf("k/%03d", i), nil)
				if err == nil {
					acked = append(acked, rev)
					return
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	l := c.waitLeader()
	w, err := c.stores[l].Watch(ctx, "k/", 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		write(i)
	}
	var seen []int64
	for len(seen) < 10 {
		seen = append(seen, next(t, w).Revision)
	}
	c.stop(l)
	for range w.Events() {
	}
	for i := 10; i < 20; i++ {
		write(i)
	}
	other := c.stores[(l+1)%3]
	w2, err := other.Watch(ctx, "k/", seen[len(seen)-1])
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	for len(seen) < 20 {
		seen = append(seen, next(t, w2).Revision)
	}
	for i := range acked {
		if seen[i] != acked[i] {
			t.Fatalf("event %d has revision %d, acknowledged write had %d\nseen  %v\nacked %v", i, seen[i], acked[i], seen, acked)
		}
	}
}

// TestWatchPrevValue checks PrevValue on replayed and live events, with
// values encrypted at rest (PrevValue must come back in plaintext).
func TestWatchPrevValue(t *testing.T) {
	c := newTestCluster(t, 1, withConfig(func(cfg *Config) {
		cfg.EncryptionKeys = []EncryptionKey{{ID: "k", Secret: make([]byte, 32)}}
	}))
	ctx := ctxT(t)
	s := c.leader()
	live, err := s.Watch(ctx, "p/", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Stop()
	r1, _ := s.Put(ctx, "p/a", []byte("1"))
	if _, err := s.Put(ctx, "p/a", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, "p/a", 0); err != nil {
		t.Fatal(err)
	}
	replay, err := s.Watch(ctx, "p/", r1-1)
	if err != nil {
		t.Fatal(err)
	}
	defer replay.Stop()
	want := []struct {
		typ         EventType
		value, prev string
		prevNil     bool
	}{
		{EventPut, "1", "", true},
		{EventPut, "2", "1", false},
		{EventDelete, "2", "2", false},
	}
	for name, w := range map[string]*Watcher{"live": live, "replay": replay} {
		for i, wt := range want {
			ev := next(t, w)
			if ev.Type != wt.typ || string(ev.Value) != wt.value || string(ev.PrevValue) != wt.prev || (ev.PrevValue == nil) != wt.prevNil {
				t.Fatalf("%s event %d: %v value %q prev %q (nil %v), want %v %q %q (nil %v)",
					name, i, ev.Type, ev.Value, ev.PrevValue, ev.PrevValue == nil, wt.typ, wt.value, wt.prev, wt.prevNil)
			}
		}
	}
}

// A list of a store that has applied no write names a revision a watch can
// start from without missing the writes made in between: 1, never 0 (which
// Watch reads as "from now").
func TestWatchFromListOfEmptyStore(t *testing.T) {
	c := newTestCluster(t, 1)
	ctx := ctxT(t)
	s := c.leader()
	_, rev, err := s.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if rev != 1 {
		t.Fatalf("list revision of an empty store %d, want 1", rev)
	}
	wrote, err := s.Put(ctx, "between", []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Watch(ctx, "", rev)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if ev := next(t, w); ev.Key != "between" || ev.Revision != wrote {
		t.Fatalf("first event %+v, want the write at %d", ev, wrote)
	}
}
