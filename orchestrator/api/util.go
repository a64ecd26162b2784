package api

import (
	"cmp"
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
