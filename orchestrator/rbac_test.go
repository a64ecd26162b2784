package orchestrator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// post sends body to url as JSON and returns the status code and body.
func post(t *testing.T, c *http.Client, url, body string) (int, string) {
	t.Helper()
	resp, err := c.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// userKubeconfig writes adminKC with its user's certificate replaced by
// certPEM and keyPEM.
func userKubeconfig(t *testing.T, adminKC string, certPEM, keyPEM []byte) string {
	t.Helper()
	b, err := os.ReadFile(adminKC)
	if err != nil {
		t.Fatal(err)
	}
	var kc map[string]any
	if err := yaml.Unmarshal(b, &kc); err != nil {
		t.Fatal(err)
	}
	for _, u := range kc["users"].([]any) {
		user := u.(map[string]any)["user"].(map[string]any)
		user["client-certificate-data"], user["client-key-data"] = certPEM, keyPEM
	}
	out, err := yaml.Marshal(kc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "user.kubeconfig")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRBACOverHTTPS: a user certificate of the cluster CA gets 403 in
// Kubernetes' words until a RoleBinding lets it in, and then only in that
// namespace; as a namespace admin it may bind what it holds and not
// cluster-admin; kubectl auth can-i and whoami answer for it.
func TestRBACOverHTTPS(t *testing.T) {
	tc := orchestratortest.NewCluster(t, 1, orchestratortest.WithAPI())
	ctx := context.Background()
	cl := tc.Client()
	for _, ns := range []string{"dev", "prod"} {
		if err := cl.Create(ctx, &orchestrator.Namespace{ObjectMeta: orchestrator.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	adminKC := tc.Kubeconfig(t)
	kc := readKubeconfig(t, adminKC)
	certPEM, keyPEM, err := orchestrator.IssueTestUserCert(ctx, tc.Node(0), "alice", "devs")
	if err != nil {
		t.Fatal(err)
	}
	alice := httpsClient(t, kc.Clusters[0].Cluster.CA, certPEM, keyPEM)
	base := "https://" + tc.APIAddr(0)

	code, body := get(t, alice, base+"/api/v1/namespaces/dev/pods", "")
	var st struct {
		Kind, Status, Message, Reason string
		Code                          int
	}
	want := `pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "dev"`
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != 403 || st.Kind != "Status" || st.Reason != "Forbidden" ||
		st.Code != 403 || (st.Message != want && !strings.HasPrefix(st.Message, want+": RBAC: ")) {
		t.Fatalf("before a binding: %d %s\nwant 403 Status %q", code, body, want)
	}

	if err := cl.Create(ctx, &orchestrator.RoleBinding{ObjectMeta: orchestrator.ObjectMeta{Namespace: "dev", Name: "devs-admin"},
		RoleRef:  orchestrator.RoleRef{Kind: "ClusterRole", Name: "admin"},
		Subjects: []orchestrator.Subject{{Kind: "Group", Name: "devs"}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "alice allowed in dev", func() bool {
		code, _ := get(t, alice, base+"/api/v1/namespaces/dev/pods", "")
		return code == 200
	})
	if code, body := get(t, alice, base+"/api/v1/namespaces/prod/pods", ""); code != 403 {
		t.Errorf("prod after a binding in dev: %d %s", code, body)
	}
	if code, body := get(t, alice, base+"/api/v1/nodes", ""); code != 403 ||
		!strings.Contains(body, `User \"alice\" cannot list resource \"nodes\" in API group \"\" at the cluster scope`) {
		t.Errorf("nodes: %d %s", code, body)
	}

	// Escalation prevention: binding what admin holds is fine,
	// cluster-admin is not.
	rb := func(name, role string) string {
		return `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"` + name + `"},
			"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"` + role + `"},
			"subjects":[{"kind":"User","name":"bob"}]}`
	}
	url := base + "/apis/rbac.authorization.k8s.io/v1/namespaces/dev/rolebindings"
	if code, body := post(t, alice, url, rb("bob-view", "view")); code != 201 {
		t.Errorf("binding view: %d %s", code, body)
	}
	code, body = post(t, alice, url, rb("bob-root", "cluster-admin"))
	if code != 403 || !strings.Contains(body, `rolebindings.rbac.authorization.k8s.io \"bob-root\" is forbidden: user \"alice\" (groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held`) {
		t.Errorf("binding cluster-admin: %d %s", code, body)
	}

	// The access reviews and whoami, over HTTP.
	code, body = post(t, alice, base+"/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
		`{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"namespace":"dev","verb":"delete","resource":"pods"}}}`)
	if code != 201 || !strings.Contains(body, `"allowed":true`) {
		t.Errorf("SelfSubjectAccessReview: %d %s", code, body)
	}
	code, body = post(t, alice, base+"/apis/authorization.k8s.io/v1/subjectaccessreviews",
		`{"spec":{"user":"bob","resourceAttributes":{"namespace":"dev","verb":"get","resource":"pods"}}}`)
	if code != 403 {
		t.Errorf("SubjectAccessReview by alice: %d %s, want 403", code, body)
	}
	admin := httpsClient(t, kc.Clusters[0].Cluster.CA, kc.Users[0].User.Cert, kc.Users[0].User.Key)
	eventually(t, "bob's binding", func() bool {
		code, body = post(t, admin, base+"/apis/authorization.k8s.io/v1/subjectaccessreviews",
			`{"spec":{"user":"bob","resourceAttributes":{"namespace":"dev","verb":"get","resource":"pods"}}}`)
		return code == 201 && strings.Contains(body, `"allowed":true`)
	})
	if code, body := get(t, admin, base+"/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", ""); code != 405 {
		t.Errorf("GET of a create-only resource: %d %s", code, body)
	}

	if _, err := exec.LookPath("kubectl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("kubectl is not on PATH (required under CI=true)")
		}
		t.Skip("kubectl is not on PATH")
	}
	aliceKC := userKubeconfig(t, adminKC, certPEM, keyPEM)
	kubectl := func(kc string, args ...string) (string, error) {
		t.Helper()
		out, err := exec.Command("kubectl", append([]string{"--kubeconfig", kc, "--request-timeout", "20s"}, args...)...).CombinedOutput()
		return string(out), err
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"auth", "can-i", "list", "pods", "-n", "dev"}, "yes\n"},
		{[]string{"auth", "can-i", "create", "deployments.apps", "-n", "dev"}, "yes\n"},
		{[]string{"auth", "can-i", "list", "pods", "-n", "prod"}, "no\n"},
		{[]string{"auth", "can-i", "create", "clusterroles"}, "no\n"},
		{[]string{"auth", "can-i", "get", "/version"}, "yes\n"},
	} {
		// A cluster-scoped resource asked about in the context's namespace
		// gets kubectl's warning before the answer.
		if out, _ := kubectl(aliceKC, c.args...); !strings.HasSuffix(out, c.want) || strings.Contains(out, "Error") {
			t.Errorf("kubectl %s: %q, want %q", strings.Join(c.args, " "), out, c.want)
		}
	}
	if out, err := kubectl(aliceKC, "auth", "can-i", "--list", "-n", "dev"); err != nil ||
		!strings.Contains(out, "rolebindings.rbac.authorization.k8s.io") || !strings.Contains(out, "/version") {
		t.Errorf("kubectl auth can-i --list: %v\n%s", err, out)
	}
	if out, err := kubectl(aliceKC, "auth", "whoami"); err != nil || !strings.Contains(out, "alice") || !strings.Contains(out, "devs") {
		t.Errorf("kubectl auth whoami: %v\n%s", err, out)
	}
	if out, err := kubectl(aliceKC, "get", "pods", "-n", "prod"); err == nil ||
		!strings.Contains(out, `Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "prod"`) {
		t.Errorf("kubectl get pods -n prod: %v\n%s", err, out)
	}
	if out, err := kubectl(adminKC, "get", "rolebindings", "-n", "dev", "-o", "wide"); err != nil ||
		!strings.Contains(out, "ClusterRole/admin") || !strings.Contains(out, "SERVICEACCOUNTS") {
		t.Errorf("kubectl get rolebindings -o wide: %v\n%s", err, out)
	}
	if out, err := kubectl(adminKC, "get", "clusterroles"); err != nil || !strings.Contains(out, "CREATED AT") || !strings.Contains(out, "cluster-admin") {
		t.Errorf("kubectl get clusterroles: %v\n%s", err, out)
	}
}
