//go:build ignore

// gentypes writes types.go, the aliases of package api, by the rule of
// package orchestrator/internal/aliasgen. go generate runs it from this
// directory.
package main

import (
	"fmt"
	"os"

	"github.com/flotilla-io/flotilla/orchestrator/internal/aliasgen"
)

func main() {
	src, err := aliasgen.Generate("api")
	if err == nil {
		err = os.WriteFile("types.go", src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gentypes:", err)
		os.Exit(1)
	}
}
