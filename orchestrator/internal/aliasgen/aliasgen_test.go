package aliasgen_test

import (
	"bytes"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/internal/aliasgen"
)

var update = flag.Bool("update", false, "rewrite testdata/types.golden")

// The rule on a stand-in api package, against a golden file: every type
// (generic ones with their constraints qualified), every constant but the
// excluded, Err variables only, and error predicates only.
func TestGenerate(t *testing.T) {
	got, err := aliasgen.Generate("testdata/api")
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("testdata/types.golden", got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/types.golden")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Generate differs from testdata/types.golden (go test -update rewrites it):\n%s", got)
	}
	names, err := aliasgen.Declared(got)
	if err != nil {
		t.Fatal(err)
	}
	wantNames := []string{"DefaultNamespace", "ErrBad", "Failed", "IgnoreBad", "IsBad", "List", "Object", "Phase", "Pod", "Ref", "Running"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("declares %v, want %v", names, wantNames)
	}
}

func TestGenerateErrors(t *testing.T) {
	if _, err := aliasgen.Generate("testdata/missing"); err == nil {
		t.Error("no error for a missing directory")
	}
	if _, err := aliasgen.Generate("."); err == nil {
		t.Error("no error for a directory without package api")
	}
	if _, err := aliasgen.Generate("testdata/foreign"); err == nil || !strings.Contains(err.Error(), "fmt.Stringer") {
		t.Errorf("a constraint from another package: got %v, want an error naming fmt.Stringer", err)
	}
}
