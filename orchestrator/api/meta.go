package api

import (
	"bytes"
	"encoding/json"
)

// TypeMeta names an object's schema: its API version and kind, as in
// Kubernetes ("apps/v1", "Deployment"). It is embedded inline in every kind.
type TypeMeta struct {
	// APIVersion is "v1" for core kinds and "<group>/<version>" otherwise.
	APIVersion string `json:"apiVersion,omitempty"`
	// Kind is the object's kind in CamelCase, e.g. "Pod".
	Kind string `json:"kind,omitempty"`
}

// GetTypeMeta returns tm itself; it is promoted to every kind so that
// [Object] can reach the type information of any object.
func (tm *TypeMeta) GetTypeMeta() *TypeMeta { return tm }

// ObjectMeta is the metadata every persisted object carries. Field names and
// meanings follow Kubernetes' metav1.ObjectMeta.
type ObjectMeta struct {
	// Name is unique within a namespace (or the cluster, for cluster-scoped
	// kinds). It is required unless GenerateName is set.
	Name string `json:"name,omitempty"`
	// GenerateName is a prefix the server uses to generate a unique name
	// when Name is empty.
	GenerateName string `json:"generateName,omitempty"`
	// Namespace is empty for cluster-scoped kinds; the server sets "default"
	// for namespaced kinds when it is empty.
	Namespace string `json:"namespace,omitempty"`
	// UID is set by the server on create and never changes.
	UID UID `json:"uid,omitempty"`
	// ResourceVersion is the store revision of the last write, an opaque
	// string to clients. Updates that carry one are compare-and-swap.
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// Generation is incremented by the server on every spec change.
	Generation int64 `json:"generation,omitempty"`
	// CreationTimestamp is set by the server on create.
	CreationTimestamp Time `json:"creationTimestamp,omitzero"`
	// DeletionTimestamp is set when deletion was requested and finalizers
	// or graceful termination are still pending.
	DeletionTimestamp *Time `json:"deletionTimestamp,omitempty"`
	// DeletionGracePeriodSeconds is the grace period granted when
	// DeletionTimestamp was set.
	DeletionGracePeriodSeconds *int64 `json:"deletionGracePeriodSeconds,omitempty"`
	// Labels are identifying key/value pairs used by selectors.
	Labels map[string]string `json:"labels,omitempty"`
	// Annotations are non-identifying key/value pairs; their total size is
	// limited to 256 KiB.
	Annotations map[string]string `json:"annotations,omitempty"`
	// OwnerReferences list the objects this one depends on; at most one may
	// be the managing controller.
	OwnerReferences []OwnerReference `json:"ownerReferences,omitempty" patchMergeKey:"uid" patchStrategy:"merge"`
	// Finalizers must all be removed before a deleted object disappears.
	Finalizers []string `json:"finalizers,omitempty" patchStrategy:"merge"`
	// SelfLink is accepted for compatibility with old Kubernetes output.
	SelfLink string `json:"selfLink,omitempty"`
	// ManagedFields is accepted and kept, so that `kubectl get -o yaml`
	// output decodes; Flotilla does not maintain it.
	ManagedFields []ManagedFieldsEntry `json:"managedFields,omitempty"`
}

// ManagedFieldsEntry records which manager set which fields (Kubernetes
// server-side apply bookkeeping, kept opaque).
type ManagedFieldsEntry struct {
	Manager     string   `json:"manager,omitempty"`
	Operation   string   `json:"operation,omitempty"`
	APIVersion  string   `json:"apiVersion,omitempty"`
	Time        *Time    `json:"time,omitempty"`
	FieldsType  string   `json:"fieldsType,omitempty"`
	FieldsV1    *RawJSON `json:"fieldsV1,omitempty"`
	Subresource string   `json:"subresource,omitempty"`
}

// RawJSON holds an arbitrary JSON value verbatim (compacted).
type RawJSON struct {
	Raw []byte
}

// MarshalJSON returns the stored JSON, or null when empty.
func (r RawJSON) MarshalJSON() ([]byte, error) {
	if len(r.Raw) == 0 {
		return []byte("null"), nil
	}
	return r.Raw, nil
}

// UnmarshalJSON stores a compacted copy of data; it fails only on invalid
// JSON.
func (r *RawJSON) UnmarshalJSON(data []byte) error {
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return err
	}
	r.Raw = buf.Bytes()
	return nil
}

// UID is a unique identifier assigned by the server.
type UID string

// OwnerReference points from a dependent object to its owner, which must be
// in the same namespace (or cluster-scoped).
type OwnerReference struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	UID        UID    `json:"uid"`
	// Controller marks the owner that manages this object; at most one.
	Controller *bool `json:"controller,omitempty"`
	// BlockOwnerDeletion makes foreground deletion of the owner wait for
	// this dependent.
	BlockOwnerDeletion *bool `json:"blockOwnerDeletion,omitempty"`
}

// ListMeta is the metadata of a list response.
type ListMeta struct {
	// ResourceVersion is the store revision the list is consistent at;
	// a watch started from it misses nothing.
	ResourceVersion string `json:"resourceVersion,omitempty"`
	// Continue is an opaque token for fetching the next page.
	Continue string `json:"continue,omitempty"`
	// RemainingItemCount estimates the items after this page, if known.
	RemainingItemCount *int64 `json:"remainingItemCount,omitempty"`
}

// GetListMeta returns lm itself; it is promoted to every list kind.
func (lm *ListMeta) GetListMeta() *ListMeta { return lm }

// GetObjectMeta returns m itself; it is promoted to every kind so that
// [Object] can reach the metadata of any object.
func (m *ObjectMeta) GetObjectMeta() *ObjectMeta { return m }

// GetName returns the object's name.
func (m *ObjectMeta) GetName() string { return m.Name }

// GetNamespace returns the object's namespace ("" for cluster-scoped kinds).
func (m *ObjectMeta) GetNamespace() string { return m.Namespace }

// GetUID returns the object's UID.
func (m *ObjectMeta) GetUID() UID { return m.UID }

// GetResourceVersion returns the object's resource version.
func (m *ObjectMeta) GetResourceVersion() string { return m.ResourceVersion }

// SetResourceVersion sets the object's resource version.
func (m *ObjectMeta) SetResourceVersion(rv string) { m.ResourceVersion = rv }

// GetLabels returns the object's labels (possibly nil; do not modify the
// map of an object shared with a cache).
func (m *ObjectMeta) GetLabels() map[string]string { return m.Labels }

// GetAnnotations returns the object's annotations (possibly nil).
func (m *ObjectMeta) GetAnnotations() map[string]string { return m.Annotations }

// Object is implemented by every kind (pointer receivers): metadata and type
// information are reached through the embedded TypeMeta and ObjectMeta.
type Object interface {
	GetTypeMeta() *TypeMeta
	GetObjectMeta() *ObjectMeta
	GetName() string
	GetNamespace() string
	GetUID() UID
	GetResourceVersion() string
	SetResourceVersion(rv string)
	GetLabels() map[string]string
	GetAnnotations() map[string]string
	// DeepCopyObject returns an independent copy of the object.
	DeepCopyObject() Object
}

// ObjectList is implemented by every list kind (pointer receivers).
type ObjectList interface {
	GetTypeMeta() *TypeMeta
	GetListMeta() *ListMeta
	// GetItems returns pointers to the list's items (not copies): each
	// element points into the list's Items slice.
	GetItems() []Object
	// SetItems replaces the items; every element must be of the list's
	// item kind, otherwise SetItems returns an error and changes nothing.
	SetItems(items []Object) error
	// DeepCopyList returns an independent copy of the list.
	DeepCopyList() ObjectList
}

// Key returns the canonical store/cache key of an object: "namespace/name",
// or just "name" for cluster-scoped objects (empty namespace), as in
// Kubernetes' cache.MetaNamespaceKeyFunc.
func Key(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// KeyOf returns Key(obj.GetNamespace(), obj.GetName()).
func KeyOf(obj Object) string { return Key(obj.GetNamespace(), obj.GetName()) }

// SplitKey is the inverse of Key. It returns an error if key has more than
// one "/" or an empty name.
func SplitKey(key string) (namespace, name string, err error) {
	first := -1
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			if first >= 0 {
				return "", "", &keyError{key}
			}
			first = i
		}
	}
	if first < 0 {
		namespace, name = "", key
	} else {
		namespace, name = key[:first], key[first+1:]
	}
	if name == "" {
		return "", "", &keyError{key}
	}
	return namespace, name, nil
}

type keyError struct{ key string }

func (e *keyError) Error() string {
	return "api: malformed object key " + quote(e.key) + ": want \"namespace/name\" or \"name\""
}

// DeletionPropagation says what happens to an object's dependents (objects
// whose ownerReferences name it) when it is deleted.
type DeletionPropagation string

// Deletion propagation policies, as in Kubernetes.
const (
	// DeletePropagationBackground deletes the owner at once and lets the
	// garbage collector delete the dependents afterwards.
	DeletePropagationBackground DeletionPropagation = "Background"
	// DeletePropagationForeground keeps the owner, with a deletionTimestamp
	// and the foregroundDeletion finalizer, until every dependent with
	// blockOwnerDeletion is gone.
	DeletePropagationForeground DeletionPropagation = "Foreground"
	// DeletePropagationOrphan deletes the owner and removes it from the
	// dependents' ownerReferences, leaving them running.
	DeletePropagationOrphan DeletionPropagation = "Orphan"
)

// Finalizers the garbage collector understands.
const (
	FinalizerForegroundDeletion = "foregroundDeletion"
	FinalizerOrphanDependents   = "orphan"
)
