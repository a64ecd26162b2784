// Package apiserver serves the Kubernetes API for the kinds a Flotilla
// cluster holds, so that kubectl, client-go and tools built on them work
// against a cluster unchanged.
//
// The request path is Kubernetes': authenticate (Authenticator) ->
// authorize (Authorizer, with Kubernetes' request attributes) -> the
// registry's write pipeline (admission, strategy, validation) through
// client.Interface -> the store. The seams the embedding node fills
// (authentication, authorization, tables, OpenAPI, pod logs, readiness)
// are in seams.go.
//
// # Use
//
//  1. Build a Config: the node's local registry client, an
//     Authenticator (required: there is no anonymous access) and, as the
//     node has them, an Authorizer, a TableConvertor, the OpenAPI
//     handler, a LogStreamer and a readiness check.
//  2. New(cfg) returns a *Server, an http.Handler; it starts nothing.
//  3. Serve it over TLS (the caller owns the listener and its
//     certificates); every request's goroutine ends with the request.
//
// # What it serves
//
//   - /version, /healthz, /livez, /readyz (the three health paths answer
//     without credentials, for load balancers and probes).
//   - Discovery, built from the client's Scheme: /api, /apis (legacy, and
//     aggregated apidiscovery.k8s.io/v2 when Accept asks for it, as
//     kubectl 1.32 does), /api/v1 and /apis/<group>/<version>. Subresources
//     and the "all" category are read from each kind's Go type (status for
//     a status field, scale for spec.replicas with spec.selector and
//     status.replicas, "all" for Pods and kinds with a Pod template).
//   - get, list, watch, create, update, patch (JSON, merge and strategic
//     merge patches passed to the client), delete, deletecollection, on
//     /api/v1/... and /apis/<group>/<version>/..., namespaced and across
//     namespaces; the status, scale (autoscaling/v1), pods/log,
//     pods/binding, pods/eviction (kubectl drain; there are no
//     PodDisruptionBudgets to refuse one) and namespaces/finalize
//     subresources (binding and finalize are client.Interface's Bind and
//     RemoveNamespace).
//   - Bodies in JSON or YAML, and Kubernetes protobuf request bodies
//     (kubectl's generators send them); responses in JSON or YAML, and
//     meta.k8s.io Tables when Accept asks (kubectl get).
//   - Every error as a Kubernetes Status with its HTTP code, worded as
//     kube-apiserver words it.
//
// # Consistency
//
// A get or list without resourceVersion is a consistent (linearizable)
// read; resourceVersion=0 reads the local replica. Pages of a list
// (limit/continue), in the store's key order (namespace/name, as etcd's),
// are each a fresh consistent read of only the objects after the last key
// sent, all reporting the first page's resourceVersion, so that a watch
// from it replays what changed meanwhile (see readPage). Watch streams
// share each event's decoded object and its JSON encoding, and flush when
// no further event is ready. A watch from a
// resourceVersion no longer in the store's history gets an ERROR event
// with a 410 Expired Status, as from kube-apiserver's watch cache.
//
// # What it does not do
//
//   - Server-side apply (application/apply-patch+yaml): 415.
//   - Streaming lists (sendInitialEvents): 422. Watches send BOOKMARK
//     events only at revisions they have already delivered.
//   - resourceVersionMatch=Exact, continue tokens that expire (410), and
//     PartialObjectMetadata responses.
//   - gracePeriodSeconds on delete is accepted and not applied (the client
//     seam has no grace period); a UID precondition is checked on a
//     consistent read before the delete, not atomically with it.
//   - pods/exec, pods/attach and pods/portforward.
//   - fieldValidation on patches: the registry decodes a patched object
//     strictly, so unknown fields in a patch are always refused.
//   - TLS, certificates, RBAC and OpenAPI documents: the embedding node
//     brings them through Config.
package apiserver
