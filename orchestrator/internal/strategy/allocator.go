package strategy

import "github.com/flotilla-io/flotilla/orchestrator/api"

// Allocator is an optional ability of a strategy, for kinds whose objects
// hold values that must be unique across the cluster, taken from a pool
// (a Service's cluster IP and node ports). The registry keeps one record
// per held value under its own keys and writes them in the same store
// transaction as the object: creating a record fails when the value is
// held already, so two objects never hold one value however many writes
// race, and deleting the object frees its values in the same step.
//
// The registry calls Allocate after Default and before Validate, on
// create and on update; it then diffs Claims of the stored object and of
// the new one, creates the records of values new to the object and
// deletes those it no longer holds.
type Allocator interface {
	// Claims returns the values obj holds, at most one per pool and
	// value. Pool names are short lowercase words ("serviceips").
	Claims(obj api.Object) []Claim
	// Allocate fills the unset allocated fields of obj with free values:
	// taken(pool) is the set of values of pool held when it is called
	// (its own included, on update). old is the stored object on update
	// and nil on create. A value taken meanwhile by another write makes
	// the registry run the write again. It returns an error with the
	// field path when a pool has no free value left.
	Allocate(obj, old api.Object, taken func(pool string) map[string]bool) api.FieldErrorList
}

// Claim is one value an object holds in a pool.
type Claim struct {
	Pool  string
	Value string
	// Field is the field that holds the value, for the Invalid error
	// when a value the client asked for is held by another object.
	Field api.Path
	// BadValue is the field's value shown in that error.
	BadValue any
	// Taken is the message of that error (Kubernetes': "provided IP is
	// already allocated").
	Taken string
}
