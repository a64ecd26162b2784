package api

import (
	"fmt"
	"reflect"
)

// Helpers for the API server's update strategies: Update ignores status
// changes and bumps metadata.generation on spec changes; UpdateStatus
// ignores everything but the status.

// HasStatus reports whether obj's kind has a status (Namespace, Node, Pod,
// Deployment, ReplicaSet do; ConfigMap and Event do not).
func HasStatus(obj Object) bool {
	v := reflect.ValueOf(obj)
	return v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().FieldByName("Status").IsValid()
}

// CopyStatus sets dst's status to a deep copy of src's. It returns an error
// if either is nil, they are of different types or the kind has no status.
func CopyStatus(dst, src Object) error {
	if isNilObject(dst) || isNilObject(src) {
		return fmt.Errorf("api: CopyStatus: nil object")
	}
	dv, sv := reflect.ValueOf(dst), reflect.ValueOf(src)
	if dv.Type() != sv.Type() {
		return fmt.Errorf("api: CopyStatus: %T and %T differ", dst, src)
	}
	df := dv.Elem().FieldByName("Status")
	if !df.IsValid() {
		return fmt.Errorf("api: CopyStatus: %T has no status", dst)
	}
	copyInto(df, sv.Elem().FieldByName("Status"))
	return nil
}

// SpecEqual reports whether a and b have the same desired state: all
// top-level fields except apiVersion/kind, metadata and status have the
// same JSON form (so nil and empty maps are equal) (for ConfigMap the data, for Event the event fields). Objects of
// different types, and nil objects, are never equal. The server increments
// metadata.generation when an update is not SpecEqual to the stored
// object.
func SpecEqual(a, b Object) bool {
	if isNilObject(a) || isNilObject(b) {
		return false
	}
	av, bv := reflect.ValueOf(a), reflect.ValueOf(b)
	if av.Type() != bv.Type() {
		return false
	}
	av, bv = av.Elem(), bv.Elem()
	t := av.Type()
	for i := 0; i < t.NumField(); i++ {
		switch t.Field(i).Name {
		case "TypeMeta", "ObjectMeta", "Status":
			continue
		}
		if !semanticEqual(av.Field(i).Interface(), bv.Field(i).Interface()) {
			return false
		}
	}
	return true
}
