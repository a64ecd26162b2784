package api

import (
	"math/big"
	"reflect"
	"testing"
)

// FuzzDecode checks that arbitrary input never panics the decoder,
// defaulting or validation, and that whatever decodes survives an
// encode/decode round trip unchanged. The seed corpus runs in the normal
// suite; explore with: go test -fuzz FuzzDecode ./orchestrator/api
func FuzzDecode(f *testing.F) {
	f.Add(readTestdata(f, "web.yaml"))
	f.Add(readTestdata(f, "kubectl-get-pod.yaml"))
	f.Add(readTestdata(f, "kubectl-get-node.yaml"))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"b","ports":[{"containerPort":80}]}]}}`))
	f.Add([]byte("apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: -1\n  strategy: {rollingUpdate: {maxSurge: '150%'}}\n"))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, binaryData: {a: AAEC}}\n"))
	f.Add([]byte("apiVersion: v1\nkind: Node\nstatus: {capacity: {cpu: 1e3, memory: 1.5Gi}}\n---\n--- {kind: Event}\n"))
	f.Add([]byte("---\n{kind: ConfigMap, apiVersion: v1, metadata: {name: x}}\n---\n{kind: Namespace}\n{a: 1}\n"))
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","data":{"k":"1","k\u0000":"2","k":"3"}}]}`))
	f.Add([]byte("- [\n"))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"creationTimestamp":"2024-01-01T00:00:00Z"}} {"a":`))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := DecodeAll(data)
		if err != nil {
			if len(FieldErrors(err)) == 0 && !IsBadRequest(err) {
				t.Fatalf("error without field causes or BadRequest reason: %v", err)
			}
			return
		}
		for _, o := range objs {
			y, err := EncodeYAML(o)
			if err != nil {
				t.Fatalf("EncodeYAML: %v", err)
			}
			back, err := Decode(y)
			if err != nil {
				t.Fatalf("re-decoding %s: %v", y, err)
			}
			if !reflect.DeepEqual(normalize(back), normalize(o)) {
				t.Fatalf("round trip changed the object:\n%s", y)
			}
			if c := o.DeepCopyObject(); !reflect.DeepEqual(c, o) {
				t.Fatalf("DeepCopyObject differs from %T", o)
			}
		}
	})
}

// normalize re-encodes through JSON so that values JSON cannot distinguish
// (an empty map and a nil map under omitempty) compare equal.
func normalize(o Object) Object {
	j, _ := EncodeJSON(o)
	out, err := Decode(j)
	if err != nil {
		panic(err)
	}
	return out
}

// FuzzParseQuantity checks that parsing never panics and that the
// canonical form parses back to the same number.
func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"100m", "0.5", "1", "256Mi", "1.5Gi", "1e3", "2k", "-1.5E-3", ".5", "1n", "999999999999999999E", "0.0000000001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuantity(s)
		if err != nil {
			return
		}
		back, err := ParseQuantity(q.String())
		if err != nil {
			t.Fatalf("canonical %q of %q does not parse: %v", q.String(), s, err)
		}
		if back.Cmp(q) != 0 || back.String() != q.String() {
			t.Fatalf("%q -> %q -> %q", s, q.String(), back.String())
		}
		_ = q.MilliValue()
		if !q.Sub(back).IsZero() {
			t.Fatalf("%q - itself = %s", s, q.Sub(back))
		}
		// The int64 fast path agrees with exact arithmetic.
		x, y, scale := aligned(q, back)
		want, _ := quantityFromBig(new(big.Int).Add(x, y), int64(scale), q.pickFormat(back))
		if got := q.Add(back); got != want {
			t.Fatalf("%q doubled = %#v, want %#v", s, got, want)
		}
	})
}

// FuzzParseSelector checks that parsing never panics and that the
// canonical form parses to the same selector.
func FuzzParseSelector(f *testing.F) {
	for _, s := range []string{"app=web,tier!=db,env in (a,b),!legacy,gpu", "a notin (x)", "", "a==b", "!x,y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := ParseSelector(s)
		if err != nil {
			return
		}
		back, err := ParseSelector(sel.String())
		if err != nil || back.String() != sel.String() {
			t.Fatalf("%q -> %q -> %q, %v", s, sel.String(), back.String(), err)
		}
		_ = sel.Matches(map[string]string{"app": "web"})
	})
}

// FuzzMergePatch checks that MergePatch never panics and that applying a
// patch twice is the same as applying it once (merge patches are
// idempotent).
func FuzzMergePatch(f *testing.F) {
	f.Add([]byte(`{"a":{"b":1}}`), []byte(`{"a":{"b":null,"c":[1]}}`))
	f.Add([]byte(`[1]`), []byte(`{"a":null}`))
	f.Add([]byte(`{}`), []byte(`"x"`))
	f.Fuzz(func(t *testing.T, original, patch []byte) {
		once, err := MergePatch(original, patch)
		if err != nil {
			return
		}
		twice, err := MergePatch(once, patch)
		if err != nil {
			t.Fatalf("patching the result failed: %v", err)
		}
		if string(once) != string(twice) {
			t.Fatalf("not idempotent: %s then %s", once, twice)
		}
	})
}
