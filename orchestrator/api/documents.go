package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
	"sigs.k8s.io/yaml"
)

// Document is one object of a manifest as DecodeDocuments read it: where
// it is in the file, what it says it is, and the decoded object or why it
// did not decode.
type Document struct {
	// Index is the document's number as a user counts it: from 1, counting
	// only documents that hold something. Empty and comment-only documents
	// (such as the one before a leading "---") are skipped and not
	// counted. The items of a "kind: List" document share its Index.
	Index int
	// Line is the line of the file, from 1, where the document's content
	// starts (its first line that is neither blank nor a comment).
	Line int
	// Item is the object's position in the items of a "kind: List"
	// document, from 0 as field paths count (items[0]); -1 for a document
	// that is not a List.
	Item int
	// APIVersion, Kind, Name and Namespace are what the document says
	// (metadata.name and metadata.namespace), as far as it could be read:
	// they are set even when Err is, and empty when the document is not a
	// readable object or leaves them out.
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	// Object is the decoded object, not defaulted or validated; nil when
	// Err is set.
	Object Object
	// Err is why the document did not decode: a *DocumentError wrapping a
	// *StatusError (see Scheme.DecodeDocuments for which).
	Err error
}

// DocumentError locates the error of one document of a manifest. It wraps
// the document's error (a *StatusError), so the predicates (IsInvalid,
// IsBadRequest, ...) and FieldErrors see through it.
type DocumentError struct {
	// Index and Line are the document's (see Document); Line is 0 when
	// unknown.
	Index int
	Line  int
	// Kind and Name are what the document names, when it could be read.
	Kind string
	Name string
	// Err is the document's error.
	Err error
}

// Error returns "document N (line L): <error>", adding the kind and name
// (`document 2 (line 7, Deployment "web"): Namespace "shop" not found`)
// when the error's own message does not start with them.
func (e *DocumentError) Error() string {
	msg := "<nil>"
	if e.Err != nil {
		msg = e.Err.Error()
	}
	var where []string
	if e.Line > 0 {
		where = append(where, "line "+strconv.Itoa(e.Line))
	}
	if e.Kind != "" || e.Name != "" {
		if d := describe(e.Kind, e.Name); !strings.HasPrefix(msg, d) {
			where = append(where, d)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "document %d", e.Index)
	if len(where) > 0 {
		b.WriteString(" (" + strings.Join(where, ", ") + ")")
	}
	b.WriteString(": ")
	b.WriteString(msg)
	return b.String()
}

// Unwrap returns the document's error.
func (e *DocumentError) Unwrap() error { return e.Err }

// Limits on what the decoders read, so that a manifest cannot make a
// program hold far more memory than its size suggests (a document of
// many small values costs about 25 times its size while decoded).
const (
	// MaxManifestBytes is the largest input DecodeDocuments, DecodeAll,
	// Decode and DecodeInto read: 3 MiB, kube-apiserver's limit on a
	// request body.
	MaxManifestBytes = 3 << 20
	// MaxManifestObjects is the most objects one manifest may hold (the
	// items of a List count one each): 10,000, far beyond hand-written
	// manifests, while the decoded form stays in the tens of megabytes.
	MaxManifestObjects = 10000
	// MaxNestingDepth is how deep objects and lists may nest in one
	// document: 100. The deepest field of the supported kinds is about 15
	// levels down (20 inside a List).
	MaxNestingDepth = 100
)

// checkSize refuses an input over MaxManifestBytes.
func checkSize(data []byte) error {
	if len(data) > MaxManifestBytes {
		return NewRequestEntityTooLarge(fmt.Sprintf("the input is %d bytes, the limit is %d (%d MiB): split it", len(data), MaxManifestBytes, MaxManifestBytes>>20))
	}
	return nil
}

// tooManyObjects is the error of a manifest over MaxManifestObjects.
func tooManyObjects() error {
	return NewRequestEntityTooLarge(fmt.Sprintf("the manifest holds more than %d objects: split it", MaxManifestObjects))
}

// checkDepth refuses a JSON document (well-formed) that nests deeper than
// MaxNestingDepth.
func checkDepth(raw []byte) error {
	depth := 0
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '"':
			i = stringEnd(raw, i)
		case '{', '[':
			if depth++; depth > MaxNestingDepth {
				return NewBadRequest(fmt.Sprintf("objects and lists nest more than %d levels deep", MaxNestingDepth))
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// DecodeDocuments decodes every document of a JSON or multi-document YAML
// manifest with the default scheme; see [Scheme.DecodeDocuments].
func DecodeDocuments(data []byte) ([]Document, error) {
	return defaultScheme.DecodeDocuments(data)
}

// DecodeDocuments decodes every document of a manifest and returns one
// Document per object, in file order, whether it decoded or not, so that
// a program can report every problem of a file at once. The returned
// error joins (errors.Join) the errors of the documents that failed; it is
// nil when every document decoded.
//
// The input is YAML, one or several documents separated by lines that
// start with "---" (comments allowed, empty documents skipped), or a
// stream of JSON objects. Input whose first character is "{" is read as
// JSON when it is a stream of JSON objects, and as YAML otherwise, so
// flow-style YAML such as "{kind: ConfigMap, apiVersion: v1, metadata:
// {name: x}}" decodes; if it is neither and starts like JSON (`{"`), the
// JSON error is reported. A document of kind "List" (apiVersion v1)
// yields one Document per item.
//
// Decoding is strict, as in DecodeAll. Each Document.Err is a
// *DocumentError (index, line, kind and name) wrapping a *StatusError:
//   - BadRequest for malformed YAML or JSON, with the line in the file
//     where the parser gives one ("malformed YAML: line 12: did not find
//     expected key"), and for a document that is not an object;
//   - Invalid for an unsupported kind, said in those words with a hint
//     (`unsupported kind "Deplyment" in group/version "apps/v1": did you
//     mean "Deployment"?`, `unsupported kind "Deployment" in
//     group/version "v1": use apiVersion "apps/v1"`), its field error on
//     kind or apiVersion;
//   - Invalid, listing every bad field path of the document, for missing
//     apiVersion or kind, unknown fields (with "did you mean" when a
//     known field is close: `spec.containers[0].imagee: Unknown field:
//     did you mean "image"?`), values of the wrong type or format, and
//     keys given twice in a JSON object (YAML's duplicate keys are
//     malformed YAML). Field paths of a List item start with items[i].
//   - BadRequest for a document that nests objects and lists more than
//     MaxNestingDepth levels deep.
//
// Input over MaxManifestBytes, or holding more than MaxManifestObjects
// objects, is refused whole: no Documents, and a RequestEntityTooLarge
// error (413) saying which limit.
func (s *Scheme) DecodeDocuments(data []byte) ([]Document, error) {
	if err := checkSize(data); err != nil {
		return nil, err
	}
	chunks := splitDocuments(data)
	if len(chunks) > MaxManifestObjects {
		return nil, tooManyObjects()
	}
	var docs []Document
	var errs []error
	for i, c := range chunks {
		for _, d := range s.decodeChunk(c) {
			if len(docs) == MaxManifestObjects {
				return nil, tooManyObjects()
			}
			d.Index = i + 1
			if d.Err != nil {
				d.Err = &DocumentError{Index: d.Index, Line: d.Line, Kind: d.Kind, Name: d.Name, Err: d.Err}
				errs = append(errs, d.Err)
			}
			docs = append(docs, d)
		}
	}
	return docs, errors.Join(errs...)
}

// chunk is one non-empty document of the input, before decoding.
type chunk struct {
	json []byte // the document as JSON; nil when err is set
	line int    // the file line where its content starts
	// fromJSON marks a document read as JSON, whose decoder keeps the
	// last of duplicate keys silently: they are checked separately.
	fromJSON bool
	err      error // why the document could not be read: a BadRequest
	// lenient is, when err is set, the document as a lenient parser read
	// it (duplicate keys allowed), for its apiVersion, kind and name.
	lenient []byte
}

// splitDocuments cuts the input into its non-empty documents.
func splitDocuments(data []byte) []chunk {
	rest := bytes.TrimLeft(data, " \t\r\n")
	if len(rest) == 0 || rest[0] != '{' {
		return splitYAMLDocuments(data)
	}
	js, ok := splitJSONStream(data)
	if ok {
		return js
	}
	ys := splitYAMLDocuments(data)
	if allReadable(ys) || !looksLikeJSON(rest) {
		return ys
	}
	return js
}

func allReadable(cs []chunk) bool {
	for _, c := range cs {
		if c.err != nil {
			return false
		}
	}
	return true
}

// looksLikeJSON reports whether data, which starts with "{", continues as
// a JSON object does (a quoted key or the closing brace) rather than as
// flow-style YAML does (a plain key).
func looksLikeJSON(data []byte) bool {
	rest := bytes.TrimLeft(data[1:], " \t\r\n")
	return len(rest) > 0 && (rest[0] == '"' || rest[0] == '}')
}

// splitJSONStream reads data as a stream of JSON values. It reports false
// when a value is malformed; the chunks then end with that value's error.
func splitJSONStream(data []byte) ([]chunk, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []chunk
	for {
		start := int(dec.InputOffset())
		start += len(data[start:]) - len(bytes.TrimLeft(data[start:], " \t\r\n"))
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return out, true
		}
		if err != nil {
			return append(out, chunk{line: lineAt(data, start), err: jsonSyntaxError(data, err)}), false
		}
		if string(raw) == "null" {
			continue // an empty document
		}
		out = append(out, chunk{json: raw, line: lineAt(data, start), fromJSON: true})
	}
}

// lineAt returns the line (from 1) of byte offset off in data.
func lineAt(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return 1 + bytes.Count(data[:off], []byte{'\n'})
}

func jsonSyntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included.
		return NewBadRequest(fmt.Sprintf("malformed JSON: line %d: %v", lineAt(data, int(se.Offset)-1), se))
	case errors.Is(err, io.ErrUnexpectedEOF):
		end := len(bytes.TrimRight(data, " \t\r\n"))
		return NewBadRequest(fmt.Sprintf("malformed JSON: line %d: unexpected end of input", lineAt(data, end-1)))
	}
	return NewBadRequest("malformed JSON: " + err.Error())
}

// yamlPart is one "---" separated part of a YAML input.
type yamlPart struct {
	text []byte
	line int // the file line of text's first line
}

// splitYAMLDocuments converts each non-empty YAML document to JSON.
func splitYAMLDocuments(data []byte) []chunk {
	var out []chunk
	for _, p := range splitYAML(data) {
		j, err := yaml.YAMLToJSONStrict(p.text)
		if err != nil {
			c := chunk{line: p.contentLine(), err: yamlSyntaxError(err, p.line)}
			c.lenient, _ = yaml.YAMLToJSON(p.text)
			out = append(out, c)
			continue
		}
		if t := bytes.TrimSpace(j); len(t) == 0 || string(t) == "null" {
			continue
		}
		if !p.oneValue() {
			out = append(out, chunk{line: p.contentLine(), lenient: j,
				err: NewBadRequest(`malformed YAML: more content after the end of the document's value (start each document with a "---" line)`)})
			continue
		}
		out = append(out, chunk{json: j, line: p.contentLine()})
	}
	return out
}

// contentLine returns the file line of the part's first line that is
// neither blank nor a comment (its first line if there is none).
func (p yamlPart) contentLine() int {
	n, _ := p.content()
	return n
}

// content returns the file line and the first byte of the part's content
// (0 if it has none).
func (p yamlPart) content() (line int, first byte) {
	text := p.text
	for n := p.line; len(text) > 0; n++ {
		line := text
		if i := bytes.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = nil
		}
		if t := bytes.TrimSpace(line); len(t) > 0 && t[0] != '#' {
			return n, t[0]
		}
	}
	return p.line, 0
}

// oneValue reports whether the part holds one YAML value and nothing
// after it. The YAML reader stops after the first value, so a document
// whose value is flow-style or quoted ("{a: 1}", "[1]", "'x'") could be
// followed by more content that would be dropped without a word; a block
// value runs to the end of the document, and anything after it is a
// syntax error already.
func (p yamlPart) oneValue() bool {
	if _, first := p.content(); first != '{' && first != '[' && first != '"' && first != '\'' {
		return true
	}
	dec := yamlv2.NewDecoder(bytes.NewReader(p.text))
	var v any
	if dec.Decode(&v) != nil {
		return true // the strict reader accepted it; nothing more to learn
	}
	return dec.Decode(&v) == io.EOF
}

// splitYAML splits at lines that start a new document ("---", optionally
// followed by blanks or a comment). Content after "--- " on the same line
// belongs to the new document, whose first line is then the "---" line.
func splitYAML(data []byte) []yamlPart {
	var parts []yamlPart
	cur := yamlPart{line: 1}
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i+1], data[i+1:]
		} else {
			data = nil
		}
		body := bytes.TrimRight(line, "\r\n")
		if bytes.HasPrefix(body, []byte("---")) && (len(body) == 3 || body[3] == ' ' || body[3] == '\t') {
			parts = append(parts, cur)
			cur = yamlPart{line: n + 1}
			if rest := bytes.TrimSpace(body[3:]); len(rest) > 0 && rest[0] != '#' {
				cur = yamlPart{line: n, text: append(append([]byte(nil), rest...), '\n')}
			}
			continue
		}
		cur.text = append(cur.text, line...)
	}
	return append(parts, cur)
}

var (
	yamlLineError      = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
	yamlUnmarshalError = regexp.MustCompile(`^\s*line (\d+): (.*)$`)
)

// yamlSyntaxError turns the YAML parser's error for a document whose
// first line is the file's line first into a BadRequest naming file
// lines: "malformed YAML: line 12: did not find expected key".
func yamlSyntaxError(err error, first int) error {
	fileLine := func(n string) int {
		i, _ := strconv.Atoi(n)
		return first + i - 1
	}
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	if rest, ok := strings.CutPrefix(msg, "yaml: unmarshal errors:\n"); ok {
		// One line per problem: "  line 3: key "kind" already set in map".
		var probs []string
		for _, l := range strings.Split(rest, "\n") {
			if m := yamlUnmarshalError.FindStringSubmatch(l); m != nil {
				probs = append(probs, fmt.Sprintf("line %d: %s", fileLine(m[1]), m[2]))
			} else if l = strings.TrimSpace(l); l != "" {
				probs = append(probs, l)
			}
		}
		return NewBadRequest("malformed YAML: " + strings.Join(probs, "; "))
	}
	if m := yamlLineError.FindStringSubmatch(msg); m != nil {
		return NewBadRequest(fmt.Sprintf("malformed YAML: line %d: %s", fileLine(m[1]), m[2]))
	}
	return NewBadRequest("malformed YAML: " + strings.TrimPrefix(msg, "yaml: "))
}

// decodeChunk decodes one document: one Document, or one per item of a
// List. Index is left to the caller, and Err is the bare StatusError.
func (s *Scheme) decodeChunk(c chunk) []Document {
	d := Document{Line: c.line, Item: -1}
	if c.err != nil {
		var m map[string]any
		if json.Unmarshal(c.lenient, &m) == nil {
			d.readHeader(m)
		}
		d.Err = c.err
		return []Document{d}
	}
	if err := checkDepth(c.json); err != nil {
		var hdr struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		_ = json.Unmarshal(c.json, &hdr) // what it can read, for the report
		d.APIVersion, d.Kind, d.Name, d.Namespace = hdr.APIVersion, hdr.Kind, hdr.Metadata.Name, hdr.Metadata.Namespace
		d.Err = err
		return []Document{d}
	}
	tree, err := parseTree(c.json)
	if err != nil {
		d.Err = err
		return []Document{d}
	}
	m, ok := tree.(map[string]any)
	if !ok {
		d.Err = NewBadRequest("expected a JSON/YAML object, got " + jsonTypeName(tree))
		return []Document{d}
	}
	d.readHeader(m)
	var dups []duplicateKey
	if c.fromJSON {
		dups = duplicateKeys(c.json, c.line)
	}
	if d.Kind == "List" && d.APIVersion == CoreV1 {
		return s.decodeList(d, m, dups)
	}
	d.Object, d.Err = s.decodeObject(m, c.json, dups)
	return []Document{d}
}

// readHeader fills what the document says it is, where those fields are
// strings.
func (d *Document) readHeader(m map[string]any) {
	d.APIVersion, _ = m["apiVersion"].(string)
	d.Kind, _ = m["kind"].(string)
	if md, ok := m["metadata"].(map[string]any); ok {
		d.Name, _ = md["name"].(string)
		d.Namespace, _ = md["namespace"].(string)
	}
}

// decodeObject strictly decodes one object (a document or a List item)
// from its generic tree m and its JSON raw.
func (s *Scheme) decodeObject(m map[string]any, raw []byte, dups []duplicateKey) (Object, error) {
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	var errs FieldErrorList
	for _, f := range []string{"apiVersion", "kind"} {
		if v, ok := m[f]; ok {
			if _, isString := v.(string); !isString {
				errs = append(errs, Invalid(NewPath(f), badValue(v), "must be a string"))
			}
		}
	}
	if len(errs) > 0 {
		return nil, NewInvalid(kind, nameOf(m), errs)
	}
	info, err := s.resolve(apiVersion, kind, nameOf(m))
	if err != nil {
		return nil, err
	}
	obj := info.New()
	t := reflect.TypeOf(obj).Elem()
	errs = redactSecretValues(t, append(typedDuplicates(dups, t), checkStrict(m, t, Path{})...))
	if len(errs) > 0 {
		return nil, NewInvalid(kind, nameOf(m), errs)
	}
	if err := json.Unmarshal(raw, obj); err != nil {
		// checkStrict accepts only what Unmarshal accepts; this is a
		// safety net, not an expected path.
		return nil, NewBadRequest(err.Error())
	}
	return obj, nil
}

var listFields = []string{"apiVersion", "items", "kind", "metadata"}

// decodeList decodes the items of a v1 List document, one Document each.
// A List whose own fields are wrong is one failed Document.
func (s *Scheme) decodeList(list Document, m map[string]any, dups []duplicateKey) []Document {
	var errs FieldErrorList
	var own []duplicateKey
	perItem := map[int][]duplicateKey{}
	for _, d := range dups {
		if len(d.path) > 2 && d.path[0].key == "items" && d.path[1].isIndex {
			i := d.path[1].index
			perItem[i] = append(perItem[i], duplicateKey{path: d.path[2:], line: d.line})
			continue
		}
		own = append(own, d)
	}
	errs = append(errs, typedDuplicates(own, nil)...)
	for _, k := range sortedKeys(m) {
		switch k {
		case "apiVersion", "kind", "metadata", "items":
		default:
			fe := Unknown(NewPath(k))
			if near, ok := closest(k, listFields); ok {
				fe.Detail = fmt.Sprintf("did you mean %q?", near)
			}
			errs = append(errs, fe)
		}
	}
	items, ok := m["items"].([]any)
	if m["items"] != nil && !ok {
		errs = append(errs, Invalid(NewPath("items"), badValue(m["items"]), "must be a list"))
	}
	if len(errs) > 0 {
		list.Err = NewInvalid("List", list.Name, errs)
		return []Document{list}
	}
	out := make([]Document, 0, len(items))
	for i, it := range items {
		d := Document{Line: list.Line, Item: i}
		p := NewPath("items").Index(i)
		im, ok := it.(map[string]any)
		if !ok {
			d.Err = NewInvalid("List", list.Name, FieldErrorList{Invalid(p, badValue(it), "must be an object")})
			out = append(out, d)
			continue
		}
		d.readHeader(im)
		raw, _ := json.Marshal(im)
		d.Object, d.Err = s.decodeObject(im, raw, perItem[i])
		if d.Err != nil {
			d.Err = prefixError(d.Err, p, d.Kind, d.Name)
		}
		out = append(out, d)
	}
	return out
}

// prefixError places the error of a List item under its path.
func prefixError(err error, p Path, kind, name string) error {
	se, ok := AsStatusError(err)
	if !ok || se.Reason() != ReasonInvalid {
		return NewBadRequest(fmt.Sprintf("%s: %v", p, err))
	}
	out := NewInvalid(kind, name, se.FieldErrors().Prefix(p))
	if plain := NewInvalid(kind, name, se.FieldErrors()); se.Error() != plain.Error() {
		// A message of its own (an unsupported kind) keeps its words.
		out.ErrStatus.Message = fmt.Sprintf("%s: %s", p, se.Error())
	}
	return out
}

// pathElem is one step of a path through a JSON tree: an object key or a
// list index.
type pathElem struct {
	key     string
	index   int
	isIndex bool
}

// duplicateKey is a key given again in the same JSON object.
type duplicateKey struct {
	path []pathElem // ends with the key
	line int        // the file line of the repeated key
}

// duplicateKeys returns every key of raw, a well-formed JSON value whose
// first byte is on the file's line first, that repeats a key of the same
// object. It scans the bytes rather than decoding tokens: it runs on
// every JSON document, the registry's patches included, and allocates
// only for large objects and for what it reports.
func duplicateKeys(raw []byte, first int) []duplicateKey {
	// A frame is an object or list being scanned; its key or index is
	// that of the value being scanned inside it. The keys of the open
	// objects share one slice, each frame's from keysFrom on.
	type frame struct {
		object   bool
		wantKey  bool
		key      []byte
		index    int
		keysFrom int
		set      map[string]struct{} // the object's keys, once there are many
	}
	const linearKeys = 16
	var stack []frame
	var keys [][]byte
	var out []duplicateKey
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '{', '[':
			stack = append(stack, frame{object: c == '{', wantKey: c == '{', keysFrom: len(keys)})
		case '}', ']':
			if n := len(stack); n > 0 { // always, in well-formed JSON
				keys = keys[:stack[n-1].keysFrom]
				stack = stack[:n-1]
			}
		case ',':
			if len(stack) > 0 {
				top := &stack[len(stack)-1]
				top.index++
				top.wantKey = top.object
			}
		case '"':
			end := stringEnd(raw, i)
			if n := len(stack); n > 0 && stack[n-1].wantKey {
				top := &stack[n-1]
				key := unquoteKey(raw[i : end+1])
				top.wantKey, top.key = false, key
				var seen bool
				switch {
				case top.set != nil:
					_, seen = top.set[string(key)]
					top.set[string(key)] = struct{}{}
				case slices.ContainsFunc(keys[top.keysFrom:], func(k []byte) bool { return bytes.Equal(k, key) }):
					seen = true
				default:
					keys = append(keys, key)
					if len(keys)-top.keysFrom > linearKeys {
						top.set = make(map[string]struct{}, 2*linearKeys)
						for _, k := range keys[top.keysFrom:] {
							top.set[string(k)] = struct{}{}
						}
					}
				}
				if seen {
					path := make([]pathElem, 0, n)
					for _, f := range stack {
						if f.object {
							path = append(path, pathElem{key: string(f.key)})
						} else {
							path = append(path, pathElem{index: f.index, isIndex: true})
						}
					}
					out = append(out, duplicateKey{path: path, line: first + bytes.Count(raw[:i], []byte{'\n'})})
				}
			}
			i = end
		}
	}
	return out
}

// stringEnd returns the index of the quote that closes the JSON string
// starting at raw[start].
func stringEnd(raw []byte, start int) int {
	for i := start + 1; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(raw) - 1
}

// unquoteKey returns a quoted JSON key's value: the bytes inside the
// quotes, or the decoded string when it has escapes ("\u0061" is "a").
func unquoteKey(quoted []byte) []byte {
	if len(quoted) < 2 {
		return nil // cut short: not in well-formed JSON
	}
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return inner
	}
	return []byte(s)
}

// typedDuplicates reports duplicate keys as field errors, with paths
// written as for a value of type t (nil when unknown): struct fields as
// .field, map keys as [key].
func typedDuplicates(dups []duplicateKey, t reflect.Type) FieldErrorList {
	var errs FieldErrorList
	for _, d := range dups {
		errs = append(errs, &FieldError{
			Type:     ErrorTypeDuplicate,
			Field:    typedPath(t, d.path).String(),
			BadValue: d.path[len(d.path)-1].key,
			Detail:   fmt.Sprintf("key given again at line %d of the same object (JSON keeps only the last)", d.line),
		})
	}
	return errs
}

// typedPath writes a path through a JSON tree as field paths are written
// for a value of type t.
func typedPath(t reflect.Type, elems []pathElem) Path {
	var p Path
	for _, e := range elems {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t != nil && reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
			t = nil // its inside is not fields
		}
		switch {
		case e.isIndex:
			p = p.Index(e.index)
			if t != nil && t.Kind() == reflect.Slice {
				t = t.Elem()
			} else {
				t = nil
			}
		case t != nil && t.Kind() == reflect.Map:
			p, t = p.Key(e.key), t.Elem()
		case t != nil && t.Kind() == reflect.Struct:
			fields := map[string]reflect.Type{}
			jsonFields(t, fields)
			p, t = p.Child(e.key), fields[e.key]
		default:
			p, t = p.Child(e.key), nil
		}
	}
	return p
}
