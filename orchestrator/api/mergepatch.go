package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
)

// ErrMergePatch is wrapped by the errors of MergePatch and
// CreateMergePatch for input that is not valid JSON.
var ErrMergePatch = errors.New("invalid merge patch input")

// MergePatch applies a JSON merge patch (RFC 7386) to original and returns
// the result as compact JSON with object keys sorted: objects in patch are
// merged recursively, null removes a member, and any other value (arrays
// included) replaces the target. Numbers are copied exactly. The error
// wraps ErrMergePatch and says whether original or patch is malformed.
//
// The result is not validated; decode it with DecodeInto to check it
// against a kind's schema.
func MergePatch(original, patch []byte) ([]byte, error) {
	p, err := decodeJSONValue(patch)
	if err != nil {
		return nil, fmt.Errorf("%w: patch: %v", ErrMergePatch, err)
	}
	var t any
	if len(bytes.TrimSpace(original)) > 0 {
		if t, err = decodeJSONValue(original); err != nil {
			return nil, fmt.Errorf("%w: original: %v", ErrMergePatch, err)
		}
	}
	return json.Marshal(mergeValue(t, p))
}

func decodeJSONValue(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("trailing data after the JSON value")
	}
	return v, nil
}

func mergeValue(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergeValue(tm[k], v)
	}
	return tm
}

// CreateMergePatch returns a JSON merge patch that turns original into
// modified (both JSON objects): changed and added members are set, removed
// members are null, arrays are replaced whole. Applying it with MergePatch
// yields modified, except that nulls inside modified cannot be expressed
// (RFC 7386's known limitation). The error wraps ErrMergePatch.
func CreateMergePatch(original, modified []byte) ([]byte, error) {
	o, err := decodeJSONValue(original)
	if err != nil {
		return nil, fmt.Errorf("%w: original: %v", ErrMergePatch, err)
	}
	m, err := decodeJSONValue(modified)
	if err != nil {
		return nil, fmt.Errorf("%w: modified: %v", ErrMergePatch, err)
	}
	om, ok1 := o.(map[string]any)
	mm, ok2 := m.(map[string]any)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%w: original and modified must both be JSON objects", ErrMergePatch)
	}
	return json.Marshal(diffObjects(om, mm))
}

func diffObjects(o, m map[string]any) map[string]any {
	patch := map[string]any{}
	for k, ov := range o {
		mv, ok := m[k]
		if !ok {
			patch[k] = nil
			continue
		}
		oo, ok1 := ov.(map[string]any)
		mo, ok2 := mv.(map[string]any)
		if ok1 && ok2 {
			if d := diffObjects(oo, mo); len(d) > 0 {
				patch[k] = d
			}
			continue
		}
		if !reflect.DeepEqual(ov, mv) {
			patch[k] = mv
		}
	}
	for k, mv := range m {
		if _, ok := o[k]; !ok {
			patch[k] = mv
		}
	}
	return patch
}
