package api

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// KindInfo describes one kind to the Scheme: how it is named in manifests,
// in URLs and on the command line, and how to make values of it.
type KindInfo struct {
	// APIVersion is "v1" for core kinds, "<group>/<version>" otherwise.
	APIVersion string
	// Kind is the CamelCase kind name, e.g. "Deployment".
	Kind string
	// Resource is the lowercase plural used in URLs and RBAC, e.g.
	// "deployments".
	Resource string
	// ShortNames are CLI abbreviations, e.g. "deploy".
	ShortNames []string
	// Namespaced is false for cluster-scoped kinds (Namespace, Node).
	Namespaced bool
	// New returns a new zero object of the kind with TypeMeta set.
	New func() Object
	// NewList returns a new empty list of the kind with TypeMeta set.
	NewList func() ObjectList
}

// Group returns the API group ("" for core, "apps" for apps/v1).
func (k KindInfo) Group() string {
	g, _ := SplitAPIVersion(k.APIVersion)
	return g
}

// GroupResource returns "resource.group", or the resource for the core
// group (e.g. "deployments.apps", "pods").
func (k KindInfo) GroupResource() string {
	if g := k.Group(); g != "" {
		return k.Resource + "." + g
	}
	return k.Resource
}

// SplitAPIVersion splits "apps/v1" into ("apps", "v1") and "v1" into
// ("", "v1").
func SplitAPIVersion(apiVersion string) (group, version string) {
	if i := strings.LastIndexByte(apiVersion, '/'); i >= 0 {
		return apiVersion[:i], apiVersion[i+1:]
	}
	return "", apiVersion
}

// Scheme is a read-only registry of kinds: it maps (apiVersion, kind) to Go
// types and back, and resource and short names to kinds. Decoding
// consults it, and so does the server (with a strategy per kind). Build one with NewScheme; DefaultScheme holds
// the built-in kinds. A Scheme is safe for concurrent use.
type Scheme struct {
	kinds      []KindInfo
	byKind     map[string]int // kind -> index (kinds are unique across groups)
	byType     map[reflect.Type]int
	byResource map[string]int // plural, singular, short names, group-qualified
}

// NewScheme returns a Scheme of the given kinds. It returns an error naming
// the problem if a KindInfo lacks a field, if two kinds share a kind name,
// a resource or short name, or if New/NewList do not agree with the
// declared kind.
func NewScheme(kinds ...KindInfo) (*Scheme, error) {
	s := &Scheme{
		byKind:     map[string]int{},
		byType:     map[reflect.Type]int{},
		byResource: map[string]int{},
	}
	var errs []string
	for i, k := range kinds {
		p := fmt.Sprintf("kinds[%d]", i)
		if k.APIVersion == "" || k.Kind == "" || k.Resource == "" || k.New == nil || k.NewList == nil {
			errs = append(errs, p+": APIVersion, Kind, Resource, New and NewList are required")
			continue
		}
		obj := k.New()
		if tm := obj.GetTypeMeta(); tm.APIVersion != k.APIVersion || tm.Kind != k.Kind {
			errs = append(errs, fmt.Sprintf("%s: New() returns TypeMeta %s/%s, want %s/%s", p, tm.APIVersion, tm.Kind, k.APIVersion, k.Kind))
		}
		if _, dup := s.byKind[k.Kind]; dup {
			errs = append(errs, fmt.Sprintf("%s: kind %q registered twice", p, k.Kind))
			continue
		}
		idx := len(s.kinds)
		s.kinds = append(s.kinds, k)
		s.byKind[k.Kind] = idx
		s.byType[reflect.TypeOf(obj)] = idx
		s.byType[reflect.TypeOf(k.NewList())] = idx
		names := append([]string{k.Resource, strings.ToLower(k.Kind), k.GroupResource()}, k.ShortNames...)
		for _, n := range names {
			if j, dup := s.byResource[n]; dup && j != idx {
				errs = append(errs, fmt.Sprintf("%s: resource name %q already used by %s", p, n, s.kinds[j].Kind))
				continue
			}
			s.byResource[n] = idx
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("api: invalid scheme: %s", strings.Join(errs, "; "))
	}
	return s, nil
}

// Kinds returns the registered kinds in registration order.
func (s *Scheme) Kinds() []KindInfo { return slices.Clone(s.kinds) }

// Lookup returns the kind registered under apiVersion and kind.
func (s *Scheme) Lookup(apiVersion, kind string) (KindInfo, bool) {
	i, ok := s.byKind[kind]
	if !ok || s.kinds[i].APIVersion != apiVersion {
		return KindInfo{}, false
	}
	return s.kinds[i], true
}

// LookupKind returns the kind registered under the kind name, whatever its
// apiVersion.
func (s *Scheme) LookupKind(kind string) (KindInfo, bool) {
	i, ok := s.byKind[kind]
	if !ok {
		return KindInfo{}, false
	}
	return s.kinds[i], true
}

// ForResource resolves a name as a user types it on the command line:
// plural ("deployments"), singular ("deployment"), short ("deploy") or
// group-qualified ("deployments.apps"), case-insensitively.
func (s *Scheme) ForResource(name string) (KindInfo, bool) {
	i, ok := s.byResource[strings.ToLower(name)]
	if !ok {
		return KindInfo{}, false
	}
	return s.kinds[i], true
}

// KindFor returns the kind of obj (or of a list) from its Go type.
func (s *Scheme) KindFor(obj any) (KindInfo, bool) {
	i, ok := s.byType[reflect.TypeOf(obj)]
	if !ok {
		return KindInfo{}, false
	}
	return s.kinds[i], true
}

// New returns a new object of the given kind with TypeMeta set. It returns
// the Invalid error decoding returns for a document naming apiVersion and
// kind: Required when one is empty, and for an unsupported kind the
// message DecodeDocuments describes.
func (s *Scheme) New(apiVersion, kind string) (Object, error) {
	info, err := s.resolve(apiVersion, kind, "")
	if err != nil {
		return nil, err
	}
	return info.New(), nil
}

// resolve finds the kind a document names, or returns an Invalid error
// saying what is wrong with its apiVersion and kind; name is the
// document's, for messages.
func (s *Scheme) resolve(apiVersion, kind, name string) (KindInfo, error) {
	if info, ok := s.Lookup(apiVersion, kind); ok {
		return info, nil
	}
	info, known := s.LookupKind(kind)
	if kind != "" && (!known || apiVersion != "") {
		return KindInfo{}, s.unsupportedKind(apiVersion, kind, name)
	}
	var errs FieldErrorList
	if apiVersion == "" {
		detail := ""
		if known {
			detail = fmt.Sprintf("%s is in %q", kind, info.APIVersion)
		}
		errs = append(errs, Required(NewPath("apiVersion"), detail))
	}
	if kind == "" {
		errs = append(errs, Required(NewPath("kind"), ""))
	}
	return KindInfo{}, NewInvalid(kind, name, errs)
}

// unsupportedKind is the Invalid error for a kind the scheme does not
// serve under apiVersion. Its message says so in those words rather than
// as a field value (`unsupported kind "Deplyment" in group/version
// "apps/v1": did you mean "Deployment"?`), with a hint: the apiVersion of
// a kind of another group, the closest kind for a near miss
// (case-insensitive), or the supported kinds. Its one field error is on
// apiVersion for a kind of another group, on kind otherwise.
func (s *Scheme) unsupportedKind(apiVersion, kind, name string) *StatusError {
	msg := fmt.Sprintf("unsupported kind %q", kind)
	if apiVersion != "" {
		msg += fmt.Sprintf(" in group/version %q", apiVersion)
	}
	names := make([]string, len(s.kinds))
	for i, k := range s.kinds {
		names[i] = k.Kind
	}
	var fe *FieldError
	if info, ok := s.LookupKind(kind); ok {
		msg += fmt.Sprintf(": use apiVersion %q", info.APIVersion)
		fe = NotSupported(NewPath("apiVersion"), apiVersion, info.APIVersion)
	} else if near, ok := closest(kind, names); ok {
		info, _ := s.LookupKind(near)
		hint := fmt.Sprintf("did you mean %q?", near)
		if info.APIVersion != apiVersion {
			hint = fmt.Sprintf("did you mean %q in %q?", near, info.APIVersion)
		}
		msg += ": " + hint
		fe = &FieldError{Type: ErrorTypeNotSupported, Field: "kind", BadValue: kind, Detail: hint}
	} else {
		slices.Sort(names)
		msg += "; supported kinds: " + strings.Join(names, ", ")
		fe = NotSupported(NewPath("kind"), kind, names...)
	}
	e := NewInvalid(kind, name, FieldErrorList{fe})
	e.ErrStatus.Message = msg
	return e
}

// SetTypeMeta fills obj's apiVersion and kind from its Go type. It returns
// an error if the type is not registered.
func (s *Scheme) SetTypeMeta(obj Object) error {
	info, ok := s.KindFor(obj)
	if !ok {
		return fmt.Errorf("api: %T is not a registered kind", obj)
	}
	tm := obj.GetTypeMeta()
	tm.APIVersion, tm.Kind = info.APIVersion, info.Kind
	return nil
}

// defaultScheme is built once at package initialisation and never
// modified afterwards.
var defaultScheme = func() *Scheme {
	s, err := NewScheme(builtinKinds()...)
	if err != nil {
		panic(err) // a programming error in builtinKinds, caught by every test
	}
	return s
}()

// DefaultScheme returns the read-only scheme of Flotilla's built-in kinds.
// The package-level Decode, DecodeAll and DecodeInto use it.
func DefaultScheme() *Scheme { return defaultScheme }

// Kind names and API versions of the built-in kinds.
const (
	CoreV1  = "v1"
	AppsV1  = "apps/v1"
	BatchV1 = "batch/v1"
	// CoordinationV1 is the group version of Lease.
	CoordinationV1 = "coordination.k8s.io/v1"
	// DiscoveryV1 is the group/version of EndpointSlices.
	DiscoveryV1 = "discovery.k8s.io/v1"
)

// builtinKinds is the table to extend when adding a kind: write its types,
// the methods in kinds.go, and an entry here; its defaulting, validation
// and the rest of its server-side behaviour are its strategy in
// orchestrator/internal/strategy.
func builtinKinds() []KindInfo {
	return []KindInfo{
		{APIVersion: CoreV1, Kind: "Namespace", Resource: "namespaces", ShortNames: []string{"ns"},
			New:     func() Object { return &Namespace{TypeMeta: TypeMeta{CoreV1, "Namespace"}} },
			NewList: func() ObjectList { return &NamespaceList{TypeMeta: TypeMeta{CoreV1, "NamespaceList"}} }},
		{APIVersion: CoreV1, Kind: "Node", Resource: "nodes", ShortNames: []string{"no"},
			New:     func() Object { return &Node{TypeMeta: TypeMeta{CoreV1, "Node"}} },
			NewList: func() ObjectList { return &NodeList{TypeMeta: TypeMeta{CoreV1, "NodeList"}} }},
		{APIVersion: CoreV1, Kind: "Pod", Resource: "pods", ShortNames: []string{"po"}, Namespaced: true,
			New:     func() Object { return &Pod{TypeMeta: TypeMeta{CoreV1, "Pod"}} },
			NewList: func() ObjectList { return &PodList{TypeMeta: TypeMeta{CoreV1, "PodList"}} }},
		{APIVersion: CoreV1, Kind: "ConfigMap", Resource: "configmaps", ShortNames: []string{"cm"}, Namespaced: true,
			New:     func() Object { return &ConfigMap{TypeMeta: TypeMeta{CoreV1, "ConfigMap"}} },
			NewList: func() ObjectList { return &ConfigMapList{TypeMeta: TypeMeta{CoreV1, "ConfigMapList"}} }},
		secretKind(),
		{APIVersion: CoreV1, Kind: "Event", Resource: "events", ShortNames: []string{"ev"}, Namespaced: true,
			New:     func() Object { return &Event{TypeMeta: TypeMeta{CoreV1, "Event"}} },
			NewList: func() ObjectList { return &EventList{TypeMeta: TypeMeta{CoreV1, "EventList"}} }},
		{APIVersion: AppsV1, Kind: "Deployment", Resource: "deployments", ShortNames: []string{"deploy"}, Namespaced: true,
			New:     func() Object { return &Deployment{TypeMeta: TypeMeta{AppsV1, "Deployment"}} },
			NewList: func() ObjectList { return &DeploymentList{TypeMeta: TypeMeta{AppsV1, "DeploymentList"}} }},
		{APIVersion: AppsV1, Kind: "ReplicaSet", Resource: "replicasets", ShortNames: []string{"rs"}, Namespaced: true,
			New:     func() Object { return &ReplicaSet{TypeMeta: TypeMeta{AppsV1, "ReplicaSet"}} },
			NewList: func() ObjectList { return &ReplicaSetList{TypeMeta: TypeMeta{AppsV1, "ReplicaSetList"}} }},
		{APIVersion: BatchV1, Kind: "Job", Resource: "jobs", Namespaced: true,
			New:     func() Object { return &Job{TypeMeta: TypeMeta{BatchV1, "Job"}} },
			NewList: func() ObjectList { return &JobList{TypeMeta: TypeMeta{BatchV1, "JobList"}} }},
		{APIVersion: AppsV1, Kind: "DaemonSet", Resource: "daemonsets", ShortNames: []string{"ds"}, Namespaced: true,
			New:     func() Object { return &DaemonSet{TypeMeta: TypeMeta{AppsV1, "DaemonSet"}} },
			NewList: func() ObjectList { return &DaemonSetList{TypeMeta: TypeMeta{AppsV1, "DaemonSetList"}} }},
		{APIVersion: CoordinationV1, Kind: "Lease", Resource: "leases", Namespaced: true,
			New:     func() Object { return &Lease{TypeMeta: TypeMeta{CoordinationV1, "Lease"}} },
			NewList: func() ObjectList { return &LeaseList{TypeMeta: TypeMeta{CoordinationV1, "LeaseList"}} }},
		{APIVersion: RbacV1, Kind: "Role", Resource: "roles", Namespaced: true,
			New:     func() Object { return &Role{TypeMeta: TypeMeta{RbacV1, "Role"}} },
			NewList: func() ObjectList { return &RoleList{TypeMeta: TypeMeta{RbacV1, "RoleList"}} }},
		{APIVersion: RbacV1, Kind: "ClusterRole", Resource: "clusterroles",
			New:     func() Object { return &ClusterRole{TypeMeta: TypeMeta{RbacV1, "ClusterRole"}} },
			NewList: func() ObjectList { return &ClusterRoleList{TypeMeta: TypeMeta{RbacV1, "ClusterRoleList"}} }},
		{APIVersion: RbacV1, Kind: "RoleBinding", Resource: "rolebindings", Namespaced: true,
			New:     func() Object { return &RoleBinding{TypeMeta: TypeMeta{RbacV1, "RoleBinding"}} },
			NewList: func() ObjectList { return &RoleBindingList{TypeMeta: TypeMeta{RbacV1, "RoleBindingList"}} }},
		{APIVersion: RbacV1, Kind: "ClusterRoleBinding", Resource: "clusterrolebindings",
			New: func() Object { return &ClusterRoleBinding{TypeMeta: TypeMeta{RbacV1, "ClusterRoleBinding"}} },
			NewList: func() ObjectList {
				return &ClusterRoleBindingList{TypeMeta: TypeMeta{RbacV1, "ClusterRoleBindingList"}}
			}},
		{APIVersion: CoreV1, Kind: "Service", Resource: "services", ShortNames: []string{"svc"}, Namespaced: true,
			New:     func() Object { return &Service{TypeMeta: TypeMeta{CoreV1, "Service"}} },
			NewList: func() ObjectList { return &ServiceList{TypeMeta: TypeMeta{CoreV1, "ServiceList"}} }},
		{APIVersion: DiscoveryV1, Kind: "EndpointSlice", Resource: "endpointslices", Namespaced: true,
			New:     func() Object { return &EndpointSlice{TypeMeta: TypeMeta{DiscoveryV1, "EndpointSlice"}} },
			NewList: func() ObjectList { return &EndpointSliceList{TypeMeta: TypeMeta{DiscoveryV1, "EndpointSliceList"}} }},
	}
}
