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
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
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

// An agent-only node's Config is checked for what it needs (real sockets,
// Join, a JoinToken without credentials in a DataDir) and what it must
// not have (bootstrap settings, DisableAgent), each problem naming its
// field.
func TestRoleAgentValidate(t *testing.T) {
	rt, err := fake.New(fake.Config{NodeName: "a"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	cfg := orchestrator.TestConfig("a")
	cfg.Role, cfg.Runtime = orchestrator.RoleAgent, rt
	cfg.BootstrapExpect = 1
	cfg.DisableAgent = true
	c, err := orchestrator.New(cfg)
	if c != nil || err == nil {
		t.Fatal("New accepted an agent without Join or JoinToken")
	}
	for _, want := range []string{"Config.Join:", "Config.JoinToken:", "Config.BootstrapExpect:", "Config.DisableAgent:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}

	cfg.BootstrapExpect, cfg.DisableAgent = 0, false
	cfg.Join = []string{"127.0.0.1:1"}
	cfg.DataDir = t.TempDir() // credentials may be there: no token needed
	if err := cfg.Validate(); err != nil {
		t.Errorf("an agent with Join and a DataDir: %v", err)
	}
	cfg.LogAddress = "127.0.0.1:99999"
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "Config.LogAddress") {
		t.Errorf("an agent with a bad LogAddress: want a Config.LogAddress problem, got %v", err)
	}
	server := orchestrator.TestConfig("s")
	server.Runtime, server.LogAddress = rt, "127.0.0.1:0"
	if err := server.Validate(); err == nil || !strings.Contains(err.Error(), "Config.LogAddress") {
		t.Errorf("a server with LogAddress: want a Config.LogAddress problem, got %v", err)
	}
}

// The trust fields are checked, each naming itself.
func TestTrustConfigValidate(t *testing.T) {
	cfg := orchestrator.TestConfig("n")
	cfg.DisableAgent = true
	cfg.JoinToken = "FLT1.not-a-token"
	cfg.ClusterCA = &orchestrator.ClusterCA{CertPEM: []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}
	cfg.CertificateValidity = time.Second
	cfg.MaxConnections, cfg.MaxConnectionsPerHost = -1, -2
	err := cfg.Validate()
	for _, want := range []string{"Config.JoinToken", "Config.ClusterCA", "Config.CertificateValidity: 1s is below 10s",
		"Config.MaxConnections: -1 is negative", "Config.MaxConnectionsPerHost: -2 is negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	ca, err := orchestrator.NewClusterCA()
	if err != nil {
		t.Fatal(err)
	}
	cfg = orchestrator.TestConfig("n")
	cfg.DisableAgent, cfg.ClusterCA, cfg.CertificateValidity = true, ca, time.Hour
	if err := cfg.Validate(); err != nil {
		t.Errorf("a good CA: %v", err)
	}
}

// The cluster DNS fields are checked, each naming itself; DefaultConfig
// serves DNS on loopback and TestConfig not at all.
func TestDNSConfigValidate(t *testing.T) {
	for _, tc := range []struct{ domain, addr, want string }{
		{"Cluster.Local", "", "Config.ClusterDomain"},
		{"cluster..local", "", "Config.ClusterDomain"},
		{"cluster.local.", "", "Config.ClusterDomain"},
		{"", "127.0.0.1", "Config.DNSAddress: \"127.0.0.1\": want host:port"},
		{"", "127.0.0.1:70000", "Config.DNSAddress: \"127.0.0.1:70000\": port"},
	} {
		cfg := orchestrator.TestConfig("n")
		cfg.ClusterDomain, cfg.DNSAddress = tc.domain, tc.addr
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q %q: %v, want %q", tc.domain, tc.addr, err, tc.want)
		}
	}
	cfg := orchestrator.TestConfig("n")
	cfg.DisableAgent = true
	cfg.ClusterDomain, cfg.DNSAddress = "corp.example", "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Errorf("good DNS config: %v", err)
	}
	if d := orchestrator.DefaultConfig().DNSAddress; d != "127.0.0.1:1053" {
		t.Errorf("DefaultConfig().DNSAddress = %q", d)
	}
	if d := orchestrator.TestConfig("n").DNSAddress; d != "" {
		t.Errorf("TestConfig().DNSAddress = %q, want off", d)
	}
}
