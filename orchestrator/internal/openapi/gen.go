//go:build ignore

// gen writes zz_generated.go, the descriptions, definition names and list
// markers of the OpenAPI documents, by the rule of package
// orchestrator/internal/openapi/openapigen. go generate runs it from this
// directory.
package main

import (
	"fmt"
	"os"

	"github.com/flotilla-io/flotilla/orchestrator/internal/openapi/openapigen"
)

func main() {
	src, err := openapigen.Generate("../../api")
	if err == nil {
		err = os.WriteFile("zz_generated.go", src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
