package api

// WatchEventType is the type of a watch event, with Kubernetes' names.
type WatchEventType string

// Watch event types.
const (
	Added    WatchEventType = "ADDED"
	Modified WatchEventType = "MODIFIED"
	Deleted  WatchEventType = "DELETED"
)

// WatchEvent is one change of one object. For Deleted, Object is the last
// state with the deletion's resourceVersion.
//
// With selectors, events follow what the watcher can see: an object that
// comes to match them is Added, one that matches before and after a
// change is Modified, and one that stops matching is Deleted, carrying its
// last matching state with the resourceVersion of the change.
type WatchEvent struct {
	Type   WatchEventType
	Object Object
	// Revision is the resourceVersion of the change, as a number.
	Revision int64
}

// Watcher streams WatchEvents: the local registry and a remote API server
// both satisfy it.
//
// Read Events until it is closed; then Err says why: a TooOld error
// (re-list and watch again from the list's resourceVersion),
// ServiceUnavailable when the serving node stopped, or the context's
// error after Stop. Stop ends the watch and waits for its goroutine; it
// is safe to call twice. Events is unbuffered beyond the serving store's
// watch buffer: a reader that falls far behind ends the watch with a
// TooOld error. The objects of the events are the reader's to keep and
// modify, unless the watch was asked for shared objects (the internal
// ListOptions.Shared of informers and the API server): those are read by
// every such watcher of the node and must never be modified.
type Watcher interface {
	Events() <-chan WatchEvent
	Err() error
	Stop()
}

// PatchType says how a patch's bytes are to be read, by their Kubernetes
// content types.
type PatchType string

// The patch types. MergePatchType (RFC 7386), JSONPatchType (RFC 6902)
// and StrategicMergePatchType (Kubernetes' strategic merge patch, as
// kubectl sends: lists of the built-in kinds merged by their keys, see
// StrategicMergePatch) are served for every kind. ApplyPatchType
// (Kubernetes' server-side apply) is refused with an UnsupportedMediaType
// error: Flotilla does not track field ownership.
const (
	JSONPatchType           PatchType = "application/json-patch+json"
	MergePatchType          PatchType = "application/merge-patch+json"
	StrategicMergePatchType PatchType = "application/strategic-merge-patch+json"
	ApplyPatchType          PatchType = "application/apply-patch+yaml"
)
