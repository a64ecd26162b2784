package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/admission"
	"github.com/flotilla-io/flotilla/orchestrator/internal/admission/namespacelifecycle"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/strategy"
	"github.com/flotilla-io/flotilla/raftstore"
)

// Prefix is the root of every key the registry writes.
const Prefix = "/registry/"

// KV is the part of *raftstore.Store the registry uses.
type KV interface {
	Create(ctx context.Context, key string, value []byte) (int64, error)
	Update(ctx context.Context, key string, value []byte, expectedRev int64) (int64, error)
	Delete(ctx context.Context, key string, expectedRev int64) (int64, error)
	Txn(ctx context.Context, ops ...raftstore.Op) (int64, error)
	Get(ctx context.Context, key string, opts ...raftstore.ReadOption) (raftstore.KV, error)
	List(ctx context.Context, prefix string, opts ...raftstore.ReadOption) ([]raftstore.KV, int64, error)
	Count(ctx context.Context, prefix string, opts ...raftstore.ReadOption) (int, int64, error)
	Watch(ctx context.Context, prefix string, fromRev int64) (*raftstore.Watcher, error)
	Revision() int64
}

// Registry stores objects of the kinds of its scheme. Safe for concurrent
// use.
type Registry struct {
	*state
	// fence, when not 0, is the Raft term every write of this view is
	// fenced to (see Fenced).
	fence uint64
}

// state is what every view of a Registry shares.
type state struct {
	kv         KV
	scheme     *api.Scheme
	strategies *strategy.Set
	admission  admission.Chain
	shared     sharedObjects
	events     eventObjects

	limits       Limits // with defaults
	counts       namespaceCounts
	onUnreadable func(Unreadable)
}

// Config says what a Registry serves and how writes are admitted. The
// zero value serves the built-in kinds with their strategies and the
// default admission chain.
type Config struct {
	// Scheme holds the kinds served. nil: api.DefaultScheme().
	Scheme *api.Scheme
	// Strategies has one registration per kind of Scheme. nil:
	// strategy.Builtin(). To serve a kind of your own, add it to the
	// scheme and append its registration to strategy.Builtin().
	Strategies []strategy.Registration
	// Admission is the chain every write runs, in order. nil:
	// DefaultAdmission(). A non-nil empty chain admits everything. To add
	// a plugin to the defaults: append(DefaultAdmission(), plugin).
	Admission admission.Chain
	// Limits are the safety limits writes must keep; the zero value
	// means the defaults.
	Limits Limits
	// OnUnreadable, if set, is told of every stored object a read left
	// out because it could not be read (see Unreadable), each time a read
	// meets it. It is called synchronously on the reading goroutine
	// (informers, controllers, API calls): it must not block, and should
	// rate-limit what it logs. nil: such objects are left out silently.
	OnUnreadable func(Unreadable)
}

// DefaultAdmission returns the admission chain a registry runs unless
// Config.Admission says otherwise: NamespaceLifecycle. A new slice each
// call, so callers may append to it.
func DefaultAdmission() admission.Chain {
	return admission.Chain{namespacelifecycle.New()}
}

// New returns a Registry over kv. It starts nothing.
//
// Errors: every kind of the scheme without a strategy, and every
// registration that does not fit the scheme, at once (see
// strategy.NewSet).
func New(kv KV, cfg Config) (*Registry, error) {
	if cfg.Scheme == nil {
		cfg.Scheme = api.DefaultScheme()
	}
	if cfg.Strategies == nil {
		cfg.Strategies = strategy.Builtin()
	}
	if cfg.Admission == nil {
		cfg.Admission = DefaultAdmission()
	}
	set, err := strategy.NewSet(cfg.Scheme, cfg.Strategies)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	return &Registry{state: &state{kv: kv, scheme: cfg.Scheme, strategies: set, admission: slices.Clip(cfg.Admission),
		limits: cfg.Limits.withDefaults(), onUnreadable: cfg.OnUnreadable}}, nil
}

// Fenced returns a view of r whose every write (Create, Update,
// UpdateStatus, Patch, Delete, Bind, RemoveNamespace, and the writes of
// finalization) carries raftstore.OpFence(term) in its transaction, so it
// lands only while the node that leads Raft term term still leads it: the
// client of leader-only work (controllers, the scheduler), with term from
// raftstore's LeaderTerm. Reads and watches are r's. A write refused by
// the fence fails with ServiceUnavailable ("leadership changed: this node
// no longer leads term N") wrapping raftstore.ErrFenced, and nothing of
// it is stored; the caller's leadership is over, and retrying through
// this view cannot succeed. term 0: an unfenced view, as r.
func (r *Registry) Fenced(term uint64) *Registry {
	return &Registry{state: r.state, fence: term}
}

// Scheme returns the registry's scheme.
func (r *Registry) Scheme() *api.Scheme { return r.scheme }

// Revision returns the last revision the local store applied.
func (r *Registry) Revision() int64 { return r.kv.Revision() }

var _ client.Interface = (*Registry)(nil)
var _ client.Scanner = (*Registry)(nil)
var _ client.Counter = (*Registry)(nil)

// readOpts says how get reads: linearizable or from the local replica.
type readOpts struct{ Consistent bool }

func (o readOpts) raft() []raftstore.ReadOption {
	if o.Consistent {
		return []raftstore.ReadOption{raftstore.Linearizable()}
	}
	return nil
}

func raftRead(consistent bool) []raftstore.ReadOption { return readOpts{consistent}.raft() }

// Info returns the kind of obj.
//
// Errors: BadRequest if obj is nil (a nil interface or a nil pointer) or
// its type is not registered.
func (r *Registry) Info(obj any) (api.KindInfo, error) {
	info, _, err := r.kind(obj)
	return info, err
}

// kind returns obj's kind and strategy. Errors: as Info.
func (r *Registry) kind(obj any) (api.KindInfo, strategy.Strategy, error) {
	if obj == nil {
		return api.KindInfo{}, nil, api.NewBadRequest("registry: nil object")
	}
	if v := reflect.ValueOf(obj); v.Kind() == reflect.Pointer && v.IsNil() {
		return api.KindInfo{}, nil, api.NewBadRequest(fmt.Sprintf("registry: nil %T", obj))
	}
	info, ok := r.scheme.KindFor(obj)
	if !ok {
		return api.KindInfo{}, nil, api.NewBadRequest(fmt.Sprintf("registry: type %T is not a registered kind", obj))
	}
	return info, r.strategies.For(info), nil
}

// KeyPrefix returns the key prefix of a kind's objects in namespace ("" =
// all namespaces, or a cluster-scoped kind).
func KeyPrefix(info api.KindInfo, namespace string) string {
	if !info.Namespaced || namespace == "" {
		return Prefix + info.Resource + "/"
	}
	return Prefix + info.Resource + "/" + namespace + "/"
}

// StoreKey returns the key of one object.
func StoreKey(info api.KindInfo, namespace, name string) string {
	if !info.Namespaced {
		return Prefix + info.Resource + "/" + name
	}
	return Prefix + info.Resource + "/" + namespace + "/" + name
}

func (r *Registry) decode(info api.KindInfo, kv raftstore.KV) (api.Object, error) {
	obj := info.New()
	if err := json.Unmarshal(kv.Value, obj); err != nil {
		return nil, api.NewInternalError(fmt.Errorf("registry: decode %s: %w", kv.Key, err))
	}
	tm := obj.GetTypeMeta()
	tm.APIVersion, tm.Kind = info.APIVersion, info.Kind
	obj.SetResourceVersion(strconv.FormatInt(kv.ModRevision, 10))
	return obj, nil
}

func encode(obj api.Object) ([]byte, error) {
	rv := obj.GetResourceVersion()
	obj.SetResourceVersion("")
	b, err := json.Marshal(obj)
	obj.SetResourceVersion(rv)
	if err != nil {
		return nil, api.NewInternalError(fmt.Errorf("registry: encode: %w", err))
	}
	return b, nil
}

// storeErr maps a raftstore error to an API error.
func storeErr(err error, info api.KindInfo, name string) error {
	switch {
	case err == nil:
		return nil
	case raftstore.IsNotFound(err):
		return api.NewNotFound(info.Kind, name)
	case raftstore.IsAlreadyExists(err):
		return api.NewAlreadyExists(info.Kind, name)
	case raftstore.IsConflict(err):
		return api.NewConflict(info.Kind, name, errors.New("the object has been modified; please apply your changes to the latest version and try again"))
	case raftstore.IsTooOld(err):
		return api.NewTooOld(err.Error())
	case errors.Is(err, raftstore.ErrNoLeader):
		return fmt.Errorf("%w (%w)", api.NewServiceUnavailable("the cluster has no leader"), err)
	case errors.Is(err, raftstore.ErrUnknownOutcome):
		return fmt.Errorf("%w (%w)", api.NewServiceUnavailable("leadership changed during the request; it may or may not have been applied"), err)
	case errors.Is(err, raftstore.ErrTooLarge):
		return api.NewBadRequest(err.Error())
	case raftstore.IsFenced(err):
		// Not Conflict: Patch and Apply retry a Conflict at once, which
		// here could never succeed.
		return fmt.Errorf("%w (%w)", api.NewServiceUnavailable(strings.TrimPrefix(err.Error(), "raftstore: ")), err)
	}
	return err
}

func randomSuffix(n int) string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func newUID() api.UID {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return api.UID(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
}

// Get reads one object into out (whose type selects the kind).
//
// Errors: NotFound; BadRequest for an unregistered type; with Consistent,
// ServiceUnavailable when no leader answers; ctx.Err().
func (r *Registry) Get(ctx context.Context, namespace, name string, out api.Object, o client.GetOptions) error {
	info, err := r.Info(out)
	if err != nil {
		return err
	}
	obj, err := r.get(ctx, info, namespace, name, readOpts{o.Consistent})
	if err != nil {
		return err
	}
	return client.CopyInto(out, obj)
}

func (r *Registry) get(ctx context.Context, info api.KindInfo, namespace, name string, o readOpts) (api.Object, error) {
	if name == "" {
		return nil, api.NewNotFound(info.Kind, name)
	}
	kv, err := r.kv.Get(ctx, StoreKey(info, namespace, name), o.raft()...)
	if err != nil {
		return nil, storeErr(err, info, name)
	}
	return r.decode(info, kv)
}

// List reads the objects of list's kind that match o into list and sets
// its resourceVersion to the revision the result is consistent at. An
// object that cannot be read is left out and reported (see Unreadable).
//
// Errors: BadRequest for a nil or unregistered list type, a namespace
// that is not a valid namespace name, a label selector with an invalid
// key or value, or a field selector on an unsupported field;
// ServiceUnavailable; ctx.Err().
func (r *Registry) List(ctx context.Context, list api.ObjectList, o client.ListOptions) error {
	info, err := r.Info(list)
	if err != nil {
		return err
	}
	objs, rev, err := r.ListObjects(ctx, info, o)
	if err != nil {
		return err
	}
	if err := list.SetItems(objs); err != nil {
		return api.NewInternalError(err)
	}
	lm := list.GetListMeta()
	lm.ResourceVersion = strconv.FormatInt(rev, 10)
	tm := list.GetTypeMeta()
	tm.APIVersion, tm.Kind = info.APIVersion, info.Kind+"List"
	return nil
}

// ListObjects is List returning the objects and revision.
func (r *Registry) ListObjects(ctx context.Context, info api.KindInfo, o client.ListOptions) ([]api.Object, int64, error) {
	var objs []api.Object
	rev, err := r.Scan(ctx, info, o, func(obj api.Object) error {
		objs = append(objs, obj)
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	if objs == nil {
		objs = []api.Object{}
	}
	return objs, rev, nil
}

// Scan calls fn with each object of info's kind that matches o, decoding
// one at a time, so a sweep over many objects (the Event TTL) does not
// hold them all decoded. fn may write to the registry. It returns the
// revision the objects are consistent at.
//
// With o.Limit or o.After it reads one page: at most o.Limit matching
// objects after o.After, in key order, reading the store only from there
// (see client.ListOptions). The revision is then that of the page's
// first store read; objects read by later reads of the page (when the
// selectors leave many out) may be newer.
//
// Objects that cannot be read are left out and reported, as for List.
//
// Errors: those of ListObjects; BadRequest for an o.After that is not
// "namespace/name"; the first error fn returns (which ends the scan).
func (r *Registry) Scan(ctx context.Context, info api.KindInfo, o client.ListOptions, fn func(api.Object) error) (int64, error) {
	if err := client.CheckListOptions(info, o); err != nil {
		return 0, err
	}
	if o.Limit > 0 || o.After != "" {
		return r.scanPage(ctx, info, o, fn)
	}
	kvs, rev, err := r.kv.List(ctx, KeyPrefix(info, o.Namespace), append(raftRead(o.Consistent), r.skipUnreadable(info))...)
	if err != nil {
		return 0, storeErr(err, info, "")
	}
	return rev, r.scanKVs(info, o, kvs, func(obj api.Object) (bool, error) { return true, fn(obj) })
}

// scanKVs decodes kvs in turn and calls fn with those matching o, until
// fn returns false or an error.
func (r *Registry) scanKVs(info api.KindInfo, o client.ListOptions, kvs []raftstore.KV, fn func(api.Object) (more bool, err error)) error {
	decode := r.decode
	if o.Shared {
		decode = r.decodeShared
	}
	for i := range kvs {
		obj, err := decode(info, kvs[i])
		key := kvs[i].Key
		kvs[i] = raftstore.KV{} // let the raw value go once decoded
		if err != nil {
			r.unreadable(info, key, err)
			continue
		}
		ok, err := Matches(obj, o.Labels, o.Fields)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if more, err := fn(obj); err != nil || !more {
			return err
		}
	}
	return nil
}

// CountAfter implements client.Counter: a walk of the keys after after,
// reading no value.
//
// Errors: BadRequest for an after that is not "namespace/name";
// ServiceUnavailable when the store is stopped; ctx.Err().
func (r *Registry) CountAfter(ctx context.Context, info api.KindInfo, namespace, after string) (int, error) {
	key, err := afterKey(info, after)
	if err != nil {
		return 0, err
	}
	n, _, err := r.kv.Count(ctx, KeyPrefix(info, namespace), raftstore.After(key))
	return n, storeErr(err, info, "")
}

// afterKey is the store key of ListOptions.After ("" for "").
func afterKey(info api.KindInfo, after string) (string, error) {
	if after == "" {
		return "", nil
	}
	ns, name, ok := strings.Cut(after, "/")
	if !ok {
		return "", api.NewBadRequest(fmt.Sprintf("registry: list after %q: want namespace/name", after))
	}
	return StoreKey(info, ns, name), nil
}

// pageChunk is the fewest keys scanPage reads at once when selectors may
// leave most of them out.
const pageChunk = 256

// scanPage is Scan of one page (o.Limit, o.After): it reads the store
// from the key after o.After, a limited number of keys at a time, so a
// page costs its own size, not the whole kind's. The first read is
// consistent as o asks and gives the revision; later reads, needed only
// when selectors leave objects out, are local reads at least as new.
func (r *Registry) scanPage(ctx context.Context, info api.KindInfo, o client.ListOptions, fn func(api.Object) error) (int64, error) {
	prefix := KeyPrefix(info, o.Namespace)
	after, err := afterKey(info, o.After)
	if err != nil {
		return 0, err
	}
	filtered := !o.Labels.Empty() || !o.Fields.Empty()
	var rev int64
	sent := 0
	for first := true; ; first = false {
		want := 0 // the rest
		if o.Limit > 0 {
			want = o.Limit - sent
			if filtered {
				want = max(want, pageChunk)
			}
		}
		read, lastKey := 0, ""
		note := func(key string) { read++; lastKey = max(lastKey, key) }
		opts := []raftstore.ReadOption{raftstore.After(after), raftstore.Limit(want),
			raftstore.SkipUnreadable(func(key string, err error) { note(key); r.unreadable(info, key, err) })}
		if first && o.Consistent {
			opts = append(opts, raftstore.Linearizable())
		}
		kvs, at, err := r.kv.List(ctx, prefix, opts...)
		if err != nil {
			return 0, storeErr(err, info, "")
		}
		if first {
			rev = at
		}
		for _, kv := range kvs {
			note(kv.Key)
		}
		full := false
		err = r.scanKVs(info, o, kvs, func(obj api.Object) (bool, error) {
			if err := fn(obj); err != nil {
				return false, err
			}
			sent++
			full = o.Limit > 0 && sent >= o.Limit
			return !full, nil
		})
		if err != nil {
			return 0, err
		}
		if full || want == 0 || read < want {
			return rev, nil
		}
		after = lastKey
	}
}

// Matches reports whether obj matches both selectors.
//
// Errors: BadRequest for a field selector on an unsupported field.
func Matches(obj api.Object, labels api.Selector, fields api.FieldSelector) (bool, error) {
	if !labels.Matches(obj.GetLabels()) {
		return false, nil
	}
	if fields.Empty() {
		return true, nil
	}
	ok, err := fields.MatchesFields(obj)
	if err != nil {
		return false, api.NewBadRequest(err.Error())
	}
	return ok, nil
}

// Watcher streams api.WatchEvents: the local api.Watcher. Read Events until it is closed, then Err
// tells why.
type Watcher struct {
	w      *raftstore.Watcher
	ch     chan api.WatchEvent
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// Events delivers changes in revision order; it is closed when the watch
// ends. Unbuffered beyond the store's watch buffer: a reader that falls far
// behind ends the watch with a TooOld error.
func (w *Watcher) Events() <-chan api.WatchEvent { return w.ch }

// Err says why the watch ended once Events is closed: a TooOld error
// (re-list and watch from the list's resourceVersion), ServiceUnavailable
// when the store stopped, an InternalError or an error wrapping
// raftstore.ErrDecrypt for a changed object whose value cannot be read
// (re-list: the list leaves it out), or the context's error after Stop.
// nil before.
func (w *Watcher) Err() error {
	select {
	case <-w.done:
		return w.err
	default:
		return nil
	}
}

// Stop ends the watch and waits for its goroutine. Safe to call twice.
func (w *Watcher) Stop() {
	w.cancel()
	<-w.done
}

// Watch streams changes to objects of info's kind matching o after
// revision o.ResourceVersion ("" or "0": from now). Objects entering and leaving the
// selectors are Added and Deleted (see api.WatchEvent).
//
// Every watcher of the registry shares the decoded object of each event
// (one decode per event however many watch). With o.Shared the events
// carry that shared object, which the consumer must not modify (the API
// server only encodes it; informers cache it read-only); without, each
// event carries a deep copy the consumer owns.
//
// Errors: TooOld when o.ResourceVersion is older than the retained history;
// a Timeout (api.IsTooLargeResourceVersion, Kubernetes' "Too large
// resource version") when it is newer than any revision of the cluster
// (the check is a linearizable read, so a lagging replica does not
// refuse a revision the leader has); BadRequest for a malformed
// resourceVersion, a namespace or label selector as List refuses them,
// or a field selector on an unsupported field; ServiceUnavailable when
// the store is stopped or the check finds no leader.
func (r *Registry) Watch(ctx context.Context, info api.KindInfo, o client.ListOptions) (api.Watcher, error) {
	from, err := client.ParseResourceVersion(o.ResourceVersion)
	if err != nil {
		return nil, err
	}
	if err := client.CheckListOptions(info, o); err != nil {
		return nil, err
	}
	if _, err := Matches(info.New(), o.Labels, o.Fields); err != nil {
		return nil, err
	}
	if from == 0 {
		from = r.kv.Revision()
	} else if from > r.kv.Revision() {
		// Ahead of this replica: fine if the cluster has it (this
		// replica lags), a revision never issued otherwise, which a
		// watch would wait for forever.
		_, cur, err := r.kv.Count(ctx, KeyPrefix(info, o.Namespace), raftstore.Linearizable(), raftstore.Limit(1))
		if err != nil {
			return nil, storeErr(err, info, "")
		}
		if from > cur {
			return nil, api.NewTooLargeResourceVersion(from, cur)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	rw, err := r.kv.Watch(ctx, KeyPrefix(info, o.Namespace), from)
	if err != nil {
		cancel()
		return nil, storeErr(err, info, "")
	}
	w := &Watcher{w: rw, ch: make(chan api.WatchEvent), cancel: cancel, done: make(chan struct{})}
	go w.run(ctx, r, info, o)
	return w, nil
}

func (w *Watcher) run(ctx context.Context, r *Registry, info api.KindInfo, o client.ListOptions) {
	defer close(w.done)
	defer close(w.ch)
	defer w.w.Stop()
	prefix := KeyPrefix(info, o.Namespace)
	var matched map[string]bool
	if !o.Labels.Empty() || !o.Fields.Empty() {
		matched = map[string]bool{}
	}
	for {
		select {
		case <-ctx.Done():
			w.err = ctx.Err()
			return
		case ev, ok := <-w.w.Events():
			if !ok {
				w.err = storeErr(w.w.Err(), info, "")
				if w.err == nil || errors.Is(w.w.Err(), raftstore.ErrStopped) {
					w.err = api.NewServiceUnavailable("registry: watch ended: store stopped")
				}
				return
			}
			if !info.Namespaced && strings.Contains(ev.Key[len(prefix):], "/") {
				continue
			}
			we, send, err := r.watchEvent(info, ev, o, matched)
			if err != nil {
				w.err = err
				return
			}
			if !send {
				continue
			}
			if !o.Shared {
				// The decoded object is every watcher's: a consumer
				// that may modify it gets its own.
				we.Object = we.Object.DeepCopyObject()
			}
			select {
			case w.ch <- we:
			case <-ctx.Done():
				w.err = ctx.Err()
				return
			}
		}
	}
}

// watchEvent turns a store event into what a watcher with selectors o
// sees, as Kubernetes does: an object that starts matching is ADDED, one
// that matches before and after is MODIFIED, and one that stops matching
// is DELETED with its previous (last matching) state at the revision of
// the change. send is false when the watcher sees nothing.
//
// matched (nil without selectors) remembers whether each key's latest
// state seen by this watch matched, so the previous state is decoded only
// for a key's first event, or to report its DELETED state. The watch sees
// every event under its prefix in order, so the memory is exact.
func (r *Registry) watchEvent(info api.KindInfo, ev raftstore.Event, o client.ListOptions, matched map[string]bool) (_ api.WatchEvent, send bool, _ error) {
	obj, err := r.decodeEvent(info, raftstore.KV{Key: ev.Key, Value: ev.Value, ModRevision: ev.Revision}, false, ev.Type == raftstore.EventPut)
	if err != nil {
		return api.WatchEvent{}, false, err
	}
	cur, _ := Matches(obj, o.Labels, o.Fields)
	switch {
	case ev.Type == raftstore.EventDelete:
		r.forgetShared(ev.Key, ev.Revision)
		if matched != nil {
			delete(matched, ev.Key)
		}
		return api.WatchEvent{Type: api.Deleted, Object: obj, Revision: ev.Revision}, cur, nil
	case matched == nil && ev.PrevValue == nil:
		return api.WatchEvent{Type: api.Added, Object: obj, Revision: ev.Revision}, cur, nil
	case matched == nil:
		return api.WatchEvent{Type: api.Modified, Object: obj, Revision: ev.Revision}, true, nil
	}
	old, known := matched[ev.Key]
	matched[ev.Key] = cur
	var prev api.Object
	if ev.PrevValue != nil && (!known || (old && !cur)) {
		if prev, err = r.decodeEvent(info, raftstore.KV{Key: ev.Key, Value: ev.PrevValue, ModRevision: ev.Revision}, true, false); err != nil {
			return api.WatchEvent{}, false, err
		}
		old, _ = Matches(prev, o.Labels, o.Fields)
	} else if ev.PrevValue == nil {
		old = false // created (again)
	}
	switch {
	case cur && old:
		return api.WatchEvent{Type: api.Modified, Object: obj, Revision: ev.Revision}, true, nil
	case cur:
		return api.WatchEvent{Type: api.Added, Object: obj, Revision: ev.Revision}, true, nil
	case old:
		return api.WatchEvent{Type: api.Deleted, Object: prev, Revision: ev.Revision}, true, nil
	}
	return api.WatchEvent{}, false, nil
}
