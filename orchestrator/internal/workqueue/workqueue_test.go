package workqueue

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestDedupeAndReprocess(t *testing.T) {
	q := New(time.Millisecond, 10*time.Millisecond)
	defer q.Shutdown()
	q.Add("a")
	q.Add("a")
	q.Add("b")
	if q.Len() != 2 {
		t.Fatalf("len %d, want 2", q.Len())
	}
	k, _ := q.Get()
	if k != "a" {
		t.Fatalf("got %q", k)
	}
	q.Add("a") // while processing: not queued twice, requeued on Done
	if q.Len() != 1 {
		t.Fatalf("len %d, want 1", q.Len())
	}
	q.Done("a")
	if q.Len() != 2 {
		t.Fatalf("len %d after Done, want 2", q.Len())
	}
}

func TestRateLimitedAndShutdown(t *testing.T) {
	q := New(time.Millisecond, 4*time.Millisecond)
	for range 5 {
		q.AddRateLimited("x")
	}
	k, ok := q.Get()
	if !ok || k != "x" {
		t.Fatalf("got %q %v", k, ok)
	}
	q.Done(k)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if _, ok := q.Get(); ok {
			t.Error("Get after shutdown returned a key")
		}
	}()
	q.Shutdown()
	wg.Wait()
}
