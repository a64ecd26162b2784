// Package openapi serves the OpenAPI v2 and v3 documents of the Kubernetes
// API that Flotilla's API server speaks, built from the api.Scheme's Go
// types by reflection, so that the schema is what the server decodes:
// kubectl explain reads the descriptions, kubectl apply and patch read the
// patch strategies, and kubectl 1.32 chooses server-side field validation
// because every PATCH operation offers the fieldValidation parameter.
//
// # Usage
//
//  1. h, err := openapi.NewHandler(scheme) builds every document once (they
//     depend only on the scheme) and encodes it as JSON, protobuf and gzip.
//  2. Mount h at /openapi/v2 and under /openapi/v3/ (the API server does).
//  3. After changing package api, run go generate
//     ./orchestrator/internal/openapi: the descriptions (the api package's
//     doc comments), Kubernetes' definition names and list markers live in
//     zz_generated.go, written by package openapigen; TestGeneratedIsCurrent
//     fails while it is stale.
//
// # The schema
//
// JSON tags name the properties; embedded structs without a JSON name are
// flattened; a field whose tag has neither omitempty nor omitzero is
// required (the rule Kubernetes' openapi-gen follows). Strings, booleans,
// int32 and int64 integers, maps (additionalProperties) and slices map to
// their OpenAPI types; api.Time is a date-time string, Quantity a string
// (v3: string or number), IntOrString Kubernetes' int-or-string, RawJSON
// an object that keeps unknown fields. Named structs are definitions under
// Kubernetes' names (io.k8s.api.apps.v1.Deployment,
// io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta); a type Kubernetes does
// not have is named under com.github.flotilla-io.flotilla.api. Kinds and
// lists carry x-kubernetes-group-version-kind; fields carry
// x-kubernetes-patch-strategy and -patch-merge-key from their struct tags
// and x-kubernetes-list-type, -list-map-keys and -map-type where
// Kubernetes' field has them.
//
// Paths follow Kubernetes' layout: collection and item paths per resource
// (namespaced ones also across namespaces), status for kinds with a status,
// scale for kinds with spec.replicas, spec.selector and status.replicas,
// and pods/log, with Kubernetes' operation ids, query parameters and
// x-kubernetes-action.
//
// # What it does not do
//
// It does not describe validation beyond required fields (no patterns,
// enums or bounds: the server's validation answers those), watch paths of
// the deprecated /watch/ prefix, or the discovery, version and health
// endpoints. Descriptions of meta.k8s.io types that are not in package api
// (DeleteOptions) are empty.
//
//go:generate go run gen.go
package openapi
