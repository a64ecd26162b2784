package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
)

func quote(s string) string { return strconv.Quote(s) }

func sortStrings[S ~[]E, E cmp.Ordered](s S) { slices.Sort(s) }

// isNilObject reports whether obj is nil or a typed nil pointer.
func isNilObject(obj any) bool {
	if obj == nil {
		return true
	}
	v := reflect.ValueOf(obj)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// semanticEqual reports whether a and b have the same JSON form, so that
// nil and empty maps and slices (which omitempty drops alike) are equal.
func semanticEqual(a, b any) bool {
	if va, vb := reflect.ValueOf(a), reflect.ValueOf(b); va.IsValid() && vb.IsValid() &&
		va.Type() == vb.Type() && (va.Kind() == reflect.Map || va.Kind() == reflect.Slice) &&
		va.Len() == 0 && vb.Len() == 0 {
		return true
	}
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	if errA != nil || errB != nil {
		return reflect.DeepEqual(a, b)
	}
	return bytes.Equal(ja, jb)
}

// selectorsEqual compares label selectors by meaning: the same
// requirements in any order. nil (select nothing) differs from empty
// (select everything).
func selectorsEqual(a, b *LabelSelector) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	sa, errA := LabelSelectorAsSelector(a)
	sb, errB := LabelSelectorAsSelector(b)
	if errA != nil || errB != nil {
		return semanticEqual(a, b)
	}
	return sa.String() == sb.String()
}
