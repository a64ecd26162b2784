package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// ErrStrategicMergePatch is wrapped by the errors of StrategicMergePatch
// and CreateTwoWayMergePatch for input they cannot use: a document that is
// not a JSON object, a malformed directive, or a field the kind does not
// have where the patch merges into it.
var ErrStrategicMergePatch = errors.New("invalid strategic merge patch")

// StrategicMergePatch applies a Kubernetes strategic merge patch to
// original (the JSON of an object of obj's kind) and returns the result as
// JSON. obj is only read for its Go type: the patchStrategy and
// patchMergeKey tags of the kind's fields say how each list merges, as on
// a Kubernetes API server. A list with patchStrategy "merge" is merged by
// its patchMergeKey (containers by name, ports by containerPort, conditions
// by type, ...) or, for lists of scalars (finalizers), as a set; every
// other list is replaced whole; objects merge recursively and null removes
// a member. The directives of k8s.io/apimachinery's strategicpatch are
// honoured: "$patch": "delete" | "replace" | "merge" in an object or list
// element, "$setElementOrder/<list>" to order a merged list,
// "$retainKeys" on fields tagged retainKeys (spec.strategy of a
// Deployment, volumes of a PodSpec) and "$deleteFromPrimitiveList/<list>"
// for merged lists of scalars. Fields whose JSON is opaque to the schema
// (quantities, times, RawJSON) merge as in a JSON merge patch.
//
// The result is not validated; decode it with DecodeInto to check it
// against the kind's schema.
//
// Errors: wraps ErrStrategicMergePatch when original or patch is not a
// JSON object, when a directive is malformed, when a merged list holds
// lists, or when the patch merges into a field obj's kind lacks (the
// library's message says which).
func StrategicMergePatch(original, patch []byte, obj Object) ([]byte, error) {
	schema, err := newPatchSchema(obj)
	if err != nil {
		return nil, err
	}
	if len(original) == 0 {
		original = []byte("{}")
	}
	out, err := strategicpatch.StrategicMergePatchUsingLookupPatchMeta(original, patch, schema)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStrategicMergePatch, err)
	}
	return out, nil
}

// CreateTwoWayMergePatch returns the strategic merge patch that turns
// original into modified (both JSON objects of obj's kind), as kubectl
// computes it: merged lists are sent as the changed elements with
// "$setElementOrder" and "$patch": "delete" directives, other lists whole,
// removed members as null. StrategicMergePatch(original, patch, obj)
// yields modified. A three-way patch (kubectl apply) is the client's
// business: the server only applies.
//
// Errors: wraps ErrStrategicMergePatch when original or modified is not a
// JSON object or does not fit obj's kind.
func CreateTwoWayMergePatch(original, modified []byte, obj Object) ([]byte, error) {
	schema, err := newPatchSchema(obj)
	if err != nil {
		return nil, err
	}
	out, err := strategicpatch.CreateTwoWayMergePatchUsingLookupPatchMeta(original, modified, schema)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStrategicMergePatch, err)
	}
	return out, nil
}

// patchSchema tells strategicpatch how the fields of a Go type merge. It
// reads the struct tags as strategicpatch.PatchMetaFromStruct does, and
// treats what that cannot descend into (types with their own JSON form,
// map values) as opaque: their members merge as in a JSON merge patch
// instead of failing.
type patchSchema struct {
	// t is the struct type whose fields are looked up; nil for an opaque
	// value.
	t reflect.Type
}

var jsonMarshaler = reflect.TypeFor[json.Marshaler]()

// newPatchSchema returns the schema of obj's Go type.
//
// Errors: wraps ErrStrategicMergePatch when obj is nil or not a struct.
func newPatchSchema(obj Object) (patchSchema, error) {
	t := reflect.TypeOf(obj)
	if t == nil {
		return patchSchema{}, fmt.Errorf("%w: no object type given", ErrStrategicMergePatch)
	}
	s := schemaOf(t)
	if s.t == nil {
		return patchSchema{}, fmt.Errorf("%w: %s is not a struct", ErrStrategicMergePatch, t)
	}
	return s, nil
}

// schemaOf returns the schema of values of type t: a struct's, or an
// opaque one.
func schemaOf(t reflect.Type) patchSchema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) {
		return patchSchema{}
	}
	return patchSchema{t: t}
}

// LookupPatchMetadataForStruct implements strategicpatch.LookupPatchMeta.
func (s patchSchema) LookupPatchMetadataForStruct(key string) (strategicpatch.LookupPatchMeta, strategicpatch.PatchMeta, error) {
	if s.t == nil {
		return patchSchema{}, strategicpatch.PatchMeta{}, nil
	}
	sub, meta, err := strategicpatch.PatchMetaFromStruct{T: s.t}.LookupPatchMetadataForStruct(key)
	if err != nil {
		return nil, strategicpatch.PatchMeta{}, err
	}
	return schemaOf(sub.(strategicpatch.PatchMetaFromStruct).T), meta, nil
}

// LookupPatchMetadataForSlice implements strategicpatch.LookupPatchMeta.
func (s patchSchema) LookupPatchMetadataForSlice(key string) (strategicpatch.LookupPatchMeta, strategicpatch.PatchMeta, error) {
	if s.t == nil {
		return patchSchema{}, strategicpatch.PatchMeta{}, nil
	}
	sub, meta, err := strategicpatch.PatchMetaFromStruct{T: s.t}.LookupPatchMetadataForSlice(key)
	if err != nil {
		return nil, strategicpatch.PatchMeta{}, err
	}
	return schemaOf(sub.(strategicpatch.PatchMetaFromStruct).T), meta, nil
}

// Name implements strategicpatch.LookupPatchMeta.
func (s patchSchema) Name() string {
	if s.t == nil {
		return "opaque"
	}
	return s.t.Name()
}
