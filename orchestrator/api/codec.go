package api

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Decode decodes exactly one object from JSON or YAML with the default
// scheme; see [Scheme.Decode].
func Decode(data []byte) (Object, error) { return defaultScheme.Decode(data) }

// DecodeAll decodes every object of a JSON or multi-document YAML input
// with the default scheme; see [Scheme.DecodeAll].
func DecodeAll(data []byte) ([]Object, error) { return defaultScheme.DecodeAll(data) }

// DecodeInto strictly decodes JSON or YAML into obj with the default
// scheme; see [Scheme.DecodeInto].
func DecodeInto(data []byte, obj Object) error { return defaultScheme.DecodeInto(data, obj) }

// Decode decodes a single object: it is DecodeAll for inputs that must hold
// exactly one non-empty document. It returns DecodeAll's errors, and a
// BadRequest error if the input holds no object or several.
func (s *Scheme) Decode(data []byte) (Object, error) {
	objs, err := s.DecodeAll(data)
	if err != nil {
		return nil, err
	}
	if len(objs) != 1 {
		return nil, NewBadRequest(fmt.Sprintf("expected exactly one object, found %d", len(objs)))
	}
	return objs[0], nil
}

// DecodeAll decodes every object of a manifest: DecodeDocuments, all or
// nothing. Input, strictness and errors are DecodeDocuments': a JSON
// object or stream of them, or YAML with "---" separated documents
// (comments allowed, empty documents skipped and not counted); a document
// of kind "List" (apiVersion v1) contributes its items. Every document
// must name a registered apiVersion and kind, and an unknown or
// misspelled field (matched case-sensitively), a key given twice, a value
// of the wrong JSON type or a malformed quantity, time or int-or-string
// is an error.
//
// It returns the objects in file order when every document decodes.
// Otherwise it returns no objects and the errors of every failing
// document joined with errors.Join: each a *DocumentError that names the
// document as users count it (from 1, skipping empty documents) and the
// line of the file where it starts, wrapping an Invalid *StatusError that
// lists every bad field path of the document (an unsupported kind is one,
// with a message of its own), or a BadRequest one for malformed YAML or
// JSON (with the line in the file), or for a document nested more than
// MaxNestingDepth levels deep. Use DecodeDocuments to keep the documents
// that decoded. Input over MaxManifestBytes, or holding more than
// MaxManifestObjects objects, fails whole with a RequestEntityTooLarge
// error (IsRequestEntityTooLarge) that is not a *DocumentError.
//
// Decoded objects are not defaulted or validated: the server does both
// on every write (Client.Create returns every invalid field at once).
func (s *Scheme) DecodeAll(data []byte) ([]Object, error) {
	docs, err := s.DecodeDocuments(data)
	if err != nil {
		return nil, err
	}
	objs := make([]Object, len(docs))
	for i, d := range docs {
		objs[i] = d.Object
	}
	return objs, nil
}

// DecodeInto strictly decodes a single JSON or YAML document into obj,
// whose Go type decides the schema (as an API server decodes a request
// body). apiVersion and kind may be omitted; if present they must match
// obj's kind. Errors are as for DecodeAll, not wrapped in DocumentError;
// the limits are the same (MaxManifestBytes, MaxNestingDepth).
func (s *Scheme) DecodeInto(data []byte, obj Object) error {
	if isNilObject(obj) {
		return fmt.Errorf("api: DecodeInto: nil target")
	}
	info, ok := s.KindFor(obj)
	if !ok {
		return fmt.Errorf("api: DecodeInto: %T is not a registered kind", obj)
	}
	if err := checkSize(data); err != nil {
		return err
	}
	docs := splitDocuments(data)
	if len(docs) != 1 {
		return NewBadRequest(fmt.Sprintf("expected exactly one %s, found %d documents", info.Kind, len(docs)))
	}
	doc := docs[0]
	if doc.err != nil {
		return doc.err
	}
	if err := checkDepth(doc.json); err != nil {
		return err
	}
	tree, err := parseTree(doc.json)
	if err != nil {
		return err
	}
	m, ok := tree.(map[string]any)
	if !ok {
		return NewBadRequest("expected a JSON/YAML object, got " + jsonTypeName(tree))
	}
	var errs FieldErrorList
	if v, ok := m["apiVersion"]; ok && v != info.APIVersion {
		errs = append(errs, NotSupported(NewPath("apiVersion"), v, info.APIVersion))
	}
	if v, ok := m["kind"]; ok && v != info.Kind {
		errs = append(errs, NotSupported(NewPath("kind"), v, info.Kind))
	}
	t := reflect.TypeOf(obj).Elem()
	if doc.fromJSON {
		errs = append(errs, typedDuplicates(duplicateKeys(doc.json, doc.line), t)...)
	}
	errs = append(errs, checkStrict(tree, t, Path{})...)
	errs = redactSecretValues(t, errs)
	if len(errs) > 0 {
		return NewInvalid(info.Kind, nameOf(m), errs)
	}
	fresh := info.New()
	if err := json.Unmarshal(doc.json, fresh); err != nil {
		return NewBadRequest(err.Error())
	}
	reflect.ValueOf(obj).Elem().Set(reflect.ValueOf(fresh).Elem())
	return nil
}

func parseTree(j []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, NewBadRequest("malformed JSON: " + err.Error())
	}
	return tree, nil
}

func nameOf(m map[string]any) string {
	if md, ok := m["metadata"].(map[string]any); ok {
		if n, ok := md["name"].(string); ok {
			return n
		}
	}
	return ""
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "list"
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return fmt.Sprintf("%T", v)
}

var jsonUnmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// jsonFields collects the JSON-visible fields of a struct type, flattening
// inline embedded structs as encoding/json does.
func jsonFields(t reflect.Type, out map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				jsonFields(ft, out)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
}

// checkStrict compares a generic JSON tree with the Go type it will be
// decoded into and reports, with paths, every unknown field (exact,
// case-sensitive names), every value of the wrong JSON type, and every
// value a custom unmarshaler (Quantity, Time, IntOrString) rejects.
func checkStrict(v any, t reflect.Type, p Path) FieldErrorList {
	if v == nil {
		return nil // null leaves the zero value, as encoding/json does
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshalerType) {
		raw, _ := json.Marshal(v)
		u := reflect.New(t).Interface().(json.Unmarshaler)
		if err := u.UnmarshalJSON(raw); err != nil {
			return FieldErrorList{Invalid(p, badValue(v), err.Error())}
		}
		return nil
	}
	switch t.Kind() {
	case reflect.Pointer:
		return checkStrict(v, t.Elem(), p)
	case reflect.Struct:
		m, ok := v.(map[string]any)
		if !ok {
			return FieldErrorList{Invalid(p, badValue(v), "must be an object")}
		}
		fields := map[string]reflect.Type{}
		jsonFields(t, fields)
		var errs FieldErrorList
		for _, k := range sortedKeys(m) {
			ft, ok := fields[k]
			if !ok {
				errs = append(errs, unknownField(p.Child(k), k, fields))
				continue
			}
			errs = append(errs, checkStrict(m[k], ft, p.Child(k))...)
		}
		return errs
	case reflect.Map:
		m, ok := v.(map[string]any)
		if !ok {
			return FieldErrorList{Invalid(p, badValue(v), "must be an object")}
		}
		var errs FieldErrorList
		for _, k := range sortedKeys(m) {
			errs = append(errs, checkStrict(m[k], t.Elem(), p.Key(k))...)
		}
		return errs
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			s, ok := v.(string)
			if !ok {
				return FieldErrorList{Invalid(p, badValue(v), "must be a base64 string")}
			}
			if _, err := base64.StdEncoding.DecodeString(s); err != nil {
				return FieldErrorList{Invalid(p, "<binary>", "must be valid base64")}
			}
			return nil
		}
		l, ok := v.([]any)
		if !ok {
			return FieldErrorList{Invalid(p, badValue(v), "must be a list")}
		}
		var errs FieldErrorList
		for i, e := range l {
			errs = append(errs, checkStrict(e, t.Elem(), p.Index(i))...)
		}
		return errs
	case reflect.String:
		if _, ok := v.(string); !ok {
			return FieldErrorList{Invalid(p, badValue(v), "must be a string")}
		}
	case reflect.Bool:
		if _, ok := v.(bool); !ok {
			return FieldErrorList{Invalid(p, badValue(v), "must be a boolean")}
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := v.(json.Number)
		if !ok {
			return FieldErrorList{Invalid(p, badValue(v), "must be an integer")}
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			return FieldErrorList{Invalid(p, badValue(v), fmt.Sprintf("must be an integer that fits in %d bits", t.Bits()))}
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, ok := v.(json.Number)
		if !ok {
			return FieldErrorList{Invalid(p, badValue(v), "must be a non-negative integer")}
		}
		if _, err := strconv.ParseUint(string(n), 10, t.Bits()); err != nil {
			return FieldErrorList{Invalid(p, badValue(v), fmt.Sprintf("must be a non-negative integer that fits in %d bits", t.Bits()))}
		}
	case reflect.Float32, reflect.Float64:
		if _, ok := v.(json.Number); !ok {
			return FieldErrorList{Invalid(p, badValue(v), "must be a number")}
		}
	case reflect.Interface:
		return nil
	}
	return nil
}

// unknownField is Unknown with a hint naming the closest known field,
// when one is close: `metadata.nam: Unknown field: did you mean "name"?`.
func unknownField(p Path, name string, known map[string]reflect.Type) *FieldError {
	fe := Unknown(p)
	if near, ok := closest(name, sortedKeys(known)); ok {
		fe.Detail = fmt.Sprintf("did you mean %q?", near)
	}
	return fe
}

// badValue shortens composite values for messages.
func badValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return "<object>"
	case []any:
		return "<list>"
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		return string(x)
	}
	return v
}

func sortedKeys[M ~map[K]V, K cmp.Ordered, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

// EncodeJSON returns obj as compact JSON with the default scheme; see
// [Scheme.EncodeJSON].
func EncodeJSON(obj Object) ([]byte, error) { return defaultScheme.EncodeJSON(obj) }

// EncodeYAML returns obj as YAML with the default scheme; see
// [Scheme.EncodeYAML].
func EncodeYAML(obj Object) ([]byte, error) { return defaultScheme.EncodeYAML(obj) }

// EncodeYAMLAll returns objs as one multi-document YAML stream ("---"
// separated) with the default scheme.
func EncodeYAMLAll(objs []Object) ([]byte, error) { return defaultScheme.EncodeYAMLAll(objs) }

// EncodeJSON returns obj as compact JSON. If obj's apiVersion or kind are
// empty they are written from its Go type (obj is not modified). It
// returns an error if obj is nil or its type is not registered.
func (s *Scheme) EncodeJSON(obj Object) ([]byte, error) {
	if isNilObject(obj) {
		return nil, fmt.Errorf("api: EncodeJSON: nil object")
	}
	info, ok := s.KindFor(obj)
	if !ok {
		return nil, fmt.Errorf("api: EncodeJSON: %T is not a registered kind", obj)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("api: EncodeJSON %s: %w", info.Kind, err)
	}
	tm := obj.GetTypeMeta()
	if tm.APIVersion != "" && tm.Kind != "" {
		return b, nil
	}
	// TypeMeta is the first field and omitted when empty: rewrite it.
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("api: EncodeJSON %s: %w", info.Kind, err)
	}
	m["apiVersion"], _ = json.Marshal(info.APIVersion)
	m["kind"], _ = json.Marshal(info.Kind)
	return json.Marshal(m)
}

// EncodeYAML returns obj as YAML (keys sorted), with apiVersion and kind
// filled in as EncodeJSON does. Its errors are EncodeJSON's.
func (s *Scheme) EncodeYAML(obj Object) ([]byte, error) {
	j, err := s.EncodeJSON(obj)
	if err != nil {
		return nil, err
	}
	y, err := yaml.JSONToYAML(escapeForYAMLReader(j))
	if err != nil {
		return nil, fmt.Errorf("api: EncodeYAML: %w", err)
	}
	return y, nil
}

// escapeForYAMLReader rewrites, as \u escapes, the characters that
// encoding/json writes raw but the YAML reader rejects as non-printable
// (DEL, C1 controls other than NEL, U+FFFE, U+FFFF). They can only occur
// inside JSON strings, where the escape means the same character.
func escapeForYAMLReader(j []byte) []byte {
	needs := false
	for _, r := range string(j) {
		if yamlUnprintable(r) {
			needs = true
			break
		}
	}
	if !needs {
		return j
	}
	var b bytes.Buffer
	for _, r := range string(j) {
		if yamlUnprintable(r) {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.Bytes()
}

func yamlUnprintable(r rune) bool {
	return r >= 0x7f && r <= 0x9f && r != 0x85 || r == 0xfffe || r == 0xffff
}

// EncodeYAMLAll returns objs as a multi-document YAML stream that DecodeAll
// reads back. An error names the index of the object EncodeYAML failed on.
func (s *Scheme) EncodeYAMLAll(objs []Object) ([]byte, error) {
	var buf bytes.Buffer
	for i, o := range objs {
		y, err := s.EncodeYAML(o)
		if err != nil {
			return nil, fmt.Errorf("object %d: %w", i, err)
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(y)
	}
	return buf.Bytes(), nil
}
