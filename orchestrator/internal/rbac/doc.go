// Package rbac is Kubernetes' RBAC for Flotilla's API: an
// apiserver.Authorizer over rbac.authorization.k8s.io/v1 Roles,
// ClusterRoles, RoleBindings and ClusterRoleBindings, deny by default,
// with Kubernetes' built-in roles and its escalation prevention.
//
// Use:
//
//  1. New(Config{Client: reg}) with the node's registry client; Run(ctx)
//     on a goroutine you own keeps four informers (one per kind) current
//     through list and watch. Authorize waits for their first sync, then
//     decides from memory: bindings are indexed by the users and groups
//     they name, so a decision reads only the bindings of the requester.
//  2. Put the Authorizer behind the node authorizer (nodeauth.Config.Next)
//     as the API server's Authorizer: Kubernetes' Node,RBAC order.
//  3. Add an Escalation plugin (with the Authorizer) to the registry's
//     admission chain: writes of roles and bindings by API users may not
//     grant what the user does not hold.
//  4. On the leader, EnsureBootstrapPolicy writes the built-in roles and
//     bindings (BootstrapPolicy) when missing, and restores those still
//     annotated autoupdate "true".
//
// Matching is Kubernetes': rules add up; verbs, apiGroups and resources
// take "*"; a resource "pods/log" names a subresource and "*/status" the
// status of every resource; resourceNames match requests that name an
// object (never a list or a create); non-resource URLs match exactly or,
// ending in "*", by prefix. A RoleBinding grants its role only in its own
// namespace; a ClusterRoleBinding everywhere, and only ClusterRoleBindings
// grant non-resource URLs. Members of Config.SuperGroups (system:masters)
// may do everything.
//
// Reviews gives the API server the access reviews and SelfSubjectReview
// of kubectl auth can-i (and can-i --list) and kubectl auth whoami.
//
// What it does not do: ClusterRole aggregation (the strategy refuses
// aggregationRule); impersonation; LocalSubjectAccessReview. Decisions
// follow the caches, so a binding takes effect on a node once its watch
// delivered it (WaitFor waits for that), as in Kubernetes.
package rbac
