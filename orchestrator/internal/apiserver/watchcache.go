package apiserver

import (
	"encoding/json"
	"reflect"
	"sync"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// encodedCacheSize bounds the encoded objects of recent watch events the
// server keeps: enough for every stream to find an event's bytes while the
// event fans out to the streams; a stream further behind encodes again.
const encodedCacheSize = 1024

// encodedObjects holds the JSON encoding of the objects of recent watch
// events, so that the N streams sending one event encode it once, as
// kube-apiserver's cachingObject does. It is keyed by the object's
// identity: the registry hands every shared watcher of a kind the same
// decoded object for an event (client.ListOptions.Shared), and shared
// objects are never modified, so one object has one encoding. An object
// not shared with other streams is encoded once and kept a while, at the
// cost of a map entry. Safe for concurrent use.
type encodedObjects struct {
	mu   sync.Mutex
	m    map[api.Object]*encodedObject
	ring [encodedCacheSize]api.Object // insertion order; the oldest is replaced
	next int
}

// encodedObject is one object's JSON, computed by the first stream that
// needs it while the others wait for it.
type encodedObject struct {
	once sync.Once
	b    []byte
	err  error
}

// json returns the JSON encoding of obj (typed: apiVersion and kind set),
// shared with every other caller for the same object. The bytes must not
// be modified.
//
// Errors: those of json.Marshal for obj.
func (c *encodedObjects) json(obj api.Object) ([]byte, error) {
	if reflect.TypeOf(obj).Kind() != reflect.Pointer {
		return json.Marshal(obj) // no identity to key by
	}
	c.mu.Lock()
	e, ok := c.m[obj]
	if !ok {
		if c.m == nil {
			c.m = make(map[api.Object]*encodedObject, encodedCacheSize)
		}
		if old := c.ring[c.next]; old != nil {
			delete(c.m, old)
		}
		c.ring[c.next] = obj
		c.next = (c.next + 1) % encodedCacheSize
		e = &encodedObject{}
		c.m[obj] = e
	}
	c.mu.Unlock()
	e.once.Do(func() { e.b, e.err = json.Marshal(obj) })
	return e.b, e.err
}
