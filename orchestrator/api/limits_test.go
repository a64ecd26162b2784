package api

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// configMap returns a one-document YAML ConfigMap named name whose data
// value is n bytes long.
func configMap(name string, n int) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {v: %s}\n", name, strings.Repeat("x", n))
}

// nested returns a JSON Pod whose spec.nodeSelector value is wrapped in
// depth-3 levels of lists, so the document nests depth levels deep.
func nested(depth int) string {
	inner := strings.Repeat("[", depth-3) + `"x"` + strings.Repeat("]", depth-3)
	return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"deep"},"spec":{"nodeSelector":{"a":` + inner + `}}}`
}

// Input over 3 MiB is refused whole (413), whatever it holds; at the limit
// it decodes.
func TestDecodeSizeLimit(t *testing.T) {
	const overhead = 80 // more than the YAML around the data value
	fits := configMap("big", MaxManifestBytes-overhead)
	if len(fits) > MaxManifestBytes {
		t.Fatalf("test input of %d bytes is over the limit", len(fits))
	}
	if objs, err := DecodeAll([]byte(fits)); err != nil || len(objs) != 1 {
		t.Fatalf("a %d-byte ConfigMap: %d objects, %v", len(fits), len(objs), err)
	}
	over := configMap("big", MaxManifestBytes)
	for name, decode := range map[string]func([]byte) error{
		"DecodeDocuments": func(b []byte) error {
			docs, err := DecodeDocuments(b)
			if len(docs) != 0 {
				t.Errorf("DecodeDocuments returned %d documents", len(docs))
			}
			return err
		},
		"DecodeAll":  func(b []byte) error { _, err := DecodeAll(b); return err },
		"Decode":     func(b []byte) error { _, err := Decode(b); return err },
		"DecodeInto": func(b []byte) error { return DecodeInto(b, &ConfigMap{}) },
	} {
		err := decode([]byte(over))
		var de *DocumentError
		if !IsRequestEntityTooLarge(err) || errors.As(err, &de) || !strings.Contains(err.Error(), "limit is 3145728 (3 MiB)") {
			t.Errorf("%s of %d bytes: %v; want a RequestEntityTooLarge error naming the 3 MiB limit, not a DocumentError", name, len(over), err)
		}
		if se, _ := AsStatusError(err); se == nil || se.Status().Code != 413 {
			t.Errorf("%s: status %+v, want code 413", name, se)
		}
	}
}

// More than MaxManifestObjects objects, as documents or as the items of a
// List, are refused whole; MaxManifestObjects decode.
func TestDecodeObjectLimit(t *testing.T) {
	var b strings.Builder
	for i := range MaxManifestObjects {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: n%d}\n", i)
	}
	if docs, err := DecodeDocuments([]byte(b.String())); err != nil || len(docs) != MaxManifestObjects {
		t.Fatalf("%d documents: got %d, %v", MaxManifestObjects, len(docs), err)
	}
	b.WriteString("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: one-more}\n")
	if docs, err := DecodeDocuments([]byte(b.String())); !IsRequestEntityTooLarge(err) || len(docs) != 0 || !strings.Contains(err.Error(), "more than 10000 objects") {
		t.Errorf("%d documents: %d decoded, %v; want none and RequestEntityTooLarge naming the limit", MaxManifestObjects+1, len(docs), err)
	}

	var items strings.Builder
	items.WriteString(`{"apiVersion":"v1","kind":"List","items":[`)
	for i := range MaxManifestObjects + 1 {
		if i > 0 {
			items.WriteString(",")
		}
		fmt.Fprintf(&items, `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n%d"}}`, i)
	}
	items.WriteString("]}")
	if objs, err := DecodeAll([]byte(items.String())); !IsRequestEntityTooLarge(err) || len(objs) != 0 {
		t.Errorf("a List of %d items: %d decoded, %v; want none and RequestEntityTooLarge", MaxManifestObjects+1, len(objs), err)
	}
}

// A document nesting deeper than MaxNestingDepth fails alone, as a
// BadRequest DocumentError that still names its kind and name; the other
// documents decode. At the limit, decoding goes on to the usual checks.
func TestDecodeNestingLimit(t *testing.T) {
	in := nsA + "---\n" + nested(MaxNestingDepth+1) + "\n---\n" + nsB
	docs, err := DecodeDocuments([]byte(in))
	if len(docs) != 3 || docs[0].Err != nil || docs[2].Err != nil {
		t.Fatalf("documents %+v, %v; want 3 with the outer two decoded", summarize(docs), err)
	}
	var de *DocumentError
	if d := docs[1]; !IsBadRequest(d.Err) || !errors.As(d.Err, &de) || de.Index != 2 || d.Kind != "Pod" || d.Name != "deep" ||
		!strings.Contains(d.Err.Error(), "nest more than 100 levels deep") {
		t.Errorf("deep document: kind %q name %q, %v; want a BadRequest DocumentError for document 2, Pod \"deep\", naming the limit", d.Kind, d.Name, d.Err)
	}
	// At the limit the depth passes; the nested lists are then not a
	// string, which the strict decoding reports with its field path.
	docs, _ = DecodeDocuments([]byte(nested(MaxNestingDepth)))
	if len(docs) != 1 || !IsInvalid(docs[0].Err) || !strings.Contains(docs[0].Err.Error(), "spec.nodeSelector[a]") {
		t.Errorf("a document at the limit: %v; want the Invalid error of the strict decoding", docs[0].Err)
	}
	if err := DecodeInto([]byte(nested(MaxNestingDepth+1)), &Pod{}); !IsBadRequest(err) || !strings.Contains(err.Error(), "levels deep") {
		t.Errorf("DecodeInto of a deep Pod: %v, want BadRequest naming the depth", err)
	}
	// Brackets inside strings are not nesting.
	quoted := fmt.Sprintf(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"q"},"data":{"v":%q}}`, strings.Repeat("[{", 200))
	if _, err := Decode([]byte(quoted)); err != nil {
		t.Errorf("brackets in a string: %v", err)
	}
}
