// Package events records Kubernetes Event objects for what controllers, the
// scheduler and agents do, without ever blocking them: Eventf queues, one
// goroutine writes, and events beyond the queue are dropped and counted.
package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync/atomic"

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

// Run writes queued events until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev := <-r.ch:
			if err := r.reg.Create(ctx, ev); err != nil && ctx.Err() == nil {
				r.log.Debug("event not recorded", zap.String("reason", ev.Reason), zap.Error(err))
			}
		}
	}
}
