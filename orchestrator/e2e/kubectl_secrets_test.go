package e2e

import (
	"strings"
	"testing"
)

// Secrets through kubectl as an operator uses them: created from
// literals and from a manifest with stringData, listed with their type
// and key count, described by size only, validated as Kubernetes does
// (the error names the key, never the value) and immutable when asked.
func TestKubectlSecrets(t *testing.T) {
	_, k := newAPICluster(t, 1)
	const value = "s3cr3t-4a7e9b"
	wantStdout(t, k.runOK("create", "secret", "generic", "db", "--from-literal=password="+value, "--from-literal=user=admin"), "secret/db created")
	if got := k.ok("get", "secret", "db", "-o", "jsonpath={.type} {.data.password}"); got != "Opaque czNjcjN0LTRhN2U5Yg==" {
		t.Errorf("type and data: %q", got)
	}
	wantContains(t, "get secrets", k.ok("get", "secrets"), "NAME", "TYPE", "DATA", "AGE", "db", "Opaque", "2")
	desc := k.ok("describe", "secret", "db")
	wantContains(t, "describe", desc, "password:", "13 bytes")
	if strings.Contains(desc, value) {
		t.Errorf("describe shows the value:\n%s", desc)
	}

	applied := k.manifest("secret.yaml", `apiVersion: v1
kind: Secret
metadata: {name: login, namespace: default}
type: kubernetes.io/basic-auth
stringData: {username: alice, password: `+value+`}
`)
	wantStdout(t, k.runOK("apply", "-f", applied), "secret/login created")
	if got := k.ok("get", "secret", "login", "-o", "jsonpath={.data.username}/{.stringData}"); got != "YWxpY2U=/" {
		t.Errorf("stringData not merged into data (or stored): %q", got)
	}

	bad := k.manifest("bad.yaml", `apiVersion: v1
kind: Secret
metadata: {name: bad, namespace: default}
type: kubernetes.io/basic-auth
stringData: {other: `+value+`}
`)
	r := k.fails("apply", "-f", bad)
	wantContains(t, "invalid basic-auth", r.stderr, `data[username]: Required value`, `data[password]: Required value`)
	if strings.Contains(r.stderr, value) {
		t.Errorf("the error shows the value: %s", r.stderr)
	}

	wantStdout(t, k.runOK("patch", "secret", "db", "-p", `{"immutable":true}`), "secret/db patched")
	r = k.fails("patch", "secret", "db", "-p", `{"stringData":{"password":"other"}}`)
	wantContains(t, "immutable", r.stderr, "field is immutable when `immutable` is set")
	r = k.fails("patch", "secret", "login", "-p", `{"type":"Opaque"}`)
	wantContains(t, "type change", r.stderr, "type: Invalid value", "field is immutable")
}
