package workqueue

import (
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
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

// While an AddAfter is pending, the sooner of two delays wins, whichever
// order they come in: a later, longer delay must not postpone a key that
// was due sooner (a controller's requeueAfter behind its own retry).
func TestAddAfterSoonerWins(t *testing.T) {
	for _, tc := range []struct {
		name         string
		first, later time.Duration
	}{
		{"longer after shorter", time.Second, time.Hour},
		{"shorter after longer", time.Hour, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := New(time.Millisecond, time.Second)
				defer q.Shutdown()
				q.AddAfter("k", tc.first)
				q.AddAfter("k", tc.later)
				time.Sleep(time.Second - time.Millisecond)
				synctest.Wait()
				if q.Len() != 0 {
					t.Fatalf("queued %d keys before the sooner delay passed", q.Len())
				}
				time.Sleep(time.Millisecond)
				synctest.Wait()
				if q.Len() != 1 {
					t.Fatalf("queued %d keys once the sooner delay passed, want 1", q.Len())
				}
				k, _ := q.Get()
				q.Done(k)
				// The longer delay was dropped, not kept to fire again.
				time.Sleep(2 * time.Hour)
				synctest.Wait()
				if q.Len() != 0 {
					t.Fatalf("key queued again by the dropped delay")
				}
			})
		})
	}
}

func value(t *testing.T, c prometheus.Metric) *dto.Metric {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return &m
}

// The metrics follow Kubernetes' work queue: depth is what waits for a
// worker, adds count keys not already waiting, the durations measure the
// wait and the work of each key, retries count AddRateLimited.
func TestMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		opts := func(name string) prometheus.HistogramOpts {
			return prometheus.HistogramOpts{Name: name, Buckets: []float64{1, 10, 100}}
		}
		depth := prometheus.NewGauge(prometheus.GaugeOpts{Name: "depth"})
		adds := prometheus.NewCounter(prometheus.CounterOpts{Name: "adds"})
		retries := prometheus.NewCounter(prometheus.CounterOpts{Name: "retries"})
		waited, worked := prometheus.NewHistogram(opts("queue")), prometheus.NewHistogram(opts("work"))
		q := New(time.Second, time.Second, WithMetrics(Metrics{
			Depth: depth, Adds: adds, QueueDuration: waited, WorkDuration: worked, Retries: retries,
		}))
		q.Add("a")
		q.Add("a") // waiting already: not an add
		q.Add("b")
		if d := value(t, depth).GetGauge().GetValue(); d != 2 {
			t.Errorf("depth %v, want 2", d)
		}
		time.Sleep(5 * time.Second)
		k, _ := q.Get() // a waited 5 s
		time.Sleep(20 * time.Second)
		q.Done(k) // and was worked on for 20 s
		if d := value(t, depth).GetGauge().GetValue(); d != 1 {
			t.Errorf("depth %v after one Get, want 1", d)
		}
		q.AddRateLimited("a")
		time.Sleep(time.Second)
		synctest.Wait()
		if n := value(t, adds).GetCounter().GetValue(); n != 3 {
			t.Errorf("adds %v, want 3 (a, b, a again)", n)
		}
		if n := value(t, retries).GetCounter().GetValue(); n != 1 {
			t.Errorf("retries %v, want 1", n)
		}
		h := value(t, waited).GetHistogram()
		if h.GetSampleCount() != 1 || h.GetSampleSum() != 5 {
			t.Errorf("queue duration: %d samples, sum %v s; want 1 of 5 s", h.GetSampleCount(), h.GetSampleSum())
		}
		h = value(t, worked).GetHistogram()
		if h.GetSampleCount() != 1 || h.GetSampleSum() != 20 {
			t.Errorf("work duration: %d samples, sum %v s; want 1 of 20 s", h.GetSampleCount(), h.GetSampleSum())
		}
		q.Shutdown()
		if d := value(t, depth).GetGauge().GetValue(); d != 0 {
			t.Errorf("depth %v after Shutdown, want 0", d)
		}
	})
}

// BenchmarkAddGetDone is one key's trip through the queue, without and
// with metrics (the cost a controller pays per reconcile for them).
func BenchmarkAddGetDone(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []Option
	}{
		{"plain", nil},
		{"metrics", []Option{WithMetrics(Metrics{
			Depth:         prometheus.NewGauge(prometheus.GaugeOpts{Name: "d"}),
			Adds:          prometheus.NewCounter(prometheus.CounterOpts{Name: "a"}),
			QueueDuration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "q", Buckets: prometheus.ExponentialBuckets(10e-9, 10, 12)}),
			WorkDuration:  prometheus.NewHistogram(prometheus.HistogramOpts{Name: "w", Buckets: prometheus.ExponentialBuckets(10e-9, 10, 12)}),
			Retries:       prometheus.NewCounter(prometheus.CounterOpts{Name: "r"}),
		})}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q := New(time.Millisecond, time.Second, bc.opts...)
			defer q.Shutdown()
			keys := [64]string{}
			for i := range keys {
				keys[i] = "default/pod-" + strconv.Itoa(i)
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				q.Add(keys[i%len(keys)])
				k, _ := q.Get()
				q.Done(k)
			}
		})
	}
}
