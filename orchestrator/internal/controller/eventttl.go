package controller

import (
	"context"
	"time"

	"github.com/flotilla-io/flotilla/internal/ratelog"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"go.uber.org/zap"
)

// DefaultEventTTL is how long Events are kept when Config.EventTTL is zero
// (kube-apiserver's --event-ttl default).
const DefaultEventTTL = time.Hour

// eventExpirer deletes Events older than the TTL, the job etcd leases do
// for kube-apiserver. It sweeps every TTL/10 (between 10 ms and a minute),
// so an Event lives between TTL and TTL plus one sweep interval, measured
// to the second (Event timestamps have second precision).
//
// It keeps no state between sweeps: each one scans the Events in the
// store, decoding one at a time.
type eventExpirer struct {
	reg client.Interface
	ttl time.Duration
	log *zap.Logger
	// failures logs failed sweeps at Warn, rate-limited.
	failures *ratelog.Limiter
	now      func() time.Time
}

func newEventExpirer(reg client.Interface, ttl time.Duration, log *zap.Logger) *eventExpirer {
	if ttl <= 0 {
		ttl = DefaultEventTTL
	}
	log = log.Named("eventttl")
	return &eventExpirer{reg: reg, ttl: ttl, log: log, failures: ratelog.New(log, ratelog.DefaultInterval), now: time.Now}
}

func (e *eventExpirer) interval() time.Duration {
	return min(max(e.ttl/10, 10*time.Millisecond), time.Minute)
}

func (e *eventExpirer) run(ctx context.Context) {
	t := time.NewTicker(e.interval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := e.sweep(ctx); err != nil && ctx.Err() == nil {
				e.failures.Warn("sweep", "event sweep failed; retrying at the next tick", zap.Error(err), zap.Int("deleted", n))
			} else if n > 0 {
				e.log.Debug("expired events deleted", zap.Int("deleted", n))
			}
		}
	}
}

// sweep deletes every expired Event and returns how many it deleted.
func (e *eventExpirer) sweep(ctx context.Context) (int, error) {
	info, ok := e.reg.Scheme().KindFor(&api.Event{})
	if !ok {
		return 0, api.NewBadRequest("the scheme has no Event kind")
	}
	cutoff := e.now().Add(-e.ttl)
	deleted := 0
	_, err := client.Scan(ctx, e.reg, info, client.ListOptions{}, func(o api.Object) error {
		ev := o.(*api.Event)
		if eventLastSeen(ev).After(cutoff) {
			return nil
		}
		// At the resourceVersion seen: an Event written again meanwhile
		// (count++) is left for a later sweep.
		err := e.reg.Delete(ctx, ev.Namespace, ev.Name, &api.Event{}, client.DeleteOptions{ResourceVersion: ev.ResourceVersion})
		switch {
		case err == nil:
			deleted++
		case api.IsNotFound(err), api.IsConflict(err):
		default:
			return err
		}
		return nil
	})
	return deleted, err
}

// eventLastSeen is when an Event was last recorded: the latest of its
// creationTimestamp, lastTimestamp, eventTime and series.lastObservedTime.
func eventLastSeen(ev *api.Event) time.Time {
	t := ev.CreationTimestamp.Time
	later := func(u time.Time) {
		if u.After(t) {
			t = u
		}
	}
	later(ev.LastTimestamp.Time)
	if ev.EventTime != nil {
		later(ev.EventTime.Time)
	}
	if ev.Series != nil && ev.Series.LastObservedTime != nil {
		later(ev.Series.LastObservedTime.Time)
	}
	return t
}
