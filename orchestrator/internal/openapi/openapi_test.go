package openapi_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/openapi"
	"github.com/flotilla-io/flotilla/orchestrator/internal/openapi/openapigen"
)

func newHandler(t *testing.T) *openapi.Handler {
	t.Helper()
	h, err := openapi.NewHandler(api.DefaultScheme())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// get serves one request and returns the response.
func get(t *testing.T, h http.Handler, path string, header ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func readBody(t *testing.T, r *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGeneratedIsCurrent fails while zz_generated.go is not what
// openapigen makes of the current package api.
func TestGeneratedIsCurrent(t *testing.T) {
	want, err := openapigen.Generate("../../api")
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("zz_generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("zz_generated.go is stale: run go generate ./orchestrator/internal/openapi")
	}
}

// refs returns every "$ref" in a JSON document.
func refs(t *testing.T, doc []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && k == "$ref" {
					out = append(out, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// hasGVK reports whether the extensions carry the group, version and kind,
// alone or in a list, as kubectl reads them.
func hasGVK(ext spec.Extensions, group, version, kind string) bool {
	var list []map[string]string
	if err := ext.GetObject("x-kubernetes-group-version-kind", &list); err != nil {
		var one map[string]string
		if ext.GetObject("x-kubernetes-group-version-kind", &one) != nil {
			return false
		}
		list = append(list, one)
	}
	return slices.ContainsFunc(list, func(m map[string]string) bool {
		return m["group"] == group && m["version"] == version && m["kind"] == kind
	})
}

func TestV2Document(t *testing.T) {
	h := newHandler(t)
	resp := get(t, h, "/openapi/v2")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /openapi/v2: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	body := readBody(t, resp)
	var doc spec.Swagger
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Swagger != "2.0" {
		t.Errorf("swagger %q", doc.Swagger)
	}
	defs := doc.Definitions
	for _, k := range api.DefaultScheme().Kinds() {
		g, v := api.SplitAPIVersion(k.APIVersion)
		for _, kind := range []string{k.Kind, k.Kind + "List"} {
			found := false
			for _, d := range defs {
				if hasGVK(d.Extensions, g, v, kind) {
					found = true
				}
			}
			if !found {
				t.Errorf("no definition carries the group-version-kind %s %s", k.APIVersion, kind)
			}
		}
	}
	for _, r := range refs(t, body) {
		if _, ok := defs[strings.TrimPrefix(r, "#/definitions/")]; !ok || !strings.HasPrefix(r, "#/definitions/") {
			t.Errorf("dangling reference %s", r)
		}
	}
	for name, want := range map[string]string{
		"io.k8s.api.apps.v1.Deployment":                           "Deployment declares a replicated, rolling-updated set of Pods.",
		"io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta":         "",
		"io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector":      "",
		"io.k8s.api.core.v1.PodSpec":                              "PodSpec is the desired state of a Pod.",
		"io.k8s.apimachinery.pkg.apis.meta.v1.Status":             "",
		"io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions":      "",
		"io.k8s.api.autoscaling.v1.Scale":                         "",
		"io.k8s.apimachinery.pkg.apis.meta.v1.Time":               "",
		"io.k8s.apimachinery.pkg.api.resource.Quantity":           "",
		"io.k8s.apimachinery.pkg.util.intstr.IntOrString":         "",
		"io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference":     "",
		"io.k8s.apimachinery.pkg.apis.meta.v1.Patch":              "",
		"io.k8s.api.core.v1.Container":                            "",
		"io.k8s.api.apps.v1.DeploymentStrategy":                   "DeploymentStrategy says how Pods of an old template are replaced.",
		"io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry": "",
	} {
		d, ok := defs[name]
		if !ok {
			t.Errorf("no definition %s", name)
			continue
		}
		if want != "" && d.Description != want {
			t.Errorf("%s: description %q, want %q", name, d.Description, want)
		}
	}
	if d := defs["io.k8s.apimachinery.pkg.apis.meta.v1.Time"]; !d.Type.Contains("string") || d.Format != "date-time" {
		t.Errorf("Time: type %v format %q", d.Type, d.Format)
	}
	if d := defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]; !d.Type.Contains("string") || d.Format != "int-or-string" {
		t.Errorf("IntOrString: type %v format %q", d.Type, d.Format)
	}
	podSpec := defs["io.k8s.api.core.v1.PodSpec"]
	containers := podSpec.Properties["containers"]
	if containers.Extensions["x-kubernetes-patch-strategy"] != "merge" || containers.Extensions["x-kubernetes-patch-merge-key"] != "name" {
		t.Errorf("PodSpec.containers extensions %v, want patch strategy merge by name", containers.Extensions)
	}
	if containers.Extensions["x-kubernetes-list-type"] != "map" {
		t.Errorf("PodSpec.containers list type %v, want map", containers.Extensions["x-kubernetes-list-type"])
	}
	if keys, _ := containers.Extensions["x-kubernetes-list-map-keys"].([]any); !slices.Equal(keys, []any{"name"}) {
		t.Errorf("PodSpec.containers list map keys %v, want [name]", containers.Extensions["x-kubernetes-list-map-keys"])
	}
	if containers.Items == nil || containers.Items.Schema == nil || containers.Items.Schema.Ref.String() != "#/definitions/io.k8s.api.core.v1.Container" {
		t.Errorf("PodSpec.containers items %+v", containers.Items)
	}
	if !slices.Contains(podSpec.Required, "containers") {
		t.Errorf("PodSpec required %v, want containers", podSpec.Required)
	}
	ports := defs["io.k8s.api.core.v1.Container"].Properties["ports"]
	if ports.Extensions["x-kubernetes-patch-merge-key"] != "containerPort" {
		t.Errorf("Container.ports extensions %v", ports.Extensions)
	}
	meta := defs["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]
	if p := meta.Properties["labels"]; !p.Type.Contains("object") || p.AdditionalProperties == nil || !p.AdditionalProperties.Schema.Type.Contains("string") {
		t.Errorf("ObjectMeta.labels %+v, want a map of strings", p)
	}
	if p := meta.Properties["generation"]; p.Format != "int64" {
		t.Errorf("ObjectMeta.generation format %q", p.Format)
	}
	if p := meta.Properties["creationTimestamp"]; p.Ref.String() != "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Time" {
		t.Errorf("ObjectMeta.creationTimestamp %+v", p)
	}
	strategy := defs["io.k8s.api.apps.v1.DeploymentSpec"].Properties["strategy"]
	if strategy.Description == "" || strategy.Extensions["x-kubernetes-patch-strategy"] != "retainKeys" {
		t.Errorf("DeploymentSpec.strategy: description %q extensions %v", strategy.Description, strategy.Extensions)
	}
	deploy := defs["io.k8s.api.apps.v1.Deployment"]
	if _, ok := deploy.Properties["apiVersion"]; !ok {
		t.Error("Deployment has no apiVersion property (TypeMeta not flattened)")
	}
	if p := defs["io.k8s.api.core.v1.Probe"].Properties["httpGet"]; p.Ref.String() == "" {
		t.Errorf("Probe.httpGet (from the embedded ProbeHandler) %+v", p)
	}

	op := doc.Paths.Paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].Patch
	if op == nil {
		t.Fatal("no PATCH on a Deployment")
	}
	if !hasGVK(op.Extensions, "apps", "v1", "Deployment") || op.Extensions["x-kubernetes-action"] != "patch" {
		t.Errorf("PATCH extensions %v", op.Extensions)
	}
	if !slices.Contains(op.Consumes, string(api.StrategicMergePatchType)) {
		t.Errorf("PATCH consumes %v", op.Consumes)
	}
	if !slices.ContainsFunc(op.Parameters, func(p spec.Parameter) bool { return p.Name == "fieldValidation" && p.In == "query" }) {
		t.Error("PATCH has no fieldValidation query parameter")
	}
	for _, p := range []string{"/api/v1/namespaces", "/api/v1/nodes/{name}/status", "/api/v1/namespaces/{namespace}/pods/{name}/log",
		"/api/v1/pods", "/apis/batch/v1/namespaces/{namespace}/jobs", "/apis/apps/v1/namespaces/{namespace}/replicasets/{name}/scale"} {
		if _, ok := doc.Paths.Paths[p]; !ok {
			t.Errorf("no path %s", p)
		}
	}
	if _, ok := doc.Paths.Paths["/api/v1/namespaces/{namespace}/configmaps/{name}/status"]; ok {
		t.Error("ConfigMap has no status, but the document serves one")
	}
}

func TestV2Protobuf(t *testing.T) {
	h := newHandler(t)
	for _, accept := range []string{
		"application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
		"application/com.github.proto-openapi.spec.v2.v1.0+protobuf;q=1, application/json;q=0.5",
	} {
		resp := get(t, h, "/openapi/v2", "Accept", accept)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != openapi.ContentTypeV2Proto {
			t.Fatalf("Accept %s: %s %s", accept, resp.Status, resp.Header.Get("Content-Type"))
		}
		var doc openapi_v2.Document
		if err := proto.Unmarshal(readBody(t, resp), &doc); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, d := range doc.GetDefinitions().GetAdditionalProperties() {
			if d.GetName() == "io.k8s.api.apps.v1.Deployment" {
				found = d.GetValue().GetDescription() != ""
			}
		}
		if !found {
			t.Errorf("the protobuf document has no described io.k8s.api.apps.v1.Deployment")
		}
	}
}

// discovery returns the v3 discovery document.
func discovery(t *testing.T, h http.Handler) map[string]string {
	t.Helper()
	resp := get(t, h, "/openapi/v3")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /openapi/v3: %s", resp.Status)
	}
	var d struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(readBody(t, resp), &d); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for p, e := range d.Paths {
		out[p] = e.ServerRelativeURL
	}
	return out
}

func TestV3Documents(t *testing.T) {
	h := newHandler(t)
	disc := discovery(t, h)
	var want []string
	for _, k := range api.DefaultScheme().Kinds() {
		if p := docPath(k); !slices.Contains(want, p) {
			want = append(want, docPath(k))
		}
	}
	if got := slices.Sorted(func(yield func(string) bool) {
		for p := range disc {
			if !yield(p) {
				return
			}
		}
	}); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Fatalf("discovery paths %v, want %v", got, want)
	}
	for gvPath, u := range disc {
		if !strings.HasPrefix(u, "/openapi/v3/"+gvPath+"?hash=") {
			t.Errorf("%s: URL %s", gvPath, u)
		}
		resp := get(t, h, u)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, immutable" || resp.Header.Get("Expires") == "" {
			t.Errorf("GET %s: %s, Cache-Control %q, Expires %q", u, resp.Status, resp.Header.Get("Cache-Control"), resp.Header.Get("Expires"))
		}
		body := readBody(t, resp)
		var doc spec3.OpenAPI
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatalf("%s: %v", gvPath, err)
		}
		if !strings.HasPrefix(doc.Version, "3.") {
			t.Errorf("%s: openapi %q", gvPath, doc.Version)
		}
		schemas := doc.Components.Schemas
		for _, r := range refs(t, body) {
			if _, ok := schemas[strings.TrimPrefix(r, "#/components/schemas/")]; !ok || !strings.HasPrefix(r, "#/components/schemas/") {
				t.Errorf("%s: dangling reference %s", gvPath, r)
			}
		}
		for _, k := range api.DefaultScheme().Kinds() {
			if docPath(k) != gvPath {
				continue
			}
			g, v := api.SplitAPIVersion(k.APIVersion)
			found := false
			for _, s := range schemas {
				found = found || hasGVK(s.Extensions, g, v, k.Kind)
			}
			if !found {
				t.Errorf("%s: no schema carries the group-version-kind of %s", gvPath, k.Kind)
			}
			// What kubectl 1.32 looks for to choose server-side field
			// validation: the PATCH operation of the kind with a
			// fieldValidation query parameter.
			if err := supportsFieldValidation(&doc, g, v, k.Kind); err != "" {
				t.Errorf("%s %s: %s", gvPath, k.Kind, err)
			}
		}
		pb := get(t, h, u, "Accept", "application/com.github.proto-openapi.spec.v3@v1.0+protobuf")
		var pdoc openapi_v3.Document
		if err := proto.Unmarshal(readBody(t, pb), &pdoc); err != nil || pb.Header.Get("Content-Type") != openapi.ContentTypeV3Proto {
			t.Errorf("%s as protobuf: %v, %s", gvPath, err, pb.Header.Get("Content-Type"))
		} else if len(pdoc.GetPaths().GetPath()) != len(doc.Paths.Paths) {
			t.Errorf("%s: protobuf has %d paths, JSON %d", gvPath, len(pdoc.GetPaths().GetPath()), len(doc.Paths.Paths))
		}
	}

	resp := get(t, h, disc["apis/apps/v1"])
	var apps spec3.OpenAPI
	if err := json.Unmarshal(readBody(t, resp), &apps); err != nil {
		t.Fatal(err)
	}
	strategy := apps.Components.Schemas["io.k8s.api.apps.v1.DeploymentSpec"].Properties["strategy"]
	if strategy.Description == "" || len(strategy.AllOf) != 1 || strategy.AllOf[0].Ref.String() != "#/components/schemas/io.k8s.api.apps.v1.DeploymentStrategy" {
		t.Errorf("DeploymentSpec.strategy in v3: %+v", strategy)
	}
	ios := apps.Components.Schemas["io.k8s.apimachinery.pkg.util.intstr.IntOrString"]
	if ios == nil || ios.Extensions["x-kubernetes-int-or-string"] != true || len(ios.AnyOf) != 2 {
		t.Errorf("IntOrString in v3: %+v", ios)
	}
	if _, ok := apps.Components.Schemas["io.k8s.api.core.v1.Node"]; ok {
		t.Error("apps/v1 document defines Node, which no apps kind reaches")
	}
}

// docPath is the path of k's group version below /openapi/v3/.
func docPath(k api.KindInfo) string {
	if g, v := api.SplitAPIVersion(k.APIVersion); g != "" {
		return "apis/" + g + "/" + v
	}
	return "api/" + k.APIVersion
}

// supportsFieldValidation does what kubectl's queryParamVerifierV3 does
// and returns why it would fall back to client-side validation, or "".
func supportsFieldValidation(doc *spec3.OpenAPI, group, version, kind string) string {
	for _, p := range doc.Paths.Paths {
		op := p.Patch
		if op == nil || !hasGVK(op.Extensions, group, version, kind) {
			continue
		}
		for _, param := range op.Parameters {
			if param.Name == "fieldValidation" && param.In == "query" {
				return ""
			}
		}
		return "the PATCH operation has no fieldValidation query parameter"
	}
	return "no PATCH operation carries the group-version-kind"
}

func TestHandlerHTTP(t *testing.T) {
	h := newHandler(t)
	disc := discovery(t, h)
	apps := disc["apis/apps/v1"]

	if r := get(t, h, "/openapi/v3/apis/apps/v1?hash=stale"); r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != apps {
		t.Errorf("stale hash: %s to %q, want 301 to %s", r.Status, r.Header.Get("Location"), apps)
	}
	if r := get(t, h, "/openapi/v3/apis/apps/v1"); r.StatusCode != http.StatusOK || r.Header.Get("Cache-Control") != "" {
		t.Errorf("no hash: %s Cache-Control %q", r.Status, r.Header.Get("Cache-Control"))
	}
	for _, p := range []string{"/openapi/v3/apis/nope/v1", "/openapi/v4", "/openapi/v3/apis/apps"} {
		if r := get(t, h, p); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %s, want 404", p, r.Status)
		}
	}
	if r := get(t, h, "/openapi/v2", "Accept", "text/html"); r.StatusCode != http.StatusNotAcceptable {
		t.Errorf("Accept text/html: %s, want 406", r.Status)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/openapi/v2", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", rec.Code)
	}

	first := get(t, h, "/openapi/v2")
	plain := readBody(t, first)
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if r := get(t, h, "/openapi/v2", "If-None-Match", etag); r.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %s, want 304", r.Status)
	}
	gz := get(t, h, "/openapi/v2", "Accept-Encoding", "gzip")
	if gz.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("Accept-Encoding gzip: Content-Encoding %q", gz.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(unzipped, plain) {
		t.Error("the gzipped document differs from the plain one")
	}
	head := httptest.NewRecorder()
	h.ServeHTTP(head, httptest.NewRequest(http.MethodHead, "/openapi/v2", nil))
	if head.Code != http.StatusOK || head.Body.Len() != 0 {
		t.Errorf("HEAD: %d with %d bytes", head.Code, head.Body.Len())
	}
}

// A kind with a field the builder has no schema for.
type widget struct {
	api.TypeMeta   `json:",inline"`
	api.ObjectMeta `json:"metadata,omitzero"`
	Callback       func() `json:"callback,omitempty"`
}

func (w *widget) DeepCopyObject() api.Object { c := *w; return &c }

type widgetList struct {
	api.TypeMeta `json:",inline"`
	api.ListMeta `json:"metadata,omitzero"`
	Items        []widget `json:"items"`
}

func (l *widgetList) GetItems() []api.Object       { return nil }
func (l *widgetList) SetItems([]api.Object) error  { return nil }
func (l *widgetList) DeepCopyList() api.ObjectList { c := *l; return &c }
func (l *widgetList) GetListMeta() *api.ListMeta   { return &l.ListMeta }

func TestNewHandlerErrors(t *testing.T) {
	if _, err := openapi.NewHandler(nil); err == nil {
		t.Error("no error for a nil scheme")
	}
	s, err := api.NewScheme(api.KindInfo{APIVersion: "example.com/v1", Kind: "Widget", Resource: "widgets", Namespaced: true,
		New: func() api.Object {
			return &widget{TypeMeta: api.TypeMeta{APIVersion: "example.com/v1", Kind: "Widget"}}
		},
		NewList: func() api.ObjectList {
			return &widgetList{TypeMeta: api.TypeMeta{APIVersion: "example.com/v1", Kind: "WidgetList"}}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openapi.NewHandler(s); err == nil || !strings.Contains(err.Error(), "func()") {
		t.Errorf("a func field: error %v, want one naming the type", err)
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Concurrent first requests share one lazily made encoding.
func TestConcurrentFirstRequests(t *testing.T) {
	h := newHandler(t)
	const n = 8
	bodies := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			req := httptest.NewRequest(http.MethodGet, "/openapi/v2", nil)
			req.Header.Set("Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
			req.Header.Set("Accept-Encoding", "gzip")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			bodies[i] = rec.Body.Bytes()
		})
	}
	wg.Wait()
	for i := range bodies {
		if len(bodies[i]) == 0 || !bytes.Equal(bodies[i], bodies[0]) {
			t.Fatalf("response %d differs (%d bytes, first %d)", i, len(bodies[i]), len(bodies[0]))
		}
	}
}
