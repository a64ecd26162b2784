package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

func TestListPagination(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	want := map[string]bool{}
	for i := range 10 {
		name := fmt.Sprintf("p%02d", 9-i) // created out of key order
		want[name] = true
		ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", name, nil)).want(t, 201)
	}
	seen := map[string]bool{}
	cont, firstRV, pages := "", "", 0
	for {
		var list api.PodList
		path := "/api/v1/namespaces/dev/pods?limit=3"
		if cont != "" {
			path += "&continue=" + url.QueryEscape(cont)
		}
		ts.do("GET", path, "").want(t, 200).decode(t, &list)
		pages++
		if firstRV == "" {
			firstRV = list.ResourceVersion
		} else if list.ResourceVersion != firstRV {
			t.Errorf("page %d at resourceVersion %s, first page at %s", pages, list.ResourceVersion, firstRV)
		}
		if len(list.Items) > 3 {
			t.Fatalf("page of %d items", len(list.Items))
		}
		for _, p := range list.Items {
			if seen[p.Name] {
				t.Errorf("%s sent twice", p.Name)
			}
			seen[p.Name] = true
		}
		if pages == 1 {
			// An object created between pages after the cursor is listed.
			ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "p99", nil)).want(t, 201)
			want["p99"] = true
		}
		cont = list.Continue
		if cont == "" {
			if list.RemainingItemCount != nil {
				t.Errorf("last page has remainingItemCount %d", *list.RemainingItemCount)
			}
			break
		}
		if list.RemainingItemCount == nil || *list.RemainingItemCount <= 0 {
			t.Errorf("page %d: remainingItemCount %v", pages, list.RemainingItemCount)
		}
	}
	if pages != 4 || len(seen) != len(want) {
		t.Errorf("%d pages, %d objects seen, want 4 pages and %d", pages, len(seen), len(want))
	}
	for n := range want {
		if !seen[n] {
			t.Errorf("%s lost", n)
		}
	}
	ts.do("GET", "/api/v1/namespaces/dev/pods?limit=3&continue=garbage", "").wantStatus(t, 400, api.ReasonBadRequest)
	ts.do("GET", "/api/v1/namespaces/dev/pods?limit=x", "").wantStatus(t, 400, api.ReasonBadRequest)
}

func TestListSelectorsAndScope(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	ts.createNamespace("prod")
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "a", map[string]string{"app": "web", "tier": "front"})).want(t, 201)
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "b", map[string]string{"app": "db"})).want(t, 201)
	ts.do("POST", "/api/v1/namespaces/prod/pods", podJSON("prod", "a", map[string]string{"app": "web"})).want(t, 201)
	names := func(path string) string {
		t.Helper()
		var l api.PodList
		ts.do("GET", path, "").want(t, 200).decode(t, &l)
		if l.Kind != "PodList" || l.APIVersion != "v1" || l.ResourceVersion == "" {
			t.Errorf("list header %+v %+v", l.TypeMeta, l.ListMeta)
		}
		var out []string
		for _, p := range l.Items {
			out = append(out, p.Namespace+"/"+p.Name)
		}
		return strings.Join(out, ",")
	}
	for path, want := range map[string]string{
		"/api/v1/pods":                                                "dev/a,dev/b,prod/a",
		"/api/v1/pods?resourceVersion=0":                              "dev/a,dev/b,prod/a",
		"/api/v1/namespaces/dev/pods":                                 "dev/a,dev/b",
		"/api/v1/pods?labelSelector=app%3Dweb":                        "dev/a,prod/a",
		"/api/v1/pods?labelSelector=app+in+(web,db),tier":             "dev/a",
		"/api/v1/pods?labelSelector=app!%3Dweb":                       "dev/b",
		"/api/v1/pods?fieldSelector=metadata.namespace%3Dprod":        "prod/a",
		"/api/v1/namespaces/dev/pods?fieldSelector=metadata.name%3Db": "dev/b",
	} {
		if got := names(path); got != want {
			t.Errorf("%s: %s, want %s", path, got, want)
		}
	}
	st := ts.do("GET", "/api/v1/pods?fieldSelector=spec.foo%3Dx", "").wantStatus(t, 400, api.ReasonBadRequest)
	if !strings.HasPrefix(st.Message, "field label not supported: spec.foo") {
		t.Errorf("message %q", st.Message)
	}
	ts.do("GET", "/api/v1/pods?labelSelector=a%3D%3D%3Db", "").wantStatus(t, 400, api.ReasonBadRequest)
	ts.do("GET", "/api/v1/pods?resourceVersionMatch=NotOlderThan", "").wantStatus(t, 422, api.ReasonInvalid)
	ts.do("GET", "/api/v1/pods?resourceVersion=1&resourceVersionMatch=NotOlderThan", "").want(t, 200)
}

const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"

func TestTables(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "a", nil)).want(t, 201)
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "b", nil)).want(t, 201)

	var tab metav1.Table
	ts.do("GET", "/api/v1/namespaces/dev/pods", "", "Accept", tableAccept).want(t, 200).decode(t, &tab)
	if tab.Kind != "Table" || tab.APIVersion != "meta.k8s.io/v1" || tab.ResourceVersion == "" {
		t.Errorf("table header %+v %+v", tab.TypeMeta, tab.ListMeta)
	}
	if len(tab.ColumnDefinitions) != 2 || tab.ColumnDefinitions[0].Name != "Name" || tab.ColumnDefinitions[1].Name != "Age" {
		t.Errorf("columns %+v", tab.ColumnDefinitions)
	}
	if len(tab.Rows) != 2 || tab.Rows[0].Cells[0] != "a" || tab.Rows[1].Cells[0] != "b" {
		t.Fatalf("rows %+v", tab.Rows)
	}
	var partial struct {
		Kind     string         `json:"kind"`
		Metadata api.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(tab.Rows[0].Object.Raw, &partial); err != nil || partial.Kind != "PartialObjectMetadata" || partial.Metadata.Name != "a" {
		t.Errorf("row object %v %s", err, tab.Rows[0].Object.Raw)
	}

	ts.do("GET", "/api/v1/namespaces/dev/pods/a?includeObject=Object", "", "Accept", tableAccept).want(t, 200).decode(t, &tab)
	var pod api.Pod
	if len(tab.Rows) != 1 || json.Unmarshal(tab.Rows[0].Object.Raw, &pod) != nil || pod.Kind != "Pod" || len(pod.Spec.Containers) != 1 {
		t.Errorf("includeObject=Object: %+v", tab.Rows)
	}
	tab = metav1.Table{}
	ts.do("GET", "/api/v1/namespaces/dev/pods?includeObject=None", "", "Accept", tableAccept).want(t, 200).decode(t, &tab)
	if tab.Rows[0].Object.Raw != nil {
		t.Errorf("includeObject=None sent %s", tab.Rows[0].Object.Raw)
	}
	ts.do("GET", "/api/v1/namespaces/dev/pods?includeObject=All", "", "Accept", tableAccept).wantStatus(t, 400, api.ReasonBadRequest)

	// A configured convertor is used, with the options of the request.
	conv := &fakeConvertor{}
	ts2 := newTestServer(t, func(c *Config) { c.Tables = conv })
	ts2.createNamespace("dev")
	ts2.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "a", nil)).want(t, 201)
	ts2.do("GET", "/api/v1/namespaces/dev/pods?limit=1", "", "Accept", tableAccept).want(t, 200).decode(t, &tab)
	if conv.kind != "Pod" || conv.n != 1 || len(tab.ColumnDefinitions) != 1 || tab.ColumnDefinitions[0].Name != "Custom" {
		t.Errorf("convertor saw %s/%d; table %+v", conv.kind, conv.n, tab)
	}
}

type fakeConvertor struct {
	kind string
	n    int
}

func (f *fakeConvertor) ConvertToTable(info api.KindInfo, objs []api.Object, o TableOptions) (*metav1.Table, error) {
	f.kind, f.n = info.Kind, len(objs)
	t := &metav1.Table{ColumnDefinitions: []metav1.TableColumnDefinition{{Name: "Custom", Type: "string"}}}
	for _, obj := range objs {
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{obj.GetName()}})
	}
	return t, nil
}

func TestFieldValidation(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	body := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"NAME"},"data":{"a":"b"},"foo":1,"spec":{"bar":2}}`
	cm := func(name string) string { return strings.Replace(body, "NAME", name, 1) }

	st := ts.do("POST", "/api/v1/namespaces/dev/configmaps?fieldValidation=Strict", cm("s")).wantStatus(t, 400, api.ReasonBadRequest)
	want := `ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "foo", unknown field "spec"`
	if st.Message != want {
		t.Errorf("strict message\n%q, want\n%q", st.Message, want)
	}
	r := ts.do("POST", "/api/v1/namespaces/dev/configmaps?fieldValidation=Warn", cm("w")).want(t, 201)
	if got := r.header.Values("Warning"); len(got) != 2 || got[0] != `299 - "unknown field \"foo\""` {
		t.Errorf("warnings %q", got)
	}
	r = ts.do("POST", "/api/v1/namespaces/dev/configmaps", cm("default")).want(t, 201) // Warn by default
	if len(r.header.Values("Warning")) != 2 {
		t.Errorf("default: warnings %q", r.header.Values("Warning"))
	}
	r = ts.do("POST", "/api/v1/namespaces/dev/configmaps?fieldValidation=Ignore", cm("i")).want(t, 201)
	if len(r.header.Values("Warning")) != 0 {
		t.Errorf("ignore: warnings %q", r.header.Values("Warning"))
	}
	var got api.ConfigMap
	r.decode(t, &got)
	if got.Data["a"] != "b" {
		t.Errorf("known fields lost: %s", r.body)
	}
	ts.do("POST", "/api/v1/namespaces/dev/configmaps?fieldValidation=Loose", cm("l")).wantStatus(t, 400, api.ReasonBadRequest)
	// A wrong type is an error whatever the directive.
	ts.do("POST", "/api/v1/namespaces/dev/configmaps?fieldValidation=Ignore", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"t"},"data":5}`).wantStatus(t, 422, api.ReasonInvalid)
}

func TestRequestTooLarge(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxRequestBytes = 1024 })
	ts.createNamespace("dev")
	big := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"a":"` + strings.Repeat("x", 2048) + `"}}`
	ts.do("POST", "/api/v1/namespaces/dev/configmaps", big).wantStatus(t, 413, api.ReasonRequestTooLarge)
	ts.do("PATCH", "/api/v1/namespaces/dev/configmaps/big", big, "Content-Type", "application/merge-patch+json").wantStatus(t, 413, api.ReasonRequestTooLarge)
}

// slowClient blocks every Get until its context ends.
type slowClient struct{ client.Interface }

func (slowClient) Get(ctx context.Context, _, _ string, _ api.Object, _ client.GetOptions) error {
	<-ctx.Done()
	return ctx.Err()
}

func TestRequestTimeout(t *testing.T) {
	ts := newTestServer(t, func(c *Config) {
		c.Client = slowClient{c.Client}
		c.RequestTimeout = 50 * time.Millisecond
	})
	start := time.Now()
	ts.do("GET", "/api/v1/namespaces/dev/pods/a", "").wantStatus(t, 504, api.ReasonTimeout)
	ts.do("GET", "/api/v1/namespaces/dev/pods/a?timeout=10ms", "").wantStatus(t, 504, api.ReasonTimeout)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeouts took %v", d)
	}
	ts.do("GET", "/api/v1/namespaces/dev/pods/a?timeout=soon", "").wantStatus(t, 400, api.ReasonBadRequest)
}

func TestListPaginationAcrossNamespaces(t *testing.T) {
	ts := newTestServer(t, nil)
	var want []string
	for _, ns := range []string{"a", "a-b", "ab"} {
		ts.createNamespace(ns)
		for _, n := range []string{"x", "x-y"} {
			ts.do("POST", "/api/v1/namespaces/"+ns+"/configmaps", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"`+n+`"}}`).want(t, 201)
			want = append(want, ns+"/"+n)
		}
	}
	var got []string
	cont := ""
	for range 10 {
		var list api.ConfigMapList
		ts.do("GET", "/api/v1/configmaps?limit=1&continue="+url.QueryEscape(cont), "").want(t, 200).decode(t, &list)
		for _, c := range list.Items {
			got = append(got, c.Namespace+"/"+c.Name)
		}
		if cont = list.Continue; cont == "" {
			break
		}
	}
	// Every object once, in the store's key order (as etcd's, so as
	// Kubernetes lists): "a-b/x" < "a/x", as '-' < '/'.
	slices.Sort(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("pages gave %v, want %v", got, want)
	}
	var all api.ConfigMapList
	ts.do("GET", "/api/v1/configmaps", "").want(t, 200).decode(t, &all)
	got = got[:0]
	for _, c := range all.Items {
		got = append(got, c.Namespace+"/"+c.Name)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("one list gave %v, want the pages' order %v", got, want)
	}
}
