package strategy

import (
	"bytes"
	"cmp"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// httpHeaderNameRE is RFC 7230's token: the characters an HTTP header
// name may hold. Compiled once; never modified.
var httpHeaderNameRE = regexp.MustCompile(`^[-A-Za-z0-9!#$%&'*+.^_|~` + "`" + `]+$`)

// Pieces the built-in strategies share, embedded by value.

// noStatus is embedded by kinds without a status subresource.
type noStatus struct{}

func (noStatus) Status() StatusStrategy { return nil }

// deletedWhenUnheld is embedded by kinds that Delete removes once no
// finalizer holds them.
type deletedWhenUnheld struct{}

func (deletedWhenUnheld) Deletion() Deletion          { return DeleteWhenUnheld }
func (deletedWhenUnheld) PrepareForDelete(api.Object) {}

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
func selectorsEqual(a, b *api.LabelSelector) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	sa, errA := api.LabelSelectorAsSelector(a)
	sb, errB := api.LabelSelectorAsSelector(b)
	if errA != nil || errB != nil {
		return semanticEqual(a, b)
	}
	return sa.String() == sb.String()
}

// sortedKeys returns m's keys in order, so errors come out in a stable
// order.
func sortedKeys[M ~map[K]V, K cmp.Ordered, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
