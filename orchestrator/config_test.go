package orchestrator_test

import (
	"bytes"
	"go/ast"
	"go/doc"
	"go/parser"
	"go/printer"
	"go/token"
	"io/fs"
	"strings"
	"testing"
)

// The in-memory test networks are reachable only through package
// orchestrator/internal/inmem: no exported declaration of package
// orchestrator (as go doc shows it) mentions them.
func TestPublicAPIHasNoTestNetworks(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	files := make([]*ast.File, 0, len(pkgs["orchestrator"].Files))
	for _, f := range pkgs["orchestrator"].Files {
		files = append(files, f)
	}
	p, err := doc.NewFromFiles(fset, files, "github.com/flotilla-io/flotilla/orchestrator")
	if err != nil {
		t.Fatal(err)
	}
	check := func(decl ast.Node, docText string) {
		var b bytes.Buffer
		if err := printer.Fprint(&b, fset, decl); err != nil {
			t.Fatal(err)
		}
		b.WriteString(docText)
		if s := strings.ToLower(b.String()); strings.Contains(s, "inmem") || strings.Contains(s, "in-memory network") {
			t.Errorf("exported API mentions the in-memory test networks:\n%s", b.String())
		}
	}
	values := append(append([]*doc.Value(nil), p.Consts...), p.Vars...)
	funcs := append([]*doc.Func(nil), p.Funcs...)
	for _, typ := range p.Types {
		check(typ.Decl, typ.Doc)
		values = append(append(values, typ.Consts...), typ.Vars...)
		funcs = append(append(funcs, typ.Funcs...), typ.Methods...)
	}
	for _, v := range values {
		check(v.Decl, v.Doc)
	}
	for _, f := range funcs {
		check(f.Decl, f.Doc)
	}
}
