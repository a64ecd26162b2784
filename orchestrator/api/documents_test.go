package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// docSummary is what a user reads off a Document: where it is, what it
// is, and whether it decoded.
type docSummary struct {
	Index, Line, Item int
	Kind, Name        string
	OK                bool
}

func summarize(docs []Document) []docSummary {
	out := make([]docSummary, len(docs))
	for i, d := range docs {
		out[i] = docSummary{d.Index, d.Line, d.Item, d.Kind, d.Name, d.Err == nil && d.Object != nil}
	}
	return out
}

const (
	nsA = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
	nsB = "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n"
)

// Documents are numbered as users count them (from 1, empty documents
// skipped and not counted) and located by the file line of their first
// content.
func TestDecodeDocumentsNumbersAndLines(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []docSummary
	}{
		{"one object after a leading ---", "---\n" + nsA,
			[]docSummary{{1, 2, -1, "Namespace", "a", true}}},
		{"comments, blank lines and empty documents", "# header\n\n---\n# only a comment\n---\n\n---\n\n# about a\n" + nsA + "---\n---\n" + nsB,
			[]docSummary{{1, 10, -1, "Namespace", "a", true}, {2, 15, -1, "Namespace", "b", true}}},
		{"content on the --- line", nsA + "--- {apiVersion: v1, kind: Namespace, metadata: {name: b}}\n",
			[]docSummary{{1, 1, -1, "Namespace", "a", true}, {2, 4, -1, "Namespace", "b", true}}},
		{"CRLF line ends", strings.ReplaceAll("---\n"+nsA+"---\n"+nsB, "\n", "\r\n"),
			[]docSummary{{1, 2, -1, "Namespace", "a", true}, {2, 6, -1, "Namespace", "b", true}}},
		{"null documents are empty", "~\n---\nnull\n---\n" + nsA,
			[]docSummary{{1, 5, -1, "Namespace", "a", true}}},
		{"JSON stream", "\n{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"a\"}}\nnull\n\n  {\"apiVersion\":\"v1\",\n\"kind\":\"Namespace\",\"metadata\":{\"name\":\"b\"}}",
			[]docSummary{{1, 2, -1, "Namespace", "a", true}, {2, 5, -1, "Namespace", "b", true}}},
		{"List items share their document's number", nsA + "---\napiVersion: v1\nkind: List\nitems:\n- " + strings.ReplaceAll(strings.TrimSpace(nsB), "\n", "\n  ") + "\n- {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {nodname: x}}\n---\n" + nsB,
			[]docSummary{{1, 1, -1, "Namespace", "a", true}, {2, 5, 0, "Namespace", "b", true}, {2, 5, 1, "Pod", "p", false}, {3, 13, -1, "Namespace", "b", true}}},
		{"an empty List still counts", "apiVersion: v1\nkind: List\nitems: []\n---\n" + nsA,
			[]docSummary{{2, 5, -1, "Namespace", "a", true}}},
		{"failed documents keep their place", "apiVersion: v1\nkind: [\n---\n" + nsA + "---\nkind: Widget\nmetadata: {name: w}\n",
			[]docSummary{{1, 1, -1, "", "", false}, {2, 4, -1, "Namespace", "a", true}, {3, 8, -1, "Widget", "w", false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, _ := DecodeDocuments([]byte(tt.in))
			if got := summarize(docs); !slices.Equal(got, tt.want) {
				t.Errorf("documents\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// Every failing document is reported, with its number, the line it
// starts on, the line of a syntax error in the file, the field paths and
// a hint where one is close.
func TestDecodeDocumentsErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // the joined error, exactly
	}{
		{"YAML syntax, lines counted from the file", nsA + "---\napiVersion: v1\nkind: [\n",
			`document 2 (line 5): malformed YAML: line 6: did not find expected node content`},
		{"YAML duplicate key", "---\n" + nsA + "---\n# b\napiVersion: v1\nkind: Namespace\nkind: Namespace\n",
			`document 2 (line 7, Namespace): malformed YAML: line 9: key "kind" already set in map`},
		{"content after a flow value", "{kind: Namespace, apiVersion: v1, metadata: {name: a}}\n{kind: Namespace}\n",
			`document 1 (line 1, Namespace "a"): malformed YAML: more content after the end of the document's value (start each document with a "---" line)`},
		{"JSON duplicate keys, with paths and lines", `{"apiVersion":"v1","kind":"ConfigMap",` + "\n" + `"metadata":{"name":"x","labels":{"a":"1","a":"2"}},"data":{},` + "\n\n" + `"data":{"k":"v"}}`,
			`document 1 (line 1): ConfigMap "x" is invalid: [metadata.labels[a]: Duplicate value: "a": key given again at line 2 of the same object (JSON keeps only the last), data: Duplicate value: "data": key given again at line 4 of the same object (JSON keeps only the last)]`},
		{"JSON duplicate in a List item", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"nodeName":"a","nodeName":"b"}}]}`,
			`document 1 (line 1): Pod "p" is invalid: items[0].spec.nodeName: Duplicate value: "nodeName": key given again at line 1 of the same object (JSON keeps only the last)`},
		{"JSON syntax error in a later document", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}` + "\n" + `{"apiVersion": "v1",` + "\n" + ` "kind" "Namespace"}`,
			`document 2 (line 2): malformed JSON: line 3: invalid character '"' after object key`},
		{"JSON cut short", "\n" + `{"apiVersion": "v1",` + "\n" + ` "kind": `,
			`document 1 (line 2): malformed JSON: line 3: unexpected end of input`},
		{"unsupported kind", "apiVersion: v1\nkind: Endpoints\nmetadata: {name: s}\n",
			`document 1 (line 1, Endpoints "s"): unsupported kind "Endpoints" in group/version "v1"; supported kinds: ClusterRole, ClusterRoleBinding, ConfigMap, DaemonSet, Deployment, EndpointSlice, Event, Job, Lease, Namespace, Node, Pod, ReplicaSet, Role, RoleBinding, Secret, Service`},
		{"misspelled kind", "apiVersion: apps/v1\nkind: Deplyment\nmetadata: {name: web}\n",
			`document 1 (line 1, Deplyment "web"): unsupported kind "Deplyment" in group/version "apps/v1": did you mean "Deployment"?`},
		{"kind in lower case", "apiVersion: v1\nkind: configmap\n",
			`document 1 (line 1, configmap): unsupported kind "configmap" in group/version "v1": did you mean "ConfigMap"?`},
		{"near kind of another group", "apiVersion: v1\nkind: deployment\n",
			`document 1 (line 1, deployment): unsupported kind "deployment" in group/version "v1": did you mean "Deployment" in "apps/v1"?`},
		{"kind of another group", "apiVersion: extensions/v1beta1\nkind: Deployment\n",
			`document 1 (line 1, Deployment): unsupported kind "Deployment" in group/version "extensions/v1beta1": use apiVersion "apps/v1"`},
		{"unknown kind without apiVersion", "kind: Widget\n",
			`document 1 (line 1, Widget): unsupported kind "Widget"; supported kinds: ClusterRole, ClusterRoleBinding, ConfigMap, DaemonSet, Deployment, EndpointSlice, Event, Job, Lease, Namespace, Node, Pod, ReplicaSet, Role, RoleBinding, Secret, Service`},
		{"missing apiVersion of a known kind", "kind: Pod\nmetadata: {name: p}\n",
			`document 1 (line 1): Pod "p" is invalid: apiVersion: Required value: Pod is in "v1"`},
		{"misspelled fields", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {Name: x}\nspec: {replica: 2, colour: red, template: {spec: {containers: [{name: a, imagee: b}]}}}\n",
			`document 1 (line 1): Deployment is invalid: [metadata.Name: Unknown field: did you mean "name"?, spec.colour: Unknown field, spec.replica: Unknown field: did you mean "replicas"?, spec.template.spec.containers[0].imagee: Unknown field: did you mean "image"?]`},
		{"List fields", "apiVersion: v1\nkind: List\nitemz: []\n",
			`document 1 (line 1): List is invalid: itemz: Unknown field: did you mean "items"?`},
		{"List items", "apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Widget}, 3]\n",
			"document 1 (line 1, Widget): items[0]: unsupported kind \"Widget\" in group/version \"v1\"; supported kinds: ClusterRole, ClusterRoleBinding, ConfigMap, DaemonSet, Deployment, EndpointSlice, Event, Job, Lease, Namespace, Node, Pod, ReplicaSet, Role, RoleBinding, Secret, Service\n" +
				`document 1 (line 1): List is invalid: items[1]: Invalid value: 3: must be an object`},
		{"several documents", "kind: Pod\n---\n" + nsA + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndta: {}\n",
			"document 1 (line 1): Pod is invalid: apiVersion: Required value: Pod is in \"v1\"\n" +
				`document 3 (line 7): ConfigMap "c" is invalid: dta: Unknown field: did you mean "data"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := DecodeDocuments([]byte(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error\n got %v\nwant %s", err, tt.want)
			}
			var failed []error
			for _, d := range docs {
				if d.Err == nil {
					continue
				}
				failed = append(failed, d.Err)
				var de *DocumentError
				if !errors.As(d.Err, &de) || de.Index != d.Index || de.Line != d.Line || de.Kind != d.Kind || de.Name != d.Name {
					t.Errorf("document %d: Err %#v does not locate it", d.Index, d.Err)
				}
				if !IsInvalid(d.Err) && !IsBadRequest(d.Err) {
					t.Errorf("document %d: %v is neither Invalid nor BadRequest", d.Index, d.Err)
				}
				if d.Object != nil {
					t.Errorf("document %d: failed, yet Object = %v", d.Index, d.Object)
				}
			}
			if joined := errors.Join(failed...); joined.Error() != err.Error() {
				t.Errorf("the error is not the documents' errors joined:\n%v\n%v", err, joined)
			}
			// DecodeAll is all or nothing, with the same error.
			objs, allErr := DecodeAll([]byte(tt.in))
			if objs != nil || allErr == nil || allErr.Error() != err.Error() {
				t.Errorf("DecodeAll = %v, %v", objs, allErr)
			}
		})
	}
}

// Field errors of a JSON duplicate are Invalid causes with typed paths.
func TestJSONDuplicateKeyFieldErrors(t *testing.T) {
	_, err := DecodeAll([]byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"w","annotations":{"k":"1","k":"2"}},` +
		`"spec":{"template":{"spec":{"containers":[{"name":"a","image":"x","image":"y"}]}}}}`))
	fe := FieldErrors(err)
	if !IsInvalid(err) || !slices.Equal(fe.Fields(), []string{"metadata.annotations[k]", "spec.template.spec.containers[0].image"}) {
		t.Fatalf("field errors %v (error %v)", fe.Fields(), err)
	}
	for _, e := range fe {
		if e.Type != ErrorTypeDuplicate {
			t.Errorf("%s: type %s, want %s", e.Field, e.Type, ErrorTypeDuplicate)
		}
	}
	// DecodeInto checks JSON the same way.
	var d Deployment
	err = DecodeInto([]byte(`{"metadata":{"name":"a","name":"b"}}`), &d)
	if got := FieldErrors(err).Fields(); !slices.Equal(got, []string{"metadata.name"}) {
		t.Errorf("DecodeInto fields = %v (%v)", got, err)
	}
	// Keys repeated in different objects are not duplicates.
	if _, err := DecodeAll([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","labels":{"name":"x"}},"spec":{"containers":[{"name":"a"},{"name":"b"}]}}`)); err != nil {
		t.Errorf("distinct objects with the same keys: %v", err)
	}
}

// Input that starts with "{" is JSON only when it is a stream of JSON
// objects; flow-style YAML decodes as YAML.
func TestDecodeFlowStyleYAMLAndJSON(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		names []string
	}{
		{"flow-style YAML", "{kind: ConfigMap, apiVersion: v1, metadata: {name: x}}", []string{"x"}},
		{"flow-style YAML, quoted first key", `{"kind": ConfigMap, apiVersion: v1, metadata: {name: x}}`, []string{"x"}},
		{"flow-style YAML documents", "{kind: ConfigMap, apiVersion: v1, metadata: {name: x}}\n---\n{kind: ConfigMap, apiVersion: v1, metadata: {name: z}}\n", []string{"x", "z"}},
		{"JSON then YAML documents", `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}}` + "\n---\nkind: ConfigMap\napiVersion: v1\nmetadata: {name: z}\n", []string{"x", "z"}},
		{"JSON the YAML reader rejects", `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"},"data":{"url":"http:\/\/a","del":"` + "\x7f" + `"}}`, []string{"x"}},
		{"JSON stream", `{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"}} {"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"z"}}`, []string{"x", "z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := DecodeAll([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, o := range objs {
				names = append(names, o.GetName())
			}
			if !slices.Equal(names, tt.names) {
				t.Errorf("names %v, want %v", names, tt.names)
			}
		})
	}
	objs, err := DecodeAll([]byte(`{"kind":"ConfigMap","apiVersion":"v1","metadata":{"name":"x"},"data":{"url":"http:\/\/a"}}`))
	if err != nil || objs[0].(*ConfigMap).Data["url"] != "http://a" {
		t.Errorf("JSON escapes: %v, %v", objs, err)
	}
}

func TestClosest(t *testing.T) {
	kinds := []string{"Namespace", "Node", "Pod", "ConfigMap", "Event", "Deployment", "ReplicaSet"}
	tests := []struct {
		name, want string
	}{
		{"Deplyment", "Deployment"},
		{"deployment", "Deployment"},
		{"configmap", "ConfigMap"},
		{"CONFIGMAP", "ConfigMap"},
		{"Pods", "Pod"},
		{"nodes", "Node"},
		{"ReplicaSets", "ReplicaSet"},
		{"Namepsace", "Namespace"}, // a transposition is one edit
		{"Job", ""},                // too short to be a near miss of Pod
		{"Service", ""},
		{"Pod", ""}, // a known name is not suggested to itself
	}
	for _, tt := range tests {
		got, ok := closest(tt.name, kinds)
		if !ok {
			got = ""
		}
		if got != tt.want {
			t.Errorf("closest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "abc", 0},
		{"ab", "ba", 1},
		{"abc", "acb", 1},
		{"kitten", "sitting", 3},
		{"deplyment", "deployment", 1},
		{"ca", "abc", 3}, // optimal string alignment: no edit of a transposed pair
		{"größe", "grösse", 2},
	}
	for _, tt := range tests {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := editDistance(tt.b, tt.a); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestDocumentErrorMessage(t *testing.T) {
	tests := []struct {
		err  *DocumentError
		want string
	}{
		{&DocumentError{Index: 2, Line: 7, Kind: "Deployment", Name: "web", Err: NewNotFound("Namespace", "shop")},
			`document 2 (line 7, Deployment "web"): Namespace "shop" not found`},
		{&DocumentError{Index: 2, Line: 7, Kind: "Deployment", Name: "web", Err: NewInvalid("Deployment", "web", FieldErrorList{Required(NewPath("spec"), "")})},
			`document 2 (line 7): Deployment "web" is invalid: spec: Required value`},
		{&DocumentError{Index: 1, Err: NewBadRequest("malformed YAML: x")}, `document 1: malformed YAML: x`},
		{&DocumentError{Index: 3, Name: "x", Err: fmt.Errorf("boom")}, `document 3 ("x"): boom`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %s, want %s", got, tt.want)
		}
	}
}

// duplicateKeysByTokens is duplicateKeys written the obvious way, with
// the JSON decoder's tokens: the oracle the byte scanner is checked
// against.
func duplicateKeysByTokens(raw []byte, first int) []duplicateKey {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var out []duplicateKey
	var walk func(path []pathElem) error
	walk = func(path []pathElem) error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, _ := kt.(string)
				p := append(path[:len(path):len(path)], pathElem{key: k})
				if seen[k] {
					out = append(out, duplicateKey{path: p, line: first + bytes.Count(raw[:dec.InputOffset()], []byte{'\n'})})
				}
				seen[k] = true
				if err := walk(p); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if err := walk(append(path[:len(path):len(path)], pathElem{index: i, isIndex: true})); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	// raw was read by a JSON decoder already, so walk cannot fail; on a
	// failure what was found so far is still right.
	_ = walk(nil)
	return out
}

// The byte scanner finds the duplicates the JSON decoder's tokens show,
// at the same paths and lines, on valid JSON made by mutating documents.
func TestDuplicateKeysScanner(t *testing.T) {
	seeds := []string{
		`{"a":1,"a":2}`,
		`{"k\u0061":1,"ka":2,"b":{"c":[{"d":1,"d":2},{"d":3}],"c":null}}`,
		`[{"x":"\"}\\","x":"]"}, {"y":{}}, []]`,
		"{\n\"a\":\n{\"b\":1,\n\"b\":2}}",
	}
	var big strings.Builder
	big.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&big, `"k%d":%d,`, i%30, i)
	}
	big.WriteString(`"end":true}`)
	seeds = append(seeds, big.String())
	pod, err := EncodeJSON(fullPod(t))
	if err != nil {
		t.Fatal(err)
	}
	seeds = append(seeds, string(pod))
	for _, in := range seeds {
		if !json.Valid([]byte(in)) {
			t.Fatalf("seed is not JSON: %s", in)
		}
		got, want := duplicateKeys([]byte(in), 3), duplicateKeysByTokens([]byte(in), 3)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", in, got, want)
		}
	}
	// Repeat the first key of each object of the Pod in turn.
	mutated := 0
	for i := 0; i+1 < len(pod); i++ {
		if pod[i] != '{' || pod[i+1] != '"' {
			continue
		}
		mutated++
		key := string(pod[i+1 : stringEnd(pod, i+1)+1])
		in := string(pod[:i+1]) + key + ":0," + string(pod[i+1:])
		got, want := duplicateKeys([]byte(in), 1), duplicateKeysByTokens([]byte(in), 1)
		if len(want) != 1 || !reflect.DeepEqual(got, want) {
			t.Errorf("key %s at %d:\n got %+v\nwant %+v", key, i, got, want)
		}
	}
	if mutated < 20 {
		t.Errorf("only %d objects in the Pod to mutate", mutated)
	}
}

// BenchmarkDecodeIntoPodJSON is the registry's patch path: a whole Pod as
// JSON decoded into its type, duplicate-key check included.
func BenchmarkDecodeIntoPodJSON(b *testing.B) {
	data, err := EncodeJSON(fullPod(b))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		var p Pod
		if err := DecodeInto(data, &p); err != nil {
			b.Fatal(err)
		}
	}
}
