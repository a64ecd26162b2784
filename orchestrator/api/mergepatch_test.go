package api

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func jsonEqual(t *testing.T, got []byte, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("result %s is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s is not JSON: %v", want, err)
	}
	return reflect.DeepEqual(g, w)
}

// The test cases of RFC 7386, Appendix A, and the example of section 3.
func TestMergePatchRFC7386(t *testing.T) {
	tests := []struct{ original, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		// Section 3.
		{
			`{"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},"tags":["example","sample"],"content":"This will be unchanged"}`,
			`{"title":"Hello!","phoneNumber":"+01-123-456-7890","author":{"familyName":null},"tags":["example"]}`,
			`{"title":"Hello!","author":{"givenName":"John"},"tags":["example"],"content":"This will be unchanged","phoneNumber":"+01-123-456-7890"}`,
		},
		// Numbers survive exactly; an empty original is an absent target.
		{`{"n":12345678901234567890}`, `{"m":0.1}`, `{"n":12345678901234567890,"m":0.1}`},
		{``, `{"a":{"b":null,"c":1}}`, `{"a":{"c":1}}`},
	}
	for _, tt := range tests {
		got, err := MergePatch([]byte(tt.original), []byte(tt.patch))
		if err != nil {
			t.Errorf("MergePatch(%s, %s): %v", tt.original, tt.patch, err)
			continue
		}
		if !jsonEqual(t, got, tt.want) {
			t.Errorf("MergePatch(%s, %s) = %s, want %s", tt.original, tt.patch, got, tt.want)
		}
	}
}

func TestMergePatchErrors(t *testing.T) {
	for _, tt := range []struct{ original, patch string }{
		{`{"a":`, `{}`},
		{`{}`, `{"a"}`},
		{`{}`, `{} {}`},
		{`{}`, ``},
	} {
		if _, err := MergePatch([]byte(tt.original), []byte(tt.patch)); !errors.Is(err, ErrMergePatch) {
			t.Errorf("MergePatch(%q, %q) error = %v, want ErrMergePatch", tt.original, tt.patch, err)
		}
	}
}

func TestCreateMergePatch(t *testing.T) {
	tests := []struct{ original, modified, want string }{
		{`{"a":1,"b":2}`, `{"a":1,"b":3}`, `{"b":3}`},
		{`{"a":1,"b":2}`, `{"a":1}`, `{"b":null}`},
		{`{"a":{"x":1,"y":2}}`, `{"a":{"x":1,"y":3,"z":4}}`, `{"a":{"y":3,"z":4}}`},
		{`{"a":[1,2]}`, `{"a":[1,2,3]}`, `{"a":[1,2,3]}`},
		{`{"a":{"x":1}}`, `{"a":"s"}`, `{"a":"s"}`},
		{`{"a":1}`, `{"a":1}`, `{}`},
	}
	for _, tt := range tests {
		p, err := CreateMergePatch([]byte(tt.original), []byte(tt.modified))
		if err != nil {
			t.Fatal(err)
		}
		if !jsonEqual(t, p, tt.want) {
			t.Errorf("CreateMergePatch(%s, %s) = %s, want %s", tt.original, tt.modified, p, tt.want)
		}
		back, err := MergePatch([]byte(tt.original), p)
		if err != nil || !jsonEqual(t, back, tt.modified) {
			t.Errorf("applying %s to %s = %s, %v; want %s", p, tt.original, back, err, tt.modified)
		}
	}
	if _, err := CreateMergePatch([]byte(`[1]`), []byte(`{}`)); !errors.Is(err, ErrMergePatch) {
		t.Errorf("non-object original: %v", err)
	}
}
