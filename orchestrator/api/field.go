package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Path is a field path such as spec.template.spec.containers[0].image. The
// zero value is the root. Paths are immutable values; Child, Index and Key
// return new ones.
type Path struct{ s string }

// NewPath returns the path of the given top-level field and children, e.g.
// NewPath("spec", "template").
func NewPath(name string, more ...string) Path { return Path{}.Child(name, more...) }

// Child returns p extended by one or more field names.
func (p Path) Child(name string, more ...string) Path {
	s := p.s
	for _, n := range append([]string{name}, more...) {
		if s == "" {
			s = n
		} else {
			s += "." + n
		}
	}
	return Path{s}
}

// Index returns p extended by a list index: p[i].
func (p Path) Index(i int) Path { return Path{p.s + "[" + strconv.Itoa(i) + "]"} }

// Key returns p extended by a map key: p[key].
func (p Path) Key(key string) Path { return Path{p.s + "[" + key + "]"} }

// String returns the dotted path ("" for the root).
func (p Path) String() string { return p.s }

// FieldErrorType is the kind of problem a FieldError reports. The values
// are Kubernetes' StatusCause types, plus FieldValueUnknown for strict
// decoding.
type FieldErrorType string

// Field error types.
const (
	ErrorTypeRequired     FieldErrorType = "FieldValueRequired"
	ErrorTypeInvalid      FieldErrorType = "FieldValueInvalid"
	ErrorTypeNotSupported FieldErrorType = "FieldValueNotSupported"
	ErrorTypeDuplicate    FieldErrorType = "FieldValueDuplicate"
	ErrorTypeForbidden    FieldErrorType = "FieldValueForbidden"
	ErrorTypeTooLong      FieldErrorType = "FieldValueTooLong"
	ErrorTypeTooMany      FieldErrorType = "FieldValueTooMany"
	ErrorTypeNotFound     FieldErrorType = "FieldValueNotFound"
	// ErrorTypeUnknown reports a field the schema does not have (strict
	// decoding): a misspelling or a field of a newer version.
	ErrorTypeUnknown FieldErrorType = "FieldValueUnknown"
)

// String returns the human-readable form used in messages.
func (t FieldErrorType) String() string {
	switch t {
	case ErrorTypeRequired:
		return "Required value"
	case ErrorTypeInvalid:
		return "Invalid value"
	case ErrorTypeNotSupported:
		return "Unsupported value"
	case ErrorTypeDuplicate:
		return "Duplicate value"
	case ErrorTypeForbidden:
		return "Forbidden"
	case ErrorTypeTooLong:
		return "Too long"
	case ErrorTypeTooMany:
		return "Too many"
	case ErrorTypeNotFound:
		return "Not found"
	case ErrorTypeUnknown:
		return "Unknown field"
	}
	return string(t)
}

// FieldError is one problem with one field, e.g.
// "spec.replicas: Invalid value: -1: must be greater than or equal to 0".
type FieldError struct {
	Type FieldErrorType
	// Field is the path of the offending field.
	Field string
	// BadValue is the offending value; nil when not meaningful.
	BadValue any
	// Detail explains the rule that was broken.
	Detail string
}

// Error returns "<field>: <type>[: <value>][: <detail>]".
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Type.String())
	switch e.Type {
	case ErrorTypeInvalid, ErrorTypeNotSupported, ErrorTypeDuplicate, ErrorTypeNotFound:
		b.WriteString(": ")
		b.WriteString(formatBadValue(e.BadValue))
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

func formatBadValue(v any) string {
	if v == nil {
		return "null"
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "null"
		}
		v = rv.Elem().Interface()
	}
	switch x := v.(type) {
	case string:
		if len(x) > 128 {
			return strconv.Quote(x[:64]) + fmt.Sprintf("... (%d bytes)", len(x))
		}
		return strconv.Quote(x)
	case fmt.Stringer:
		return strconv.Quote(x.String())
	case int, int32, int64, bool, float64:
		return fmt.Sprint(x)
	}
	if b, err := json.Marshal(v); err == nil && len(b) <= 256 {
		return string(b)
	}
	return fmt.Sprintf("%T", v)
}

// Required returns a FieldValueRequired error for path.
func Required(path Path, detail string) *FieldError {
	return &FieldError{Type: ErrorTypeRequired, Field: path.String(), Detail: detail}
}

// Invalid returns a FieldValueInvalid error for path.
func Invalid(path Path, value any, detail string) *FieldError {
	return &FieldError{Type: ErrorTypeInvalid, Field: path.String(), BadValue: value, Detail: detail}
}

// NotSupported returns a FieldValueNotSupported error listing the allowed
// values.
func NotSupported[T ~string](path Path, value any, supported ...T) *FieldError {
	q := make([]string, len(supported))
	for i, s := range supported {
		q[i] = strconv.Quote(string(s))
	}
	detail := ""
	if len(q) > 0 {
		detail = "supported values: " + strings.Join(q, ", ")
	}
	return &FieldError{Type: ErrorTypeNotSupported, Field: path.String(), BadValue: value, Detail: detail}
}

// Duplicate returns a FieldValueDuplicate error for path.
func Duplicate(path Path, value any) *FieldError {
	return &FieldError{Type: ErrorTypeDuplicate, Field: path.String(), BadValue: value}
}

// NotFound returns a FieldValueNotFound error: value refers to something
// that does not exist (e.g. a volume mount naming no volume).
func NotFound(path Path, value any) *FieldError {
	return &FieldError{Type: ErrorTypeNotFound, Field: path.String(), BadValue: value}
}

// Forbidden returns a FieldValueForbidden error for path.
func Forbidden(path Path, detail string) *FieldError {
	return &FieldError{Type: ErrorTypeForbidden, Field: path.String(), Detail: detail}
}

// TooLong returns a FieldValueTooLong error for path.
func TooLong(path Path, maxLen int) *FieldError {
	return &FieldError{Type: ErrorTypeTooLong, Field: path.String(),
		Detail: fmt.Sprintf("may not be more than %d bytes", maxLen)}
}

// Unknown returns a FieldValueUnknown error for a field that does not exist.
func Unknown(path Path) *FieldError {
	return &FieldError{Type: ErrorTypeUnknown, Field: path.String()}
}

// FieldErrorList is a list of field errors; validation functions append to
// one and return it whole, so every problem is reported at once.
type FieldErrorList []*FieldError

// Error joins the messages; a single error prints bare, several in
// brackets, as Kubernetes does.
func (l FieldErrorList) Error() string {
	switch len(l) {
	case 0:
		return "<no errors>"
	case 1:
		return l[0].Error()
	}
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return "[" + strings.Join(msgs, ", ") + "]"
}

// Fields returns the field paths in order, for tests and messages.
func (l FieldErrorList) Fields() []string {
	out := make([]string, len(l))
	for i, e := range l {
		out[i] = e.Field
	}
	return out
}

// Prefix returns a copy of l with every field path prefixed by p
// (used to place errors of an embedded object, such as a pod template).
func (l FieldErrorList) Prefix(p Path) FieldErrorList {
	if p.s == "" {
		return l
	}
	out := make(FieldErrorList, len(l))
	for i, e := range l {
		c := *e
		switch {
		case c.Field == "":
			c.Field = p.s
		case c.Field[0] == '[':
			c.Field = p.s + c.Field
		default:
			c.Field = p.s + "." + c.Field
		}
		out[i] = &c
	}
	return out
}
