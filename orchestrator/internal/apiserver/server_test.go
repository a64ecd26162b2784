package apiserver

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func TestNewNamesMissingFields(t *testing.T) {
	_, err := New(Config{MaxRequestBytes: -1, RequestTimeout: -1})
	if err == nil {
		t.Fatal("New accepted an empty Config")
	}
	for _, field := range []string{"Config.Client", "Config.Authenticator", "Config.MaxRequestBytes", "Config.RequestTimeout"} {
		if !strings.Contains(err.Error(), field) {
			t.Errorf("error %q does not name %s", err, field)
		}
	}
}

func TestVersionAndHealth(t *testing.T) {
	var ready error
	ts := newTestServer(t, func(c *Config) { c.Ready = func(context.Context) error { return ready } })

	var v version.Info
	ts.do("GET", "/version", "").want(t, 200).decode(t, &v)
	if v.Major != "1" || v.Minor != "32" || !strings.HasPrefix(v.GitVersion, "v1.32.") {
		t.Errorf("version %+v", v)
	}
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		r := ts.do("GET", p, "", "X-Test-User", "") // no credential needed
		if r.code != 200 || string(r.body) != "ok" {
			t.Errorf("%s: %d %q", p, r.code, r.body)
		}
	}
	ready = errors.New("no leader")
	r := ts.do("GET", "/readyz?verbose", "", "X-Test-User", "")
	if r.code != 500 || strings.Contains(string(r.body), "no leader") || !strings.Contains(string(r.body), "reason withheld") {
		t.Errorf("readyz not ready, asked without credentials: %d %q, want the reason withheld", r.code, r.body)
	}
	r = ts.do("GET", "/readyz?verbose", "", "X-Test-User", "alice")
	if r.code != 500 || !strings.Contains(string(r.body), "no leader") {
		t.Errorf("readyz not ready, asked by a user: %d %q", r.code, r.body)
	}
	if r := ts.do("GET", "/livez", ""); r.code != 200 {
		t.Errorf("livez follows Ready: %d", r.code)
	}
}

func TestAuthentication(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, user := range []string{"", "bad"} {
		for _, p := range []string{"/version", "/api", "/api/v1/namespaces/default/pods"} {
			st := ts.do("GET", p, "", "X-Test-User", user).wantStatus(t, 401, api.ReasonUnauthorized)
			if st.Message != "Unauthorized" {
				t.Errorf("message %q", st.Message)
			}
		}
	}
}

type recordingAuthorizer struct {
	seen []Attributes
	deny func(Attributes) bool
}

func (a *recordingAuthorizer) Authorize(_ context.Context, attrs Attributes) error {
	a.seen = append(a.seen, attrs)
	if a.deny != nil && a.deny(attrs) {
		return Forbidden(attrs, "")
	}
	return nil
}

func TestAuthorization(t *testing.T) {
	authz := &recordingAuthorizer{deny: func(a Attributes) bool { return a.User.Name == "bob" }}
	ts := newTestServer(t, func(c *Config) { c.Authorizer = authz })
	st := ts.do("GET", "/api/v1/namespaces/dev/pods/web", "", "X-Test-User", "bob").wantStatus(t, 403, api.ReasonForbidden)
	want := `pods "web" is forbidden: User "bob" cannot get resource "pods" in API group "" in the namespace "dev"`
	if st.Message != want {
		t.Errorf("message\n%q, want\n%q", st.Message, want)
	}
	if st.Details == nil || st.Details.Name != "web" || st.Details.Kind != "pods" {
		t.Errorf("details %+v", st.Details)
	}
	st = ts.do("PATCH", "/apis/apps/v1/namespaces/dev/deployments/web/scale", "{}", "X-Test-User", "bob").wantStatus(t, 403, api.ReasonForbidden)
	want = `deployments.apps "web" is forbidden: User "bob" cannot patch resource "deployments/scale" in API group "apps" in the namespace "dev"`
	if st.Message != want {
		t.Errorf("message\n%q, want\n%q", st.Message, want)
	}
	st = ts.do("GET", "/api/v1/nodes", "", "X-Test-User", "bob").wantStatus(t, 403, api.ReasonForbidden)
	want = `nodes is forbidden: User "bob" cannot list resource "nodes" in API group "" at the cluster scope`
	if st.Message != want {
		t.Errorf("message\n%q, want\n%q", st.Message, want)
	}
	ts.do("GET", "/api/v1/namespaces/dev/pods?watch=true&fieldSelector=metadata.name%3Dweb&timeoutSeconds=1", "", "X-Test-User", "bob").want(t, 403)
	last := authz.seen[len(authz.seen)-1]
	if last.Verb != "watch" || last.Name != "web" || last.Namespace != "dev" || !last.ResourceRequest {
		t.Errorf("watch attributes %+v", last)
	}
}

func TestRequestInfo(t *testing.T) {
	tests := []struct {
		method, url string
		want        requestInfo
	}{
		{"GET", "/api/v1/namespaces/dev/pods/web", requestInfo{ResourceRequest: true, InNamespace: true, Verb: "get", APIPrefix: "api", APIVersion: "v1", Namespace: "dev", Resource: "pods", Name: "web"}},
		{"GET", "/api/v1/namespaces/dev/pods", requestInfo{ResourceRequest: true, InNamespace: true, Verb: "list", APIPrefix: "api", APIVersion: "v1", Namespace: "dev", Resource: "pods"}},
		{"GET", "/api/v1/pods?watch=true", requestInfo{ResourceRequest: true, Verb: "watch", APIPrefix: "api", APIVersion: "v1", Resource: "pods"}},
		{"GET", "/api/v1/watch/namespaces/dev/pods", requestInfo{ResourceRequest: true, InNamespace: true, Verb: "watch", APIPrefix: "api", APIVersion: "v1", Namespace: "dev", Resource: "pods"}},
		{"GET", "/api/v1/namespaces/dev/pods?fieldSelector=metadata.name%3Dweb", requestInfo{ResourceRequest: true, InNamespace: true, Verb: "list", APIPrefix: "api", APIVersion: "v1", Namespace: "dev", Resource: "pods", SelectorName: "web"}},
		{"GET", "/api/v1/namespaces/dev/pods/web?watch=1", requestInfo{ResourceRequest: true, InNamespace: true, Verb: "watch", APIPrefix: "api", APIVersion: "v1", Namespace: "dev", Resource: "pods", Name: "web"}},
		{"POST", "/apis/apps/v1/namespaces/dev/deployments", requestInfo{ResourceRequest: true, InNamespace: true, Verb: "create", APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1", Namespace: "dev", Resource: "deployments"}},
		{"PUT", "/apis/apps/v1/namespaces/dev/deployments/web/status", requestInfo{ResourceRequest: true, InNamespace: true, Verb: "update", APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1", Namespace: "dev", Resource: "deployments", Name: "web", Subresource: "status"}},
		{"PATCH", "/apis/apps/v1/namespaces/dev/deployments/web/scale", requestInfo{ResourceRequest: true, InNamespace: true, Verb: "patch", APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1", Namespace: "dev", Resource: "deployments", Name: "web", Subresource: "scale"}},
		{"DELETE", "/api/v1/namespaces/dev/pods", requestInfo{ResourceRequest: true, InNamespace: true, Verb: "deletecollection", APIPrefix: "api", APIVersion: "v1", Namespace: "dev", Resource: "pods"}},
		{"DELETE", "/api/v1/namespaces/dev/pods/web", requestInfo{ResourceRequest: true, InNamespace: true, Verb: "delete", APIPrefix: "api", APIVersion: "v1", Namespace: "dev", Resource: "pods", Name: "web"}},
		{"GET", "/api/v1/namespaces/dev", requestInfo{ResourceRequest: true, Verb: "get", APIPrefix: "api", APIVersion: "v1", Namespace: "dev", Resource: "namespaces", Name: "dev"}},
		{"PUT", "/api/v1/namespaces/dev/finalize", requestInfo{ResourceRequest: true, Verb: "update", APIPrefix: "api", APIVersion: "v1", Namespace: "dev", Resource: "namespaces", Name: "dev", Subresource: "finalize"}},
		{"GET", "/api/v1/nodes/n1", requestInfo{ResourceRequest: true, Verb: "get", APIPrefix: "api", APIVersion: "v1", Resource: "nodes", Name: "n1"}},
		{"GET", "/apis/apps/v1", requestInfo{Verb: "get", APIPrefix: "apis", APIGroup: "apps", APIVersion: "v1"}},
		{"GET", "/apis/apps", requestInfo{Verb: "get", APIPrefix: "apis"}},
		{"GET", "/api", requestInfo{Verb: "get", APIPrefix: "api"}},
		{"GET", "/healthz", requestInfo{Verb: "get"}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.url, func(t *testing.T) {
			r, err := http.NewRequest(tt.method, "http://x"+tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := parseRequestInfo(r)
			got.Parts = nil
			tt.want.Path = r.URL.Path
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	ts := newTestServer(t, nil)
	for _, p := range []string{"/nope", "/api/v2", "/apis/nope/v1", "/api/v1/widgets", "/api/v1/namespaces/dev/pods/web/nope", "/api/v1/namespaces/dev/nodes", "/api/v1/namespaces/dev/namespaces", "/api/v1/nodes/n1/status/x", "/api/v1/namespaces/dev/pods/web/status/x", "/openapi/v2"} {
		st := ts.do("GET", p, "").wantStatus(t, 404, api.ReasonNotFound)
		if st.Message != "the server could not find the requested resource" {
			t.Errorf("%s: message %q", p, st.Message)
		}
	}
	ts.do("POST", "/api/v1/pods", podJSON("default", "a", nil)).wantStatus(t, 405, "MethodNotAllowed")
	ts.do("PUT", "/api/v1/namespaces/default/pods", podJSON("default", "a", nil)).wantStatus(t, 405, "MethodNotAllowed")
	ts.do("POST", "/version", "").wantStatus(t, 405, "MethodNotAllowed")
}

func TestOpenAPIMounted(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.OpenAPI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("spec:" + r.URL.Path)) })
	})
	for _, p := range []string{"/openapi/v2", "/openapi/v3", "/openapi/v3/apis/apps/v1"} {
		r := ts.do("GET", p, "").want(t, 200)
		if string(r.body) != "spec:"+p {
			t.Errorf("%s: %q", p, r.body)
		}
	}
}

type panicConvertor struct{}

func (panicConvertor) ConvertToTable(api.KindInfo, []api.Object, TableOptions) (*metav1.Table, error) {
	panic("boom")
}

func TestPanicRecovered(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Tables = panicConvertor{} })
	ts.createNamespace("default")
	st := ts.do("GET", "/api/v1/namespaces/default/pods", "", "Accept", "application/json;as=Table;g=meta.k8s.io;v=v1").wantStatus(t, 500, api.ReasonInternalError)
	if strings.Contains(st.Message, "boom") {
		t.Errorf("panic value leaked to the client: %q", st.Message)
	}
	ts.do("GET", "/version", "").want(t, 200) // still serving
}
