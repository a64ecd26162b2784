// Package events records Kubernetes Event objects for what controllers, the
// scheduler and agents do, without ever blocking them: Eventf queues, a few
// goroutines write (retrying while there is no leader, and flushing the
// queue when they stop), and events beyond the queue are dropped and
// counted.
package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"go.uber.org/zap"
)

// Recorder writes Events. Create with New, Run it; Eventf is safe for
// concurrent use and never blocks.
type Recorder struct {
	reg       *registry.Registry
	component string
	host      string
	ch        chan *api.Event
	dropped   atomic.Uint64
	log       *zap.Logger
}

// New returns a Recorder for component (e.g. "scheduler") on host.
func New(reg *registry.Registry, component, host string, log *zap.Logger) *Recorder {
	if log == nil {
		log = zap.NewNop()
	}
	return &Recorder{reg: reg, component: component, host: host, ch: make(chan *api.Event, 1024), log: log}
}

// Dropped returns how many events were dropped because the queue was full.
func (r *Recorder) Dropped() uint64 { return r.dropped.Load() }

// Eventf queues an event about obj of type api.EventTypeNormal or
// api.EventTypeWarning. A nil Recorder drops everything.
func (r *Recorder) Eventf(obj api.Object, eventType, reason, format string, args ...any) {
	if r == nil {
		return
	}
	ref := api.NewObjectReference(obj)
	ns := obj.GetNamespace()
	if ns == "" {
		ns = api.DefaultNamespace
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	now := api.Now()
	ev := &api.Event{
		ObjectMeta:          api.ObjectMeta{Name: obj.GetName() + "." + hex.EncodeToString(b[:]), Namespace: ns},
		InvolvedObject:      ref,
		Reason:              reason,
		Message:             fmt.Sprintf(format, args...),
		Source:              api.EventSource{Component: r.component, Host: r.host},
		FirstTimestamp:      now,
		LastTimestamp:       now,
		Count:               1,
		Type:                eventType,
		ReportingController: "flotilla.io/" + r.component,
		ReportingInstance:   r.host,
	}
	select {
	case r.ch <- ev:
	default:
		r.dropped.Add(1)
	}
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

// Run writes queued events until ctx ends, then writes what is still
// queued within flushTimeout: a controller that just lost leadership has
// recorded what it did, and the write goes to the new leader.
func (r *Recorder) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() { r.run(ctx) })
	}
	wg.Wait()
}

func (r *Recorder) run(ctx context.Context) {
	var pending *api.Event // cut short by the end of ctx
	for pending == nil {
		select {
		case <-ctx.Done():
			r.flush(ctx, nil)
			return
		case ev := <-r.ch:
			if !r.write(ctx, ev) && ctx.Err() != nil {
				pending = ev
			}
		}
	}
	r.flush(ctx, pending)
}

func (r *Recorder) flush(ctx context.Context, first *api.Event) {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	if first != nil {
		r.write(fctx, first)
	}
	for {
		select {
		case ev := <-r.ch:
			r.write(fctx, ev)
		default:
			return
		}
	}
}

// write creates ev, retrying while the cluster has no leader or a
// leadership change left the outcome unknown (an Event's name is its own,
// so a retry of a write that was applied finds it there and stops). It
// reports whether the Event is stored.
func (r *Recorder) write(ctx context.Context, ev *api.Event) bool {
	delay := 20 * time.Millisecond
	for attempt := 1; ; attempt++ {
		if ctx.Err() != nil {
			return false
		}
		err := r.reg.Create(ctx, ev)
		if err == nil || api.IsAlreadyExists(err) {
			return true
		}
		if !api.IsServiceUnavailable(err) || attempt == 5 || ctx.Err() != nil {
			if ctx.Err() == nil {
				r.log.Debug("event not recorded", zap.String("reason", ev.Reason), zap.Error(err))
			}
			return false
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
