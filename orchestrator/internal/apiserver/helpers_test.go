package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/flotilla-io/flotilla/internal/leakcheck"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

// headerAuth authenticates the user named in the X-Test-User header;
// "bad" is a credential that proves nobody.
type headerAuth struct{}

func (headerAuth) Authenticate(r *http.Request) (User, bool, error) {
	name := r.Header.Get("X-Test-User")
	switch name {
	case "":
		return User{}, false, nil
	case "bad":
		return User{}, false, errors.New("unknown token")
	}
	return User{Name: name, Groups: []string{"system:authenticated"}}, true, nil
}

// testServer is a Server over a fresh registry behind httptest.
type testServer struct {
	t      testing.TB
	srv    *Server
	http   *httptest.Server
	client client.Interface
}

func newTestServer(t testing.TB, change func(*Config)) *testServer {
	t.Helper()
	return newTestServerOn(t, testutil.Store(t), change)
}

// newTestServerOn is newTestServer over the given store.
func newTestServerOn(t testing.TB, kv registry.KV, change func(*Config)) *testServer {
	t.Helper()
	reg := testutil.RegistryOn(t, kv)
	cfg := Config{Client: reg, Authenticator: headerAuth{}, Logger: zaptest.NewLogger(t)}
	if change != nil {
		change(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	ts := &testServer{t: t, srv: srv, http: hs, client: reg}
	return ts
}

// response is a finished request.
type response struct {
	code   int
	header http.Header
	body   []byte
}

// do sends a request as user alice (unless headers set X-Test-User).
func (ts *testServer) do(method, path, body string, headers ...string) response {
	ts.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.http.URL+path, rd)
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("X-Test-User", "alice")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		ts.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		ts.t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: b}
}

// status decodes a Status body.
func (r response) status(t testing.TB) api.Status {
	t.Helper()
	var st api.Status
	if err := json.Unmarshal(r.body, &st); err != nil {
		t.Fatalf("not a Status: %v: %s", err, r.body)
	}
	if st.Kind != "Status" || st.APIVersion != "v1" {
		t.Fatalf("not a Status: %s", r.body)
	}
	return st
}

// wantStatus checks that r is a Failure Status with code and reason.
func (r response) wantStatus(t testing.TB, code int, reason api.StatusReason) api.Status {
	t.Helper()
	if r.code != code {
		t.Fatalf("code %d, want %d: %s", r.code, code, r.body)
	}
	st := r.status(t)
	if st.Status != "Failure" || st.Reason != reason || int(st.Code) != code {
		t.Fatalf("status %s/%s/%d, want Failure/%s/%d: %s", st.Status, st.Reason, st.Code, reason, code, r.body)
	}
	return st
}

func (r response) want(t testing.TB, code int) response {
	t.Helper()
	if r.code != code {
		t.Fatalf("code %d, want %d: %s", r.code, code, r.body)
	}
	return r
}

func (r response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %T: %v: %s", v, err, r.body)
	}
}

// mustJSONString encodes v.
func mustJSONString(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// createNamespace creates namespace ns through the registry.
func (ts *testServer) createNamespace(ns string) {
	ts.t.Helper()
	obj := &api.Namespace{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: api.ObjectMeta{Name: ns}}
	if err := ts.client.Create(context.Background(), obj, client.CreateOptions{}); err != nil {
		ts.t.Fatal(err)
	}
}

func podJSON(ns, name string, labels map[string]string) string {
	p := map[string]any{
		"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": name, "namespace": ns, "labels": labels},
		"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": "busybox"}}},
	}
	b, _ := json.Marshal(p)
	return string(b)
}

func deploymentJSON(ns, name string, replicas int) string {
	d := map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec": map[string]any{
			"replicas": replicas,
			"selector": map[string]any{"matchLabels": map[string]any{"app": name}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]any{"app": name}},
				"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": "busybox"}}},
			},
		},
	}
	b, _ := json.Marshal(d)
	return string(b)
}
