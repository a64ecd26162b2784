package orchestrator_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/internal/aliasgen"
)

// types.go is exactly what aliasgen makes of the current package api, so
// every exported type, constant, sentinel error and error predicate of api
// (the rule is in package aliasgen) is reachable from package orchestrator
// under the same name. On a mismatch the test names each missing alias.
func TestTypesGenerated(t *testing.T) {
	want, err := aliasgen.Generate("api")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("types.go")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) {
		return
	}
	wantNames, err := aliasgen.Declared(want)
	if err != nil {
		t.Fatal(err)
	}
	gotNames, err := aliasgen.Declared(got)
	if err != nil {
		t.Fatal(err)
	}
	// Missing: generated but declared nowhere in package orchestrator.
	declared := map[string]bool{}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "gentypes.go" {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		names, err := aliasgen.Declared(src)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			declared[n] = true
		}
	}
	var missing, stale []string
	for _, n := range wantNames {
		if !declared[n] {
			missing = append(missing, n)
		}
	}
	for _, n := range gotNames {
		if !slices.Contains(wantNames, n) {
			stale = append(stale, n)
		}
	}
	msg := "types.go is not what package api generates; run go generate ./orchestrator"
	if len(missing) > 0 {
		msg += fmt.Sprintf("\nmissing from package orchestrator (%d): %s", len(missing), strings.Join(missing, ", "))
	}
	if len(stale) > 0 {
		msg += fmt.Sprintf("\nin types.go but not generated from api (%d): %s", len(stale), strings.Join(stale, ", "))
	}
	if len(missing) == 0 && len(stale) == 0 {
		msg += "\n(the same names: documentation or order differ)"
	}
	t.Error(msg)
}
