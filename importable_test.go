package flotilla

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// embedderMain uses a symbol of every package an embedding program is
// likely to import, so that building it compiles all of them and their
// dependencies as resolved from the embedder's side.
const embedderMain = `package main

import (
	"fmt"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker"
	"github.com/flotilla-io/flotilla/raftstore"
)

var (
	_ = orchestratortest.NewCluster
	_ = docker.New
	_ = raftstore.New
	_ = membership.New
)

func main() {
	_, err := orchestrator.New(orchestrator.DefaultConfig())
	fmt.Println(err)
}
`

// TestImportableWithoutReplace builds a throwaway module outside the tree
// that requires Flotilla as any other program would. Go ignores replace
// directives in a dependency's go.mod, so this catches a go.mod that builds
// here only thanks to one (as go-metrics v0.7.0 once did: it lacks the
// compat package that older raft-boltdb imported). The only replace is for
// Flotilla itself, pointing at this checkout. It shares the module and
// build caches and inherits GOPROXY: besides the modules "go mod download"
// put in the cache, go mod tidy looks up a few that only docker/docker's
// own tests import (docker/docker has no go.mod to pin them), as it would
// for any program that imports the Docker client.
func TestImportableWithoutReplace(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module that imports Flotilla; skipped with -short")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	goMod := "module example.com/embedder\n\n" +
		"go 1.26\n\n" +
		"require github.com/flotilla-io/flotilla v0.0.0-00010101000000-000000000000\n\n" +
		"replace github.com/flotilla-io/flotilla => " + strconv.Quote(root) + "\n"
	for name, text := range map[string]string{"go.mod": goMod, "main.go": embedderMain} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	goTool := goCommand(t)
	env := append(os.Environ(),
		"GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -mod=mod"),
		"GOWORK=off",        // a go.work above the temp dir must not pull this checkout in
		"GOTOOLCHAIN=local", // never fetch another toolchain: the test is about this one
	)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	for _, args := range [][]string{{"mod", "tidy"}, {"build", "./..."}} {
		cmd := exec.CommandContext(ctx, goTool, args...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			mod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
			t.Fatalf("go %s in a module that requires Flotilla: %v\n%s\ngo.mod:\n%s",
				strings.Join(args, " "), err, out, bytes.TrimSpace(mod))
		}
		if len(out) > 0 {
			t.Logf("go %s:\n%s", strings.Join(args, " "), out)
		}
	}
}

// TestGoModHasNoReplace keeps go.mod free of replace directives: even one
// that builds fine in the embedding test above would silently not apply
// to embedders, who would get the original module instead.
func TestGoModHasNoReplace(t *testing.T) {
	f, err := os.Open("go.mod")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "//")
		if fields := strings.Fields(line); len(fields) > 0 && fields[0] == "replace" {
			t.Errorf("go.mod:%d: %s\nGo ignores replace in a dependency's go.mod; pick versions that build without it", n, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// goCommand returns the go command of the toolchain running this test,
// falling back to the one on PATH.
func goCommand(t *testing.T) string {
	t.Helper()
	exe := "go"
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if p := filepath.Join(runtime.GOROOT(), "bin", exe); fileExists(p) {
		return p
	}
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command: not in GOROOT %s/bin and %v", runtime.GOROOT(), err)
	}
	return p
}

func fileExists(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}
