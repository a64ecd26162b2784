package orchestrator

import "github.com/flotilla-io/flotilla/orchestrator/api"

// types.go holds every type, constant and error predicate of package api
// under the same name, generated so that it cannot drift from api.
//go:generate go run gentypes.go

// Helpers re-exported from package api: the functions everyday work needs,
// chosen by hand (the rest stay in package api).
var (
	// Decode strictly decodes one JSON or YAML object; see api.Decode.
	Decode = api.Decode
	// DecodeAll strictly decodes JSON or multi-document YAML, all or
	// nothing; see api.DecodeAll.
	DecodeAll = api.DecodeAll
	// DecodeDocuments decodes every document of a manifest and reports
	// each one's outcome (index, line, kind, name, object or error); see
	// api.DecodeDocuments.
	DecodeDocuments = api.DecodeDocuments
	// ParseSelector parses a label selector such as "app=web,tier!=db".
	ParseSelector = api.ParseSelector
	// ParseFieldSelector parses a field selector such as "spec.nodeName=n1".
	ParseFieldSelector = api.ParseFieldSelector
	// MustParseQuantity parses a literal quantity such as "100m" and panics
	// on a malformed one (for constants in code).
	MustParseQuantity = api.MustParse
	// IsPodReady reports whether a Pod's Ready condition is true.
	IsPodReady = api.IsPodReady
	// IsNodeReady reports whether a Node's Ready condition is true.
	IsNodeReady = api.IsNodeReady
	// FieldErrors lists the field errors of an Invalid error.
	FieldErrors = api.FieldErrors
)

// Ptr returns a pointer to v (for optional fields such as replicas).
func Ptr[T any](v T) *T { return &v }
