// Package apiserver serves the Kubernetes API over HTTPS for the kinds a
// Flotilla cluster holds, so that kubectl, client-go and tools built on
// them work against a cluster unchanged.
//
// The request path is Kubernetes': authenticate (Authenticator) ->
// authorize (Authorizer) -> the registry's write pipeline (admission,
// strategy, validation) through client.Interface -> the store. The seams
// the embedding node fills (authentication, authorization, tables,
// OpenAPI, pod logs, readiness) are in seams.go.
package apiserver
