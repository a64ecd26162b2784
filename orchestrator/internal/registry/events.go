package registry

import (
	"sync"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/raftstore"
)

// eventCacheSize bounds the decoded objects of recent watch events that
// watchers share: enough for every watcher to find an event's object while
// the event fans out (a watcher that falls further behind decodes it
// again), small enough to cost little (objects, not copies of the store).
const eventCacheSize = 1024

// eventObjects holds the decoded objects of the most recent watch events,
// so that N watchers of a kind decode each event once instead of N times,
// as kube-apiserver's watch cache does. The objects are shared: watchers
// hand them to Shared consumers as they are and to the others as deep
// copies (see Watch). Safe for concurrent use.
type eventObjects struct {
	mu   sync.Mutex
	m    map[eventKey]api.Object
	ring [eventCacheSize]eventKey // insertion order; the oldest is replaced
	next int
}

// eventKey names one decoded value of a store event: the key's state after
// the event (or, for a delete, its last state) or, with prev, before it.
// Both decode with the event's revision as their resourceVersion.
type eventKey struct {
	key  string
	rev  int64
	prev bool
}

// decodeEvent returns the decoded object of kv (a value of the event at
// kv.ModRevision; prev says which), shared with every other watcher that
// asks for the same one. A put's new state (put) is also shared with
// informers' lists (see decodeShared).
func (r *Registry) decodeEvent(info api.KindInfo, kv raftstore.KV, prev, put bool) (api.Object, error) {
	k := eventKey{key: kv.Key, rev: kv.ModRevision, prev: prev}
	c := &r.events
	c.mu.Lock()
	obj, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return obj, nil
	}
	// Two watchers may both miss and decode: rare (they run the same
	// events at nearly the same time, but the first stores its object
	// before most others look) and harmless (equal objects).
	var err error
	if put && !prev {
		obj, err = r.decodeShared(info, kv)
	} else {
		obj, err = r.decode(info, kv)
	}
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if have, ok := c.m[k]; ok {
		obj = have
	} else {
		if c.m == nil {
			c.m = make(map[eventKey]api.Object, eventCacheSize)
		}
		if old := c.ring[c.next]; old.key != "" {
			delete(c.m, old)
		}
		c.ring[c.next] = k
		c.next = (c.next + 1) % eventCacheSize
		c.m[k] = obj
	}
	c.mu.Unlock()
	return obj, nil
}
