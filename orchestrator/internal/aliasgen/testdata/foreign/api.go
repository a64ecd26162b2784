// Package api has a generic type constrained by another package's type,
// which the generated file could not name.
package api

import "fmt"

// Printer prints with a fmt.Stringer.
type Printer[S fmt.Stringer] struct{ S S }
