package orchestrator

import (
	"fmt"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// ReasonUnreadableObject is the reason of the Warning Event recorded about
// a stored object that cannot be read (see Cluster's handling of
// unreadable objects in the package documentation).
const ReasonUnreadableObject = "UnreadableObject"

// unreadableLogInterval is how often the same unreadable key is logged;
// maxLoggedKeys bounds the memory of when each key was last logged.
const (
	unreadableLogInterval = time.Minute
	maxLoggedKeys         = 1024
)

// unreadableReporter tells about the stored objects the registry's lists
// leave out because they cannot be read (a value that does not decrypt or
// does not decode: corruption, a bug, an object of an older version), so
// that skipping one never happens in silence: an error log naming the key
// (at most once a minute per key), the counter
// flotilla_registry_unreadable_objects_total{resource}, and a Warning
// Event about the object, aggregated as every Event is. It runs on the
// reading goroutine and never blocks.
type unreadableReporter struct {
	log     *zap.Logger
	skipped *prometheus.CounterVec
	rec     *events.Recorder
	reg     prometheus.Registerer // where skipped is registered; nil: nowhere

	mu     sync.Mutex
	logged map[string]time.Time // key -> last logged
}

func newUnreadableReporter(node string, log *zap.Logger) *unreadableReporter {
	return &unreadableReporter{
		log: log,
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "flotilla", Subsystem: "registry", Name: "unreadable_objects_total",
			Help:        "Stored objects a read left out because they could not be read (a value that does not decrypt or decode), by resource; each read that meets one counts.",
			ConstLabels: prometheus.Labels{"node": node},
		}, []string{"resource"}),
		logged: map[string]time.Time{},
	}
}

// register adds the counter to reg (nil: nowhere).
//
// Errors: the registerer's, e.g. a node of the same name registered there.
func (u *unreadableReporter) register(reg prometheus.Registerer) error {
	if reg == nil {
		return nil
	}
	if err := reg.Register(u.skipped); err != nil {
		return fmt.Errorf("orchestrator: register metrics: %w", err)
	}
	u.reg = reg
	return nil
}

// unregister removes the counter from where register put it.
func (u *unreadableReporter) unregister() {
	if u.reg != nil {
		u.reg.Unregister(u.skipped)
	}
}

// report is the registry's Config.OnUnreadable.
func (u *unreadableReporter) report(x registry.Unreadable) {
	u.skipped.WithLabelValues(x.Kind.Resource).Inc()
	if u.shouldLog(x.Key, time.Now()) {
		u.log.Error("stored object cannot be read: left out of lists until it is rewritten or deleted",
			zap.String("key", x.Key), zap.String("kind", x.Kind.Kind), zap.Error(x.Err))
	}
	if u.rec != nil && x.Name != "" {
		obj := x.Kind.New()
		tm, m := obj.GetTypeMeta(), obj.GetObjectMeta()
		tm.APIVersion, tm.Kind = x.Kind.APIVersion, x.Kind.Kind
		m.Namespace, m.Name = x.Namespace, x.Name
		u.rec.Eventf(obj, api.EventTypeWarning, ReasonUnreadableObject,
			"The stored %s cannot be read and is left out of every list (Get returns the error): %v", x.Kind.Kind, x.Err)
	}
}

// shouldLog reports whether key was not logged within the interval, and
// notes that it is now.
func (u *unreadableReporter) shouldLog(key string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if last, ok := u.logged[key]; ok && now.Sub(last) < unreadableLogInterval {
		return false
	}
	if len(u.logged) >= maxLoggedKeys {
		for k, last := range u.logged {
			if now.Sub(last) >= unreadableLogInterval {
				delete(u.logged, k)
			}
		}
		if len(u.logged) >= maxLoggedKeys {
			clear(u.logged) // a flood of bad keys: start over rather than grow
		}
	}
	u.logged[key] = now
	return true
}
