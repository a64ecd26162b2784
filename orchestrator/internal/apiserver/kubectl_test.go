package apiserver

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// bearerAuth accepts the one token of the kubectl test.
type bearerAuth struct{}

func (bearerAuth) Authenticate(r *http.Request) (User, bool, error) {
	if r.Header.Get("Authorization") == "Bearer secret" {
		return User{Name: "admin"}, true, nil
	}
	return User{}, false, nil
}

// TestKubectl drives the handler with the real kubectl (over TLS, with a
// bearer token): discovery, the protobuf bodies of its generators,
// apply, scale, label, Invalid errors as kubectl prints them, tables and
// watch. It needs kubectl on PATH and is skipped without it.
func TestKubectl(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not on PATH")
	}
	ts := newTestServer(t, func(c *Config) {
		c.Authenticator = bearerAuth{}
		c.Logs = &fakeLogs{lines: []string{"hello", "world"}}
	})
	tls := httptest.NewTLSServer(ts.srv)
	t.Cleanup(tls.Close)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	kubeconfig := write("kubeconfig", `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "`+tls.URL+`", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: secret}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]
current-context: x
`)
	deployment := `apiVersion: apps/v1
kind: Deployment
metadata: {name: NAME}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
`
	web := write("web.yaml", strings.NewReplacer("NAME", "web", "REPLICAS", "2").Replace(deployment))
	bad := write("bad.yaml", strings.NewReplacer("NAME", "bad", "REPLICAS", "-1").Replace(deployment))

	kubectl := func(wantErr bool, want string, args ...string) {
		t.Helper()
		cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig, "--request-timeout=20s"}, args...)...)
		out, err := cmd.CombinedOutput()
		if (err != nil) != wantErr || !strings.Contains(string(out), want) {
			t.Errorf("kubectl %s: err=%v, want error %v and output containing %q; output:\n%s", strings.Join(args, " "), err, wantErr, want, out)
		}
	}
	kubectl(false, "Server Version: v1.32.0-flotilla", "version")
	kubectl(false, "namespace/default created", "create", "namespace", "default") // a protobuf body
	kubectl(false, "deployment.apps/gen created", "create", "deployment", "gen", "--image=nginx", "--replicas=2")
	// Compared without the column padding, which every new kind changes.
	if out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "api-resources").CombinedOutput(); err != nil ||
		!slices.ContainsFunc(strings.Split(string(out), "\n"), func(l string) bool {
			f := strings.Join(strings.Fields(l), " ")
			return f == "deployments deploy apps/v1 true Deployment"
		}) {
		t.Errorf("kubectl api-resources: err=%v, want a row deployments deploy apps/v1 true Deployment; output:\n%s", err, out)
	}
	if out, err := exec.Command("kubectl", "--kubeconfig", kubeconfig, "api-resources").CombinedOutput(); err != nil ||
		!slices.ContainsFunc(strings.Split(string(out), "\n"), func(l string) bool {
			return strings.Join(strings.Fields(l), " ") == "rolebindings rbac.authorization.k8s.io/v1 true RoleBinding"
		}) {
		t.Errorf("kubectl api-resources: err=%v, want a row rolebindings rbac.authorization.k8s.io/v1 true RoleBinding; output:\n%s", err, out)
	}
	// OpenAPI is another seam (nil here): client-side validation is off.
	kubectl(false, "deployment.apps/web created", "apply", "--validate=false", "-f", web)
	kubectl(false, "deployment.apps/web scaled", "scale", "deploy/web", "--replicas=4")
	kubectl(false, "4", "get", "deploy", "web", "-o", "jsonpath={.spec.replicas}")
	kubectl(false, "deployment.apps/web labeled", "label", "deploy", "web", "tier=front")
	kubectl(true, `The Deployment "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`, "create", "--validate=false", "-f", bad)
	kubectl(true, `Error from server (NotFound): pods "nope" not found`, "get", "pods", "nope")
	kubectl(false, "deployment.apps/web", "get", "all")
	kubectl(false, "web", "get", "deploy", "-w", "--request-timeout=1s")
	kubectl(false, `deployment.apps "web" deleted`, "delete", "deploy", "web")
	kubectl(false, "Replicas:               2 desired", "describe", "deploy", "gen") // lists Events by field selector
	kubectl(false, "pod/p1 created", "run", "p1", "--image=nginx")
	kubectl(false, "hello\nworld\n", "logs", "p1")
	kubectl(false, "deployment.apps/web created", "apply", "--validate=false", "-f", web)
	kubectl(false, "deployment.apps/web unchanged", "apply", "--validate=false", "-f", web)
	kubectl(false, `pod "p1" deleted`, "delete", "pods", "--all")
	kubectl(true, `The Deployment "gen" is invalid: spec.foo: Unknown field`, "patch", "deploy", "gen", "--type=merge", "-p", `{"spec":{"foo":1}}`)
}
