// Package registry stores typed API objects in a raftstore.Store: the part
// of an API server between admission and etcd.
//
// Every object lives under /registry/<resource>/<namespace>/<name> (or
// /registry/<resource>/<name> for cluster-scoped kinds) as its JSON form
// without resourceVersion; the resourceVersion is the key's raftstore
// ModRevision, as a decimal string. Create defaults and validates, assigns
// uid, creationTimestamp and generation 1 and resolves generateName;
// Update is compare-and-swap on resourceVersion, bumps generation on spec
// changes and keeps the stored status; Delete honours finalizers and
// propagation policies (the garbage collector does the rest); Watch turns
// raftstore events into ADDED/MODIFIED/DELETED as seen through the
// watcher's selectors (an object leaving them is DELETED).
//
// Namespaced objects are created only in an existing, Active Namespace
// (checked in the same Raft transaction as the write); the
// SystemNamespaces exist implicitly and cannot be deleted. Deleting a
// Namespace marks it Terminating; the namespace controller empties it and
// calls RemoveNamespace.
//
// What it does not do: no graceful Pod deletion (a Pod is removed at once;
// its agent then stops the containers), no cluster-wide name uniqueness
// beyond the key, no event TTL (the controller package expires Events
// through Scan).
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
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
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
	Watch(ctx context.Context, prefix string, fromRev int64) (*raftstore.Watcher, error)
	Revision() int64
}

// Registry stores objects of the kinds of its scheme. Safe for concurrent
// use.
type Registry struct {
	kv     KV
	scheme *api.Scheme
	shared sharedObjects
}

// New returns a Registry over kv for the kinds of scheme (nil: the default
// scheme).
func New(kv KV, scheme *api.Scheme) *Registry {
	if scheme == nil {
		scheme = api.DefaultScheme()
	}
	return &Registry{kv: kv, scheme: scheme}
}

// Scheme returns the registry's scheme.
func (r *Registry) Scheme() *api.Scheme { return r.scheme }

// Revision returns the last revision the local store applied.
func (r *Registry) Revision() int64 { return r.kv.Revision() }

var _ client.Interface = (*Registry)(nil)
var _ client.Scanner = (*Registry)(nil)

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
// Errors: BadRequest if obj is nil or its type is not registered.
func (r *Registry) Info(obj any) (api.KindInfo, error) {
	if obj == nil {
		return api.KindInfo{}, api.NewBadRequest("registry: nil object")
	}
	info, ok := r.scheme.KindFor(obj)
	if !ok {
		return api.KindInfo{}, api.NewBadRequest(fmt.Sprintf("registry: type %T is not a registered kind", obj))
	}
	return info, nil
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

// Create stores a new object. obj is defaulted and, on success, updated in
// place to the stored object (name, uid, resourceVersion, ...). A
// namespaced object needs its Namespace to exist and not be terminating;
// the check and the write are one transaction. The SystemNamespaces are
// created on first use.
//
// Errors: Invalid listing every bad field path (nothing stored);
// AlreadyExists; NotFound naming the Namespace (`Namespace "x" not
// found`) when it does not exist; Forbidden when it is being deleted;
// BadRequest for an unregistered type or a bad fieldManager;
// ServiceUnavailable when no leader is reachable; ctx.Err().
//
// With o.DryRun every check runs and nothing is stored; obj receives what
// would have been stored, without a resourceVersion.
func (r *Registry) Create(ctx context.Context, obj api.Object, o client.CreateOptions) error {
	info, err := r.Info(obj)
	if err != nil {
		return err
	}
	if err := checkFieldManager(o.FieldManager); err != nil {
		return err
	}
	m := obj.GetObjectMeta()
	r.scheme.Default(obj)
	tm := obj.GetTypeMeta()
	if tm.APIVersion == "" && tm.Kind == "" {
		tm.APIVersion, tm.Kind = info.APIVersion, info.Kind
	}
	generated := m.Name == "" && m.GenerateName != ""
	m.UID = newUID()
	m.CreationTimestamp = api.Now()
	m.Generation = 1
	m.ResourceVersion = ""
	m.DeletionTimestamp = nil
	m.DeletionGracePeriodSeconds = nil
	if ns, ok := obj.(*api.Namespace); ok {
		ns.Status.Phase = api.NamespaceActive
	}
	recordManager(m, o.FieldManager, info.APIVersion, "")
	for attempt := 0; ; attempt++ {
		if generated {
			prefix := m.GenerateName
			if len(prefix) > 58 {
				prefix = prefix[:58]
			}
			m.Name = prefix + randomSuffix(5)
		}
		if err := r.scheme.Validate(obj); err != nil {
			if generated {
				m.Name = ""
			}
			return err
		}
		data, err := encode(obj)
		if err != nil {
			return err
		}
		rev, err := r.createIn(ctx, info, obj, data, attempt > 0, o.DryRun)
		if err != nil {
			if generated && raftstore.IsAlreadyExists(err) && attempt < 8 {
				continue
			}
			if raftstore.IsConflict(err) && attempt < 8 {
				continue // the namespace changed meanwhile: check it again
			}
			name := m.Name
			if generated {
				m.Name = ""
			}
			if _, ok := api.AsStatusError(err); ok {
				return err
			}
			return storeErr(err, info, name)
		}
		if !o.DryRun {
			m.ResourceVersion = strconv.FormatInt(rev, 10)
		}
		return nil
	}
}

// createIn writes a new object's key. For a namespaced kind it does so in
// one transaction with a check that the namespace is unchanged since it was
// found Active, so no object lands in a namespace that is gone or being
// deleted. Errors: raftstore errors (ErrConflict when the namespace
// changed: retry), or API errors for a missing or terminating namespace.
func (r *Registry) createIn(ctx context.Context, info api.KindInfo, obj api.Object, data []byte, consistent, dryRun bool) (int64, error) {
	key := StoreKey(info, obj.GetNamespace(), obj.GetName())
	if _, ok := r.scheme.LookupKind("Namespace"); !info.Namespaced || !ok {
		if dryRun {
			return 0, r.absent(ctx, key)
		}
		return r.kv.Create(ctx, key, data)
	}
	nsKey, nsRev, err := r.activeNamespace(ctx, info, obj, consistent)
	if err != nil {
		return 0, err
	}
	if dryRun {
		return 0, r.absent(ctx, key)
	}
	rev, err := r.kv.Txn(ctx, raftstore.OpCheck(nsKey, nsRev), raftstore.OpCreate(key, data))
	var te *raftstore.TxnError
	if errors.As(err, &te) {
		if te.Index == 0 && raftstore.IsNotFound(te.Err) {
			return 0, namespaceNotFound(obj.GetNamespace())
		}
		return 0, te.Err
	}
	return rev, err
}

func namespaceNotFound(name string) error { return api.NewNotFound("Namespace", name) }

// activeNamespace returns the key and revision of obj's Namespace, which
// must exist and not be terminating. A system namespace that does not
// exist yet is created.
func (r *Registry) activeNamespace(ctx context.Context, info api.KindInfo, obj api.Object, consistent bool) (string, int64, error) {
	nsInfo, _ := r.scheme.LookupKind("Namespace")
	name := obj.GetNamespace()
	for attempt := 0; ; attempt++ {
		// The local replica answers the common case; a miss may be lag, so
		// it is confirmed by a linearizable read.
		ns, err := r.get(ctx, nsInfo, "", name, readOpts{Consistent: consistent})
		if api.IsNotFound(err) && !consistent {
			consistent = true
			continue
		}
		if api.IsNotFound(err) && api.IsSystemNamespace(name) && attempt < 3 {
			err = r.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: name}}, client.CreateOptions{})
			if err != nil && !api.IsAlreadyExists(err) {
				return "", 0, err
			}
			continue
		}
		if api.IsNotFound(err) {
			return "", 0, namespaceNotFound(name)
		}
		if err != nil {
			return "", 0, err
		}
		if terminating(ns.(*api.Namespace)) {
			return "", 0, api.NewForbidden(info.Kind, obj.GetName(),
				fmt.Errorf("unable to create new content in namespace %s because it is being terminated", name))
		}
		rev, _ := client.ParseResourceVersion(ns.GetResourceVersion())
		return StoreKey(nsInfo, "", name), rev, nil
	}
}

func terminating(ns *api.Namespace) bool {
	return ns.DeletionTimestamp != nil || ns.Status.Phase == api.NamespaceTerminating
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
	return copyInto(out, obj)
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

// copyInto sets *dst to *src; src must not be used afterwards.
func copyInto(dst, src api.Object) error {
	dv, sv := reflect.ValueOf(dst), reflect.ValueOf(src)
	if dv.Type() != sv.Type() {
		return api.NewBadRequest(fmt.Sprintf("registry: want %T, have %T", src, dst))
	}
	dv.Elem().Set(sv.Elem())
	return nil
}

// List reads the objects of list's kind that match o into list and sets
// its resourceVersion to the revision the result is consistent at.
//
// Errors: BadRequest for an unregistered list type or a field selector on
// an unsupported field; ServiceUnavailable; ctx.Err().
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
// Errors: those of ListObjects, or the first error fn returns (which ends
// the scan).
func (r *Registry) Scan(ctx context.Context, info api.KindInfo, o client.ListOptions, fn func(api.Object) error) (int64, error) {
	kvs, rev, err := r.kv.List(ctx, KeyPrefix(info, o.Namespace), raftRead(o.Consistent)...)
	if err != nil {
		return 0, storeErr(err, info, "")
	}
	decode := r.decode
	if o.Shared {
		decode = r.decodeShared
	}
	for i := range kvs {
		obj, err := decode(info, kvs[i])
		kvs[i] = raftstore.KV{} // let the raw value go once decoded
		if err != nil {
			return 0, err
		}
		ok, err := Matches(obj, o.Labels, o.Fields)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		if err := fn(obj); err != nil {
			return 0, err
		}
	}
	return rev, nil
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

// Update replaces the spec and metadata of a stored object with obj's,
// keeping the stored status, uid, creationTimestamp and deletion state.
// With a resourceVersion on obj it is compare-and-swap; without one it
// applies to the latest version. obj is updated to the stored object.
// Removing the last finalizer of an object being deleted deletes it.
//
// Errors: NotFound; Conflict for a stale resourceVersion; Invalid with
// every bad field path (including changed immutable fields);
// ServiceUnavailable; ctx.Err().
//
// With o.DryRun every check runs and nothing is stored.
func (r *Registry) Update(ctx context.Context, obj api.Object, o client.UpdateOptions) error {
	return r.update(ctx, obj, false, o)
}

// UpdateStatus replaces only the status of a stored object with obj's.
// Errors as Update.
func (r *Registry) UpdateStatus(ctx context.Context, obj api.Object, o client.UpdateOptions) error {
	return r.update(ctx, obj, true, o)
}

func (r *Registry) update(ctx context.Context, obj api.Object, status bool, o client.UpdateOptions) error {
	info, err := r.Info(obj)
	if err != nil {
		return err
	}
	if err := checkFieldManager(o.FieldManager); err != nil {
		return err
	}
	if status && !api.HasStatus(obj) {
		return api.NewBadRequest(fmt.Sprintf("%s has no status", info.Kind))
	}
	m := obj.GetObjectMeta()
	want, err := client.ParseResourceVersion(m.ResourceVersion)
	if err != nil {
		return err
	}
	for {
		cur, err := r.get(ctx, info, m.Namespace, m.Name, readOpts{Consistent: want == 0})
		if err != nil && !api.IsNotFound(err) {
			return err
		}
		curRev := int64(0)
		if cur != nil {
			curRev, _ = client.ParseResourceVersion(cur.GetResourceVersion())
		}
		if want != 0 && want != curRev {
			// The local replica may lag behind the caller's version: the
			// stored status and metadata must come from the latest one.
			if cur, err = r.get(ctx, info, m.Namespace, m.Name, readOpts{Consistent: true}); err != nil {
				return err
			}
			curRev, _ = client.ParseResourceVersion(cur.GetResourceVersion())
			if want != curRev {
				return storeErr(raftstore.ErrConflict, info, m.Name)
			}
		} else if err != nil {
			return err
		}
		expected := want
		if expected == 0 {
			expected = curRev
		}
		var next api.Object
		if status {
			next = cur.DeepCopyObject()
			if err := api.CopyStatus(next, obj); err != nil {
				return api.NewInternalError(err)
			}
			recordManager(next.GetObjectMeta(), o.FieldManager, info.APIVersion, "status")
		} else {
			next = obj.DeepCopyObject()
			r.scheme.Default(next)
			if api.HasStatus(next) {
				if err := api.CopyStatus(next, cur); err != nil {
					return api.NewInternalError(err)
				}
			}
			nm, cm := next.GetObjectMeta(), cur.GetObjectMeta()
			nm.DeletionTimestamp = cm.DeletionTimestamp
			nm.DeletionGracePeriodSeconds = cm.DeletionGracePeriodSeconds
			nm.Generation = cm.Generation
			if nm.UID == "" {
				nm.UID = cm.UID
			}
			if nm.CreationTimestamp.IsZero() {
				nm.CreationTimestamp = cm.CreationTimestamp
			}
			if tm := next.GetTypeMeta(); tm.APIVersion == "" && tm.Kind == "" {
				tm.APIVersion, tm.Kind = info.APIVersion, info.Kind
			}
			if !api.SpecEqual(cur, next) {
				nm.Generation++
			}
			if nm.ManagedFields == nil {
				nm.ManagedFields = cm.ManagedFields
			}
			recordManager(nm, o.FieldManager, info.APIVersion, "")
		}
		if err := r.scheme.ValidateUpdate(cur, next); err != nil {
			return err
		}
		nm := next.GetObjectMeta()
		key := StoreKey(info, nm.Namespace, nm.Name)
		ns, isNamespace := next.(*api.Namespace)
		if isNamespace {
			// The phase follows the deletion state; only RemoveNamespace
			// ends a Terminating Namespace.
			ns.Status.Phase = api.NamespaceActive
			if nm.DeletionTimestamp != nil {
				ns.Status.Phase = api.NamespaceTerminating
			}
		}
		if o.DryRun {
			next.SetResourceVersion(strconv.FormatInt(curRev, 10))
			return copyInto(obj, next)
		}
		if nm.DeletionTimestamp != nil && len(nm.Finalizers) == 0 && !isNamespace {
			_, err := r.kv.Delete(ctx, key, expected)
			if err != nil {
				if want == 0 && raftstore.IsConflict(err) {
					continue
				}
				return storeErr(err, info, nm.Name)
			}
			return copyInto(obj, next)
		}
		data, err := encode(next)
		if err != nil {
			return err
		}
		rev, err := r.kv.Update(ctx, key, data, expected)
		if err != nil {
			if want == 0 && raftstore.IsConflict(err) {
				continue
			}
			return storeErr(err, info, nm.Name)
		}
		next.SetResourceVersion(strconv.FormatInt(rev, 10))
		return copyInto(obj, next)
	}
}

// Patch applies a patch of type pt to the stored object named by obj's
// namespace and name and stores the result as Update would (retrying on
// concurrent writes unless the patch names a resourceVersion). obj
// receives the result. pt is MergePatchType (RFC 7386; also for "") or
// JSONPatchType (RFC 6902).
//
// Errors: NotFound; BadRequest for a malformed patch or a failed JSON
// patch test; Invalid when the result has unknown fields or fails
// validation; Conflict; UnsupportedMediaType for the strategic merge and
// server-side apply patch types, which are not served yet; ctx.Err().
func (r *Registry) Patch(ctx context.Context, obj api.Object, pt api.PatchType, patch []byte, o client.PatchOptions) error {
	info, err := r.Info(obj)
	if err != nil {
		return err
	}
	apply, err := patcher(pt, patch)
	if err != nil {
		return err
	}
	m := obj.GetObjectMeta()
	for {
		cur, err := r.get(ctx, info, m.Namespace, m.Name, readOpts{Consistent: true})
		if err != nil {
			return err
		}
		curJSON, err := json.Marshal(cur)
		if err != nil {
			return api.NewInternalError(err)
		}
		merged, err := apply(curJSON)
		if err != nil {
			return err
		}
		next := info.New()
		if err := r.scheme.DecodeInto(merged, next); err != nil {
			return err
		}
		explicitRV := next.GetResourceVersion() != cur.GetResourceVersion()
		if !explicitRV {
			next.SetResourceVersion(cur.GetResourceVersion())
		}
		err = r.Update(ctx, next, client.UpdateOptions{DryRun: o.DryRun, FieldManager: o.FieldManager})
		if api.IsConflict(err) && !explicitRV {
			continue
		}
		if err != nil {
			return err
		}
		return copyInto(obj, next)
	}
}

// Delete deletes the object of obj's kind with the given name. An object
// with finalizers is only marked (deletionTimestamp); it disappears when
// the last finalizer is removed. A Namespace is always only marked, with
// status.phase Terminating: the namespace controller deletes its content
// and then removes it (RemoveNamespace); the propagation policy does not
// apply to it. obj receives the last state, with the resourceVersion of
// the deletion (or of the marking write).
//
// Errors: NotFound; Conflict when the precondition fails; Forbidden for a
// system namespace; BadRequest for an unknown propagation policy;
// ServiceUnavailable; ctx.Err().
//
// With o.DryRun the deletion is checked and nothing changes; obj receives
// what would have been the last state.
func (r *Registry) Delete(ctx context.Context, namespace, name string, obj api.Object, o client.DeleteOptions) error {
	info, err := r.Info(obj)
	if err != nil {
		return err
	}
	want, err := client.ParseResourceVersion(o.ResourceVersion)
	if err != nil {
		return err
	}
	var finalizer string
	switch o.Propagation {
	case "", api.DeletePropagationBackground:
	case api.DeletePropagationForeground:
		finalizer = api.FinalizerForegroundDeletion
	case api.DeletePropagationOrphan:
		finalizer = api.FinalizerOrphanDependents
	default:
		return api.NewBadRequest(fmt.Sprintf("unknown propagationPolicy %q: want Background, Foreground or Orphan", o.Propagation))
	}
	for {
		cur, err := r.get(ctx, info, namespace, name, readOpts{Consistent: true})
		if err != nil {
			return err
		}
		curRev, _ := client.ParseResourceVersion(cur.GetResourceVersion())
		if want != 0 && want != curRev {
			return storeErr(raftstore.ErrConflict, info, name)
		}
		cm := cur.GetObjectMeta()
		key := StoreKey(info, namespace, name)
		ns, isNamespace := cur.(*api.Namespace)
		if isNamespace && api.IsSystemNamespace(name) {
			return api.NewForbidden(info.Kind, name, errors.New("this namespace may not be deleted"))
		}
		if finalizer != "" && !isNamespace && !slices.Contains(cm.Finalizers, finalizer) {
			cm.Finalizers = append(cm.Finalizers, finalizer)
		}
		if isNamespace {
			// The namespace controller deletes its content and then the
			// Namespace itself (RemoveNamespace).
			ns.Status.Phase = api.NamespaceTerminating
		}
		if o.DryRun {
			if len(cm.Finalizers) > 0 || isNamespace {
				if cm.DeletionTimestamp == nil {
					cm.DeletionTimestamp = api.NewTimePtr(api.Now().Time)
					cm.DeletionGracePeriodSeconds = api.Ptr(int64(0))
				}
			}
			return copyInto(obj, cur)
		}
		if len(cm.Finalizers) == 0 && !isNamespace {
			rev, err := r.kv.Delete(ctx, key, curRev)
			if err != nil {
				if want == 0 && raftstore.IsConflict(err) {
					continue
				}
				return storeErr(err, info, name)
			}
			cur.SetResourceVersion(strconv.FormatInt(rev, 10))
			return copyInto(obj, cur)
		}
		if cm.DeletionTimestamp == nil {
			cm.DeletionTimestamp = api.NewTimePtr(api.Now().Time)
			cm.DeletionGracePeriodSeconds = api.Ptr(int64(0))
		}
		data, err := encode(cur)
		if err != nil {
			return err
		}
		rev, err := r.kv.Update(ctx, key, data, curRev)
		if err != nil {
			if want == 0 && raftstore.IsConflict(err) {
				continue
			}
			return storeErr(err, info, name)
		}
		cur.SetResourceVersion(strconv.FormatInt(rev, 10))
		return copyInto(obj, cur)
	}
}

// RemoveNamespace deletes a Namespace that is being deleted once nothing
// holds it: no finalizers remain and the caller (the namespace controller)
// has seen it empty. rv, if set, must be its resourceVersion. obj
// receives the last state.
//
// Errors: NotFound; Conflict when rv is stale, when the Namespace is not
// being deleted or when finalizers remain; ServiceUnavailable; ctx.Err().
func (r *Registry) RemoveNamespace(ctx context.Context, name, rv string, obj *api.Namespace) error {
	info, _ := r.Info(obj)
	want, err := client.ParseResourceVersion(rv)
	if err != nil {
		return err
	}
	cur, err := r.get(ctx, info, "", name, readOpts{Consistent: true})
	if err != nil {
		return err
	}
	curRev, _ := client.ParseResourceVersion(cur.GetResourceVersion())
	if want != 0 && want != curRev {
		return storeErr(raftstore.ErrConflict, info, name)
	}
	cm := cur.GetObjectMeta()
	switch {
	case cm.DeletionTimestamp == nil:
		return api.NewConflict(info.Kind, name, errors.New("the namespace is not being deleted"))
	case len(cm.Finalizers) > 0:
		return api.NewConflict(info.Kind, name, fmt.Errorf("finalizers remain: %v", cm.Finalizers))
	}
	rev, err := r.kv.Delete(ctx, StoreKey(info, "", name), curRev)
	if err != nil {
		return storeErr(err, info, name)
	}
	cur.SetResourceVersion(strconv.FormatInt(rev, 10))
	return copyInto(obj, cur)
}

// Bind sets spec.nodeName of an unbound Pod and its PodScheduled condition
// in one compare-and-swap write at the Pod's resourceVersion (the
// scheduler's binding).
//
// Errors: NotFound; Conflict when the Pod changed or is already bound;
// ServiceUnavailable; ctx.Err().
func (r *Registry) Bind(ctx context.Context, pod *api.Pod, nodeName string, o client.UpdateOptions) (*api.Pod, error) {
	info, _ := r.Info(pod)
	if err := checkFieldManager(o.FieldManager); err != nil {
		return nil, err
	}
	rev, err := client.ParseResourceVersion(pod.ResourceVersion)
	if err != nil {
		return nil, err
	}
	if pod.Spec.NodeName != "" {
		return nil, api.NewConflict("Pod", pod.Name, fmt.Errorf("pod is already bound to %q", pod.Spec.NodeName))
	}
	next := pod.DeepCopyObject().(*api.Pod)
	next.Spec.NodeName = nodeName
	conditions.SetPod(&next.Status, api.PodCondition{Type: api.PodScheduled, Status: api.ConditionTrue}, api.Now())
	recordManager(&next.ObjectMeta, o.FieldManager, info.APIVersion, "binding")
	if o.DryRun {
		return next, nil
	}
	data, err := encode(next)
	if err != nil {
		return nil, err
	}
	nrev, err := r.kv.Update(ctx, StoreKey(info, pod.Namespace, pod.Name), data, rev)
	if err != nil {
		return nil, storeErr(err, info, pod.Name)
	}
	next.ResourceVersion = strconv.FormatInt(nrev, 10)
	return next, nil
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
// when the store stopped, or the context's error after Stop. nil before.
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
// Errors: TooOld when o.ResourceVersion is older than the retained history;
// BadRequest for a malformed resourceVersion or a field selector on an
// unsupported field; ServiceUnavailable when the store is stopped.
func (r *Registry) Watch(ctx context.Context, info api.KindInfo, o client.ListOptions) (api.Watcher, error) {
	from, err := client.ParseResourceVersion(o.ResourceVersion)
	if err != nil {
		return nil, err
	}
	if _, err := Matches(info.New(), o.Labels, o.Fields); err != nil {
		return nil, err
	}
	if from == 0 {
		from = r.kv.Revision()
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
	decode := r.decode
	if o.Shared && ev.Type == raftstore.EventPut {
		decode = r.decodeShared
	}
	obj, err := decode(info, raftstore.KV{Key: ev.Key, Value: ev.Value, ModRevision: ev.Revision})
	if err != nil {
		return api.WatchEvent{}, false, err
	}
	cur, _ := Matches(obj, o.Labels, o.Fields)
	switch {
	case ev.Type == raftstore.EventDelete:
		if o.Shared {
			r.forgetShared(ev.Key, ev.Revision)
		}
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
		if prev, err = r.decode(info, raftstore.KV{Key: ev.Key, Value: ev.PrevValue, ModRevision: ev.Revision}); err != nil {
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
