// Package api is a stand-in for orchestrator/api with one of each kind of
// declaration the rule sorts.
package api

import "errors"

// Pod is a group of containers. This second sentence stays in api.
type Pod struct{ Name string }

// Object is anything with a name.
type Object interface{ GetName() string }

// List holds objects of one kind.
type List[T Object, K comparable] struct{ Items map[K]T }

// Ref points at an object; its constraint is an interface with a method.
type Ref[T interface {
	Object
	Kind() string
}] struct{ To T }

type hidden int

// Phase is a Pod's phase.
type Phase string

// Phases.
const (
	// Running: every container started.
	Running Phase = "Running"
	Failed  Phase = "Failed"
	lost    Phase = "Lost"
)

// DefaultNamespace is where namespaced objects go by default.
const DefaultNamespace = "default"

// Kinds of an IntOrString; excluded by name.
const (
	Int    = 0
	String = 1
)

// ErrBad is wrapped by every error of Parse.
var ErrBad = errors.New("bad")

// Registry is mutable package state: not copied.
var Registry = map[string]hidden{}

// IsBad reports whether err is ErrBad.
func IsBad(err error) bool { return errors.Is(err, ErrBad) }

// IgnoreBad returns nil for ErrBad.
func IgnoreBad(err error) error {
	if IsBad(err) {
		return nil
	}
	return err
}

// IsName is not about errors.
func IsName(s string) bool { return s != "" }

// IsEither takes two errors: not a predicate.
func IsEither(a, b error) bool { return IsBad(a) || IsBad(b) }

// Parse is a helper, chosen by hand if at all.
func Parse(s string) (Pod, error) { return Pod{Name: s}, nil }

// GetName makes Pod an Object; methods are not re-exported.
func (p Pod) GetName() string { return p.Name }
