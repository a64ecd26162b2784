// Package clientgo holds the end-to-end tests of Flotilla's Kubernetes API
// with client-go as the client: typed clientsets, API error predicates,
// shared informers, watches resumed after 410 Gone and across a leader
// change, strategic merge patch and server-side tables, against in-process
// clusters serving the API on loopback (orchestratortest.WithAPI).
//
// It is a module of its own so that client-go never enters the main
// module's go.mod: run it with
//
//	cd orchestrator/e2e/clientgo && go test -race ./...
//
// (.ci/run does). It replaces the main module with the checkout it sits
// in, which is fine here because nothing imports this module.
//
// # What it does not do
//
// No exec, port-forward or attach, and no multi-process clusters.
package clientgo
