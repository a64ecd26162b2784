package registry

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/strategy"
	"github.com/flotilla-io/flotilla/raftstore"
)

// Defaults of Limits.
const (
	// DefaultMaxReplicas bounds spec.replicas of one workload: the 10,000
	// Pods a server is sized for (every server holds every Pod: about
	// 150 MiB of resident memory for 10,000, BENCHMARKS.md). A Deployment
	// of a million replicas would need gigabytes on each server.
	DefaultMaxReplicas = 10000
	// DefaultMaxObjectsPerNamespace bounds the objects of one kind in one
	// namespace: ten times a server's 10,000 Pods, so that a workload at
	// the replica limit, its Events (two per Pod as it starts) and
	// its neighbours fit, while a runaway creator stops there instead of
	// at the machine's memory.
	DefaultMaxObjectsPerNamespace = 100000
)

// Limits are cluster-wide safety limits on writes, until ResourceQuota
// exists. For each field 0 means its default and a negative value turns
// the limit off.
type Limits struct {
	// MaxReplicas bounds the replicas one object asks for (the kinds
	// whose strategy is strategy.Replicated: spec.replicas of Deployments
	// and ReplicaSets). A create or an update that asks for more is
	// Invalid, naming the field and the limit; an update that does not
	// raise the replicas of an object already over a lowered limit is
	// let through. Default DefaultMaxReplicas.
	MaxReplicas int64
	// MaxObjectsPerNamespace bounds how many objects of one kind a
	// namespace holds: a create beyond it is Forbidden, naming the
	// namespace, the kind and the limit. The creates through one server
	// never pass it (near the limit they count the store and write one at
	// a time); those through several servers at once may take a namespace
	// a little past it, since each server counts at most once a second
	// while it is far from the limit. Default
	// DefaultMaxObjectsPerNamespace.
	MaxObjectsPerNamespace int
}

func (l Limits) withDefaults() Limits {
	if l.MaxReplicas == 0 {
		l.MaxReplicas = DefaultMaxReplicas
	}
	if l.MaxObjectsPerNamespace == 0 {
		l.MaxObjectsPerNamespace = DefaultMaxObjectsPerNamespace
	}
	return l
}

// replicaLimit returns the field error of an object that asks for more
// replicas than the limit allows (old is the stored object on an update,
// nil on a create), or nil.
func (r *Registry) replicaLimit(st strategy.Strategy, obj, old api.Object) api.FieldErrorList {
	rs, ok := st.(strategy.Replicated)
	if !ok || r.limits.MaxReplicas < 0 {
		return nil
	}
	n, field, ok := rs.Replicas(obj)
	if !ok || n <= r.limits.MaxReplicas {
		return nil
	}
	if old != nil {
		if was, _, ok := rs.Replicas(old); ok && n <= was {
			return nil // not raised: an object over a lowered limit stays writable
		}
	}
	return api.FieldErrorList{api.Invalid(field, n, fmt.Sprintf("must be less than or equal to %d, the cluster's limit of replicas per workload", r.limits.MaxReplicas))}
}

// namespaceCounts keeps, per kind and namespace, how many objects the
// namespace held when last counted and how many creates this registry
// admitted since, so that the object limit costs a walk of the
// namespace's keys about once a second, not on every create.
//
// Far from the limit (under nine tenths, counted less than a second ago)
// creates go ahead at once, each adding to the estimate. Otherwise a
// create counts the store's keys and then writes while it holds its
// namespace's lock, which waits for the creates under way: near the
// limit, creates through one server are exact, one at a time.
type namespaceCounts struct {
	mu sync.Mutex
	m  map[string]*nsCount // by key prefix
}

type nsCount struct {
	// lock is held shared by a create admitted on the estimate, and
	// exclusively by a create that counts, until each has written.
	lock sync.RWMutex
	// Guarded by namespaceCounts.mu:
	n       int       // objects counted in the store
	pending int       // creates admitted since the count
	at      time.Time // when counted (zero: never)
	used    time.Time // when last used, for pruning
}

// countRefresh is how old a count may be before a create counts again;
// maxCounts is how many namespaces' counts are kept before those unused
// for countForget are dropped.
const (
	countRefresh = time.Second
	countForget  = time.Minute
	maxCounts    = 4096
)

// entry returns the count of prefix, made if need be.
func (nc *namespaceCounts) entry(prefix string, now time.Time) *nsCount {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	if nc.m == nil {
		nc.m = map[string]*nsCount{}
	}
	c := nc.m[prefix]
	if c == nil {
		if len(nc.m) >= maxCounts {
			for p, old := range nc.m {
				if now.Sub(old.used) >= countForget {
					delete(nc.m, p)
				}
			}
		}
		c = &nsCount{}
		nc.m[prefix] = c
	}
	c.used = now
	return c
}

// admitCreate checks that a namespace may take one more object of info's
// kind. On success the caller must call done once the create is over,
// with whether it stored the object.
//
// Errors: Forbidden over the limit; the store's error when counting.
func (r *Registry) admitCreate(ctx context.Context, info api.KindInfo, namespace, name string) (done func(stored bool), _ error) {
	limit := r.limits.MaxObjectsPerNamespace
	if limit < 0 || !info.Namespaced {
		return func(bool) {}, nil
	}
	prefix := KeyPrefix(info, namespace)
	now := time.Now()
	c := r.counts.entry(prefix, now)

	c.lock.RLock()
	r.counts.mu.Lock()
	fast := now.Sub(c.at) < countRefresh && c.n+c.pending+1 <= limit-limit/10
	if fast {
		c.pending++
	}
	r.counts.mu.Unlock()
	if fast {
		return func(bool) { c.lock.RUnlock() }, nil
	}
	c.lock.RUnlock()

	c.lock.Lock()
	n, _, err := r.kv.Count(ctx, prefix, raftstore.Limit(limit))
	if err != nil {
		c.lock.Unlock()
		return nil, storeErr(err, info, name)
	}
	r.counts.mu.Lock()
	c.n, c.pending, c.at = n, 0, time.Now()
	r.counts.mu.Unlock()
	if n >= limit {
		c.lock.Unlock()
		return nil, api.NewForbidden(info.Kind, name, fmt.Errorf("namespace %q holds %d %s, the cluster's limit of objects of one kind per namespace",
			namespace, limit, info.Resource))
	}
	return func(stored bool) {
		if stored {
			r.counts.mu.Lock()
			c.pending++
			r.counts.mu.Unlock()
		}
		c.lock.Unlock()
	}, nil
}
