// Package informer keeps an in-memory cache of one kind's objects, fed by a
// registry list followed by a watch (re-listing when the watch reports
// TooOld or ends), and calls handlers on every change: Kubernetes'
// informer, for Flotilla's leader-side controllers, scheduler and agents.
//
// Objects returned by Get, List and ByIndex, and passed to handlers, are
// shared — with the other informers of the same registry, too: never
// modify them; DeepCopyObject first.
package informer

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/internal/ratelog"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"go.uber.org/zap"
)

// Handler reacts to cache changes. Its funcs run on the informer's
// goroutine and must not block (they typically add keys to a work queue).
// Nil funcs are skipped.
type Handler struct {
	OnAdd    func(obj api.Object)
	OnUpdate func(oldObj, newObj api.Object)
	OnDelete func(obj api.Object)
}

// IndexFunc returns the index values of an object.
type IndexFunc func(obj api.Object) []string

// Informer caches one kind. Create with New, add handlers and indexes,
// then Run it.
type Informer struct {
	reg  client.Interface
	info api.KindInfo
	opts client.ListOptions
	log  *zap.Logger
	// failures logs failed lists and watches at Warn, rate-limited.
	failures *ratelog.Limiter

	mu       sync.RWMutex
	items    map[string]api.Object
	indexFns map[string]IndexFunc
	indexes  map[string]map[string]map[string]api.Object // index -> value -> key -> obj
	rev      int64
	synced   bool
	changed  chan struct{} // closed and replaced whenever rev advances or sync completes
	handlers []Handler
	// transform, if set, replaces each object before it is cached.
	transform func(api.Object) api.Object
}

// New returns an informer of sample's kind with objects matching opts.
func New(reg client.Interface, sample api.Object, opts client.ListOptions, log *zap.Logger) *Informer {
	info, ok := reg.Scheme().KindFor(sample)
	if !ok {
		panic(fmt.Sprintf("informer: %T is not a registered kind", sample)) // programming error
	}
	if log == nil {
		log = zap.NewNop()
	}
	// Cached objects are read-only, so informers of one registry share
	// them (the agent's and the controllers' Pods are one copy).
	opts.Shared = true
	log = log.With(zap.String("kind", info.Kind))
	return &Informer{
		reg: reg, info: info, opts: opts, log: log, failures: ratelog.New(log, ratelog.DefaultInterval),
		items: map[string]api.Object{}, indexFns: map[string]IndexFunc{},
		indexes: map[string]map[string]map[string]api.Object{}, changed: make(chan struct{}),
	}
}

// AddHandler registers h. Call before Run.
func (i *Informer) AddHandler(h Handler) { i.handlers = append(i.handlers, h) }

// SetTransform makes the informer cache transform(obj) instead of each
// object it receives, e.g. MetadataOnly to hold only what a garbage
// collector needs. nil caches objects as they are. Call before Run.
func (i *Informer) SetTransform(transform func(api.Object) api.Object) { i.transform = transform }

// MetadataOnly returns an object of obj's type holding only its type and
// object metadata: for caches that look at nothing else.
func MetadataOnly(obj api.Object) api.Object {
	out := reflect.New(reflect.TypeOf(obj).Elem()).Interface().(api.Object)
	*out.GetTypeMeta() = *obj.GetTypeMeta()
	*out.GetObjectMeta() = *obj.GetObjectMeta()
	return out
}

// AddIndex registers an index; a second index of the same name is
// ignored, so that controllers sharing an informer can each ask for the
// indexes they use. Call before Run.
func (i *Informer) AddIndex(name string, fn IndexFunc) {
	if _, ok := i.indexFns[name]; ok {
		return
	}
	i.indexFns[name] = fn
	i.indexes[name] = map[string]map[string]api.Object{}
}

// Run lists and watches until ctx ends. A list or watch that fails is
// retried after a backoff (doubling up to a second) and logged at Warn,
// one line per ratelog.DefaultInterval. A watch that falls too far behind
// (re-listed at once) or ends without an error (re-listed after the
// backoff) is routine and logged at Debug.
func (i *Informer) Run(ctx context.Context) {
	backoff := 10 * time.Millisecond
	for ctx.Err() == nil {
		err := i.listAndWatch(ctx)
		if ctx.Err() != nil {
			return
		}
		if api.IsTooOld(err) {
			i.log.Debug("watch too old; re-listing")
			backoff = 10 * time.Millisecond
			continue
		}
		if err != nil {
			i.failures.Warn("listwatch", "list/watch failed; retrying", zap.Error(err), zap.Duration("backoff", backoff))
		} else {
			i.log.Debug("watch ended; re-listing", zap.Duration("backoff", backoff))
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		if backoff < time.Second {
			backoff *= 2
		}
	}
}

func (i *Informer) listAndWatch(ctx context.Context) error {
	objs, rev, err := i.reg.ListObjects(ctx, i.info, i.opts)
	if err != nil {
		return err
	}
	i.replace(objs, rev)
	wo := i.opts
	wo.ResourceVersion = itoa(rev)
	w, err := i.reg.Watch(ctx, i.info, wo)
	if err != nil {
		return err
	}
	defer w.Stop()
	for ev := range w.Events() {
		i.apply(ev)
	}
	return w.Err()
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	p := len(b)
	for n > 0 {
		p--
		b[p] = byte('0' + n%10)
		n /= 10
	}
	return string(b[p:])
}

func (i *Informer) replace(objs []api.Object, rev int64) {
	type change struct{ old, new api.Object }
	var changes []change
	i.mu.Lock()
	seen := make(map[string]bool, len(objs))
	for _, o := range objs {
		if i.transform != nil {
			o = i.transform(o)
		}
		k := api.KeyOf(o)
		seen[k] = true
		old := i.items[k]
		if old != nil && old.GetResourceVersion() == o.GetResourceVersion() {
			continue
		}
		i.setLocked(k, o)
		changes = append(changes, change{old, o})
	}
	for k, old := range i.items {
		if !seen[k] {
			i.deleteLocked(k)
			changes = append(changes, change{old, nil})
		}
	}
	i.rev = rev
	i.synced = true
	close(i.changed)
	i.changed = make(chan struct{})
	i.mu.Unlock()
	for _, c := range changes {
		i.notify(c.old, c.new)
	}
}

func (i *Informer) apply(ev api.WatchEvent) {
	if i.transform != nil {
		ev.Object = i.transform(ev.Object)
	}
	k := api.KeyOf(ev.Object)
	i.mu.Lock()
	old := i.items[k]
	var cur api.Object
	if ev.Type == api.Deleted {
		i.deleteLocked(k)
	} else {
		i.setLocked(k, ev.Object)
		cur = ev.Object
	}
	if ev.Revision > i.rev {
		i.rev = ev.Revision
	}
	close(i.changed)
	i.changed = make(chan struct{})
	i.mu.Unlock()
	if old == nil && cur == nil {
		return
	}
	i.notify(old, cur)
}

func (i *Informer) notify(old, cur api.Object) {
	for _, h := range i.handlers {
		switch {
		case old == nil && cur != nil:
			if h.OnAdd != nil {
				h.OnAdd(cur)
			}
		case old != nil && cur != nil:
			if h.OnUpdate != nil {
				h.OnUpdate(old, cur)
			}
		case old != nil:
			if h.OnDelete != nil {
				h.OnDelete(old)
			}
		}
	}
}

func (i *Informer) setLocked(k string, o api.Object) {
	if old := i.items[k]; old != nil {
		i.unindexLocked(k, old)
	}
	i.items[k] = o
	for name, fn := range i.indexFns {
		for _, v := range fn(o) {
			m := i.indexes[name][v]
			if m == nil {
				m = map[string]api.Object{}
				i.indexes[name][v] = m
			}
			m[k] = o
		}
	}
}

func (i *Informer) deleteLocked(k string) {
	if old := i.items[k]; old != nil {
		i.unindexLocked(k, old)
		delete(i.items, k)
	}
}

func (i *Informer) unindexLocked(k string, o api.Object) {
	for name, fn := range i.indexFns {
		for _, v := range fn(o) {
			if m := i.indexes[name][v]; m != nil {
				delete(m, k)
				if len(m) == 0 {
					delete(i.indexes[name], v)
				}
			}
		}
	}
}

// Synced reports whether the first list has completed.
func (i *Informer) Synced() bool {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.synced
}

// WaitSynced waits for the first list. Errors: ctx.Err().
func (i *Informer) WaitSynced(ctx context.Context) error {
	for {
		i.mu.RLock()
		synced, ch := i.synced, i.changed
		i.mu.RUnlock()
		if synced {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// WaitForRevision waits until the cache reflects every change of its kind
// up to rev (a revision returned by a write of this kind), so a control
// loop reads its own writes. Errors: ctx.Err().
func (i *Informer) WaitForRevision(ctx context.Context, rev int64) error {
	for {
		i.mu.RLock()
		cur, ch := i.rev, i.changed
		i.mu.RUnlock()
		if cur >= rev {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Get returns the cached object with key namespace/name (or name).
func (i *Informer) Get(key string) (api.Object, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	o, ok := i.items[key]
	return o, ok
}

// List returns every cached object.
func (i *Informer) List() []api.Object {
	i.mu.RLock()
	defer i.mu.RUnlock()
	out := make([]api.Object, 0, len(i.items))
	for _, o := range i.items {
		out = append(out, o)
	}
	return out
}

// ByIndex returns the objects whose index name has value.
func (i *Informer) ByIndex(name, value string) []api.Object {
	i.mu.RLock()
	defer i.mu.RUnlock()
	m := i.indexes[name][value]
	out := make([]api.Object, 0, len(m))
	for _, o := range m {
		out = append(out, o)
	}
	return out
}

// Common index names and funcs.
const (
	IndexNamespace = "namespace"
	IndexOwner     = "owner"    // owner UIDs
	IndexNodeName  = "nodeName" // Pods: spec.nodeName
	IndexUID       = "uid"
)

// NamespaceIndex indexes by namespace.
func NamespaceIndex(o api.Object) []string { return []string{o.GetNamespace()} }

// OwnerIndex indexes by the UIDs of owner references.
func OwnerIndex(o api.Object) []string {
	refs := o.GetObjectMeta().OwnerReferences
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, string(r.UID))
	}
	return out
}

// UIDIndex indexes by uid.
func UIDIndex(o api.Object) []string { return []string{string(o.GetUID())} }

// NodeNameIndex indexes Pods by spec.nodeName.
func NodeNameIndex(o api.Object) []string {
	if p, ok := o.(*api.Pod); ok {
		return []string{p.Spec.NodeName}
	}
	return nil
}
