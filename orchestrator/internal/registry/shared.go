package registry

import (
	"sync"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/strategy"
	"github.com/flotilla-io/flotilla/raftstore"
)

// sharedObjects lets read-only consumers (informer caches: the agent's
// and the controllers' hold the same Pods) share one decoded object per
// key and revision instead of each holding its own copy. It keeps only
// weak references: an object lives as long as some cache holds it.
type sharedObjects struct {
	mu sync.Mutex
	m  map[string]sharedRef
}

type sharedRef struct {
	rev int64
	get func() api.Object // nil once the object was collected
}

// decodeShared is decode for read-only consumers: an object of the same
// key and revision that another consumer decoded and still holds is
// returned instead of a new copy.
func (r *Registry) decodeShared(info api.KindInfo, kv raftstore.KV) (api.Object, error) {
	r.shared.mu.Lock()
	if ref, ok := r.shared.m[kv.Key]; ok && ref.rev == kv.ModRevision {
		if obj := ref.get(); obj != nil {
			r.shared.mu.Unlock()
			return obj, nil
		}
	}
	r.shared.mu.Unlock()
	obj, err := r.decode(info, kv)
	if err != nil {
		return nil, err
	}
	// Only kinds with many objects are shared (their strategies say so):
	// for the others the map entry would cost more than it saves.
	if sh, ok := r.strategies.For(info).(strategy.Sharer); ok {
		get := sh.WeakRef(obj)
		r.shared.mu.Lock()
		if r.shared.m == nil {
			r.shared.m = map[string]sharedRef{}
		}
		if ref, ok := r.shared.m[kv.Key]; !ok || ref.rev <= kv.ModRevision {
			r.shared.m[kv.Key] = sharedRef{rev: kv.ModRevision, get: get}
		}
		r.shared.mu.Unlock()
	}
	return obj, nil
}

// forgetShared drops the reference of a deleted key.
func (r *Registry) forgetShared(key string, rev int64) {
	r.shared.mu.Lock()
	if ref, ok := r.shared.m[key]; ok && ref.rev < rev {
		delete(r.shared.m, key)
	}
	r.shared.mu.Unlock()
}
