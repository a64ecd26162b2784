package events_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRecordsEvents(t *testing.T) {
	reg := registry.New(testutil.Store(t), nil)
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
		return reg.List(ctx, &list, registry.ListOptions{Namespace: "default"}) == nil && len(list.Items) == 1
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
	reg := registry.New(testutil.Store(t), nil)
	rec := events.New(reg, "controller", "n1", nil)
	node := &api.Node{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Node"}, ObjectMeta: api.ObjectMeta{Name: "n2"}}
	for i := range 20 {
		rec.Eventf(node, api.EventTypeNormal, "Queued", "event %d", i)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Run starts stopped: only the flush writes
	rec.Run(ctx)
	var list api.EventList
	if err := reg.List(context.Background(), &list, registry.ListOptions{Namespace: "default"}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 20 {
		t.Fatalf("%d events written, want 20", len(list.Items))
	}
}

// A full queue (a burst) is written completely, each Event once, by the
// concurrent writers.
func TestBurstWrittenOnce(t *testing.T) {
	reg := registry.New(testutil.Store(t), nil)
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
		return reg.List(ctx, &list, registry.ListOptions{Namespace: "default"}) == nil && len(list.Items) >= n
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
