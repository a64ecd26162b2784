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
	// DefaultMaxReplicas bounds spec.replicas of one workload. Every server
	// holds every Pod in memory (the store and the controllers' caches,
	// some kilobytes per Pod), so a workload of a million replicas is
	// gigabytes on each of them; 10,000 is twice the largest Deployment
	// of Kubernetes' 5,000-node scalability tests.
	DefaultMaxReplicas = 10000
	// DefaultMaxObjectsPerNamespace bounds the objects of one kind in one
	// namespace: five workloads at the replica limit, or the Events a
	// Deployment at the limit records while it starts.
	DefaultMaxObjectsPerNamespace = 50000
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
	// namespace, the kind and the limit. The count is this server's view,
	// refreshed at least every second and whenever it nears the limit, so
	// objects other servers create meanwhile may take a namespace a little
	// past it. Default DefaultMaxObjectsPerNamespace.
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

// namespaceCounts estimates how many objects of each kind each namespace
// holds, so that the object limit costs a walk of the namespace's keys at
// most once a second (and near the limit), not on every create.
type namespaceCounts struct {
	mu sync.Mutex
	m  map[string]*nsCount // by key prefix
}

type nsCount struct {
	n       int       // counted in the store
	created int       // creates this registry made since
	at      time.Time // when counted
}

// countRefresh is how old a count may be before a create counts again;
// maxCounts is how many counts are kept before stale ones are dropped.
const (
	countRefresh = time.Second
	maxCounts    = 4096
)

// checkObjectLimit refuses to create an object of info's kind in
// namespace when the namespace holds the limit already. The caller calls
// created after a create it stored.
//
// Errors: Forbidden over the limit; the store's error when counting.
func (r *Registry) checkObjectLimit(ctx context.Context, info api.KindInfo, namespace, name string) error {
	limit := r.limits.MaxObjectsPerNamespace
	if limit < 0 || !info.Namespaced {
		return nil
	}
	prefix := KeyPrefix(info, namespace)
	now := time.Now()
	r.counts.mu.Lock()
	c := r.counts.m[prefix]
	fresh := c != nil && now.Sub(c.at) < countRefresh && c.n+c.created < limit-limit/10
	r.counts.mu.Unlock()
	if fresh {
		return nil
	}
	n, _, err := r.kv.Count(ctx, prefix, raftstore.Limit(limit))
	if err != nil {
		return storeErr(err, info, name)
	}
	r.counts.mu.Lock()
	if r.counts.m == nil {
		r.counts.m = map[string]*nsCount{}
	}
	if len(r.counts.m) >= maxCounts {
		// Namespaces come and go: forget the counts no create needs.
		for p, c := range r.counts.m {
			if now.Sub(c.at) >= countRefresh {
				delete(r.counts.m, p)
			}
		}
	}
	r.counts.m[prefix] = &nsCount{n: n, at: now}
	r.counts.mu.Unlock()
	if n >= limit {
		return api.NewForbidden(info.Kind, name, fmt.Errorf("namespace %q holds %d %s, the cluster's limit of objects of one kind per namespace",
			namespace, limit, info.Resource))
	}
	return nil
}

// created notes a create in namespace for the next estimate.
func (r *Registry) created(info api.KindInfo, namespace string) {
	if r.limits.MaxObjectsPerNamespace < 0 || !info.Namespaced {
		return
	}
	r.counts.mu.Lock()
	if c := r.counts.m[KeyPrefix(info, namespace)]; c != nil {
		c.created++
	}
	r.counts.mu.Unlock()
}
