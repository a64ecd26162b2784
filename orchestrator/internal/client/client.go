package client

import (
	"context"
	"fmt"
	"strconv"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Interface is everything a component may do with the cluster state.
type Interface interface {
	Reader
	Writer
	StatusWriter
	Binder
	WatchLister
	NamespaceRemover
	// Scheme returns the kinds this client serves.
	Scheme() *api.Scheme
}

// Reader reads objects.
type Reader interface {
	// Get reads the object namespace/name of out's kind into out.
	// Errors: NotFound; BadRequest for an unregistered type;
	// ServiceUnavailable when a consistent read finds no leader; ctx.Err().
	Get(ctx context.Context, namespace, name string, out api.Object, o GetOptions) error
	// List reads the objects of list's kind matching o into list and sets
	// its resourceVersion to the revision the result is consistent at.
	// Errors: BadRequest for an unregistered type or an unsupported field
	// selector; ServiceUnavailable; ctx.Err().
	List(ctx context.Context, list api.ObjectList, o ListOptions) error
}

// WatchLister lists and watches by kind, for informers.
type WatchLister interface {
	// ListObjects returns the objects of info's kind matching o and the
	// revision they are consistent at. Errors as List.
	ListObjects(ctx context.Context, info api.KindInfo, o ListOptions) ([]api.Object, int64, error)
	// Watch streams changes to objects of info's kind matching o after
	// revision o.ResourceVersion ("" or "0": from now). With o.Shared the
	// events' objects are shared and must not be modified (see
	// ListOptions.Shared).
	// Errors: TooOld when that revision was compacted away; BadRequest
	// for a malformed resourceVersion or an unsupported field selector;
	// ServiceUnavailable when the serving store stopped.
	Watch(ctx context.Context, info api.KindInfo, o ListOptions) (api.Watcher, error)
}

// Writer writes objects' spec and metadata.
type Writer interface {
	// Create stores a new object; obj receives the stored object.
	// Errors: Invalid listing every bad field path (nothing stored);
	// AlreadyExists; NotFound naming a missing Namespace; Forbidden for a
	// terminating Namespace or a refusal by admission; ServiceUnavailable;
	// ctx.Err().
	Create(ctx context.Context, obj api.Object, o CreateOptions) error
	// Update replaces spec and metadata; with a resourceVersion on obj it
	// is compare-and-swap. obj receives the stored object.
	// Errors: NotFound; Conflict for a stale resourceVersion; Invalid;
	// Forbidden; ServiceUnavailable; ctx.Err().
	Update(ctx context.Context, obj api.Object, o UpdateOptions) error
	// Patch applies patch of type pt to the stored object named by obj's
	// namespace and name; obj receives the result. Concurrent writes are
	// retried unless the patch sets metadata.resourceVersion.
	// Errors: NotFound; BadRequest for a malformed patch; Invalid;
	// Conflict; UnsupportedMediaType for a patch type not served;
	// ctx.Err().
	Patch(ctx context.Context, obj api.Object, pt api.PatchType, patch []byte, o PatchOptions) error
	// Delete deletes namespace/name of obj's kind; obj receives the last
	// state. Objects with finalizers are only marked.
	// Errors: NotFound; Conflict when the precondition fails; Forbidden;
	// BadRequest for an unknown propagation policy; ctx.Err().
	Delete(ctx context.Context, namespace, name string, obj api.Object, o DeleteOptions) error
}

// StatusWriter writes the status subresource.
type StatusWriter interface {
	// UpdateStatus replaces only obj's status. Errors as Update, and
	// BadRequest for a kind without status.
	UpdateStatus(ctx context.Context, obj api.Object, o UpdateOptions) error
}

// Binder binds Pods to Nodes (the pods/binding subresource).
type Binder interface {
	// Bind sets spec.nodeName of the unbound pod, at its resourceVersion,
	// and returns the stored Pod.
	// Errors: NotFound; Conflict when the Pod changed or is bound;
	// ServiceUnavailable; ctx.Err().
	Bind(ctx context.Context, pod *api.Pod, nodeName string, o UpdateOptions) (*api.Pod, error)
}

// NamespaceRemover ends a Namespace's deletion (the namespaces/finalize
// step): the namespace controller calls it once the Namespace is empty.
type NamespaceRemover interface {
	// RemoveNamespace deletes the Namespace name, which must be being
	// deleted and have no finalizers left; rv, if set, must be its
	// resourceVersion. obj receives the last state.
	// Errors: NotFound; Conflict when rv is stale, the Namespace is not
	// being deleted or finalizers remain; ServiceUnavailable; ctx.Err().
	RemoveNamespace(ctx context.Context, name, rv string, obj *api.Namespace) error
}

// Scanner is an optional ability of a local store: visit a kind's objects
// one at a time without holding them all decoded. Callers fall back to
// ListObjects (see Scan).
type Scanner interface {
	Scan(ctx context.Context, info api.KindInfo, o ListOptions, fn func(api.Object) error) (int64, error)
}

// Counter is an optional ability of a local store: count a kind's objects
// without reading them, for the remainingItemCount of a paged list.
type Counter interface {
	// CountAfter returns how many objects of info's kind in namespace
	// ("": all namespaces, or a cluster-scoped kind) come after after
	// (as ListOptions.After; "": all of them), ignoring selectors.
	// Errors: BadRequest for a malformed after; ServiceUnavailable;
	// ctx.Err().
	CountAfter(ctx context.Context, info api.KindInfo, namespace, after string) (int, error)
}

// Scan calls fn with each object of info's kind that matches o, through
// c's Scanner when it has one, else through ListObjects.
func Scan(ctx context.Context, c WatchLister, info api.KindInfo, o ListOptions, fn func(api.Object) error) (int64, error) {
	if s, ok := c.(Scanner); ok {
		return s.Scan(ctx, info, o, fn)
	}
	objs, rev, err := c.ListObjects(ctx, info, o)
	if err != nil {
		return 0, err
	}
	for _, obj := range objs {
		if err := fn(obj); err != nil {
			return 0, err
		}
	}
	return rev, nil
}

// GetOptions say how Get reads.
type GetOptions struct {
	// Consistent makes the read linearizable (it sees every write
	// acknowledged before it started); otherwise the serving replica
	// answers from its state, which may lag.
	Consistent bool
}

// ListOptions select objects for List, ListObjects and Watch.
type ListOptions struct {
	// Namespace restricts to one namespace ("": all).
	Namespace string
	Labels    api.Selector
	Fields    api.FieldSelector
	// Consistent: as GetOptions.Consistent (List only).
	Consistent bool
	// ResourceVersion is the revision Watch starts after ("" or "0": now).
	ResourceVersion string
	// Limit, when positive, makes List, ListObjects and Scan return at
	// most Limit objects: the first matching ones in the store's key
	// order (by namespace + "/" + name, byte by byte), after After. A page
	// of a paged list; a local implementation reads only that part of
	// the store. Watch ignores it. Remote implementations may ignore it
	// and After and return every object, so a caller that pages also
	// cuts what it gets.
	Limit int
	// After, when not "", makes List, ListObjects and Scan return only
	// the objects after this one in that order: "namespace/name" of the
	// last object of the previous page ("/name" for a cluster-scoped
	// kind). Watch ignores it.
	After string
	// Shared lets a local implementation return objects shared with other
	// Shared readers (one decoded copy per key and revision), from List,
	// ListObjects and the events of Watch: for consumers that never modify
	// what they get, such as informers and the API server (which only
	// encodes). A consumer that must change such an object changes a
	// DeepCopyObject of it. Without Shared every object returned is the
	// caller's own. Remote implementations ignore it.
	Shared bool
}

// CreateOptions change a Create.
type CreateOptions struct {
	// DryRun runs defaulting, admission and validation and stores nothing;
	// obj receives what would have been stored.
	DryRun bool
	// FieldManager names the actor making the write (at most 128
	// characters); it is recorded in metadata.managedFields.
	FieldManager string
}

// UpdateOptions change an Update, UpdateStatus or Bind.
type UpdateOptions struct {
	// DryRun and FieldManager: as CreateOptions.
	DryRun       bool
	FieldManager string
}

// PatchOptions change a Patch.
type PatchOptions struct {
	// DryRun and FieldManager: as CreateOptions.
	DryRun       bool
	FieldManager string
}

// DeleteOptions change a Delete.
type DeleteOptions struct {
	// Propagation: Background (default) deletes the object now and lets
	// the garbage collector delete its dependents; Foreground keeps it
	// until its blocking dependents are gone; Orphan removes the owner
	// reference from dependents first.
	Propagation api.DeletionPropagation
	// ResourceVersion, if set, must match the stored object.
	ResourceVersion string
	// DryRun checks the deletion and changes nothing; obj receives what
	// would have been the last state.
	DryRun bool
}

// ParseResourceVersion parses a resourceVersion; "" is 0.
//
// Errors: BadRequest naming the value.
func ParseResourceVersion(rv string) (int64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, api.NewBadRequest(fmt.Sprintf("invalid resourceVersion %q: want a decimal revision", rv))
	}
	return n, nil
}
