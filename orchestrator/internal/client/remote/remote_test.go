package remote

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// seen is one request as the test server received it.
type seen struct {
	Method, Path, RawPath, Query, ContentType, Auth string
	Body                                            string
	Proto                                           int
}

// server is an HTTPS (HTTP/2) test server that records each request and
// answers with reply.
type server struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []seen
	reply func(w http.ResponseWriter, r *http.Request)
}

func newServer(t *testing.T, reply func(w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{reply: reply}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, seen{
			Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Query: r.URL.RawQuery,
			ContentType: r.Header.Get("Content-Type"), Auth: r.Header.Get("Authorization"),
			Body: string(b), Proto: r.ProtoMajor,
		})
		s.mu.Unlock()
		s.reply(w, r)
	}))
	s.EnableHTTP2 = true
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func (s *server) last(t *testing.T) seen {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		t.Fatal("the server received no request")
	}
	return s.reqs[len(s.reqs)-1]
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

func newClient(t *testing.T, servers ...*server) *Client {
	t.Helper()
	cfg := Config{BearerToken: "secret-token", Logger: zaptest.NewLogger(t), Timeout: 10 * time.Second}
	for _, s := range servers {
		cfg.Servers = append(cfg.Servers, s.URL)
		cfg.RootCAs = s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// echo answers a write with its body given resourceVersion 7 and a read
// with a ConfigMap (or a ConfigMapList).
func echo(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasSuffix(r.URL.Path, "/configmaps") && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{
			"apiVersion": "v1", "kind": "ConfigMapList", "metadata": map[string]any{"resourceVersion": "42"},
			"items": []any{
				map[string]any{"metadata": map[string]any{"name": "a", "namespace": "default", "resourceVersion": "40"}},
				map[string]any{"metadata": map[string]any{"name": "b", "namespace": "default", "resourceVersion": "41"}, "futureField": true},
			},
		})
	case r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cm", "namespace": "ns", "resourceVersion": "5"},
			"data": map[string]string{"k": "v"}, "fieldFromANewerServer": 1,
		})
	case r.Method == http.MethodDelete:
		writeJSON(w, 200, map[string]any{"apiVersion": "v1", "kind": "Status", "status": "Success"})
	default:
		writeJSON(w, 200, map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "cm", "namespace": "ns", "resourceVersion": "7"},
		})
	}
}

// TestRequestsAreKubernetesRESTCalls: each method is the HTTP method, path,
// query and body Kubernetes uses.
func TestRequestsAreKubernetesRESTCalls(t *testing.T) {
	s := newServer(t, echo)
	c := newClient(t, s)
	ctx := context.Background()
	cm := func() *api.ConfigMap {
		return &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "cm", Namespace: "ns", ResourceVersion: "3"}, Data: map[string]string{"a": "1"}}
	}
	labels, err := api.ParseSelector("app=web,tier!=db")
	if err != nil {
		t.Fatal(err)
	}
	fields := api.OneTermEqualSelector("metadata.name", "cm")
	tests := []struct {
		name string
		call func() error
		want seen
		// body, if set, must appear in the request body.
		body []string
	}{
		{"Get", func() error {
			return c.Get(ctx, "ns", "cm", &api.ConfigMap{}, client.GetOptions{Consistent: true})
		}, seen{Method: "GET", RawPath: "/api/v1/namespaces/ns/configmaps/cm"}, nil},
		{"GetStale", func() error {
			return c.Get(ctx, "ns", "cm", &api.ConfigMap{}, client.GetOptions{})
		}, seen{Method: "GET", RawPath: "/api/v1/namespaces/ns/configmaps/cm", Query: "resourceVersion=0"}, nil},
		{"GetClusterScoped", func() error {
			err := c.Get(ctx, "", "n1", &api.Node{}, client.GetOptions{Consistent: true})
			if err == nil || !strings.Contains(err.Error(), "ConfigMap where a Node") {
				return errors.New("a ConfigMap answer to a Node read was accepted")
			}
			return nil
		}, seen{Method: "GET", RawPath: "/api/v1/nodes/n1"}, nil},
		{"GetGroup", func() error {
			_ = c.Get(ctx, "ns", "web", &api.Deployment{}, client.GetOptions{Consistent: true})
			return nil
		}, seen{Method: "GET", RawPath: "/apis/apps/v1/namespaces/ns/deployments/web"}, nil},
		{"GetEscapesNames", func() error {
			_ = c.Get(ctx, "ns", "a/b c", &api.Event{}, client.GetOptions{Consistent: true})
			return nil
		}, seen{Method: "GET", RawPath: "/api/v1/namespaces/ns/events/a%2Fb%20c"}, nil},
		{"List", func() error {
			var l api.ConfigMapList
			err := c.List(ctx, &l, client.ListOptions{Namespace: "default", Labels: labels, Fields: fields, Consistent: true})
			if err == nil && (len(l.Items) != 2 || l.ResourceVersion != "42" || l.Items[1].Name != "b") {
				return errors.New("list decoded wrong")
			}
			return err
		}, seen{Method: "GET", RawPath: "/api/v1/namespaces/default/configmaps", Query: "fieldSelector=metadata.name%3Dcm&labelSelector=app%3Dweb%2Ctier%21%3Ddb"}, nil},
		{"ListAllNamespacesStale", func() error {
			objs, rev, err := c.ListObjects(ctx, mustKind(t, c, &api.ConfigMap{}), client.ListOptions{})
			if err == nil && (len(objs) != 2 || rev != 42) {
				return errors.New("ListObjects decoded wrong")
			}
			return err
		}, seen{Method: "GET", RawPath: "/api/v1/configmaps", Query: "resourceVersion=0"}, nil},
		{"Create", func() error {
			obj := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "cm"}}
			err := c.Create(ctx, obj, client.CreateOptions{DryRun: true, FieldManager: "me"})
			if err == nil && obj.ResourceVersion != "7" {
				return errors.New("obj did not receive the stored object")
			}
			return err
		}, seen{Method: "POST", RawPath: "/api/v1/namespaces/default/configmaps", Query: "dryRun=All&fieldManager=me", ContentType: "application/json"},
			[]string{`"apiVersion":"v1"`, `"kind":"ConfigMap"`, `"name":"cm"`}},
		{"Update", func() error {
			return c.Update(ctx, cm(), client.UpdateOptions{})
		}, seen{Method: "PUT", RawPath: "/api/v1/namespaces/ns/configmaps/cm", ContentType: "application/json"},
			[]string{`"resourceVersion":"3"`, `"data":{"a":"1"}`}},
		{"UpdateStatus", func() error {
			p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "ns"}}
			_ = c.UpdateStatus(ctx, p, client.UpdateOptions{FieldManager: "kubelet"})
			return nil
		}, seen{Method: "PUT", RawPath: "/api/v1/namespaces/ns/pods/p/status", Query: "fieldManager=kubelet", ContentType: "application/json"}, nil},
		{"Patch", func() error {
			return c.Patch(ctx, cm(), api.MergePatchType, []byte(`{"data":{"b":"2"}}`), client.PatchOptions{DryRun: true})
		}, seen{Method: "PATCH", RawPath: "/api/v1/namespaces/ns/configmaps/cm", Query: "dryRun=All", ContentType: "application/merge-patch+json"},
			[]string{`{"data":{"b":"2"}}`}},
		{"Delete", func() error {
			return c.Delete(ctx, "ns", "cm", &api.ConfigMap{}, client.DeleteOptions{
				Propagation: api.DeletePropagationForeground, ResourceVersion: "9", DryRun: true,
			})
		}, seen{Method: "DELETE", RawPath: "/api/v1/namespaces/ns/configmaps/cm", ContentType: "application/json"},
			[]string{`"propagationPolicy":"Foreground"`, `"preconditions":{"resourceVersion":"9"}`, `"dryRun":["All"]`, `"kind":"DeleteOptions"`}},
		{"Bind", func() error {
			p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "ns", UID: "u-1", ResourceVersion: "4"}}
			_, _ = c.Bind(ctx, p, "node-1", client.UpdateOptions{})
			return nil
		}, seen{Method: "GET", RawPath: "/api/v1/namespaces/ns/pods/p"}, nil},
		{"RemoveNamespace", func() error {
			_ = c.RemoveNamespace(ctx, "gone", "12", &api.Namespace{})
			return nil
		}, seen{Method: "PUT", RawPath: "/api/v1/namespaces/gone/finalize", ContentType: "application/json"},
			[]string{`"name":"gone"`, `"resourceVersion":"12"`, `"kind":"Namespace"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); err != nil {
				t.Fatal(err)
			}
			got := s.last(t)
			if got.Method != tt.want.Method || got.RawPath != tt.want.RawPath || got.Query != tt.want.Query || got.ContentType != tt.want.ContentType {
				t.Errorf("request %s %s ?%s (%s)\nwant    %s %s ?%s (%s)", got.Method, got.RawPath, got.Query, got.ContentType,
					tt.want.Method, tt.want.RawPath, tt.want.Query, tt.want.ContentType)
			}
			for _, b := range tt.body {
				if !strings.Contains(got.Body, b) {
					t.Errorf("body %s lacks %s", got.Body, b)
				}
			}
			if got.Auth != "Bearer secret-token" || got.Proto != 2 {
				t.Errorf("Authorization %q over HTTP/%d; want the bearer token over HTTP/2", got.Auth, got.Proto)
			}
		})
	}
}

// TestBindPostsABinding: Bind posts a v1 Binding naming the node, and
// returns the Pod it reads back when the server answers with a Status.
func TestBindPostsABinding(t *testing.T) {
	var binding string
	var s *server
	s = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			binding = r.URL.Path + " " + s.last(t).Body
			writeJSON(w, 201, map[string]any{"apiVersion": "v1", "kind": "Status", "status": "Success", "code": 201})
			return
		}
		writeJSON(w, 200, map[string]any{"apiVersion": "v1", "kind": "Pod",
			"metadata": map[string]any{"name": "p", "namespace": "ns", "resourceVersion": "5"},
			"spec":     map[string]any{"nodeName": "node-1"}})
	})
	c := newClient(t, s)
	p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "ns", UID: "u-1", ResourceVersion: "4"}}
	got, err := c.Bind(context.Background(), p, "node-1", client.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Spec.NodeName != "node-1" || got.ResourceVersion != "5" {
		t.Errorf("Bind returned nodeName %q resourceVersion %q", got.Spec.NodeName, got.ResourceVersion)
	}
	for _, want := range []string{"/api/v1/namespaces/ns/pods/p/binding ", `"kind":"Binding"`, `"uid":"u-1"`, `"resourceVersion":"4"`, `"target":{"kind":"Node","name":"node-1","apiVersion":"v1"}`} {
		if !strings.Contains(binding, want) {
			t.Errorf("binding request %s lacks %s", binding, want)
		}
	}
}

func mustKind(t *testing.T, c *Client, obj any) api.KindInfo {
	t.Helper()
	info, err := c.kind(obj)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestStatusBodiesBecomeStatusErrors: the server's Status is the error,
// with its reason, message and field causes; a body that is no Status
// gets the reason its code implies.
func TestStatusBodiesBecomeStatusErrors(t *testing.T) {
	var reply func(w http.ResponseWriter)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) { reply(w) })
	c := newClient(t, s)
	get := func() error {
		return c.Get(context.Background(), "ns", "cm", &api.ConfigMap{}, client.GetOptions{Consistent: true})
	}
	status := func(code int, st *api.StatusError) func(w http.ResponseWriter) {
		return func(w http.ResponseWriter) { writeJSON(w, code, st.Status()) }
	}
	invalid := api.NewInvalid("ConfigMap", "cm", api.FieldErrorList{
		api.Required(api.NewPath("metadata", "name"), "name is required"),
		api.Invalid(api.NewPath("data").Key("a b"), "x", "a valid key"),
	})
	tests := []struct {
		name  string
		reply func(w http.ResponseWriter)
		is    func(error) bool
		msg   string
	}{
		{"NotFound", status(404, api.NewNotFound("ConfigMap", "cm")), api.IsNotFound, `ConfigMap "cm" not found`},
		{"Conflict", status(409, api.NewConflict("ConfigMap", "cm", errors.New("stale"))), api.IsConflict, "stale"},
		{"AlreadyExists", status(409, api.NewAlreadyExists("ConfigMap", "cm")), api.IsAlreadyExists, "already exists"},
		{"Invalid", status(422, invalid), api.IsInvalid, "is invalid"},
		{"Forbidden", status(403, api.NewForbidden("ConfigMap", "cm", errors.New("no"))), api.IsForbidden, "forbidden"},
		{"TooOld", status(410, api.NewTooOld("")), api.IsTooOld, "too old"},
		{"StatusWithoutReason", func(w http.ResponseWriter) {
			writeJSON(w, 401, map[string]any{"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "who are you"})
		}, api.IsUnauthorized, "who are you"},
		{"PlainText", func(w http.ResponseWriter) {
			w.WriteHeader(503)
			_, _ = io.WriteString(w, "overloaded\n")
		}, api.IsServiceUnavailable, "the server answered 503: overloaded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply = tt.reply
			err := get()
			if !tt.is(err) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v (reason %q), want %s", err, api.ReasonForError(err), tt.msg)
			}
		})
	}
	reply = status(422, invalid)
	if got := api.FieldErrors(get()).Fields(); strings.Join(got, " ") != "metadata.name data[a b]" {
		t.Errorf("field errors %v", got)
	}
}

// TestFailover: a server that cannot be reached is skipped, for reads and
// writes alike, and the one that answered is used from then on; when
// none can be reached the error is ServiceUnavailable wrapping the dial
// error.
func TestFailover(t *testing.T) {
	dead := deadURL(t)
	s := newServer(t, echo)
	cfg := Config{
		Servers: []string{dead, s.URL}, RootCAs: s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs,
		Logger: zaptest.NewLogger(t),
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	if err := c.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "cm"}}, client.CreateOptions{}); err != nil {
		t.Fatalf("create with the first server down: %v", err)
	}
	if err := c.Get(ctx, "ns", "cm", &api.ConfigMap{}, client.GetOptions{}); err != nil {
		t.Fatalf("get with the first server down: %v", err)
	}
	if n := s.count(); n != 2 {
		t.Errorf("the live server got %d requests, want 2", n)
	}
	if got := c.t.current.Load(); got != 1 {
		t.Errorf("current server %d, want 1 (the one that answered)", got)
	}

	cfg.Servers = []string{dead, deadURL(t)}
	none, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer none.Close()
	err = none.Get(ctx, "ns", "cm", &api.ConfigMap{}, client.GetOptions{})
	var op *net.OpError
	if !api.IsServiceUnavailable(err) || !errors.As(err, &op) {
		t.Fatalf("no server reachable: %v; want ServiceUnavailable wrapping the *net.OpError", err)
	}
}

// deadURL returns an https URL on loopback where nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "https://" + addr
}

// TestContextEndsRequests: a cancelled ctx ends a request waiting for
// its answer with ctx.Err(), and the request timeout with
// DeadlineExceeded.
func TestContextEndsRequests(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := newClient(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-arrived
		cancel()
	}()
	err := c.Get(ctx, "ns", "cm", &api.ConfigMap{}, client.GetOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
	c.t.timeout = 20 * time.Millisecond
	err = c.Get(context.Background(), "ns", "cm", &api.ConfigMap{}, client.GetOptions{})
	if !errors.Is(err, context.DeadlineExceeded) || !api.IsTimeout(err) {
		t.Fatalf("past the request timeout: %v; want a Timeout wrapping context.DeadlineExceeded", err)
	}
}

func TestConfigValidateNamesEveryField(t *testing.T) {
	err := Config{Servers: []string{"http://plain:80", "https://"}, BearerToken: "a\nb", DialTimeout: -1, MaxConnsPerServer: -1}.Validate()
	for _, want := range []string{"Servers[0]", "want an https:// URL", "Servers[1]", "no host", "BearerToken", "DialTimeout", "MaxConnsPerServer"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate: %v; want it to name %s", err, want)
		}
	}
	if err := (Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "Servers") {
		t.Errorf("empty config: %v", err)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New accepted an empty Config")
	}
}
