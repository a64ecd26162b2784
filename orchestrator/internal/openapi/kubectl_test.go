package openapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestKubectlExplain runs the real kubectl explain against a TLS server
// that serves the handler and the least discovery kubectl needs to map
// "deployment" to apps/v1 Deployment. It is skipped when kubectl is not on
// PATH; the cluster's end-to-end tests run it against a real API server.
func TestKubectlExplain(t *testing.T) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not on PATH")
	}
	h := newHandler(t)
	mux := http.NewServeMux()
	mux.Handle("/openapi/", h)
	js := func(s string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, s)
		}
	}
	mux.Handle("/version", js(`{"major":"1","minor":"32","gitVersion":"v1.32.0"}`))
	mux.Handle("/api", js(`{"kind":"APIVersions","versions":["v1"]}`))
	mux.Handle("/api/v1", js(`{"kind":"APIResourceList","groupVersion":"v1","resources":[
	  {"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["get","list"]}]}`))
	mux.Handle("/apis", js(`{"kind":"APIGroupList","apiVersion":"v1","groups":[
	  {"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}],"preferredVersion":{"groupVersion":"apps/v1","version":"v1"}}]}`))
	mux.Handle("/apis/apps/v1", js(`{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"apps/v1","resources":[
	  {"name":"deployments","singularName":"deployment","namespaced":true,"kind":"Deployment","verbs":["get","list","patch"]}]}`))
	srv := httptest.NewTLSServer(mux)
	t.Cleanup(srv.Close)

	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "config")
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`, srv.URL)
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		// OpenAPI v3, the default.
		{[]string{"explain", "deployment.spec.strategy"},
			[]string{"FIELD: strategy <DeploymentStrategy>", "Strategy defaults to RollingUpdate", "rollingUpdate\t<RollingUpdateDeployment>"}},
		// OpenAPI v2, read as protobuf.
		{[]string{"explain", "deployment.spec.strategy", "--output=plaintext-openapiv2"},
			[]string{"RESOURCE: strategy <Object>", "Strategy defaults to RollingUpdate"}},
		{[]string{"explain", "pod.spec.containers.ports"},
			[]string{"containerPort\t<integer> -required-"}},
	} {
		cmd := exec.Command(kubectl, append(c.args, "--kubeconfig="+kubeconfig, "--cache-dir="+filepath.Join(dir, "cache"))...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("kubectl %s: %v\n%s", strings.Join(c.args, " "), err, out)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(string(out), w) {
				t.Errorf("kubectl %s: output lacks %q:\n%s", strings.Join(c.args, " "), w, out)
			}
		}
	}
}
