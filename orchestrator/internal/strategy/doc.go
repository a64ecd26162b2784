// Package strategy says, kind by kind, how the write path treats
// objects: what the server sets on create, what an update may not change,
// the defaults, the validation with field paths, the status subresource,
// when the generation moves and what Delete does. It is Flotilla's
// counterpart of Kubernetes' per-kind REST strategies.
//
// The registry (orchestrator/internal/registry) holds a Set and calls the
// kind's Strategy at the same points for every kind; it never switches on
// a kind itself. Adding a kind is: its types and KindInfo in package api,
// its Strategy here, one line in Builtin. A kind without a strategy is
// refused when the registry is built (NewSet), so no kind reaches the
// store unvalidated.
//
// Usage:
//
//  1. Build the set for a scheme: set, err := strategy.NewSet(scheme,
//     strategy.Builtin()) (append Registrations for kinds of your own).
//  2. On create: s := set.For(info); s.PrepareForCreate(obj);
//     s.Default(obj); errs := s.Validate(obj).
//  3. On update: s.PrepareForUpdate(obj, old) (or s.Status().PrepareForUpdate
//     for a status write), s.Default(obj), errs := s.ValidateUpdate(obj,
//     old), and increment the generation when s.BumpsGeneration(obj, old).
//  4. On delete: s.Deletion() says whether the object is removed once no
//     finalizer holds it or only marked for its controller;
//     s.PrepareForDelete(obj) adjusts an object that is marked.
//
// Optional abilities, found by type assertion: Sharer (decoded objects
// shared between caches), Replicated (the replicas limit) and Allocator
// (values unique across the cluster, such as a Service's cluster IP and
// node ports, whose records the registry writes in the object's own
// transaction). The Service strategy's pools are DefaultServiceRanges
// unless WithServiceRanges says otherwise.
//
// A Pod spec (a Pod's, or a Deployment's or ReplicaSet's template) runs
// as written or is refused: a field Flotilla decodes but does not act on
// yet is refused with a Forbidden error "not supported yet" naming it
// (unsupported.go), never accepted and ignored. A test walks every field
// of api.PodSpec and fails for one that is neither honoured nor refused.
//
// Validation expects what the registry does first: the object's namespace
// set (the request's, "default" when empty) and its apiVersion/kind
// matching its Go type (the registry checks them); Validate reports an
// unset restartPolicy or probe period as missing, so default first.
//
// What it does not do: it reads no other object (cross-object rules such
// as "the namespace exists" are admission's: orchestrator/internal/admission),
// stores nothing, and has no per-request state. Canonicalize (Kubernetes
// normalises some fields after validation) is left out: no built-in kind
// needs it. Table columns for kubectl are a reserved slot
// (TableConvertor), filled with the API server.
package strategy
