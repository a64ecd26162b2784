package apiserver

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	autoscalingv1 "k8s.io/api/autoscaling/v1"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func TestStatusSubresource(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	ts.do("POST", "/apis/apps/v1/namespaces/dev/deployments", deploymentJSON("dev", "web", 2)).want(t, 201)

	var d api.Deployment
	ts.do("GET", "/apis/apps/v1/namespaces/dev/deployments/web/status", "").want(t, 200).decode(t, &d)
	if d.Name != "web" || d.Kind != "Deployment" {
		t.Fatalf("status get %+v", d.ObjectMeta)
	}
	d.Status.Replicas = 2
	d.Spec.Replicas = ptr[int32](7) // ignored by the status subresource
	var updated api.Deployment
	ts.do("PUT", "/apis/apps/v1/namespaces/dev/deployments/web/status", mustJSONString(t, &d)).want(t, 200).decode(t, &updated)
	if updated.Status.Replicas != 2 || *updated.Spec.Replicas != 2 {
		t.Errorf("status update: status %d spec %d", updated.Status.Replicas, *updated.Spec.Replicas)
	}
	ts.do("PATCH", "/apis/apps/v1/namespaces/dev/deployments/web/status", `{"status":{"readyReplicas":1}}`,
		"Content-Type", "application/merge-patch+json").want(t, 200).decode(t, &updated)
	if updated.Status.ReadyReplicas != 1 || updated.Status.Replicas != 2 {
		t.Errorf("status patch: %+v", updated.Status)
	}
	ts.do("PATCH", "/apis/apps/v1/namespaces/dev/deployments/web/status", `{"metadata":{"resourceVersion":"1"},"status":{"readyReplicas":2}}`,
		"Content-Type", "application/merge-patch+json").wantStatus(t, 409, api.ReasonConflict)
	ts.do("PATCH", "/apis/apps/v1/namespaces/dev/deployments/web/status", `{}`,
		"Content-Type", "application/strategic-merge-patch+json").wantStatus(t, 415, api.ReasonUnsupportedMedia)
	ts.do("GET", "/api/v1/namespaces/dev/configmaps/x/status", "").wantStatus(t, 404, api.ReasonNotFound)
	ts.do("DELETE", "/apis/apps/v1/namespaces/dev/deployments/web/status", "").wantStatus(t, 405, "MethodNotAllowed")
}

func ptr[T any](v T) *T { return &v }

func TestScaleSubresource(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	ts.do("POST", "/apis/apps/v1/namespaces/dev/deployments", deploymentJSON("dev", "web", 2)).want(t, 201)
	const path = "/apis/apps/v1/namespaces/dev/deployments/web/scale"

	var sc autoscalingv1.Scale
	ts.do("GET", path, "").want(t, 200).decode(t, &sc)
	if sc.Kind != "Scale" || sc.APIVersion != "autoscaling/v1" || sc.Spec.Replicas != 2 || sc.Status.Selector != "app=web" || sc.Name != "web" || sc.ResourceVersion == "" {
		t.Fatalf("scale %+v", sc)
	}
	// kubectl scale: a merge patch of spec.replicas.
	ts.do("PATCH", path, `{"spec":{"replicas":5}}`, "Content-Type", "application/merge-patch+json").want(t, 200).decode(t, &sc)
	if sc.Spec.Replicas != 5 {
		t.Errorf("patched scale %d", sc.Spec.Replicas)
	}
	ts.do("PATCH", path, `{"spec":{"replicas":4}}`, "Content-Type", "application/strategic-merge-patch+json").want(t, 200).decode(t, &sc)
	ts.do("PATCH", path, `[{"op":"replace","path":"/spec/replicas","value":3}]`, "Content-Type", "application/json-patch+json").want(t, 200).decode(t, &sc)
	if sc.Spec.Replicas != 3 {
		t.Errorf("json-patched scale %d", sc.Spec.Replicas)
	}
	// PUT with the current resourceVersion, then a stale one.
	sc.Spec.Replicas = 1
	var put autoscalingv1.Scale
	ts.do("PUT", path, mustJSONString(t, &sc)).want(t, 200).decode(t, &put)
	if put.Spec.Replicas != 1 {
		t.Errorf("put scale %d", put.Spec.Replicas)
	}
	ts.do("PUT", path, mustJSONString(t, &sc)).wantStatus(t, 409, api.ReasonConflict)
	var d api.Deployment
	ts.do("GET", "/apis/apps/v1/namespaces/dev/deployments/web", "").want(t, 200).decode(t, &d)
	if *d.Spec.Replicas != 1 {
		t.Errorf("deployment replicas %d", *d.Spec.Replicas)
	}
	ts.do("PATCH", path, `{"spec":{"replicas":-1}}`, "Content-Type", "application/merge-patch+json").wantStatus(t, 422, api.ReasonInvalid)
	ts.do("PATCH", path+"?dryRun=All", `{"spec":{"replicas":9}}`, "Content-Type", "application/merge-patch+json").want(t, 200)
	ts.do("GET", path, "").want(t, 200).decode(t, &sc)
	if sc.Spec.Replicas != 1 {
		t.Errorf("dry-run scale stored %d", sc.Spec.Replicas)
	}
	ts.do("GET", "/apis/apps/v1/namespaces/dev/deployments/nope/scale", "").wantStatus(t, 404, api.ReasonNotFound)
	ts.do("GET", "/apis/apps/v1/namespaces/dev/daemonsets/x/scale", "").wantStatus(t, 404, api.ReasonNotFound)
}

// fakeLogs writes the lines it holds, or fails.
type fakeLogs struct {
	mu    sync.Mutex
	lines []string
	err   error
	got   LogOptions
	pod   string
}

func (f *fakeLogs) StreamLogs(ctx context.Context, pod *api.Pod, o LogOptions, w io.Writer) error {
	f.mu.Lock()
	f.got, f.pod = o, pod.Name
	lines, err := f.lines, f.err
	f.mu.Unlock()
	if err != nil {
		return err
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	if o.Follow {
		<-ctx.Done()
	}
	return nil
}

func TestPodLogs(t *testing.T) {
	logs := &fakeLogs{lines: []string{"one", "two"}}
	ts := newTestServer(t, func(c *Config) { c.Logs = logs })
	ts.createNamespace("dev")
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "web", nil)).want(t, 201)

	r := ts.do("GET", "/api/v1/namespaces/dev/pods/web/log?container=c&tailLines=10&timestamps=true&sinceSeconds=5&limitBytes=100", "").want(t, 200)
	if string(r.body) != "one\ntwo\n" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("log %q (%s)", r.body, r.header.Get("Content-Type"))
	}
	logs.mu.Lock()
	got := logs.got
	logs.mu.Unlock()
	if got.Container != "c" || *got.TailLines != 10 || !got.Timestamps || *got.SinceSeconds != 5 || *got.LimitBytes != 100 || got.Follow {
		t.Errorf("options %+v", got)
	}
	ts.do("GET", "/api/v1/namespaces/dev/pods/web/log?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z", "").wantStatus(t, 422, api.ReasonInvalid)
	ts.do("GET", "/api/v1/namespaces/dev/pods/web/log?tailLines=x", "").wantStatus(t, 422, api.ReasonInvalid)
	ts.do("GET", "/api/v1/namespaces/dev/pods/nope/log", "").wantStatus(t, 404, api.ReasonNotFound)

	logs.mu.Lock()
	logs.err = api.NewBadRequest(`container "x" is not valid for pod "web"`)
	logs.mu.Unlock()
	ts.do("GET", "/api/v1/namespaces/dev/pods/web/log?container=x", "").wantStatus(t, 400, api.ReasonBadRequest)

	// follow streams lines as they arrive, flushed one by one.
	logs.mu.Lock()
	logs.err = nil
	logs.mu.Unlock()
	ws := ts.watchRaw("/api/v1/namespaces/dev/pods/web/log?follow=true")
	for _, want := range []string{"one", "two"} {
		if line := ws.nextLine(); line != want {
			t.Errorf("followed line %q, want %q", line, want)
		}
	}

	ts2 := newTestServer(t, nil)
	ts2.do("GET", "/api/v1/namespaces/dev/pods/web/log", "").wantStatus(t, 503, api.ReasonServiceUnavailable)
}

func TestBindingSubresource(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "web", nil)).want(t, 201)
	const path = "/api/v1/namespaces/dev/pods/web/binding"
	binding := `{"apiVersion":"v1","kind":"Binding","metadata":{"name":"web"},"target":{"kind":"Node","name":"n1"}}`
	st := ts.do("POST", path, binding).want(t, 201).status(t)
	if st.Status != "Success" || st.Code != 201 {
		t.Errorf("binding answered %+v", st)
	}
	var pod api.Pod
	ts.do("GET", "/api/v1/namespaces/dev/pods/web", "").want(t, 200).decode(t, &pod)
	if pod.Spec.NodeName != "n1" {
		t.Errorf("nodeName %q", pod.Spec.NodeName)
	}
	ts.do("POST", path, binding).wantStatus(t, 409, api.ReasonConflict)
	ts.do("POST", path, `{"target":{"kind":"Pod","name":""}}`).wantStatus(t, 422, api.ReasonInvalid)
	ts.do("POST", "/api/v1/namespaces/dev/pods/nope/binding", strings.Replace(binding, `"web"`, `"nope"`, 1)).wantStatus(t, 404, api.ReasonNotFound)
	ts.do("POST", "/api/v1/namespaces/dev/pods/nope/binding", binding).wantStatus(t, 422, api.ReasonInvalid) // names another Pod
	ts.do("GET", path, "").wantStatus(t, 405, "MethodNotAllowed")
}

func TestFinalizeSubresource(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("gone")
	var ns api.Namespace
	ts.do("DELETE", "/api/v1/namespaces/gone", "").decode(t, &ns)
	if ns.DeletionTimestamp == nil {
		t.Fatalf("namespace deleted at once: %s", mustJSONString(t, ns))
	}
	ns.Spec.Finalizers = []string{"kubernetes"}
	ts.do("PUT", "/api/v1/namespaces/gone/finalize", mustJSONString(t, &ns)).wantStatus(t, 422, api.ReasonInvalid)
	ns.Spec.Finalizers = nil
	ts.do("PUT", "/api/v1/namespaces/gone/finalize", mustJSONString(t, &ns)).want(t, 200)
	ts.do("GET", "/api/v1/namespaces/gone", "").wantStatus(t, 404, api.ReasonNotFound)
	ts.do("PUT", "/api/v1/namespaces/gone/finalize", mustJSONString(t, &ns)).wantStatus(t, 404, api.ReasonNotFound)
}

func TestEvictionSubresource(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "web", nil)).want(t, 201)
	const path = "/api/v1/namespaces/dev/pods/web/eviction"
	ts.do("POST", path, `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"other"}}`).wantStatus(t, 400, api.ReasonBadRequest)
	ts.do("POST", path+"?dryRun=All", `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web"}}`).want(t, 201)
	ts.do("GET", "/api/v1/namespaces/dev/pods/web", "").want(t, 200)
	st := ts.do("POST", path, `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web"},"deleteOptions":{"gracePeriodSeconds":0}}`).want(t, 201).status(t)
	if st.Status != "Success" {
		t.Errorf("eviction answered %+v", st)
	}
	ts.do("GET", "/api/v1/namespaces/dev/pods/web", "").wantStatus(t, 404, api.ReasonNotFound)
	ts.do("POST", path, `{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"web"}}`).wantStatus(t, 404, api.ReasonNotFound)
}
