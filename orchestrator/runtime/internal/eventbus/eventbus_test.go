package eventbus

import (
	"context"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func recv(t *testing.T, ch <-chan runtime.Event) runtime.Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return runtime.Event{}
}

func TestFanOutInOrder(t *testing.T) {
	b := New(0)
	defer b.Close()
	ctx := context.Background()
	a, _ := b.Subscribe(ctx)
	c, _ := b.Subscribe(ctx)
	for i := range 100 {
		b.Publish(runtime.Event{Type: runtime.EventContainerExited, ExitCode: i})
	}
	for _, ch := range []<-chan runtime.Event{a, c} {
		for i := range 100 {
			if ev := recv(t, ch); ev.ExitCode != i {
				t.Fatalf("event %d has exit code %d", i, ev.ExitCode)
			}
		}
	}
}

func TestOverflowGivesResync(t *testing.T) {
	b := New(4)
	defer b.Close()
	ch, _ := b.Subscribe(context.Background())
	// Hold the bus lock so the pump cannot drain while we overflow.
	b.mu.Lock()
	for s := range b.subs {
		for i := range 10 {
			if len(s.q) >= b.queue {
				s.q, s.lost = s.q[:0], true
			} else {
				s.q = append(s.q, runtime.Event{ExitCode: i})
			}
		}
		s.wake <- struct{}{}
	}
	b.mu.Unlock()
	if ev := recv(t, ch); ev.Type != runtime.EventResync {
		t.Fatalf("got %v, want Resync", ev)
	}
	b.Publish(runtime.Event{Type: runtime.EventContainerStarted})
	if ev := recv(t, ch); ev.Type != runtime.EventContainerStarted {
		t.Fatalf("after resync got %v", ev)
	}
}

func TestPublishNeverBlocks(t *testing.T) {
	b := New(8)
	defer b.Close()
	ch, _ := b.Subscribe(context.Background())
	for range 10000 { // nobody reads
		b.Publish(runtime.Event{Type: runtime.EventContainerStarted})
	}
	// The subscriber sees at most its buffers' worth, then a Resync.
	sawResync := false
	for !sawResync {
		sawResync = recv(t, ch).Type == runtime.EventResync
	}
}

func TestCancelAndClose(t *testing.T) {
	b := New(0)
	ctx, cancel := context.WithCancel(context.Background())
	ch, _ := b.Subscribe(ctx)
	cancel()
	for range ch {
	}
	if n := b.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers after cancel", n)
	}
	ch2, _ := b.Subscribe(context.Background())
	b.Close()
	b.Close()
	for range ch2 {
	}
	if _, err := b.Subscribe(context.Background()); err != runtime.ErrClosed {
		t.Fatalf("Subscribe after Close: %v", err)
	}
}
