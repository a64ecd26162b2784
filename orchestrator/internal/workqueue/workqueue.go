// Package workqueue is a deduplicating queue of string keys for
// level-triggered control loops, with rate-limited retries.
//
// A key added several times before a worker takes it is processed once; a
// key added while a worker processes it is processed again afterwards, never
// by two workers at once. Failed keys come back after an exponential backoff
// per key (AddRateLimited) until Forget.
//
// A queue given Metrics (WithMetrics) reports Kubernetes' workqueue
// figures: its depth, the keys added, how long keys waited and were
// worked on, and the retries.
package workqueue

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Queue is a work queue. Create it with New; Shutdown it when done.
type Queue struct {
	mu         sync.Mutex
	cond       *sync.Cond
	queue      []string
	dirty      map[string]bool
	processing map[string]bool
	failures   map[string]int
	timers     map[string]*delayed
	shutdown   bool
	base, max  time.Duration

	m Metrics
	// added holds when each dirty key was added, started when each
	// processing key was taken; kept only with metrics.
	added, started map[string]time.Time
}

// delayed is a pending AddAfter: its timer and when it fires.
type delayed struct {
	t  *time.Timer
	at time.Time
}

// Metrics receive one queue's figures, the metrics Kubernetes' work queues
// export for each queue name. Every field may be nil (not reported).
type Metrics struct {
	// Depth is the number of keys waiting for a worker (workqueue_depth).
	// It is 0 once the queue is shut down.
	Depth prometheus.Gauge
	// Adds counts keys added that were not already waiting
	// (workqueue_adds_total).
	Adds prometheus.Counter
	// QueueDuration observes, in seconds, how long each key waited
	// between being added and a worker taking it
	// (workqueue_queue_duration_seconds).
	QueueDuration prometheus.Observer
	// WorkDuration observes, in seconds, how long a worker held each key,
	// from Get to Done (workqueue_work_duration_seconds).
	WorkDuration prometheus.Observer
	// Retries counts AddRateLimited calls (workqueue_retries_total).
	Retries prometheus.Counter
}

func (m Metrics) timed() bool { return m.QueueDuration != nil || m.WorkDuration != nil }

// Option changes a Queue New returns.
type Option func(*Queue)

// WithMetrics makes the queue report to m.
func WithMetrics(m Metrics) Option { return func(q *Queue) { q.m = m } }

// New returns a queue whose retries wait base, 2*base, ... up to max.
func New(base, max time.Duration, opts ...Option) *Queue {
	q := &Queue{
		dirty:      map[string]bool{},
		processing: map[string]bool{},
		failures:   map[string]int{},
		timers:     map[string]*delayed{},
		base:       base,
		max:        max,
	}
	for _, o := range opts {
		o(q)
	}
	if q.m.timed() {
		q.added, q.started = map[string]time.Time{}, map[string]time.Time{}
	}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Add queues key unless it is queued already.
func (q *Queue) Add(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(key)
}

func (q *Queue) addLocked(key string) {
	if q.shutdown || q.dirty[key] {
		return
	}
	q.dirty[key] = true
	if q.m.Adds != nil {
		q.m.Adds.Inc()
	}
	if q.added != nil {
		q.added[key] = time.Now()
	}
	if q.processing[key] {
		return
	}
	q.queue = append(q.queue, key)
	q.depthLocked()
	q.cond.Signal()
}

func (q *Queue) depthLocked() {
	if q.m.Depth == nil {
		return
	}
	if q.shutdown {
		q.m.Depth.Set(0)
		return
	}
	q.m.Depth.Set(float64(len(q.queue)))
}

// AddAfter queues key after d. While an earlier AddAfter of the same key
// is pending, the sooner of the two wins: a shorter delay replaces the
// pending one, a longer one changes nothing. d <= 0 is Add.
func (q *Queue) AddAfter(key string, d time.Duration) {
	if d <= 0 {
		q.Add(key)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown {
		return
	}
	at := time.Now().Add(d)
	if old, ok := q.timers[key]; ok {
		if !at.Before(old.at) {
			return
		}
		old.t.Stop()
	}
	w := &delayed{at: at}
	w.t = time.AfterFunc(d, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		// A timer that fired as a sooner one replaced it must not remove
		// its replacement.
		if q.timers[key] == w {
			delete(q.timers, key)
		}
		q.addLocked(key)
	})
	q.timers[key] = w
}

// AddRateLimited queues key after its backoff, which doubles with each
// call until Forget.
func (q *Queue) AddRateLimited(key string) {
	q.mu.Lock()
	n := q.failures[key]
	q.failures[key] = n + 1
	q.mu.Unlock()
	if q.m.Retries != nil {
		q.m.Retries.Inc()
	}
	d := q.base
	for i := 0; i < n && d < q.max; i++ {
		d *= 2
	}
	if d > q.max {
		d = q.max
	}
	q.AddAfter(key, d)
}

// Forget resets key's backoff.
func (q *Queue) Forget(key string) {
	q.mu.Lock()
	delete(q.failures, key)
	q.mu.Unlock()
}

// Get blocks until a key is available and returns it, or returns false
// after Shutdown. The caller must call Done(key) when finished.
func (q *Queue) Get() (string, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.queue) == 0 && !q.shutdown {
		q.cond.Wait()
	}
	if q.shutdown {
		return "", false
	}
	key := q.queue[0]
	q.queue[0] = ""
	q.queue = q.queue[1:]
	q.processing[key] = true
	delete(q.dirty, key)
	q.depthLocked()
	if q.added != nil {
		now := time.Now()
		if t, ok := q.added[key]; ok && q.m.QueueDuration != nil {
			q.m.QueueDuration.Observe(now.Sub(t).Seconds())
		}
		delete(q.added, key)
		q.started[key] = now
	}
	return key, true
}

// Done marks key processed; if it was added meanwhile it is queued again.
func (q *Queue) Done(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, key)
	if q.started != nil {
		if t, ok := q.started[key]; ok && q.m.WorkDuration != nil {
			q.m.WorkDuration.Observe(time.Since(t).Seconds())
		}
		delete(q.started, key)
	}
	if q.dirty[key] && !q.shutdown {
		q.queue = append(q.queue, key)
		q.depthLocked()
		q.cond.Signal()
	}
}

// Len returns the number of queued keys.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.queue)
}

// Shutdown wakes every Get (which then returns false) and stops pending
// timers. Safe to call twice.
func (q *Queue) Shutdown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	for k, w := range q.timers {
		w.t.Stop()
		delete(q.timers, k)
	}
	q.depthLocked()
	q.cond.Broadcast()
}
