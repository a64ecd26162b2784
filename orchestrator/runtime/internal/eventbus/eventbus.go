// Package eventbus fans runtime events out to subscribers without ever
// blocking the publisher: each subscriber has a bounded queue drained by a
// goroutine the Bus owns; a subscriber that overflows its queue loses the
// queued events and receives runtime.EventResync instead.
package eventbus

import (
	"context"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// DefaultQueue is the per-subscriber queue length used when New gets 0.
const DefaultQueue = 4096

// Bus is a fan-out of events. The zero value is not usable; call New.
type Bus struct {
	queue int
	done  chan struct{}

	mu     sync.Mutex
	subs   map[*sub]struct{}
	closed bool
	wg     sync.WaitGroup
}

type sub struct {
	ctx    context.Context
	out    chan runtime.Event
	wake   chan struct{}
	q      []runtime.Event // guarded by Bus.mu
	lost   bool            // guarded by Bus.mu
	queued int
}

// New returns a Bus whose subscribers queue up to queue events (0 means
// DefaultQueue).
func New(queue int) *Bus {
	if queue <= 0 {
		queue = DefaultQueue
	}
	return &Bus{queue: queue, done: make(chan struct{}), subs: map[*sub]struct{}{}}
}

// Subscribe returns a channel receiving every event published from now on
// until ctx is done or the Bus closes; then the channel is closed. It
// starts one goroutine, owned by the Bus. Errors: runtime.ErrClosed.
func (b *Bus) Subscribe(ctx context.Context) (<-chan runtime.Event, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, runtime.ErrClosed
	}
	s := &sub{ctx: ctx, out: make(chan runtime.Event, 16), wake: make(chan struct{}, 1)}
	b.subs[s] = struct{}{}
	b.wg.Add(1)
	go b.pump(s)
	return s.out, nil
}

// Publish queues ev for every subscriber. It never blocks.
func (b *Bus) Publish(ev runtime.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if len(s.q) >= b.queue {
			s.q = s.q[:0]
			s.lost = true
		} else {
			s.q = append(s.q, ev)
		}
		select {
		case s.wake <- struct{}{}:
		default:
		}
	}
}

// Subscribers returns the number of live subscriptions.
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Close ends every subscription and waits for their goroutines. It is
// idempotent.
func (b *Bus) Close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.done)
	}
	b.mu.Unlock()
	b.wg.Wait()
}

func (b *Bus) pump(s *sub) {
	defer b.wg.Done()
	defer func() {
		b.mu.Lock()
		delete(b.subs, s)
		b.mu.Unlock()
		close(s.out)
	}()
	var batch []runtime.Event
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-b.done:
			return
		case <-s.wake:
		}
		b.mu.Lock()
		batch = append(batch[:0], s.q...)
		s.q = s.q[:0]
		if s.lost {
			s.lost = false
			batch = append(batch[:0], runtime.Event{Type: runtime.EventResync, Time: time.Now()})
		}
		b.mu.Unlock()
		for _, ev := range batch {
			select {
			case s.out <- ev:
			case <-s.ctx.Done():
				return
			case <-b.done:
				return
			}
		}
	}
}
