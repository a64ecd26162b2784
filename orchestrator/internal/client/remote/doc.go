// Package remote implements client.Interface over the HTTPS Kubernetes API
// of a Flotilla cluster, so that a component (an agent on an agent-only
// node, a program outside the cluster) uses the cluster exactly as one
// inside it uses the local registry: same methods, same errors.
//
// Use:
//
//  1. Fill a Config: the servers' URLs (every server answers every
//     request; the next is tried when one cannot be reached), the CA pool
//     that verifies them, and a client certificate or a bearer token.
//  2. remote.New(cfg) returns a *Client; it starts no goroutine.
//  3. Call it as any client.Interface. Each method is the REST call
//     Kubernetes uses for it (Get is GET .../<resource>/<name>, Create is
//     POST to the collection, Watch is GET ?watch=true streaming
//     {"type","object"} events, ...). Resource paths come from the
//     Scheme's KindInfo (Resource, APIVersion, Namespaced).
//  4. Stop every Watcher; Close releases idle connections.
//
// Errors are the *api.StatusError values the server sends as Status bodies,
// so api.IsNotFound, IsConflict, IsInvalid (with field causes) and the
// other predicates work unchanged. A server that cannot be reached gives
// a ServiceUnavailable error wrapping the transport's error; a cancelled
// or expired ctx gives ctx.Err().
//
// What it does not do: it does not cache, retry a request a server
// answered (even with an error), follow redirects to other hosts, or
// speak any encoding but JSON. It refuses plain http:// servers.
package remote
