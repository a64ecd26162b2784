package orchestrator

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// ObjectKey names an object: namespace (empty for cluster-scoped kinds, or
// "default" for namespaced ones) and name.
type ObjectKey struct {
	Namespace string
	Name      string
}

// KeyFor returns the ObjectKey of obj.
func KeyFor(obj Object) ObjectKey {
	return ObjectKey{Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// Client reads and writes cluster objects. Its shape is controller-runtime's
// client.Client: context first, typed objects (whose Go type selects the
// kind), options last, so new options never break a caller.
// Cluster.Client returns the in-process implementation; NewRemoteClient
// one for a cluster reached over its HTTPS Kubernetes API, with the same
// semantics and errors.
//
// Reads are linearizable: they see every write acknowledged before they
// started, whichever node serves them. Writes to a follower are forwarded
// to the Raft leader. Every write goes through the same pipeline:
// defaulting, admission, the kind's strategy and validation, then the
// store.
//
// Every method refuses a nil object or list, a nil interface or a nil
// pointer such as (*Deployment)(nil), with an IsBadRequest error.
type Client interface {
	// Get reads the object named by key into obj.
	// Errors: IsNotFound; IsBadRequest for an unregistered type;
	// IsServiceUnavailable when no leader answers; ctx.Err().
	Get(ctx context.Context, key ObjectKey, obj Object) error
	// List reads the objects matching opts into list and sets the list's
	// resourceVersion (watch from it to follow later changes). A stored
	// object that cannot be read is left out (see New).
	// Errors: IsBadRequest for a field selector on an unsupported field
	// (supported: metadata.name, metadata.namespace, spec.nodeName,
	// status.phase and the other fields of api.SelectableFields), for an
	// InNamespace that is no namespace name ("default/"), or for a label
	// selector with a key or value no label may have ("a b");
	// IsServiceUnavailable; ctx.Err().
	List(ctx context.Context, list ObjectList, opts ...ListOption) error
	// Create stores a new object after defaulting and validation; obj
	// receives the stored object (name for generateName, uid,
	// resourceVersion, creationTimestamp, generation 1). A namespaced
	// object's Namespace must exist ("default" and "kube-system" always
	// do) and not be terminating. Options: DryRunAll, FieldOwner.
	// Errors: IsInvalid listing every bad field path (nothing stored);
	// IsAlreadyExists; IsNotFound naming the Namespace (`Namespace "x"
	// not found`) when it does not exist; IsForbidden when it is being
	// deleted, or holds Config.Limits.MaxObjectsPerNamespace objects of
	// the kind; IsInvalid for replicas over Config.Limits.MaxReplicas;
	// IsBadRequest for a FieldOwner over 128 characters or a
	// metadata.resourceVersion set on obj; IsServiceUnavailable;
	// ctx.Err().
	Create(ctx context.Context, obj Object, opts ...CreateOption) error
	// Update replaces spec and metadata (not status). If obj carries a
	// resourceVersion, the update applies only to that version.
	// Options: DryRunAll, FieldOwner.
	// Errors: IsNotFound; IsConflict for a stale resourceVersion; IsInvalid
	// (also for changed immutable fields); IsServiceUnavailable; ctx.Err().
	Update(ctx context.Context, obj Object, opts ...UpdateOption) error
	// UpdateStatus replaces only the status. Errors as Update.
	UpdateStatus(ctx context.Context, obj Object, opts ...UpdateOption) error
	// Patch applies patch to the object named by obj's namespace and
	// name; obj receives the result. Concurrent writes are retried unless
	// the patch sets metadata.resourceVersion. Build patch with RawPatch
	// (MergePatchType, JSONPatchType or StrategicMergePatchType bytes),
	// MergeFrom or StrategicMergeFrom.
	// Options: DryRunAll, FieldOwner.
	// Errors: IsNotFound; IsBadRequest for a malformed patch;
	// IsInvalid for unknown fields or an invalid result; IsConflict;
	// IsUnsupportedMediaType for ApplyPatchType (server-side apply), which
	// is not served; ctx.Err().
	Patch(ctx context.Context, obj Object, patch Patch, opts ...PatchOption) error
	// Delete deletes the object named by obj's namespace and name.
	// Dependents (objects whose ownerReferences name it) are deleted by
	// the garbage collector per the propagation policy (default
	// Background). obj receives the last state. A Namespace becomes
	// Terminating (deletionTimestamp set, status.phase Terminating,
	// refusing new objects) until the leader has deleted everything in
	// it, then disappears. Options: PropagationPolicy, Preconditions,
	// DryRunAll.
	// Errors: IsNotFound; IsConflict when a Preconditions option fails;
	// IsForbidden for the namespaces "default" and "kube-system";
	// IsBadRequest for an unknown policy; ctx.Err().
	Delete(ctx context.Context, obj Object, opts ...DeleteOption) error
	// Watch streams changes to the objects of list's kind that match opts,
	// after the revision given by FromResourceVersion (default: now). With
	// selectors, an object that comes to match is ADDED, one that stops
	// matching is DELETED (with its last matching state), and MODIFIED
	// means it matched before and after the change.
	// Errors: IsTooOld when that revision is older than the retained
	// history (List again and watch from the list's resourceVersion);
	// IsTooLargeResourceVersion (a Timeout: "Too large resource
	// version") when it is newer than any revision of the cluster;
	// IsBadRequest for a malformed resourceVersion, an unsupported field
	// selector, or a namespace or label selector List refuses;
	// IsServiceUnavailable.
	Watch(ctx context.Context, list ObjectList, opts ...ListOption) (Watcher, error)
	// Apply makes the object named by obj look as obj declares, as
	// kubectl apply does: it creates obj if it does not exist, and
	// otherwise three-way merges the last applied manifest (kept in the
	// annotation kubectl.kubernetes.io/last-applied-configuration, shared
	// with kubectl apply), obj and the stored object. Fields obj sets are
	// set; fields the previous Apply set and obj no longer sets are
	// removed; labels, annotations, finalizers, ownerReferences and
	// everything else that other writers set stay. Applying an unchanged
	// manifest writes nothing. Lists that obj sets replace the stored
	// list. obj receives the stored object. Options: DryRunAll,
	// FieldOwner.
	// Errors: IsInvalid when obj has no name; those of Create and Patch.
	Apply(ctx context.Context, obj Object, opts ...ApplyOption) error
	// ApplyAll applies every object of a manifest (YAML documents or a
	// JSON stream, as DecodeDocuments reads it), as kubectl apply -f
	// does, but all or nothing as far as checking ahead can tell:
	//
	//  1. It decodes every document. A document that does not decode
	//     fails.
	//  2. It runs every object through Apply with DryRunAll, in order:
	//     defaulting, admission, the kind's strategy and validation, and
	//     the three-way merge with what is stored. An object fails if
	//     its dry run fails, with one exception: a namespaced object
	//     whose Namespace does not exist yet but is created by an
	//     earlier document of the manifest (its dry run has then passed
	//     every check that comes before the Namespace check; when the
	//     Namespace comes later in the file, the error says so).
	//  3. If any object failed, it stores nothing and returns an
	//     *ApplyAllError listing every failing document (number, line,
	//     kind, name and reason). Otherwise it applies the objects for
	//     real, one Apply each, in file order, and returns them as
	//     stored.
	//
	// All or nothing holds for what the checks can see. It is not a
	// transaction: between the checks and the writes, and between one
	// write and the next, other writers can change the cluster, and a
	// write can fail on its own (a conflict that keeps recurring, a lost
	// leader, ctx ending). Then the objects before the failing one stay
	// applied, those after it are not, and the failing one is not either
	// unless its outcome was unknown (a leader lost or ctx ended after
	// the write was sent: it may have been stored). ApplyAll returns the
	// objects it applied with an *ApplyAllError (Validated true) that
	// says which document failed. Since Apply is idempotent, running
	// ApplyAll again with the same manifest converges: objects already
	// as declared are not written again, the rest are applied.
	//
	// Options: FieldOwner; DryRunAll runs steps 1 and 2 only and returns
	// the objects as they would be stored.
	// Errors: *ApplyAllError, whose Unwrap returns each failing
	// document's error (a *DocumentError wrapping the StatusError of
	// DecodeDocuments or of Apply): FieldErrors collects the field errors
	// of them all, and errors.As and the predicates (IsInvalid,
	// IsNotFound, ...) find the first failing document's, so test each of
	// ApplyAllError.Failed for the others; IsBadRequest for a manifest
	// that holds no object; IsRequestEntityTooLarge for one over
	// MaxManifestBytes or MaxManifestObjects (nothing applied);
	// ctx.Err(), wrapped, when ctx ends during the checks.
	ApplyAll(ctx context.Context, manifest []byte, opts ...ApplyOption) ([]Object, error)
}

// ListOptions collects the effect of ListOption values.
type ListOptions struct {
	Namespace       string
	LabelSelector   Selector
	FieldSelector   FieldSelector
	ResourceVersion string
}

// ListOption changes a List or Watch.
type ListOption interface{ ApplyToList(*ListOptions) }

// InNamespace restricts List and Watch to one namespace (default: all).
type InNamespace string

// ApplyToList implements ListOption.
func (n InNamespace) ApplyToList(o *ListOptions) { o.Namespace = string(n) }

// MatchingLabels selects objects having all these labels.
type MatchingLabels map[string]string

// ApplyToList implements ListOption.
func (m MatchingLabels) ApplyToList(o *ListOptions) {
	o.LabelSelector = o.LabelSelector.Add(api.SelectorFromSet(maps.Clone(m)).Requirements()...)
}

// MatchingLabelsSelector selects objects matching a parsed label selector.
type MatchingLabelsSelector struct{ Selector }

// ApplyToList implements ListOption.
func (m MatchingLabelsSelector) ApplyToList(o *ListOptions) {
	o.LabelSelector = o.LabelSelector.Add(m.Selector.Requirements()...)
	if !m.Selector.Empty() && len(m.Selector.Requirements()) == 0 {
		o.LabelSelector = m.Selector // Nothing()
	}
}

// MatchingFields selects objects whose fields equal these values, e.g.
// {"spec.nodeName": "node-1", "status.phase": "Running"}.
type MatchingFields map[string]string

// ApplyToList implements ListOption.
func (m MatchingFields) ApplyToList(o *ListOptions) {
	for k, v := range m {
		o.FieldSelector = andFields(o.FieldSelector, api.OneTermEqualSelector(k, v))
	}
}

// MatchingFieldsSelector selects objects matching a parsed field selector.
type MatchingFieldsSelector struct{ FieldSelector }

// ApplyToList implements ListOption.
func (m MatchingFieldsSelector) ApplyToList(o *ListOptions) {
	o.FieldSelector = andFields(o.FieldSelector, m.FieldSelector)
}

func andFields(a, b FieldSelector) FieldSelector {
	if a.Empty() {
		return b
	}
	if b.Empty() {
		return a
	}
	s, err := api.ParseFieldSelector(a.String() + "," + b.String())
	if err != nil {
		return a
	}
	return s
}

// FromResourceVersion makes Watch start after this resourceVersion.
type FromResourceVersion string

// ApplyToList implements ListOption.
func (r FromResourceVersion) ApplyToList(o *ListOptions) { o.ResourceVersion = string(r) }

// DeleteOptions collects the effect of DeleteOption values.
type DeleteOptions struct {
	Propagation     DeletionPropagation
	ResourceVersion string
	DryRun          bool
}

// DeleteOption changes a Delete.
type DeleteOption interface{ ApplyToDelete(*DeleteOptions) }

// PropagationPolicy says what happens to dependents: Background (default),
// Foreground or Orphan.
type PropagationPolicy DeletionPropagation

// ApplyToDelete implements DeleteOption.
func (p PropagationPolicy) ApplyToDelete(o *DeleteOptions) {
	o.Propagation = DeletionPropagation(p)
}

// Preconditions makes Delete apply only to this resourceVersion.
type Preconditions struct{ ResourceVersion string }

// ApplyToDelete implements DeleteOption.
func (p Preconditions) ApplyToDelete(o *DeleteOptions) { o.ResourceVersion = p.ResourceVersion }

// WriteOptions collects the effect of the options of Create, Update,
// UpdateStatus, Patch and Apply.
type WriteOptions struct {
	// DryRun runs every stage of the write (defaulting, admission,
	// validation) and stores nothing; the object receives what would
	// have been stored.
	DryRun bool
	// FieldManager names the writer in metadata.managedFields.
	FieldManager string
}

// CreateOption changes a Create.
type CreateOption interface{ ApplyToCreate(*WriteOptions) }

// UpdateOption changes an Update or UpdateStatus.
type UpdateOption interface{ ApplyToUpdate(*WriteOptions) }

// PatchOption changes a Patch.
type PatchOption interface{ ApplyToPatch(*WriteOptions) }

// ApplyOption changes an Apply.
type ApplyOption interface{ ApplyToApply(*WriteOptions) }

type dryRunAll struct{}

// DryRunAll makes a write run every stage (defaulting, admission,
// validation, conflict checks) and store nothing, like kubectl's
// --dry-run=server. It is a CreateOption, UpdateOption, PatchOption,
// ApplyOption and DeleteOption.
var DryRunAll = dryRunAll{}

// ApplyToCreate implements CreateOption.
func (dryRunAll) ApplyToCreate(o *WriteOptions) { o.DryRun = true }

// ApplyToUpdate implements UpdateOption.
func (dryRunAll) ApplyToUpdate(o *WriteOptions) { o.DryRun = true }

// ApplyToPatch implements PatchOption.
func (dryRunAll) ApplyToPatch(o *WriteOptions) { o.DryRun = true }

// ApplyToApply implements ApplyOption.
func (dryRunAll) ApplyToApply(o *WriteOptions) { o.DryRun = true }

// ApplyToDelete implements DeleteOption.
func (dryRunAll) ApplyToDelete(o *DeleteOptions) { o.DryRun = true }

// FieldOwner names the writer (at most 128 printable characters); the
// write is recorded under that name in metadata.managedFields. It is a
// CreateOption, UpdateOption, PatchOption and ApplyOption.
type FieldOwner string

// ApplyToCreate implements CreateOption.
func (f FieldOwner) ApplyToCreate(o *WriteOptions) { o.FieldManager = string(f) }

// ApplyToUpdate implements UpdateOption.
func (f FieldOwner) ApplyToUpdate(o *WriteOptions) { o.FieldManager = string(f) }

// ApplyToPatch implements PatchOption.
func (f FieldOwner) ApplyToPatch(o *WriteOptions) { o.FieldManager = string(f) }

// ApplyToApply implements ApplyOption.
func (f FieldOwner) ApplyToApply(o *WriteOptions) { o.FieldManager = string(f) }

// Patch is a patch for Client.Patch: its type and its bytes, computed
// for the object being patched.
type Patch interface {
	Type() PatchType
	Data(obj Object) ([]byte, error)
}

// RawPatch returns a Patch of the given type and bytes, e.g.
// RawPatch(MergePatchType, []byte(`{"spec":{"replicas":3}}`)).
func RawPatch(pt PatchType, data []byte) Patch { return rawPatch{pt, data} }

type rawPatch struct {
	pt   PatchType
	data []byte
}

func (p rawPatch) Type() PatchType             { return p.pt }
func (p rawPatch) Data(Object) ([]byte, error) { return p.data, nil }

// StrategicMergeFrom returns a strategic merge patch from original to the
// object being patched: change a copy of an object you read, then
// Patch(ctx, changed, StrategicMergeFrom(original)). Unlike MergeFrom,
// lists Kubernetes merges by key (containers, env, ports, conditions, ...)
// carry only the changed elements, so a concurrent writer's additions to
// them survive. The patch carries no resourceVersion.
func StrategicMergeFrom(original Object) Patch { return strategicMergeFrom{original} }

type strategicMergeFrom struct{ original Object }

func (strategicMergeFrom) Type() PatchType { return StrategicMergePatchType }

func (p strategicMergeFrom) Data(obj Object) ([]byte, error) {
	before, err := json.Marshal(p.original)
	if err != nil {
		return nil, api.NewBadRequest(fmt.Sprintf("StrategicMergeFrom: encode original: %v", err))
	}
	after, err := json.Marshal(obj)
	if err != nil {
		return nil, api.NewBadRequest(fmt.Sprintf("StrategicMergeFrom: encode object: %v", err))
	}
	patch, err := api.CreateTwoWayMergePatch(before, after, obj)
	if err != nil {
		return nil, api.NewBadRequest(fmt.Sprintf("StrategicMergeFrom: %v", err))
	}
	return patch, nil
}

// MergeFrom returns a JSON merge patch from original to the object being
// patched: change a copy of an object you read, then
// Patch(ctx, changed, MergeFrom(original)). Lists are replaced whole.
// The patch carries no resourceVersion, so it applies to the latest state.
func MergeFrom(original Object) Patch { return mergeFrom{original} }

type mergeFrom struct{ original Object }

func (mergeFrom) Type() PatchType { return MergePatchType }

func (p mergeFrom) Data(obj Object) ([]byte, error) {
	before, err := json.Marshal(p.original)
	if err != nil {
		return nil, api.NewBadRequest(fmt.Sprintf("MergeFrom: encode original: %v", err))
	}
	after, err := json.Marshal(obj)
	if err != nil {
		return nil, api.NewBadRequest(fmt.Sprintf("MergeFrom: encode object: %v", err))
	}
	return api.CreateMergePatch(before, after)
}

// localClient is the Client over a client seam: this node's local
// registry for Cluster.Client (all-powerful, it is the embedding program
// itself), or the HTTPS API for RemoteClient.
type localClient struct {
	c client.Interface
}

var _ Client = (*localClient)(nil)

// namespaceFor returns the namespace obj's kind uses: "default" for a
// namespaced kind when none is given, "" for a cluster-scoped kind.
func (c *localClient) namespaceFor(obj any, ns string) (string, error) {
	info, ok := c.c.Scheme().KindFor(obj)
	if !ok {
		return "", api.NewBadRequest(fmt.Sprintf("type %T is not a registered kind", obj))
	}
	if !info.Namespaced {
		return "", nil
	}
	if ns == "" {
		return DefaultNamespace, nil
	}
	return ns, nil
}

func (c *localClient) defaultNamespace(obj Object) error {
	ns, err := c.namespaceFor(obj, obj.GetNamespace())
	if err != nil {
		return err
	}
	obj.GetObjectMeta().Namespace = ns
	return nil
}

// checkNotNil refuses a nil object or list (a nil interface or a nil
// pointer) before anything reads it.
func checkNotNil(call string, obj any) error {
	if obj == nil {
		return api.NewBadRequest(call + ": nil object")
	}
	if v := reflect.ValueOf(obj); v.Kind() == reflect.Pointer && v.IsNil() {
		return api.NewBadRequest(fmt.Sprintf("%s: nil %T", call, obj))
	}
	return nil
}

func (c *localClient) Get(ctx context.Context, key ObjectKey, obj Object) error {
	if err := checkNotNil("Get", obj); err != nil {
		return err
	}
	ns, err := c.namespaceFor(obj, key.Namespace)
	if err != nil {
		return err
	}
	return c.c.Get(ctx, ns, key.Name, obj, client.GetOptions{Consistent: true})
}

func listOpts(opts []ListOption) client.ListOptions {
	var o ListOptions
	for _, opt := range opts {
		opt.ApplyToList(&o)
	}
	return client.ListOptions{
		Namespace: o.Namespace, Labels: o.LabelSelector, Fields: o.FieldSelector,
		ResourceVersion: o.ResourceVersion, Consistent: true,
	}
}

func (c *localClient) List(ctx context.Context, list ObjectList, opts ...ListOption) error {
	if err := checkNotNil("List", list); err != nil {
		return err
	}
	return c.c.List(ctx, list, listOpts(opts))
}

func writeOpts[T any](opts []T, apply func(T, *WriteOptions)) WriteOptions {
	var o WriteOptions
	for _, opt := range opts {
		apply(opt, &o)
	}
	return o
}

func (c *localClient) Create(ctx context.Context, obj Object, opts ...CreateOption) error {
	if err := checkNotNil("Create", obj); err != nil {
		return err
	}
	o := writeOpts(opts, CreateOption.ApplyToCreate)
	return c.c.Create(ctx, obj, client.CreateOptions{DryRun: o.DryRun, FieldManager: o.FieldManager})
}

func (c *localClient) Update(ctx context.Context, obj Object, opts ...UpdateOption) error {
	if err := checkNotNil("Update", obj); err != nil {
		return err
	}
	if err := c.defaultNamespace(obj); err != nil {
		return err
	}
	o := writeOpts(opts, UpdateOption.ApplyToUpdate)
	return c.c.Update(ctx, obj, client.UpdateOptions{DryRun: o.DryRun, FieldManager: o.FieldManager})
}

func (c *localClient) UpdateStatus(ctx context.Context, obj Object, opts ...UpdateOption) error {
	if err := checkNotNil("UpdateStatus", obj); err != nil {
		return err
	}
	if err := c.defaultNamespace(obj); err != nil {
		return err
	}
	o := writeOpts(opts, UpdateOption.ApplyToUpdate)
	return c.c.UpdateStatus(ctx, obj, client.UpdateOptions{DryRun: o.DryRun, FieldManager: o.FieldManager})
}

func (c *localClient) Patch(ctx context.Context, obj Object, patch Patch, opts ...PatchOption) error {
	if patch == nil {
		return api.NewBadRequest("Patch: nil patch")
	}
	if err := checkNotNil("Patch", obj); err != nil {
		return err
	}
	if err := c.defaultNamespace(obj); err != nil {
		return err
	}
	data, err := patch.Data(obj)
	if err != nil {
		return err
	}
	o := writeOpts(opts, PatchOption.ApplyToPatch)
	return c.c.Patch(ctx, obj, patch.Type(), data, client.PatchOptions{DryRun: o.DryRun, FieldManager: o.FieldManager})
}

func (c *localClient) Delete(ctx context.Context, obj Object, opts ...DeleteOption) error {
	if err := checkNotNil("Delete", obj); err != nil {
		return err
	}
	var o DeleteOptions
	for _, opt := range opts {
		opt.ApplyToDelete(&o)
	}
	if err := c.defaultNamespace(obj); err != nil {
		return err
	}
	return c.c.Delete(ctx, obj.GetNamespace(), obj.GetName(), obj, client.DeleteOptions{
		Propagation: o.Propagation, ResourceVersion: o.ResourceVersion, DryRun: o.DryRun,
	})
}

func (c *localClient) Watch(ctx context.Context, list ObjectList, opts ...ListOption) (Watcher, error) {
	if err := checkNotNil("Watch", list); err != nil {
		return nil, err
	}
	info, ok := c.c.Scheme().KindFor(list)
	if !ok {
		return nil, api.NewBadRequest(fmt.Sprintf("type %T is not a registered kind", list))
	}
	o := listOpts(opts)
	o.Consistent = false
	return c.c.Watch(ctx, info, o)
}

func (c *localClient) ApplyAll(ctx context.Context, manifest []byte, opts ...ApplyOption) ([]Object, error) {
	return applyAll(ctx, c, manifest, opts)
}

func (c *localClient) Apply(ctx context.Context, obj Object, opts ...ApplyOption) error {
	if err := checkNotNil("Apply", obj); err != nil {
		return err
	}
	if err := c.defaultNamespace(obj); err != nil {
		return err
	}
	o := writeOpts(opts, ApplyOption.ApplyToApply)
	return client.Apply(ctx, c.c, obj, client.ApplyOptions{DryRun: o.DryRun, FieldManager: o.FieldManager})
}
