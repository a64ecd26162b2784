package raftstore

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// Watcher streams the changes under a prefix. Read Events until it is
// closed, then Err says why.
type Watcher struct {
	events chan Event
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Events delivers changes in revision order, each exactly once, without
// gaps; the events of one revision always arrive together. It is closed
// when the watch ends. Its buffer is Config.WatchBuffer events; a consumer
// that falls more than HistorySize events behind is cut loose with
// ErrTooOld (it never slows the store or other watchers).
func (w *Watcher) Events() <-chan Event { return w.events }

// Stop ends the watch and waits for it to wind down. Safe to call twice.
func (w *Watcher) Stop() {
	w.cancel()
	<-w.done
}

// Err returns why the watch ended, once Events is closed: ErrTooOld (re-list
// and watch again), ErrStopped (the store shut down), ErrDecrypt, or the
// context's error after Stop or cancellation. Before that it returns nil.
func (w *Watcher) Err() error {
	select {
	case <-w.done:
		return w.err
	default:
		return nil
	}
}

// Watch streams every change to keys under prefix after revision fromRev
// (0: from now). Replay comes from the in-memory history, then the stream
// continues live. A fromRev this node has not applied yet is allowed: the
// watch waits for it.
//
// Errors: ErrTooOld when fromRev is older than the retained history (list
// again and watch from the list's revision); ErrInvalidArgument for a
// negative fromRev; ErrNotStarted; ErrStopped.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) (*Watcher, error) {
	if fromRev < 0 {
		return nil, fmt.Errorf("%w: fromRev %d is negative", ErrInvalidArgument, fromRev)
	}
	if err := s.running(); err != nil {
		return nil, err
	}
	seq, err := s.fsm.watchStart(fromRev)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &Watcher{events: make(chan Event, s.cfg.WatchBuffer), cancel: cancel, done: make(chan struct{})}
	ws := &watchState{w: w, prefix: prefix, fromRev: fromRev, wake: make(chan struct{}, 1)}
	// Checked and counted together, so Shutdown never misses the goroutine.
	s.lifeMu.Lock()
	if s.stopped {
		s.lifeMu.Unlock()
		cancel()
		return nil, ErrStopped
	}
	s.wg.Add(1)
	s.lifeMu.Unlock()
	s.metrics.watchers.Inc()
	go s.runWatch(ctx, ws, seq)
	return w, nil
}

// A watcher is in one of two modes. Live, the hub's dispatcher goroutine
// hands it each new event with a non-blocking send, so one wake-up of one
// goroutine per apply serves every live watcher. Catching up (at the start,
// and whenever its channel was full), its own goroutine copies events from
// the history with blocking sends, at the consumer's pace, until it has
// reached the dispatcher again; one that falls out of the history is cut
// loose with ErrTooOld. Either way it never blocks apply or other watchers.

// watchHub is the set of live watchers and how far the dispatcher got.
type watchHub struct {
	mu   sync.Mutex
	live map[*watchState]struct{}
	seq  uint64 // the next history sequence number the dispatcher handles
}

type watchState struct {
	w       *Watcher
	prefix  string
	fromRev int64
	wake    chan struct{} // buffered 1: "you were demoted, catch up"
	// cursor is the next sequence number to deliver. While live, the
	// dispatcher owns it (under the hub's lock).
	cursor uint64
}

// dispatch feeds live watchers until the Store stops.
func (s *Store) dispatch() {
	defer s.wg.Done()
	const chunk = 1024
	buf := make([]histEvent, 0, chunk)
	built := make([]*Event, chunk+64)
	for {
		s.hub.mu.Lock()
		seq := s.hub.seq
		s.hub.mu.Unlock()
		b, err := s.fsm.eventsAfter(seq, "", chunk, buf[:0])
		evs, next := b.events, b.next
		s.hub.mu.Lock()
		if err != nil {
			// The history moved past us (a snapshot was restored): every
			// live watcher must find out for itself, from the history.
			for ws := range s.hub.live {
				s.demoteLocked(ws)
			}
			s.hub.seq = s.fsm.historyStart()
			s.hub.mu.Unlock()
			continue
		}
		if len(built) < len(evs) {
			built = make([]*Event, len(evs))
		}
		clear(built)
		for ws := range s.hub.live {
			s.feedLocked(ws, evs, built, seq, b.keys)
		}
		s.hub.seq = next
		s.hub.mu.Unlock()
		if next-seq >= chunk {
			continue
		}
		select {
		case <-b.changed:
		case <-s.ctx.Done():
			return
		}
	}
}

// feedLocked delivers evs (history sequence numbers from seq on) to a live
// watcher, demoting it if its channel is full. built caches each event's
// Event value, so live watchers share one copy of each value.
func (s *Store) feedLocked(ws *watchState, evs []histEvent, built []*Event, seq uint64, kr *keyring) {
	for i := range evs {
		n := seq + uint64(i)
		if n < ws.cursor {
			continue
		}
		he := &evs[i]
		if he.rev > ws.fromRev && strings.HasPrefix(he.e.key, ws.prefix) {
			if built[i] == nil {
				ev, err := event(he, kr)
				if err != nil {
					s.demoteLocked(ws) // the watcher's goroutine meets the error itself
					return
				}
				built[i] = &ev
			}
			select {
			case ws.w.events <- *built[i]:
				s.metrics.delivered(1)
			default:
				s.demoteLocked(ws)
				return
			}
		}
		ws.cursor = n + 1
	}
}

func (s *Store) demoteLocked(ws *watchState) {
	delete(s.hub.live, ws)
	s.metrics.demotions.Inc()
	select {
	case ws.wake <- struct{}{}:
	default:
	}
}

// event builds the Event of he, opening values with kr.
func event(he *histEvent, kr *keyring) (Event, error) {
	v, err := kr.value(he.e, false)
	if err != nil {
		return Event{}, err
	}
	ev := Event{Type: he.typ, Key: he.e.key, Value: v, Revision: he.rev, CreateRevision: he.e.createRev, Version: he.e.version}
	switch {
	case he.typ == EventDelete:
		ev.Version = 0
		ev.PrevValue = v
	case he.prev != nil:
		if ev.PrevValue, err = kr.value(he.prev, true); err != nil {
			return Event{}, err
		}
	}
	return ev, nil
}

// runWatch owns one watcher: it catches up from the history and hands the
// watcher to the dispatcher whenever it has caught up.
func (s *Store) runWatch(ctx context.Context, ws *watchState, seq uint64) {
	w := ws.w
	defer s.wg.Done()
	defer s.metrics.watchers.Dec()
	// done first: once Events is closed, Err already tells why.
	defer close(w.events)
	defer close(w.done)
	defer func() {
		s.hub.mu.Lock()
		delete(s.hub.live, ws)
		s.hub.mu.Unlock()
	}()
	defer w.cancel()
	const chunk = 256
	buf := make([]histEvent, 0, chunk)
	for {
		b, err := s.fsm.eventsAfter(seq, ws.prefix, chunk, buf[:0])
		if err != nil {
			w.err = err
			return
		}
		evs := b.events
		for i := range evs {
			if evs[i].rev <= ws.fromRev {
				continue
			}
			ev, err := event(&evs[i], b.keys)
			if err != nil {
				w.err = err
				return
			}
			select {
			case w.events <- ev:
			case <-ctx.Done():
				w.err = ctx.Err()
				return
			case <-s.ctx.Done():
				w.err = ErrStopped
				return
			}
		}
		s.metrics.delivered(len(evs))
		seq = b.next
		if !b.caughtUp {
			continue
		}
		s.hub.mu.Lock()
		if s.hub.seq > seq {
			// The dispatcher has handled events we have not read yet.
			s.hub.mu.Unlock()
			continue
		}
		ws.cursor = seq
		s.hub.live[ws] = struct{}{}
		s.hub.mu.Unlock()
		select {
		case <-ws.wake:
			s.hub.mu.Lock()
			seq = ws.cursor
			s.hub.mu.Unlock()
		case <-ctx.Done():
			w.err = ctx.Err()
			return
		case <-s.ctx.Done():
			w.err = ErrStopped
			return
		}
	}
}
