package strategy

import (
	"errors"
	"fmt"
	"weak"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Strategy is how the write path treats one kind, in the spirit of
// Kubernetes' rest.RESTCreateStrategy, RESTUpdateStrategy and
// RESTDeleteStrategy in one interface. The registry calls it between
// mutating and validating admission; everything a kind does differently
// from the others is here, so the registry's code never names a kind.
//
// Implementations are stateless: every method is a function of its
// arguments, safe for concurrent use and never blocks. obj and old are
// always of the kind's Go type; obj may be modified, old never.
type Strategy interface {
	// NamespaceScoped reports whether objects of the kind live in a
	// namespace. It must agree with the kind's KindInfo.Namespaced
	// (NewSet checks).
	NamespaceScoped() bool

	// PrepareForCreate clears what a client may not set on a new object
	// (the status, for kinds whose status the server or a controller
	// writes) and sets the kind's own server fields (a Namespace's phase).
	// The registry sets what every kind shares: uid, creationTimestamp,
	// generation 1, no deletion state.
	PrepareForCreate(obj api.Object)
	// PrepareForUpdate makes an update of the main resource keep what it
	// may not change: obj (the incoming object) gets old's status. The
	// registry keeps what every kind shares (uid, creationTimestamp,
	// deletion state and generation) before calling it.
	PrepareForUpdate(obj, old api.Object)
	// Default fills unset fields, as the Kubernetes API server does
	// before validation. It is idempotent.
	Default(obj api.Object)
	// Validate returns every problem of a new, defaulted object
	// (metadata included), each with its field path.
	Validate(obj api.Object) api.FieldErrorList
	// ValidateUpdate is Validate of obj plus the rules of a change from
	// old: fields that are immutable once set.
	ValidateUpdate(obj, old api.Object) api.FieldErrorList
	// BumpsGeneration reports whether the update from old to obj changes
	// the desired state (the spec; a ConfigMap's data; an Event's fields),
	// so that the registry increments metadata.generation. Metadata and
	// status never count: writing an annotation or a status does not make
	// controllers see a new generation.
	BumpsGeneration(obj, old api.Object) bool

	// Status returns how the status subresource (UpdateStatus) treats the
	// kind, or nil for a kind without status (ConfigMap, Event), for
	// which UpdateStatus is refused.
	Status() StatusStrategy

	// Deletion says what Delete does to objects of the kind.
	Deletion() Deletion
	// PrepareForDelete adjusts an object that Delete marks (sets
	// deletionTimestamp on) rather than removes, before it is stored: a
	// Namespace becomes Terminating.
	PrepareForDelete(obj api.Object)
}

// StatusStrategy is how the status subresource treats a kind: a status
// write changes the status and nothing else.
type StatusStrategy interface {
	// PrepareForUpdate makes a status write keep everything but the
	// status: obj (the incoming object) gets old's spec and other
	// non-status fields. The registry keeps old's metadata itself.
	PrepareForUpdate(obj, old api.Object)
	// ValidateUpdate checks the result of a status write, as the main
	// resource's ValidateUpdate does (a Node's capacity must not be
	// negative, ...).
	ValidateUpdate(obj, old api.Object) api.FieldErrorList
}

// Deletion says what Delete does to an object of a kind.
type Deletion int

const (
	// DeleteWhenUnheld removes the object when no finalizer holds it and
	// otherwise only marks it (deletionTimestamp) until an update removes
	// the last finalizer. The propagation policy applies: Foreground and
	// Orphan add their finalizer for the garbage collector.
	DeleteWhenUnheld Deletion = iota
	// DeleteByFinalize only ever marks the object, whatever its
	// finalizers, and ignores the propagation policy: the kind's
	// controller empties it and then removes it through the finalize step
	// (RemoveNamespace). Removing the last finalizer does not remove it.
	DeleteByFinalize
)

// String returns the constant's name.
func (d Deletion) String() string {
	switch d {
	case DeleteWhenUnheld:
		return "DeleteWhenUnheld"
	case DeleteByFinalize:
		return "DeleteByFinalize"
	}
	return fmt.Sprintf("Deletion(%d)", int(d))
}

// TableConvertor is the slot for kubectl's table output, reserved for the
// API server issue: a kind's strategy will implement it to give
// `kubectl get` its columns (Kubernetes' rest.TableConvertor). Nothing
// implements or calls it yet; a kind without it will show the name and
// age only.
type TableConvertor interface {
	// TableColumns names the kind's columns after NAME, e.g. READY,
	// STATUS, RESTARTS and AGE for Pods.
	TableColumns() []string
}

// Sharer is an optional ability of a strategy, for kinds with many
// objects (Pods, ReplicaSets, Nodes): read-only caches that read with
// client.ListOptions.Shared may share one decoded object per key and
// revision. Kinds with few objects do not implement it.
type Sharer interface {
	// WeakRef returns a function that yields obj while something else
	// keeps it alive, and nil afterwards.
	WeakRef(obj api.Object) func() api.Object
}

// Replicated is an optional ability of a strategy, for kinds whose
// objects ask for a number of Pods (Deployment, ReplicaSet): the
// registry's limit on replicas per workload reads it.
type Replicated interface {
	// Replicas returns the replicas obj asks for and the path of the
	// field that says so; ok is false when obj does not say (the field is
	// unset).
	Replicas(obj api.Object) (n int64, field api.Path, ok bool)
}

// weakRef is Sharer.WeakRef for the kind of Go type T.
func weakRef[T any, PT interface {
	*T
	api.Object
}](obj api.Object) func() api.Object {
	wp := weak.Make((*T)(obj.(PT)))
	return func() api.Object {
		if v := wp.Value(); v != nil {
			return PT(v)
		}
		return nil
	}
}

// Registration ties a kind, named by apiVersion and kind as in its
// KindInfo, to its strategy.
type Registration struct {
	APIVersion string
	Kind       string
	Strategy   Strategy
}

// Builtin returns the registrations of Flotilla's built-in kinds: the one
// table to extend when a kind is added (with its KindInfo in api's scheme).
func Builtin() []Registration {
	return []Registration{
		{api.CoreV1, "Namespace", namespaceStrategy{}},
		{api.CoreV1, "Node", nodeStrategy{}},
		{api.CoreV1, "Pod", podStrategy{}},
		{api.CoreV1, "ConfigMap", configMapStrategy{}},
		{api.CoreV1, "Secret", secretStrategy{}},
		{api.CoreV1, "Event", eventStrategy{}},
		{api.AppsV1, "Deployment", deploymentStrategy{}},
		{api.AppsV1, "ReplicaSet", replicaSetStrategy{}},
		{api.BatchV1, "Job", jobStrategy{}},
		{api.AppsV1, "DaemonSet", daemonSetStrategy{}},
		{api.CoordinationV1, "Lease", leaseStrategy{}},
		{api.RbacV1, "Role", roleStrategy{}},
		{api.RbacV1, "ClusterRole", clusterRoleStrategy{}},
		{api.RbacV1, "RoleBinding", roleBindingStrategy{}},
		{api.RbacV1, "ClusterRoleBinding", clusterRoleBindingStrategy{}},
		{api.CoreV1, "Service", serviceStrategy{ranges: DefaultServiceRanges()}},
		{api.DiscoveryV1, "EndpointSlice", endpointSliceStrategy{}},
	}
}

// Set holds one strategy for every kind of a scheme. It is read-only once
// built and safe for concurrent use.
type Set struct {
	byKind map[string]Strategy // by KindInfo.Kind, unique in a scheme
}

// NewSet returns the strategies of regs for the kinds of scheme.
//
// Errors, all at once (errors.Join), each naming the kind: a kind of the
// scheme without a registration; a registration for a kind the scheme
// does not have, or with another apiVersion; two registrations of a kind;
// a nil strategy; a strategy whose NamespaceScoped disagrees with the
// KindInfo. A missing strategy is an error rather than a default one so
// that a new kind cannot reach the store without its defaults and
// validation.
func NewSet(scheme *api.Scheme, regs []Registration) (*Set, error) {
	s := &Set{byKind: map[string]Strategy{}}
	var errs []error
	for _, r := range regs {
		info, ok := scheme.LookupKind(r.Kind)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("strategy: %s %s is not a kind of the scheme", r.APIVersion, r.Kind))
			continue
		case info.APIVersion != r.APIVersion:
			errs = append(errs, fmt.Errorf("strategy: %s is registered as %s, the scheme has %s", r.Kind, r.APIVersion, info.APIVersion))
			continue
		case r.Strategy == nil:
			errs = append(errs, fmt.Errorf("strategy: %s has a nil strategy", r.Kind))
			continue
		case s.byKind[r.Kind] != nil:
			errs = append(errs, fmt.Errorf("strategy: %s is registered twice", r.Kind))
			continue
		case r.Strategy.NamespaceScoped() != info.Namespaced:
			errs = append(errs, fmt.Errorf("strategy: %s: NamespaceScoped() is %v, the scheme says namespaced %v",
				r.Kind, r.Strategy.NamespaceScoped(), info.Namespaced))
			continue
		}
		s.byKind[r.Kind] = r.Strategy
	}
	for _, info := range scheme.Kinds() {
		if _, ok := s.byKind[info.Kind]; !ok {
			errs = append(errs, fmt.Errorf("strategy: kind %s (%s) has no registered strategy", info.Kind, info.APIVersion))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// For returns the strategy of a kind of the set's scheme (nil for another
// kind, which NewSet makes a programming error).
func (s *Set) For(info api.KindInfo) Strategy { return s.byKind[info.Kind] }
