// Package api is Flotilla's object model: the Kubernetes-compatible types
// (Namespace, Node, Pod, Deployment, ReplicaSet, ConfigMap, Event and their
// lists), and everything needed to turn a manifest into a checked object
// and to work with objects in controllers:
//
//   - strict decoding of JSON and multi-document YAML ([Decode],
//     [DecodeAll], [DecodeInto]) and encoding ([EncodeJSON], [EncodeYAML]);
//   - defaulting ([Default]) and validation with field paths ([Validate],
//     [ValidateUpdate]);
//   - resource quantities ([Quantity], [ResourceList]), [IntOrString] and
//     [Time] with Kubernetes' wire formats;
//   - label and field selectors ([ParseSelector], [LabelSelectorAsSelector],
//     [ParseFieldSelector]);
//   - typed API errors ([StatusError], [IsNotFound], [IsInvalid], ...) that
//     serialize as a Kubernetes Status;
//   - JSON merge patch ([MergePatch], RFC 7386);
//   - a registry of kinds ([Scheme]) mapping apiVersion/kind to Go types,
//     resource names ("deployments") and CLI short names ("deploy");
//   - questions about objects ([GetControllerOf], [IsControlledBy],
//     [GetPodCondition], [IsPodReady], [ResourceRequests], [Key]).
//
// Field names and semantics are Kubernetes' (core/v1 and apps/v1), so
// existing Kubernetes YAML for these kinds decodes unchanged. The package
// depends only on the standard library and sigs.k8s.io/yaml. The
// orchestrator package re-exports its types with aliases.
//
// # Usage
//
//  1. Decode manifests: objs, err := api.DecodeAll(yamlBytes). Unknown or
//     misspelled fields, wrong JSON types, malformed quantities and unknown
//     apiVersion/kind are errors that name the document and every field
//     path; IsInvalid(err) is true and FieldErrors(err) lists them.
//  2. Or build objects in Go: &api.Deployment{ObjectMeta: ..., Spec: ...},
//     with api.Ptr(int32(3)) for optional fields and api.MustParse("100m")
//     for literal quantities.
//  3. Default, then validate, as the API server does: api.Default(obj);
//     err := api.Validate(obj) (or api.DefaultAndValidate(obj)). On update,
//     api.ValidateUpdate(old, new) also rejects changes to immutable fields.
//  4. Store and send objects with api.EncodeJSON / api.EncodeYAML; copy
//     them with obj.DeepCopy() before mutating anything shared with a cache.
//  5. Select objects with api.ParseSelector("app=web,tier!=db") and
//     api.ParseFieldSelector("spec.nodeName=node-1"); report failures with
//     api.NewNotFound, api.NewConflict, ... and test them with the
//     predicates.
//
// # Flotilla deviations and extensions
//
//   - Probe.PeriodMilliseconds (JSON "periodMilliseconds") is a Flotilla
//     extension: when > 0 it replaces periodSeconds so tests can probe
//     several times a second. Kubernetes does not know the field.
//   - ContainerStatus.Probes (JSON "probes") is a Flotilla extension: per
//     probe its result, success and failure counts and last failure
//     message ([ContainerProbeStatus], which says when the agent updates
//     it). It is omitted when empty, so Kubernetes status round-trips.
//   - imagePullPolicy defaults to IfNotPresent even for ":latest" images,
//     because Flotilla assumes no registry.
//   - A Pod update may set spec.nodeName once (the scheduler binds with a
//     compare-and-swap update instead of a binding subresource).
//   - [Time] has second precision on the wire; [Now] truncates to the second
//     so objects survive a round trip unchanged.
//   - Quantities keep at most 18 significant digits and exponents within
//     ±1000; other numbers are rejected at parse time and arithmetic beyond
//     them saturates (Kubernetes keeps arbitrary precision). Finer than
//     10^-9 rounds up, as in Kubernetes.
//   - Kubernetes fields Flotilla does not act on yet (topologySpreadConstraints,
//     dnsConfig, projected and downwardAPI volumes, managedFields, several
//     status fields ...) are decoded and kept, so that real manifests and
//     `kubectl get -o yaml` output decode; they have no effect. Fields that
//     Kubernetes does not define are errors.
//   - DecodeAll expands a "kind: List" document into its items.
//
// # Adding a kind
//
// Write the types (embedding TypeMeta and ObjectMeta inline, plus a List
// type), the DeepCopy/DeepCopyObject and list methods in kinds.go, an entry
// in builtinKinds in scheme.go (apiVersion, kind, plural resource, short
// names, namespaced), and its rules in defaults.go and validation.go (type
// switches on the kind). Decoding, encoding, deep copy, field selectors on
// metadata and the CLI names then work without further changes.
//
// # What this package does not do
//
// It stores nothing, watches nothing and talks to no server: the
// orchestrator's Client does that on top of these types. It implements no
// strategic merge patch, server-side apply or managed fields, no API
// version conversion (each kind has exactly one apiVersion), no admission
// beyond defaulting and validation (no quota, RBAC or cross-object
// checks such as "the ConfigMap exists"), and no Protobuf encoding.
package api
