package api

import (
	"reflect"
)

// Clone returns a deep copy of v: maps, slices and pointers reachable
// through exported fields are duplicated, so the copy shares no mutable
// memory with v. It works on any of this package's types (objects, specs,
// lists, ResourceList ...) and on other plain data types. It is
// reflection-based, guided by per-type copy plans computed once at package
// initialisation for the registered kinds; see BenchmarkDeepCopyPod for
// its cost.
//
// Clone never fails; channels and functions, which no API type contains,
// are copied by reference, as are unexported fields.
func Clone[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	out := reflect.New(rv.Type()).Elem()
	copyInto(out, rv)
	return out.Interface().(T)
}

// Leaf types hold no memory that can be mutated through a shallow copy.
var (
	timeType        = reflect.TypeFor[Time]()
	microTimeType   = reflect.TypeFor[MicroTime]()
	quantityType    = reflect.TypeFor[Quantity]()
	intOrStringType = reflect.TypeFor[IntOrString]()
)

// copyPlans maps every struct type reachable from the built-in kinds to the
// indices of its fields that need a deep copy. It is built at package
// initialisation and only read afterwards.
var copyPlans = func() map[reflect.Type][]int {
	plans := map[reflect.Type][]int{}
	for _, k := range builtinKinds() {
		planFor(reflect.TypeOf(k.New()).Elem(), plans)
		planFor(reflect.TypeOf(k.NewList()).Elem(), plans)
	}
	planFor(reflect.TypeFor[Status](), plans)
	return plans
}()

// planFor computes (and records in plans, if not nil) the deep-copy plan
// of every struct type reachable from t, returning whether t is flat
// (copyable by assignment).
func planFor(t reflect.Type, plans map[reflect.Type][]int) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128, reflect.String:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Map:
		if plans != nil {
			if t.Kind() == reflect.Map {
				planFor(t.Key(), plans)
			}
			planFor(t.Elem(), plans)
		}
		return false
	case reflect.Array:
		return planFor(t.Elem(), plans)
	case reflect.Struct:
		if t == timeType || t == microTimeType || t == quantityType || t == intOrStringType {
			return true
		}
		if plans != nil {
			if p, ok := plans[t]; ok {
				return len(p) == 0
			}
			plans[t] = nil // cycle guard; the final plan replaces it
		}
		var deep []int
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if !planFor(f.Type, plans) {
				deep = append(deep, i)
			}
		}
		if plans != nil {
			plans[t] = deep
		}
		return len(deep) == 0
	}
	return false // interfaces, channels, functions
}

// isFlat reports whether values of t can be copied by assignment.
func isFlat(t reflect.Type) bool {
	if t.Kind() == reflect.Struct {
		if p, ok := copyPlans[t]; ok {
			return len(p) == 0
		}
	}
	return planFor(t, nil)
}

// copyInto sets dst (settable, same type) to a deep copy of src. dst may
// hold src's shallow value: every branch either overwrites it or leaves a
// value that is nil in src (and so in dst) untouched.
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
		reflect.Copy(s, src)
		if !isFlat(src.Type().Elem()) {
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
		dst.Set(src) // copies flat and unexported fields
		t := src.Type()
		plan, ok := copyPlans[t]
		if !ok {
			for i := 0; i < t.NumField(); i++ {
				if f := t.Field(i); f.IsExported() && !isFlat(f.Type) {
					plan = append(plan, i)
				}
			}
		}
		for _, i := range plan {
			copyInto(dst.Field(i), src.Field(i))
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
