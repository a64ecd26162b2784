// Package clientgotest checks the API server against client-go, in a
// module of its own so that the main module never depends on client-go.
// Run it from this directory: go test ./...
package clientgotest
