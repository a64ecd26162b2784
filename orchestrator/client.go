package orchestrator

import (
	"context"
	"maps"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
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
// kind), options last. Cluster.Client returns the in-process
// implementation; an HTTPS client for remote clusters with the same
// interface comes with the API server issue.
//
// Reads are linearizable: they see every write acknowledged before they
// started, whichever node serves them. Writes to a follower are forwarded
// to the Raft leader.
type Client interface {
	// Get reads the object named by key into obj.
	// Errors: IsNotFound; IsBadRequest for an unregistered type;
	// IsServiceUnavailable when no leader answers; ctx.Err().
	Get(ctx context.Context, key ObjectKey, obj Object) error
	// List reads the objects matching opts into list and sets the list's
	// resourceVersion (watch from it to follow later changes).
	// Errors: IsBadRequest for a field selector on an unsupported field
	// (supported: metadata.name, metadata.namespace, spec.nodeName,
	// status.phase and the other fields of api.SelectableFields);
	// IsServiceUnavailable; ctx.Err().
	List(ctx context.Context, list ObjectList, opts ...ListOption) error
	// Create stores a new object after defaulting and validation; obj
	// receives the stored object (name for generateName, uid,
	// resourceVersion, creationTimestamp, generation 1). A namespaced
	// object's Namespace must exist ("default" and "kube-system" always
	// do) and not be terminating.
	// Errors: IsInvalid listing every bad field path (nothing stored);
	// IsAlreadyExists; IsNotFound naming the Namespace (`Namespace "x"
	// not found`) when it does not exist; IsForbidden when it is being
	// deleted; IsServiceUnavailable; ctx.Err().
	Create(ctx context.Context, obj Object) error
	// Update replaces spec and metadata (not status). If obj carries a
	// resourceVersion, the update applies only to that version.
	// Errors: IsNotFound; IsConflict for a stale resourceVersion; IsInvalid
	// (also for changed immutable fields); IsServiceUnavailable; ctx.Err().
	Update(ctx context.Context, obj Object) error
	// UpdateStatus replaces only the status. Errors as Update.
	UpdateStatus(ctx context.Context, obj Object) error
	// Patch applies a JSON merge patch (RFC 7386) to the object named by
	// obj's namespace and name; obj receives the result. Concurrent writes
	// are retried unless the patch sets metadata.resourceVersion.
	// Errors: IsNotFound; IsBadRequest for malformed JSON; IsInvalid for
	// unknown fields or an invalid result; IsConflict; ctx.Err().
	Patch(ctx context.Context, obj Object, mergePatch []byte) error
	// Delete deletes the object named by obj's namespace and name.
	// Dependents (objects whose ownerReferences name it) are deleted by
	// the garbage collector per the propagation policy (default
	// Background). obj receives the last state. A Namespace becomes
	// Terminating (deletionTimestamp set, status.phase Terminating,
	// refusing new objects) until the leader has deleted everything in
	// it, then disappears.
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
	// IsBadRequest for a malformed resourceVersion or an unsupported field
	// selector; IsServiceUnavailable.
	Watch(ctx context.Context, list ObjectList, opts ...ListOption) (*Watcher, error)
	// Apply creates obj, or updates the existing object of that name to
	// obj's spec and metadata (create-or-update from a manifest); obj
	// receives the stored object.
	// Errors: those of Create and Update.
	Apply(ctx context.Context, obj Object) error
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

// WatchEventType is ADDED, MODIFIED or DELETED.
type WatchEventType = registry.EventType

// Watch event types.
const (
	Added    = registry.Added
	Modified = registry.Modified
	Deleted  = registry.Deleted
)

// WatchEvent is one change of one object: Type, Object (for DELETED, its
// last state) and Revision (the resourceVersion of the change).
type WatchEvent = registry.WatchEvent

// Watcher streams WatchEvents: read Events() until it is closed, then
// Err() says why (IsTooOld: re-list and watch again; IsServiceUnavailable:
// the node stopped; the context's error after Stop). Stop() ends it and is
// safe to call twice. Events is unbuffered beyond the store's watch buffer;
// a reader that falls far behind ends the watch with IsTooOld.
type Watcher = registry.Watcher

// localClient is the in-process Client over this node's registry.
type localClient struct {
	reg *registry.Registry
}

var _ Client = (*localClient)(nil)

func namespaceFor(reg *registry.Registry, obj any, ns string) (string, error) {
	info, err := reg.Info(obj)
	if err != nil {
		return "", err
	}
	if info.Namespaced && ns == "" {
		return DefaultNamespace, nil
	}
	if !info.Namespaced {
		return "", nil
	}
	return ns, nil
}

func (c *localClient) Get(ctx context.Context, key ObjectKey, obj Object) error {
	ns, err := namespaceFor(c.reg, obj, key.Namespace)
	if err != nil {
		return err
	}
	return c.reg.Get(ctx, ns, key.Name, obj, registry.ReadOptions{Consistent: true})
}

func listOpts(opts []ListOption) ListOptions {
	var o ListOptions
	for _, opt := range opts {
		opt.ApplyToList(&o)
	}
	return o
}

func (c *localClient) List(ctx context.Context, list ObjectList, opts ...ListOption) error {
	o := listOpts(opts)
	return c.reg.List(ctx, list, registry.ListOptions{
		Namespace: o.Namespace, Labels: o.LabelSelector, Fields: o.FieldSelector,
		ReadOptions: registry.ReadOptions{Consistent: true},
	})
}

func (c *localClient) Create(ctx context.Context, obj Object) error { return c.reg.Create(ctx, obj) }

func (c *localClient) Update(ctx context.Context, obj Object) error {
	if err := c.defaultNamespace(obj); err != nil {
		return err
	}
	return c.reg.Update(ctx, obj)
}

func (c *localClient) UpdateStatus(ctx context.Context, obj Object) error {
	if err := c.defaultNamespace(obj); err != nil {
		return err
	}
	return c.reg.UpdateStatus(ctx, obj)
}

func (c *localClient) defaultNamespace(obj Object) error {
	ns, err := namespaceFor(c.reg, obj, obj.GetNamespace())
	if err != nil {
		return err
	}
	obj.GetObjectMeta().Namespace = ns
	return nil
}

func (c *localClient) Patch(ctx context.Context, obj Object, patch []byte) error {
	if err := c.defaultNamespace(obj); err != nil {
		return err
	}
	return c.reg.Patch(ctx, obj, patch)
}

func (c *localClient) Delete(ctx context.Context, obj Object, opts ...DeleteOption) error {
	var o DeleteOptions
	for _, opt := range opts {
		opt.ApplyToDelete(&o)
	}
	if err := c.defaultNamespace(obj); err != nil {
		return err
	}
	return c.reg.Delete(ctx, obj.GetNamespace(), obj.GetName(), obj, registry.DeleteOptions{
		Propagation: o.Propagation, ResourceVersion: o.ResourceVersion,
	})
}

func (c *localClient) Watch(ctx context.Context, list ObjectList, opts ...ListOption) (*Watcher, error) {
	info, err := c.reg.Info(list)
	if err != nil {
		return nil, err
	}
	o := listOpts(opts)
	rw, err := c.reg.Watch(ctx, info, o.ResourceVersion, registry.ListOptions{
		Namespace: o.Namespace, Labels: o.LabelSelector, Fields: o.FieldSelector,
	})
	if err != nil {
		return nil, err
	}
	return rw, nil
}

func (c *localClient) Apply(ctx context.Context, obj Object) error {
	if err := c.defaultNamespace(obj); err != nil {
		return err
	}
	info, err := c.reg.Info(obj)
	if err != nil {
		return err
	}
	for {
		cur := info.New()
		err := c.reg.Get(ctx, obj.GetNamespace(), obj.GetName(), cur, registry.ReadOptions{Consistent: true})
		if api.IsNotFound(err) && obj.GetName() != "" {
			err = c.reg.Create(ctx, obj)
			if api.IsAlreadyExists(err) {
				continue
			}
			return err
		}
		if err != nil {
			return err
		}
		obj.SetResourceVersion(cur.GetResourceVersion())
		err = c.reg.Update(ctx, obj)
		if api.IsConflict(err) {
			continue
		}
		return err
	}
}
