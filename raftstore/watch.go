package raftstore

import (
	"context"
	"fmt"
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
	s.wg.Add(1)
	s.metrics.watchers.Inc()
	go s.runWatch(ctx, w, prefix, seq, fromRev)
	return w, nil
}

func (s *Store) runWatch(ctx context.Context, w *Watcher, prefix string, seq uint64, fromRev int64) {
	defer s.wg.Done()
	defer s.metrics.watchers.Dec()
	defer close(w.done)
	defer close(w.events)
	defer w.cancel()
	const chunk = 256
	buf := make([]histEvent, 0, chunk)
	for {
		evs, next, changed, caughtUp, err := s.fsm.eventsAfter(seq, prefix, chunk, buf[:0])
		if err != nil {
			w.err = err
			return
		}
		for _, he := range evs {
			if he.rev <= fromRev {
				continue
			}
			v, err := s.value(he.e)
			if err != nil {
				w.err = err
				return
			}
			ev := Event{Type: he.typ, Key: he.e.key, Value: v, Revision: he.rev, CreateRevision: he.e.createRev, Version: he.e.version}
			if he.typ == EventDelete {
				ev.Version = 0
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
		seq = next
		if !caughtUp {
			continue
		}
		select {
		case <-changed:
		case <-ctx.Done():
			w.err = ctx.Err()
			return
		case <-s.ctx.Done():
			w.err = ErrStopped
			return
		}
	}
}
