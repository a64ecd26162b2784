// Package admission defines the admission stage of the write path: the
// plugins that may change (mutating admission) and then accept or refuse
// (validating admission) every create, update and delete before it is
// stored, as Kubernetes' admission controllers do.
//
// The registry runs a Chain for every write, in this order:
//
//	decode → (authentication, authorization) → Chain.Admit (Mutators)
//	       → the kind's strategy: prepare, default, validate
//	       → Chain.Validate (Validators) → store
//
// A plugin sees the write as Attributes: the operation, kind, namespace,
// name, subresource, the incoming and the stored object, dry run, and a
// client to read the cluster state. A decision that depends on another
// object is made race-free with RequireUnchanged: the registry stores the
// write only if that object is still at the version the plugin read, in
// the same store transaction.
//
// Usage:
//
//  1. Write a type with Name and Handles, and Admit (a Mutator),
//     Validate (a Validator) or both.
//  2. Return an *api.StatusError to refuse with a given reason
//     (api.NewForbidden, api.NewNotFound, ...); any other error refuses
//     with Forbidden naming the plugin.
//  3. Hand the chain to the registry: registry.Config{Admission:
//     append(registry.DefaultAdmission(), myPlugin)}. The chain belongs to
//     that registry; there is no global list of plugins.
//
// Built-in plugins live in subpackages: namespacelifecycle
// (NamespaceLifecycle). ServiceAccount, LimitRanger, ResourceQuota and the
// embedding program's Go hooks come with later issues.
//
// What it does not do: it runs no webhooks, holds no state of its own,
// and does not retry a refused write.
package admission
