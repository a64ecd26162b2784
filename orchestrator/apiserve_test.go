package orchestrator_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"sigs.k8s.io/yaml"
)

// testKubeconfig is what the tests read of a kubeconfig.
type testKubeconfig struct {
	CurrentContext string `json:"current-context"`
	Clusters       []struct {
		Name    string `json:"name"`
		Cluster struct {
			Server string `json:"server"`
			CA     []byte `json:"certificate-authority-data"`
		} `json:"cluster"`
	} `json:"clusters"`
	Users []struct {
		Name string `json:"name"`
		User struct {
			Cert []byte `json:"client-certificate-data"`
			Key  []byte `json:"client-key-data"`
		} `json:"user"`
	} `json:"users"`
	Contexts []struct {
		Name string `json:"name"`
	} `json:"contexts"`
}

func readKubeconfig(t *testing.T, path string) testKubeconfig {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var kc testKubeconfig
	if err := yaml.UnmarshalStrict(b, &kc, func(d *json.Decoder) *json.Decoder { return d }); err != nil {
		// Strictness is not the point: fall back to a lenient read.
		if err := yaml.Unmarshal(b, &kc); err != nil {
			t.Fatalf("kubeconfig: %v", err)
		}
	}
	return kc
}

// httpsClient trusts caPEM and presents certPEM/keyPEM if given.
func httpsClient(t *testing.T, caPEM, certPEM, keyPEM []byte) *http.Client {
	t.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("no CA certificate")
	}
	cfg := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if certPEM != nil {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	tr := &http.Transport{TLSClientConfig: cfg, ForceAttemptHTTP2: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// get returns the status code and body of GET url with an optional
// bearer token.
func get(t *testing.T, c *http.Client, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAPIServerOverHTTPS(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(tokenFile, []byte("good-token,bob,uid-bob,\"devs\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tc := orchestratortest.NewCluster(t, 3, orchestratortest.WithAPI(),
		orchestratortest.WithConfig(func(i int, cfg *orchestrator.Config) { cfg.APITokenFile = tokenFile }))
	kc := readKubeconfig(t, tc.Kubeconfig(t))

	// The kubeconfig: this node's cluster first and current, one context
	// per server.
	if kc.CurrentContext != "flotilla" || len(kc.Clusters) != 4 || len(kc.Users) != 1 {
		t.Fatalf("kubeconfig: current %q, %d clusters, %d users", kc.CurrentContext, len(kc.Clusters), len(kc.Users))
	}
	var names []string
	for _, ctx := range kc.Contexts {
		names = append(names, ctx.Name)
	}
	if want := []string{"flotilla", "flotilla-node-0", "flotilla-node-1", "flotilla-node-2"}; !slices.Equal(names, want) {
		t.Errorf("contexts %q, want %q", names, want)
	}
	for i := range 3 {
		if got, want := kc.Clusters[i+1].Cluster.Server, "https://"+tc.APIAddr(i); got != want {
			t.Errorf("cluster %s: server %q, want %q", kc.Clusters[i+1].Name, got, want)
		}
	}
	ca := kc.Clusters[0].Cluster.CA
	admin := httpsClient(t, ca, kc.Users[0].User.Cert, kc.Users[0].User.Key)
	anon := httpsClient(t, ca, nil, nil)

	for i := range 3 {
		url := "https://" + tc.APIAddr(i)
		eventually(t, "readyz on "+tc.NodeName(i), func() bool { code, _ := get(t, anon, url+"/readyz", ""); return code == 200 })
	}
	follower := (tc.Leader() + 1) % 3
	base := "https://" + tc.APIAddr(follower)
	list := base + "/api/v1/namespaces"

	for i := range 3 {
		code, body := get(t, admin, "https://"+tc.APIAddr(i)+"/version", "")
		var v struct {
			Major, Minor, GitVersion string
		}
		if code != 200 || json.Unmarshal([]byte(body), &v) != nil || v.Major != "1" || v.Minor != "32" || !strings.HasPrefix(v.GitVersion, "v1.32.") {
			t.Errorf("/version on %s: %d %s", tc.NodeName(i), code, body)
		}
	}
	wantNamespaces := func(what string, code int, body string) {
		t.Helper()
		var l struct {
			Kind  string
			Items []struct{ Metadata struct{ Name string } }
		}
		if code != 200 || json.Unmarshal([]byte(body), &l) != nil || l.Kind != "NamespaceList" ||
			!slices.ContainsFunc(l.Items, func(it struct{ Metadata struct{ Name string } }) bool { return it.Metadata.Name == "default" }) {
			t.Errorf("%s: %d %s; want a NamespaceList with default", what, code, body)
		}
	}
	code, body := get(t, admin, list, "")
	wantNamespaces("admin certificate on a follower", code, body)
	// The token's user may do nothing until a binding lets them (RBAC,
	// deny by default).
	code, body = get(t, anon, list, "good-token")
	if want := `namespaces is forbidden: User \"bob\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope`; code != http.StatusForbidden || !strings.Contains(body, want) {
		t.Errorf("token without a binding: %d %s; want 403 %s", code, body, want)
	}
	if err := tc.Client().Create(context.Background(), &orchestrator.ClusterRoleBinding{ObjectMeta: orchestrator.ObjectMeta{Name: "devs-view"},
		RoleRef:  orchestrator.RoleRef{Kind: "ClusterRole", Name: "view"},
		Subjects: []orchestrator.Subject{{Kind: "Group", Name: "devs"}}}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the devs' binding on "+tc.NodeName(follower), func() bool { code, _ = get(t, anon, list, "good-token"); return code == 200 })
	code, body = get(t, anon, list, "good-token")
	wantNamespaces("token from the token file, bound to view", code, body)
	assertUnauthorized := func(what string, c *http.Client, token string) {
		t.Helper()
		code, body := get(t, c, list, token)
		if code != http.StatusUnauthorized || !strings.Contains(body, `"reason":"Unauthorized"`) {
			t.Errorf("%s: %d %s; want 401 Unauthorized", what, code, body)
		}
	}
	assertUnauthorized("no credentials", anon, "")
	assertUnauthorized("wrong token", anon, "bad-token")

	// A certificate from another CA.
	strangerTC := orchestratortest.NewCluster(t, 1, orchestratortest.WithAPI())
	sCert, sKey, err := orchestrator.IssueTestClientCert(context.Background(), strangerTC.Node(0), "stranger", time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	assertUnauthorized("certificate of another CA", httpsClient(t, ca, sCert, sKey), "")

	// An expired certificate of the cluster CA.
	eCert, eKey, err := orchestrator.IssueTestClientCert(context.Background(), tc.Node(0), "late", time.Now().Add(-5*time.Second), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	assertUnauthorized("expired certificate", httpsClient(t, ca, eCert, eKey), "")

	// Plain HTTP on the API port is refused.
	resp, err := http.Get("http://" + tc.APIAddr(follower) + "/api/v1/namespaces")
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "HTTPS") {
			t.Errorf("plain HTTP: %d %s; want it refused", resp.StatusCode, b)
		}
	}

	// The admin certificate is recorded and can be revoked.
	certs, err := tc.Node(0).Certificates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var serial string
	for _, ci := range certs {
		if ci.User == orchestrator.AdminUser {
			serial = ci.Serial
		}
	}
	if serial == "" {
		t.Fatalf("the admin certificate is not in Certificates: %+v", certs)
	}
	if err := tc.Node(0).RevokeCertificate(context.Background(), serial); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the revoked admin certificate refused", func() bool { code, _ := get(t, admin, list, ""); return code == 401 })
}

// With cluster trust (real sockets, a joined server) the API uses the
// node's trust: the founder's CA, its revocation list.
func TestAPIServerWithClusterTrust(t *testing.T) {
	tc := orchestratortest.NewCluster(t, 2, orchestratortest.WithTLS(), orchestratortest.WithAPI())
	kc := readKubeconfig(t, tc.Kubeconfig(t))
	admin := httpsClient(t, kc.Clusters[0].Cluster.CA, kc.Users[0].User.Cert, kc.Users[0].User.Key)
	for i := range 2 {
		url := "https://" + tc.APIAddr(i) + "/api/v1/namespaces/default"
		eventually(t, "namespace default through "+tc.NodeName(i), func() bool {
			code, body := get(t, admin, url, "")
			return code == 200 && strings.Contains(body, `"name":"default"`)
		})
	}
	// Revoking the admin certificate reaches every server's trust Pool.
	certs, err := tc.Node(1).Certificates(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ci := range certs {
		if ci.User == orchestrator.AdminUser {
			if err := tc.Node(1).RevokeCertificate(context.Background(), ci.Serial); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i := range 2 {
		url := "https://" + tc.APIAddr(i) + "/api/v1/namespaces"
		eventually(t, "the revoked admin certificate refused by "+tc.NodeName(i), func() bool { code, _ := get(t, admin, url, ""); return code == 401 })
	}
}

// kubectl (v1.32 on PATH) against a test cluster: tables, wide columns,
// logs, apply (which reads the OpenAPI documents) and a failed credential.
func TestKubectl(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not on PATH")
	}
	tc := orchestratortest.NewCluster(t, 2, orchestratortest.WithAPI(),
		orchestratortest.WithFakeRuntime(func(i int, cfg *fake.Config) {
			cfg.ImageBehaviors = map[string]fake.Behavior{"hello:1": {Logs: []string{"hello from the fake runtime"}}}
		}))
	kc := tc.Kubeconfig(t)
	kubectl := func(args ...string) (string, error) {
		t.Helper()
		out, err := exec.Command("kubectl", append([]string{"--kubeconfig", kc, "--request-timeout", "20s"}, args...)...).CombinedOutput()
		return string(out), err
	}
	out, err := kubectl("get", "nodes")
	if err != nil || !strings.HasPrefix(out, "NAME") || !strings.Contains(out, "STATUS") || !strings.Contains(out, "node-1   Ready") {
		t.Errorf("kubectl get nodes: %v\n%s", err, out)
	}
	manifest := filepath.Join(t.TempDir(), "pod.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Pod
metadata:
  name: hello
  namespace: default
spec:
  nodeName: node-1
  containers:
  - name: app
    image: hello:1
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := kubectl("apply", "-f", manifest); err != nil || !strings.Contains(out, "pod/hello created") {
		t.Fatalf("kubectl apply: %v\n%s", err, out)
	}
	eventually(t, "the Pod Running in kubectl get pods -o wide", func() bool {
		out, err = kubectl("get", "pods", "-o", "wide")
		return err == nil && strings.Contains(out, "NOMINATED NODE") && strings.Contains(out, "1/1") && strings.Contains(out, "Running") && strings.Contains(out, "node-1")
	})
	if out, err := kubectl("--context", "flotilla-node-0", "logs", "hello"); err != nil || out != "hello from the fake runtime\n" {
		t.Errorf("kubectl logs through node-0: %v\n%s", err, out)
	}
	if out, err := kubectl("get", "--raw", "/openapi/v3"); err != nil || !strings.Contains(out, `"api/v1"`) {
		t.Errorf("kubectl get --raw /openapi/v3: %v\n%.300s", err, out)
	}
	// Without the admin certificate, a wrong token is refused.
	dir := t.TempDir()
	empty, caFile := filepath.Join(dir, "empty"), filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(caFile, readKubeconfig(t, kc).Clusters[0].Cluster.CA, 0o600); err != nil {
		t.Fatal(err)
	}
	bad, err := exec.Command("kubectl", "--kubeconfig", empty, "--server", "https://"+tc.APIAddr(0), "--certificate-authority", caFile,
		"--token", "nope", "get", "pods").CombinedOutput()
	if err == nil || !strings.Contains(string(bad), "Unauthorized") {
		t.Errorf("kubectl with a wrong token: %v\n%s", err, bad)
	}
}

func TestAPIConfigValidate(t *testing.T) {
	rt, err := fake.New(fake.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	for _, c := range []struct {
		set  func(*orchestrator.Config)
		want string
	}{
		{func(c *orchestrator.Config) { c.APIAddress = "6443" }, "Config.APIAddress"},
		{func(c *orchestrator.Config) { c.APIAddress = "host:http" }, `Config.APIAddress: "host:http": port "http"`},
		{func(c *orchestrator.Config) { c.APIAddress = ":1"; c.APISANs = []string{"ok.example", "bad_name"} }, "Config.APISANs[1]"},
		{func(c *orchestrator.Config) { c.APITokenFile = "/tmp/tokens" }, "Config.APITokenFile: set without APIAddress"},
		{func(c *orchestrator.Config) { c.APISANs = []string{"x"} }, "Config.APISANs: set without APIAddress"},
	} {
		cfg := orchestrator.TestConfig("n")
		cfg.Runtime = rt
		c.set(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Validate = %v; want %q", err, c.want)
		}
	}
	if cfg := orchestrator.DefaultConfig(); cfg.APIAddress != ":6443" {
		t.Errorf("DefaultConfig().APIAddress = %q", cfg.APIAddress)
	}
	cfg := orchestrator.TestConfig("n")
	cfg.Runtime = rt
	n, err := orchestrator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.AdminKubeconfig(context.Background()); err == nil || !strings.Contains(err.Error(), "Config.APIAddress is empty") {
		t.Errorf("AdminKubeconfig without the API: %v", err)
	}
}

// A malformed token file fails Start, naming the line.
func TestAPITokenFileMalformed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.csv")
	if err := os.WriteFile(path, []byte("t1,alice,1\nt2,bob\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rt, err := fake.New(fake.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	cfg := orchestrator.TestConfig("n")
	cfg.Runtime, cfg.BootstrapExpect, cfg.APIAddress, cfg.APITokenFile = rt, 1, "127.0.0.1:0", path
	n, err := orchestrator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err = n.Start(ctx)
	_ = n.Shutdown(ctx)
	if err == nil || !strings.Contains(err.Error(), "Config.APITokenFile") || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("Start = %v; want the token file's line 2 named", err)
	}
}

// Shutdown ends open watches and returns; the port is closed after.
func TestAPIShutdownEndsWatches(t *testing.T) {
	tc := orchestratortest.NewCluster(t, 1, orchestratortest.WithAPI())
	kc := readKubeconfig(t, tc.Kubeconfig(t))
	admin := httpsClient(t, kc.Clusters[0].Cluster.CA, kc.Users[0].User.Cert, kc.Users[0].User.Key)
	addr := tc.APIAddr(0)
	resp, err := admin.Get("https://" + addr + "/api/v1/namespaces?watch=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("watch: %d", resp.StatusCode)
	}
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); done <- err }()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	if err := tc.Node(0).Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("the watch stream did not end at Shutdown")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("Shutdown took %v with a watch open", took)
	}
	if code, _ := get(t, admin, "https://"+addr+"/readyz", ""); code != 0 {
		t.Errorf("the API port still answers after Shutdown: %d", code)
	}
}

// TestAPIOnAllInterfacesIsAdvertised: a server whose API listens on every
// interface (DefaultConfig's ":6443") starts, and the others learn its API
// address with the host gossip advertises.
func TestAPIOnAllInterfacesIsAdvertised(t *testing.T) {
	tc := orchestratortest.NewCluster(t, 2, orchestratortest.WithTLS(), orchestratortest.WithAPI(),
		orchestratortest.WithConfig(func(i int, cfg *orchestrator.Config) {
			if i == 1 {
				cfg.APIAddress = ":0"
			}
		}))
	_, port, err := net.SplitHostPort(tc.Node(1).APIAddr())
	if err != nil {
		t.Fatal(err)
	}
	want := "https://" + net.JoinHostPort("127.0.0.1", port)
	tc.Eventually(10*time.Second, "node-0 knows node-1's API address", func() bool {
		kc, err := tc.Node(0).AdminKubeconfig(context.Background())
		return err == nil && strings.Contains(string(kc), want)
	})
}
