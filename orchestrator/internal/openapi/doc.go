// Package openapi serves the OpenAPI v2 and v3 documents of the Kubernetes
// API that Flotilla's API server speaks.
//
//go:generate go run gen.go
package openapi
