// Package nodeauth is the node authorizer of the API server: it confines
// what an agent-only node may do with its credential to what its agent
// needs, as Kubernetes' Node authorizer and NodeRestriction admission
// plugin confine a kubelet.
//
// An agent is a user in the group system:nodes that is not in
// flotilla:servers, named system:node:<node>. Such a user may:
//
//  1. read: get its own Node; get, list and watch Pods; get a ConfigMap
//     or a Secret that a Pod bound to its node references (env, envFrom,
//     configMap, secret and projected volumes, of any container; Secrets
//     also as imagePullSecrets); get Events; get, list and watch Services
//     and EndpointSlices (what a node's Service proxy and DNS read, as
//     Kubernetes' system:node and system:node-proxier roles allow);
//  2. write its own Node (create, update, patch, and the nodes/status
//     subresource: get, update, patch);
//  3. write the status (pods/status: get, update, patch) of the Pods bound
//     to its node, looked up in the store by spec.nodeName;
//  4. create, update and patch Events;
//  5. get, create, update and patch its own Lease (coordination.k8s.io,
//     kube-node-lease/<node>: its heartbeat);
//  6. get the non-resource paths of discovery and health (/api, /apis,
//     /version, /healthz, /livez, /readyz, /openapi).
//
// Everything else is refused with a Forbidden error in Kubernetes'
// wording. Every other user (servers' certificates, tokens) goes to
// Config.Next, or is allowed when Next is nil: until RBAC every other
// authenticated user is an administrator.
//
// The API server authorizes a create before it reads the body, so the
// authorizer cannot see which Node a create names. Restrict wraps the
// server's client.Interface and refuses, for an agent's request (the user
// the server put in the context with apiserver.WithUser), a Node or Lease
// create that names another node, as NodeRestriction does.
//
// Usage:
//
//  1. a := nodeauth.New(nodeauth.Config{Client: reg, Next: rbac})
//  2. apiserver.New(apiserver.Config{Client: nodeauth.Restrict(reg), Authorizer: a, ...})
//
// What it does not do: it does not restrict which fields an agent changes
// in its own Node (labels, taints, spec) or in its Pods' status, nor which
// objects its Events are about; list and watch of Pods are not narrowed to
// the node's own Pods (the authorizer does not see field selectors; the
// agent asks only for spec.nodeName=<node>).
package nodeauth
