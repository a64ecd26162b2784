package events_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRecordsEvents(t *testing.T) {
	reg := testutil.Registry(t)
	rec := events.New(reg, "scheduler", "n1", nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); rec.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	node := &api.Node{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Node"}, ObjectMeta: api.ObjectMeta{Name: "n2"}}
	rec.Eventf(node, api.EventTypeWarning, "NodeNotReady", "node %s is gone", "n2")
	var list api.EventList
	testutil.Eventually(t, 10*time.Second, "event stored", func() bool {
		return reg.List(ctx, &list, client.ListOptions{Namespace: "default"}) == nil && len(list.Items) == 1
	})
	e := list.Items[0]
	if e.Reason != "NodeNotReady" || e.Message != "node n2 is gone" || e.InvolvedObject.Kind != "Node" || e.Source.Component != "scheduler" || e.Type != api.EventTypeWarning {
		t.Fatalf("event %+v", e)
	}
	var nilRec *events.Recorder
	nilRec.Eventf(node, api.EventTypeNormal, "X", "ignored") // a nil recorder drops events
}

// Events queued when Run stops (a controller losing leadership) are still
// written.
func TestFlushesQueueOnStop(t *testing.T) {
	reg := testutil.Registry(t)
	rec := events.New(reg, "controller", "n1", nil)
	node := &api.Node{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Node"}, ObjectMeta: api.ObjectMeta{Name: "n2"}}
	for i := range 20 {
		rec.Eventf(node, api.EventTypeNormal, "Queued", "event %d", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run starts stopped: only the flush writes
	rec.Run(ctx)
	var list api.EventList
	if err := reg.List(context.Background(), &list, client.ListOptions{Namespace: "default"}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 20 {
		t.Fatalf("%d events written, want 20", len(list.Items))
	}
}

// A full queue (a burst) is written completely, each Event once, by the
// concurrent writers.
func TestBurstWrittenOnce(t *testing.T) {
	reg := testutil.Registry(t)
	rec := events.New(reg, "agent", "n1", nil)
	node := &api.Node{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Node"}, ObjectMeta: api.ObjectMeta{Name: "n2"}}
	const n = 1000
	for i := range n {
		rec.Eventf(node, api.EventTypeNormal, "Burst", "event %d", i)
	}
	if d := rec.Dropped(); d != 0 {
		t.Fatalf("%d events dropped below the queue size", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { rec.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	var list api.EventList
	testutil.Eventually(t, 30*time.Second, "every event stored", func() bool {
		return reg.List(ctx, &list, client.ListOptions{Namespace: "default"}) == nil && len(list.Items) >= n
	})
	seen := map[string]bool{}
	for _, e := range list.Items {
		if seen[e.Message] {
			t.Fatalf("%q stored twice", e.Message)
		}
		seen[e.Message] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct events, want %d", len(seen), n)
	}
}

// fakeClock is a time that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is a registry whose only writer is the recorder under test.
type fixture struct {
	reg  *registry.Registry
	rec  *events.Recorder
	rev0 int64
}

// newFixture returns a Recorder with the given interval on the clock (nil:
// real time), not running, and its registry with the default Namespace
// created, so every later write is the Recorder's.
func newFixture(t *testing.T, interval time.Duration, clock *fakeClock) *fixture {
	t.Helper()
	reg := testutil.Registry(t)
	rec := events.New(reg, "agent", "n1", nil)
	events.SetInterval(rec, interval)
	if clock != nil {
		events.SetClock(rec, clock.Now)
	}
	if err := reg.Create(context.Background(), &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "default"}}, client.CreateOptions{}); err != nil && !api.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return &fixture{reg: reg, rec: rec, rev0: reg.Revision()}
}

// run runs the Recorder until the returned stop is called or the test
// ends; stop returns once Run has flushed.
func (f *fixture) run(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { f.rec.Run(ctx) })
	stop = func() { cancel(); wg.Wait() }
	t.Cleanup(stop)
	return stop
}

// flush writes what is recorded, by a Run that starts stopped.
func (f *fixture) flush() {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.rec.Run(ctx)
}

// writes returns how many writes the store applied since the fixture was
// made.
func (f *fixture) writes() int64 { return f.reg.Revision() - f.rev0 }

func (f *fixture) list(t *testing.T) []api.Event {
	t.Helper()
	var list api.EventList
	if err := f.reg.List(context.Background(), &list, client.ListOptions{Namespace: "default"}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// one returns the only Event, or ok false when there is not exactly one.
func (f *fixture) one(t *testing.T) (_ api.Event, ok bool) {
	t.Helper()
	items := f.list(t)
	if len(items) != 1 {
		return api.Event{}, false
	}
	return items[0], true
}

// waitOne waits until the only Event exists and returns it.
func (f *fixture) waitOne(t *testing.T) api.Event {
	t.Helper()
	var e api.Event
	testutil.Eventually(t, 10*time.Second, "the first occurrence created", func() bool {
		var ok bool
		e, ok = f.one(t)
		return ok
	})
	return e
}

// withOneEvent runs a Recorder with a 10 s interval on a fake clock that
// has recorded one Warning "probe failed" about Node n2, and returns the
// Event once created.
func withOneEvent(t *testing.T) (*fakeClock, *fixture, *api.Node, api.Event) {
	t.Helper()
	clock := &fakeClock{now: time.Now()}
	f := newFixture(t, 10*time.Second, clock)
	f.run(t)
	node := testNode("n2")
	f.rec.Eventf(node, api.EventTypeWarning, "Unhealthy", "probe failed")
	return clock, f, node, f.waitOne(t)
}

func testNode(name string) *api.Node {
	return &api.Node{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Node"}, ObjectMeta: api.ObjectMeta{Name: name}}
}

// 100 identical events are one Event with Count 100: the first is created,
// the repeats counted and written when Run stops.
func TestAggregatesIdenticalEvents(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	stop := f.run(t)
	node := testNode("n2")
	f.rec.Eventf(node, api.EventTypeWarning, "NodeNotReady", "node %s is gone", "n2")
	f.waitOne(t)
	for range 99 {
		f.rec.Eventf(node, api.EventTypeWarning, "NodeNotReady", "node %s is gone", "n2")
	}
	stop()
	e, ok := f.one(t)
	if !ok || e.Count != 100 || e.Message != "node n2 is gone" {
		t.Fatalf("events %+v, want one with count 100", f.list(t))
	}
	if e.LastTimestamp.Before(e.FirstTimestamp.Time) {
		t.Fatalf("lastTimestamp %v before firstTimestamp %v", e.LastTimestamp, e.FirstTimestamp)
	}
	if w := f.writes(); w != 2 {
		t.Fatalf("%d writes, want 2 (create and one update)", w)
	}
}

// Events differing in object, type, reason or message are distinct
// Events, each with its own count.
func TestDistinctEventsAreDistinct(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	pod := func(uid api.UID) *api.Pod {
		return &api.Pod{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Pod"}, ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default", UID: uid}}
	}
	record := func() {
		f.rec.Eventf(testNode("n2"), api.EventTypeWarning, "NodeNotReady", "a")
		f.rec.Eventf(testNode("n2"), api.EventTypeWarning, "NodeNotReady", "b")           // message
		f.rec.Eventf(testNode("n3"), api.EventTypeWarning, "NodeNotReady", "a")           // object by name
		f.rec.Eventf(testNode("n2"), api.EventTypeNormal, "NodeNotReady", "a")            // type
		f.rec.Eventf(testNode("n2"), api.EventTypeWarning, "NodeGone", "a")               // reason
		f.rec.Eventf(pod("u1"), api.EventTypeWarning, "Unhealthy", "a")                   // object by UID
		f.rec.Eventf(pod("u2"), api.EventTypeWarning, "Unhealthy", "a")                   // a new Pod of the same name
		f.rec.Eventf(&api.Pod{ObjectMeta: api.ObjectMeta{Name: "q"}}, "", "Started", "a") // no UID, no namespace
	}
	const distinct, times = 8, 3
	for range times {
		record()
	}
	f.flush()
	items := f.list(t)
	if len(items) != distinct {
		t.Fatalf("%d events, want %d: %+v", len(items), distinct, items)
	}
	for _, e := range items {
		if e.Count != times {
			t.Fatalf("event %+v has count %d, want %d", e, e.Count, times)
		}
	}
}

// A key repeating every 200 ms for a minute costs a write per interval,
// not one per occurrence.
func TestRepeatsWrittenOncePerInterval(t *testing.T) {
	clock := &fakeClock{now: time.Now()}
	const interval = 10 * time.Second
	f := newFixture(t, interval, clock)
	f.run(t)
	node := testNode("n2")
	f.rec.Eventf(node, api.EventTypeWarning, "Unhealthy", "probe failed")
	f.waitOne(t)
	const n, period = 300, 200 * time.Millisecond
	queuedAt := time.Duration(0) // the create, at the start
	for i := 1; i <= n; i++ {
		clock.Advance(period)
		f.rec.Eventf(node, api.EventTypeWarning, "Unhealthy", "probe failed")
		if events.Sweep(f.rec) > 0 {
			at := time.Duration(i) * period
			if at-queuedAt < interval {
				t.Fatalf("repeats written again at %v, %v after the last write", at, at-queuedAt)
			}
			queuedAt = at
			// Before the next occurrence, so that each write is seen
			// alone (a slow writer would only make fewer writes).
			testutil.Eventually(t, 10*time.Second, "the repeats written", func() bool {
				e, ok := f.one(t)
				return ok && e.Count == int32(i+1)
			})
		}
	}
	// A create, then one update at the end of each interval of the
	// simulated minute.
	if w, want := f.writes(), int64(1+n*period/interval); w != want {
		t.Fatalf("%d writes for %d occurrences over %v, want %d", w, n+1, n*period, want)
	} else {
		t.Logf("%d writes for %d occurrences over %v", w, n+1, n*period)
	}
	e, _ := f.one(t)
	if want := api.NewTime(clock.Now()); !e.LastTimestamp.Equal(want) {
		t.Fatalf("lastTimestamp %v, want the last occurrence's %v", e.LastTimestamp, want)
	}
}

// An Event deleted between occurrences (by the Event TTL controller) is
// created afresh for the next ones.
func TestRecreatesDeletedEvent(t *testing.T) {
	clock, f, node, first := withOneEvent(t)
	if err := f.reg.Delete(context.Background(), first.Namespace, first.Name, &api.Event{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	f.rec.Eventf(node, api.EventTypeWarning, "Unhealthy", "probe failed")
	f.rec.Eventf(node, api.EventTypeWarning, "Unhealthy", "probe failed")
	testutil.Eventually(t, 10*time.Second, "a new Event", func() bool {
		events.Sweep(f.rec)
		e, ok := f.one(t)
		return ok && e.Name != first.Name
	})
	e, _ := f.one(t)
	if e.Count != 2 || !e.FirstTimestamp.Equal(api.NewTime(clock.Now())) || e.Message != "probe failed" {
		t.Fatalf("new event %+v, want the 2 occurrences since the deletion", e)
	}
}

// An Event changed by someone else between writes (a conflict) gets the
// repeats added to what is stored.
func TestConflictAddsToStoredCount(t *testing.T) {
	clock, f, node, e := withOneEvent(t)
	e.Count = 10
	if err := f.reg.Update(context.Background(), &e, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	f.rec.Eventf(node, api.EventTypeWarning, "Unhealthy", "probe failed")
	f.rec.Eventf(node, api.EventTypeWarning, "Unhealthy", "probe failed")
	clock.Advance(10 * time.Second)
	testutil.Eventually(t, 10*time.Second, "the repeats added", func() bool {
		events.Sweep(f.rec)
		got, ok := f.one(t)
		return ok && got.Count == 12 && got.Name == e.Name
	})
}

// The memory of events keeps the most recently seen keys; an evicted key's
// next occurrence is a new Event.
func TestEvictsLeastRecentlySeen(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	events.SetMaxKeys(f.rec, 2)
	node := testNode("n2")
	for _, msg := range []string{"a", "b", "a", "c", "b"} { // c evicts b, b then evicts a
		f.rec.Eventf(node, api.EventTypeNormal, "Test", "%s", msg)
	}
	if k := events.Keys(f.rec); k != 2 {
		t.Fatalf("%d keys remembered, want 2", k)
	}
	f.flush()
	got := map[string][]int32{}
	for _, e := range f.list(t) {
		got[e.Message] = append(got[e.Message], e.Count)
	}
	if len(got["a"]) != 1 || got["a"][0] != 2 || len(got["b"]) != 2 || got["b"][0] != 1 || got["b"][1] != 1 || len(got["c"]) != 1 {
		t.Fatalf("counts by message %v, want a: [2], b: [1 1], c: [1]", got)
	}
}

// Many goroutines recording the same few events lose no occurrence and
// make one Event per key.
func TestConcurrentEventf(t *testing.T) {
	const interval = 20 * time.Millisecond
	f := newFixture(t, interval, nil)
	start := time.Now()
	f.run(t)
	const goroutines, each, keys = 16, 200, 4
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range each {
				f.rec.Eventf(testNode("n2"), api.EventTypeWarning, "Unhealthy", "probe %d failed", g%keys)
			}
		})
	}
	wg.Wait()
	testutil.Eventually(t, 20*time.Second, "every occurrence written", func() bool {
		items := f.list(t)
		if len(items) != keys {
			return false
		}
		for _, e := range items {
			if e.Count != goroutines/keys*each {
				return false
			}
		}
		return true
	})
	// A create and at most one write per key and interval (plus one for
	// the interval under way).
	elapsed := time.Since(start)
	if w, most := f.writes(), int64(keys*(2+elapsed/interval)); w > most {
		t.Fatalf("%d writes in %v, want at most %d", w, elapsed, most)
	} else {
		t.Logf("%d writes for %d occurrences in %v", w, goroutines*each, elapsed)
	}
	if d := f.rec.Dropped(); d != 0 {
		t.Fatalf("%d dropped", d)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// What a Recorder cannot record is counted: first occurrences beyond the
// queue in Metrics.Dropped, occurrences whose write failed in
// Metrics.Failed, and a failing store is one Warn line, not one per
// Event.
func TestMetricsCountWhatIsLost(t *testing.T) {
	reg := testutil.Registry(t)
	failing := client.Intercept(reg, client.Funcs{
		Create: func(context.Context, client.Interface, api.Object, client.CreateOptions) error {
			return api.NewForbidden("Event", "", errors.New("quota exceeded"))
		},
	})
	dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "dropped"})
	failed := prometheus.NewCounter(prometheus.CounterOpts{Name: "failed"})
	core, logs := observer.New(zapcore.WarnLevel)
	rec := events.New(failing, "agent", "n1", zap.New(core), events.WithMetrics(events.Metrics{Dropped: dropped, Failed: failed}))
	node := testNode("n2")
	const queued, over = 1024, 76
	for i := range queued + over {
		rec.Eventf(node, api.EventTypeNormal, "Burst", "event %d", i)
	}
	if got := counterValue(t, dropped); got != over || rec.Dropped() != over {
		t.Errorf("dropped: metric %v, Dropped() %d; want %d", got, rec.Dropped(), over)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run starts stopped: only the flush writes, and every write fails
	rec.Run(ctx)
	if got := counterValue(t, failed); got != queued {
		t.Errorf("failed: %v, want %d", got, queued)
	}
	if got := logs.FilterMessage("event not recorded").Len(); got != 1 {
		t.Errorf("%d Warn lines for %d failed writes, want 1", got, queued)
	}
}

// An Event about an object whose name is already long (a Deployment
// named with 253 characters, or ending in a dot after the cut) gets a
// valid name of its own and is stored, never dropped; it names the
// object in full.
func TestEventNameForLongObjectName(t *testing.T) {
	reg := testutil.Registry(t)
	rec := events.New(reg, "controller", "n1", nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { rec.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	names := []string{
		strings.Repeat("a", 253),
		strings.Repeat("b", 235) + ".c" + strings.Repeat("d", 16), // cut right after the dot
		strings.Repeat("e", 234) + "-f" + strings.Repeat("g", 17), // cut right after the dash
	}
	for _, n := range names {
		d := &api.Deployment{TypeMeta: api.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
			ObjectMeta: api.ObjectMeta{Name: n, Namespace: "default", UID: api.UID("uid-" + n[:1])}}
		rec.Eventf(d, api.EventTypeWarning, "ReplicaSetCreateError", "Failed")
	}
	var list api.EventList
	testutil.Eventually(t, 10*time.Second, "three events stored", func() bool {
		return reg.List(ctx, &list, client.ListOptions{Namespace: "default"}) == nil && len(list.Items) == 3
	})
	for _, e := range list.Items {
		if msgs := api.IsDNS1123Subdomain(e.Name); len(msgs) > 0 {
			t.Errorf("event name %q: %v", e.Name, msgs)
		}
		if !slices.Contains(names, e.InvolvedObject.Name) {
			t.Errorf("event about %q, not one of the objects", e.InvolvedObject.Name)
		}
	}
	if rec.Dropped() != 0 {
		t.Errorf("%d events dropped", rec.Dropped())
	}
}
