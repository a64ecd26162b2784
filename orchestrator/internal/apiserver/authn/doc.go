// Package authn authenticates requests to the Kubernetes API server
// (apiserver.Authenticator) the way kube-apiserver does with its x509 and
// static token file authenticators:
//
//   - A client certificate of the cluster CA (trust.Pool.VerifyClient:
//     signed by a trusted CA, within its validity, for client
//     authentication, not revoked): CN is the user name, each O a group.
//     Node certificates authenticate as system:node:<name> in
//     system:nodes and flotilla:servers or flotilla:agents; the admin
//     kubeconfig's certificate as its CN in system:masters.
//   - A bearer token ("Authorization: Bearer <token>") listed in a static
//     token file in Kubernetes' CSV format (ReadTokenFile).
//
// A request is tried in that order; the first that proves a user wins, so
// a bad certificate does not hide a good token (Kubernetes' union
// authenticator). A request with neither is not authenticated (there is no
// anonymous user): the server answers 401.
//
// # Using it
//
//  1. Read the token file, if any, with ReadTokenFile (at start; the file
//     is not watched).
//  2. New(Config{Pool: pool, Tokens: tokens}) and give the result to
//     apiserver.Config.Authenticator.
//  3. Serve with a tls.Config whose ClientAuth is tls.RequestClientCert:
//     the handshake accepts any client certificate and this package
//     verifies it, so that a stranger's, an expired or a revoked
//     certificate gets a 401 the client can read rather than a broken
//     handshake.
//
// # What it does not do
//
//   - Authorization: until RBAC lands the server treats every
//     authenticated user as an administrator.
//   - ServiceAccount tokens, OIDC, webhooks, front-proxy headers,
//     impersonation and anonymous requests are not served.
//   - Tokens are never logged; the token file is read once.
package authn
