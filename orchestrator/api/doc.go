// Package api is Flotilla's object model: the Kubernetes-compatible types
// (Namespace, Node, Pod, Deployment, ReplicaSet, DaemonSet, ConfigMap, Secret, Event,
// Job, the coordination.k8s.io Lease, Service, EndpointSlice and their
// lists) and what a program needs to read, write and reason about them:
//
//   - strict decoding of JSON and multi-document YAML ([Decode],
//     [DecodeAll], [DecodeDocuments] for every document's outcome,
//     [DecodeInto]) and encoding ([EncodeJSON], [EncodeYAML]);
//   - resource quantities ([Quantity], [ResourceList]), [IntOrString] and
//     [Time] with Kubernetes' wire formats;
//   - label and field selectors ([ParseSelector], [LabelSelectorAsSelector],
//     [ParseFieldSelector]);
//   - typed API errors ([StatusError], [IsNotFound], [IsInvalid], ...) that
//     serialize as a Kubernetes Status, and field errors with paths
//     ([FieldError], [FieldErrors]);
//   - names and label syntax ([IsDNS1123Label], [IsQualifiedName],
//     [ValidateLabels], ...), the default values of unset fields
//     ([DefaultNamespace], [DefaultProbePeriodSeconds], ...) and the
//     well-known labels and annotations ([PodTemplateHashLabel],
//     [RevisionAnnotation], ...);
//   - JSON merge patch ([MergePatch], RFC 7386);
//   - a registry of kinds ([Scheme]) mapping apiVersion/kind to Go types,
//     resource names ("deployments") and CLI short names ("deploy");
//   - questions about objects ([GetControllerOf], [IsControlledBy],
//     [GetPodCondition], [IsPodReady], [IsPodAvailable],
//     [ResourceRequests], [Key]).
//
// # What is here and what is not
//
// The rule: api holds what a program using Flotilla handles on its side
// of the Client: the types and their wire form, and read-only questions
// about objects. What only the server or the built-in components do to
// objects lives under orchestrator/internal, so it can change without
// breaking programs:
//
//   - defaulting, validation, the status/spec split and generation rules
//     of each kind are the write path's (internal/strategy); decoding is
//     strict about unknown fields and types, but validation happens when
//     the object is written, where Client.Create returns IsInvalid with
//     every bad field path;
//   - admission (NamespaceLifecycle, ...) is internal/admission;
//   - scheduling predicates (taints, tolerations, node affinity) are the
//     scheduler's;
//   - setting conditions, hashing Pod templates and building controller
//     owner references are the controllers' (internal/conditions,
//     internal/controllerutil).
//
// Field names and semantics are Kubernetes' (core/v1 and apps/v1), so
// existing Kubernetes YAML for these kinds decodes unchanged. The package
// depends only on the standard library, sigs.k8s.io/yaml and the YAML
// reader under it (go.yaml.in/yaml/v2). The orchestrator package
// re-exports its types with aliases.
//
// # Usage
//
//  1. Decode manifests: objs, err := api.DecodeAll(yamlBytes), or
//     api.DecodeDocuments(yamlBytes) for every document's outcome at once
//     (its number, line, kind, name, and object or error). Unknown or
//     misspelled fields (with "did you mean"), keys given twice, wrong
//     JSON types, malformed quantities and unsupported kinds are Invalid
//     errors that name the document, its line and every field path
//     (FieldErrors(err) lists them); malformed YAML or JSON is a
//     BadRequest error naming the line in the file.
//  2. Or build objects in Go: &api.Deployment{ObjectMeta: ..., Spec: ...},
//     with api.Ptr(int32(3)) for optional fields and api.MustParse("100m")
//     for literal quantities.
//  3. Hand them to the orchestrator's Client, which defaults, admits and
//     validates them on the server and reports every bad field at once.
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
// type), the DeepCopy/DeepCopyObject and list methods in kinds.go, and an
// entry in builtinKinds in scheme.go (apiVersion, kind, plural resource,
// short names, namespaced). Decoding, encoding, deep copy, field selectors
// on metadata and the CLI names then work without further changes. The
// server-side behaviour (defaults, validation, status) is the kind's
// strategy in orchestrator/internal/strategy; the registry refuses to
// start without one.
//
// # Patches
//
// MergePatch and CreateMergePatch implement RFC 7386; StrategicMergePatch
// and CreateTwoWayMergePatch implement Kubernetes' strategic merge patch,
// reading the patchStrategy and patchMergeKey struct tags, which match
// k8s.io/api's field for field (a test holds them against it).
//
// # What this package does not do
//
// It stores nothing, watches nothing and talks to no server: the
// orchestrator's Client does that on top of these types. It does not
// default or validate objects (the server does, on every write), and it
// implements no server-side apply or managed fields (StrategicMergePatch
// applies kubectl's patches; computing a three-way patch is the client's
// business), no API version conversion (each kind has exactly one
// apiVersion), and no Protobuf encoding.
package api
