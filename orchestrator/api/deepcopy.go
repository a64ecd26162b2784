package api

import (
	"reflect"
)

// Clone returns a deep copy of v: maps, slices and pointers reachable
// through exported fields are duplicated, so the copy shares no mutable
// memory with v. It works on any of this package's types (objects, specs,
// lists, ResourceList ...). It is reflection-based; see
// BenchmarkDeepCopyPod for its cost.
//
// Clone never fails; channels and functions, which no API type contains,
// are copied by reference.
func Clone[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	out := reflect.New(rv.Type()).Elem()
	copyInto(out, rv)
	return out.Interface().(T)
}

// Leaf types hold no memory that can be mutated through a shallow copy.
var (
	timeType        = reflect.TypeFor[Time]()
	quantityType    = reflect.TypeFor[Quantity]()
	intOrStringType = reflect.TypeFor[IntOrString]()
)

// copyInto sets dst (settable, same type, zero) to a deep copy of src.
func copyInto(dst, src reflect.Value) {
	switch src.Kind() {
	case reflect.Pointer:
		if src.IsNil() {
			return
		}
		p := reflect.New(src.Type().Elem())
		copyInto(p.Elem(), src.Elem())
		dst.Set(p)
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		n := src.Len()
		s := reflect.MakeSlice(src.Type(), n, n)
		if isFlat(src.Type().Elem()) {
			reflect.Copy(s, src)
		} else {
			for i := 0; i < n; i++ {
				copyInto(s.Index(i), src.Index(i))
			}
		}
		dst.Set(s)
	case reflect.Map:
		if src.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(src.Type(), src.Len())
		flat := isFlat(src.Type().Elem())
		it := src.MapRange()
		for it.Next() {
			if flat {
				m.SetMapIndex(it.Key(), it.Value())
				continue
			}
			v := reflect.New(src.Type().Elem()).Elem()
			copyInto(v, it.Value())
			m.SetMapIndex(it.Key(), v)
		}
		dst.Set(m)
	case reflect.Struct:
		dst.Set(src) // copies unexported fields of leaf types too
		t := src.Type()
		if t == timeType || t == quantityType || t == intOrStringType {
			return
		}
		for i := 0; i < src.NumField(); i++ {
			f := src.Field(i)
			if !t.Field(i).IsExported() || isFlat(f.Type()) {
				continue
			}
			nv := reflect.New(f.Type()).Elem()
			copyInto(nv, f)
			dst.Field(i).Set(nv)
		}
	case reflect.Interface:
		if src.IsNil() {
			return
		}
		e := src.Elem()
		v := reflect.New(e.Type()).Elem()
		copyInto(v, e)
		dst.Set(v)
	case reflect.Array:
		for i := 0; i < src.Len(); i++ {
			copyInto(dst.Index(i), src.Index(i))
		}
	default:
		dst.Set(src)
	}
}

// isFlat reports whether values of t can be copied by assignment: scalars
// and the leaf types. Structs are not inspected deeply (cheap check).
func isFlat(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return true
	case reflect.Struct:
		return t == timeType || t == quantityType || t == intOrStringType
	}
	return false
}
