package events

import (
	"container/list"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flotilla-io/flotilla/internal/ratelog"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// AggregationInterval is the least time between two writes of one Event
// while its event repeats. A readiness probe failing every 200 ms then
// costs 6 writes a minute instead of 300, and kubectl still shows a count
// at most 10 s old. Much shorter buys little, since Event timestamps have
// second precision; much longer would let a repeating Event look quiet
// (and the Event TTL is measured from lastTimestamp, so an Event written
// at least this often does not expire while its cause persists unless the
// TTL is shorter than this).
const AggregationInterval = 10 * time.Second

// maxKeys bounds the memory of recorded events (as client-go's correlator
// does, with the same number): at a few hundred bytes per key, about a
// megabyte.
const maxKeys = 4096

// queueSize is how many first occurrences and due updates may wait for a
// writer; Eventf drops new events beyond it.
const queueSize = 1024

// Recorder writes Events. Create with New, Run it; Eventf is safe for
// concurrent use and never blocks.
type Recorder struct {
	reg       client.Interface
	component string
	host      string
	log       *zap.Logger
	failures  *ratelog.Limiter
	metrics   Metrics
	// ch holds entries to write, each at most once (entry.queued).
	ch      chan *entry
	dropped atomic.Uint64

	// Fixed before the first Eventf; tests change them (export_test.go).
	interval time.Duration
	maxKeys  int
	now      func() time.Time

	mu    sync.Mutex
	cache map[key]*entry
	lru   *list.List // of *entry, the most recently seen in front
	// waiting holds the entries with repeats to write that are not queued,
	// for the sweep to queue once their interval is over.
	waiting map[*entry]struct{}
}

// key identifies identical events. The source (component and host) is
// the Recorder's own, so it is part of every key of a Recorder.
type key struct {
	uid                   api.UID // or, without one, kind, namespace and name
	kind, namespace, name string
	eventType, reason     string
	message               string
}

// entry is what the Recorder remembers about a key. Its fields are
// guarded by Recorder.mu; ev is replaced only by the one writer holding
// the entry (queued).
type entry struct {
	key key
	// ev is the Event as last stored, or, before created, as it is to
	// be created (with its name chosen).
	ev      *api.Event
	created bool
	// pending counts occurrences not yet written, from since to last.
	pending     int32
	since, last time.Time
	lastWrite   time.Time // when the last write began
	queued      bool      // in Recorder.ch or being written
	elem        *list.Element
}

func (e *entry) occurred(now time.Time) {
	if e.pending == 0 {
		e.since = now
	}
	e.pending = addCount(e.pending, 1)
	e.last = now
}

// addCount adds without overflowing: a Count stops at the largest int32.
func addCount(a, b int32) int32 {
	if a > math.MaxInt32-b {
		return math.MaxInt32
	}
	return a + b
}

// Metrics count the occurrences a Recorder could not record. Either
// field may be nil (not counted).
type Metrics struct {
	// Dropped counts first occurrences dropped because the queue was full
	// (what Dropped returns, for this Recorder only).
	Dropped prometheus.Counter
	// Failed counts occurrences given up because their write failed
	// (after its retries while there was no leader).
	Failed prometheus.Counter
}

// Option changes a Recorder New returns.
type Option func(*Recorder)

// WithMetrics makes the Recorder count what it drops in m.
func WithMetrics(m Metrics) Option { return func(r *Recorder) { r.metrics = m } }

// New returns a Recorder for component (e.g. "scheduler") on host.
func New(reg client.Interface, component, host string, log *zap.Logger, opts ...Option) *Recorder {
	if log == nil {
		log = zap.NewNop()
	}
	r := &Recorder{
		reg:       reg,
		component: component,
		host:      host,
		log:       log,
		failures:  ratelog.New(log, ratelog.DefaultInterval),
		ch:        make(chan *entry, queueSize),
		interval:  AggregationInterval,
		maxKeys:   maxKeys,
		now:       time.Now,
		cache:     map[key]*entry{},
		lru:       list.New(),
		waiting:   map[*entry]struct{}{},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

// Dropped returns how many events were dropped because the queue was full.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// Eventf records an event about obj of type api.EventTypeNormal or
// api.EventTypeWarning. A nil Recorder drops everything.
//
// The first occurrence of an event is queued to be created; if the queue
// is full it is dropped and counted (Dropped). An identical event (same
// object, type, reason and message) recorded before is only counted: the
// Event already written gets the count and the time of the last one, in
// one update per AggregationInterval at most (see the package doc).
func (r *Recorder) Eventf(obj api.Object, eventType, reason, format string, args ...any) {
	if r == nil {
		return
	}
	ref := api.NewObjectReference(obj)
	k := key{eventType: eventType, reason: reason, message: fmt.Sprintf(format, args...)}
	if ref.UID != "" {
		k.uid = ref.UID
	} else {
		k.kind, k.namespace, k.name = ref.Kind, ref.Namespace, ref.Name
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.cache[k]; e != nil {
		r.lru.MoveToFront(e.elem)
		e.occurred(now)
		if !e.queued {
			r.waiting[e] = struct{}{}
		}
		return
	}
	e := &entry{key: k, ev: r.newEvent(ref, eventType, reason, k.message)}
	e.occurred(now)
	select {
	case r.ch <- e:
		e.queued = true
	default:
		r.dropped.Add(1)
		if r.metrics.Dropped != nil {
			r.metrics.Dropped.Inc()
		}
		return
	}
	e.elem = r.lru.PushFront(e)
	r.cache[k] = e
	if r.lru.Len() > r.maxKeys {
		// The evicted entry's repeats not yet written still are (it stays
		// queued or waiting until then); the next occurrence of its key
		// starts a new Event.
		old := r.lru.Remove(r.lru.Back()).(*entry)
		delete(r.cache, old.key)
		old.elem = nil
	}
}

// newEvent returns an Event about ref to be created, under a name of its
// own; the writer sets its count and timestamps.
func (r *Recorder) newEvent(ref api.ObjectReference, eventType, reason, message string) *api.Event {
	ns := ref.Namespace
	if ns == "" {
		ns = api.DefaultNamespace
	}
	return &api.Event{
		ObjectMeta:          api.ObjectMeta{Name: eventName(ref.Name), Namespace: ns},
		InvolvedObject:      ref,
		Reason:              reason,
		Message:             message,
		Source:              api.EventSource{Component: r.component, Host: r.host},
		Type:                eventType,
		ReportingController: "flotilla.io/" + r.component,
		ReportingInstance:   r.host,
	}
}

// eventName returns a new Event's name: the object's name, a dot and 16
// random hex digits, as client-go names them. The object's name is cut
// so that the Event's stays a valid name (a DNS subdomain, 253
// characters) for objects whose names are already long: an Event must
// never be refused, and so lost, for its name.
func eventName(object string) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	suffix := hex.EncodeToString(b[:])
	const maxPrefix = 253 - 1 - len("0123456789abcdef")
	if len(object) > maxPrefix {
		// A subdomain's labels end with a letter or digit: no "-." or "..".
		object = strings.TrimRight(object[:maxPrefix], "-.")
	}
	if object == "" {
		return suffix
	}
	return object + "." + suffix
}

// flushTimeout bounds the writing of the events still queued when Run
// stops.
const flushTimeout = 2 * time.Second

// writers is how many events are written at a time. One at a time, a
// burst drains at one Raft commit per Event: 3 nodes with data dirs
// running 3,000 new Pods still had 3,053 Events to write when the last
// Pod ran, against 625 with four writers, whose writes share Raft entries
// (group commit).
const writers = 4

// Run writes queued events, and repeats once their interval is over,
// until ctx ends; then it writes what is still queued and every repeat
// not yet written within flushTimeout: a controller that just lost
// leadership has recorded what it did, and the write goes to the new
// leader. What the flush could not write waits for the next Run.
func (r *Recorder) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case e := <-r.ch:
					r.write(ctx, e)
				}
			}
		})
	}
	wg.Go(func() { r.sweepEvery(ctx) })
	wg.Wait()
	r.flush(ctx)
}

// sweepEvery queues due repeats every tenth of the interval, so a repeat
// is written at most a tenth of the interval after the interval ends.
func (r *Recorder) sweepEvery(ctx context.Context) {
	t := time.NewTicker(max(r.interval/10, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			r.sweep()
		}
	}
}

// sweep queues the waiting entries whose interval is over, as many as the
// queue takes (the rest wait for the next sweep), and returns how many it
// queued.
func (r *Recorder) sweep() int {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for e := range r.waiting {
		if now.Sub(e.lastWrite) < r.interval {
			continue
		}
		select {
		case r.ch <- e:
		default:
			return n
		}
		e.queued = true
		delete(r.waiting, e)
		n++
	}
	return n
}

func (r *Recorder) flush(ctx context.Context) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	jobs := make(chan *entry)
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for e := range jobs {
				r.write(fctx, e)
			}
		})
	}
	for drained := false; !drained; {
		select {
		case e := <-r.ch:
			jobs <- e
		default:
			drained = true
		}
	}
	r.mu.Lock()
	due := make([]*entry, 0, len(r.waiting))
	for e := range r.waiting {
		e.queued = true
		due = append(due, e)
	}
	clear(r.waiting)
	r.mu.Unlock()
	for _, e := range due {
		jobs <- e
	}
	close(jobs)
	wg.Wait()
}

// write stores e's occurrences not yet written: it creates the Event or
// adds them to it. Occurrences cut short by the end of ctx are kept for
// the flush (or the next Run); those that fail otherwise are dropped.
func (r *Recorder) write(ctx context.Context, e *entry) {
	r.mu.Lock()
	n, since, last := e.pending, e.since, e.last
	ev, created := e.ev, e.created
	e.pending = 0
	e.lastWrite = r.now()
	r.mu.Unlock()

	var stored *api.Event
	var err error
	if n > 0 {
		stored, err = r.store(ctx, ev, created, n, since, last)
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	e.queued = false
	switch {
	case n == 0:
	case err == nil:
		e.ev, e.created = stored, true
	case ctx.Err() != nil:
		if e.pending == 0 {
			e.last = last
		}
		e.pending = addCount(e.pending, n)
		e.since = since
	default:
		if r.metrics.Failed != nil {
			r.metrics.Failed.Add(float64(n))
		}
		r.failures.Warn("write", "event not recorded", zap.String("component", r.component),
			zap.String("reason", ev.Reason), zap.Int32("count", n), zap.Error(err))
	}
	if e.pending > 0 {
		r.waiting[e] = struct{}{}
	}
}

// store writes n occurrences between since and last: it creates ev if it
// is not created, or else adds them to the stored Event. It returns the
// Event as stored.
func (r *Recorder) store(ctx context.Context, ev *api.Event, created bool, n int32, since, last time.Time) (*api.Event, error) {
	if !created {
		ev = ev.DeepCopy()
		ev.Count, ev.FirstTimestamp, ev.LastTimestamp = n, api.NewTime(since), api.NewTime(last)
		return r.create(ctx, ev)
	}
	recreate := func() (*api.Event, error) {
		// The Event is gone (the Event TTL controller deleted it after a
		// quiet spell): start a new one with the occurrences since.
		fresh := r.newEvent(ev.InvolvedObject, ev.Type, ev.Reason, ev.Message)
		fresh.Count, fresh.FirstTimestamp, fresh.LastTimestamp = n, api.NewTime(since), api.NewTime(last)
		return r.create(ctx, fresh)
	}
	cur := ev.DeepCopy()
	for attempt := 1; ; attempt++ {
		want, at := addCount(cur.Count, n), api.NewTime(last)
		cur.Count, cur.LastTimestamp = want, at
		err := r.retry(ctx, func() error { return r.reg.Update(ctx, cur, client.UpdateOptions{}) })
		switch {
		case err == nil:
			return cur, nil
		case api.IsNotFound(err):
			return recreate()
		case !api.IsConflict(err) || attempt == 5:
			return nil, err
		}
		// Written by someone else meanwhile: add to what is stored.
		cur = &api.Event{}
		err = r.retry(ctx, func() error {
			return r.reg.Get(ctx, ev.Namespace, ev.Name, cur, client.GetOptions{Consistent: true})
		})
		switch {
		case api.IsNotFound(err):
			return recreate()
		case err != nil:
			return nil, err
		case cur.Count == want && cur.LastTimestamp.Equal(at):
			// This update was applied by an attempt whose outcome was
			// unknown (a leadership change); adding again would count
			// twice.
			return cur, nil
		}
	}
}

// create creates ev. A retry of a create that was applied finds the Event
// there (its name is its own) and reads it back.
func (r *Recorder) create(ctx context.Context, ev *api.Event) (*api.Event, error) {
	err := r.retry(ctx, func() error { return r.reg.Create(ctx, ev, client.CreateOptions{}) })
	if !api.IsAlreadyExists(err) {
		return ev, err
	}
	got := &api.Event{}
	err = r.retry(ctx, func() error {
		return r.reg.Get(ctx, ev.Namespace, ev.Name, got, client.GetOptions{Consistent: true})
	})
	return got, err
}

// retry calls f until it succeeds or fails for a reason other than a
// missing leader (or a leadership change that left the outcome unknown),
// at most five times with a doubling delay from 20 ms.
func (r *Recorder) retry(ctx context.Context, f func() error) error {
	delay := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := f()
		if err == nil || !api.IsServiceUnavailable(err) || attempt == 5 || ctx.Err() != nil {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
		delay *= 2
	}
}
