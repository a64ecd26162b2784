package apiserver

import (
	"bytes"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func TestCRUDRoundTrip(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.do("POST", "/api/v1/namespaces", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev"}}`).want(t, 201)

	var created api.Pod
	r := ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("", "web", map[string]string{"app": "web"})).want(t, 201)
	r.decode(t, &created)
	if created.Namespace != "dev" || created.UID == "" || created.ResourceVersion == "" || created.Kind != "Pod" || created.APIVersion != "v1" {
		t.Fatalf("created %s", r.body)
	}

	var got api.Pod
	ts.do("GET", "/api/v1/namespaces/dev/pods/web", "").want(t, 200).decode(t, &got)
	if got.UID != created.UID || got.Kind != "Pod" {
		t.Errorf("get %+v", got.ObjectMeta)
	}

	// kubectl and client-go ask for protobuf first: JSON is picked.
	r = ts.do("GET", "/api/v1/namespaces/dev/pods/web", "", "Accept", "application/vnd.kubernetes.protobuf, */*")
	if r.want(t, 200); r.header.Get("Content-Type") != "application/json" {
		t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
	}
	ts.do("GET", "/api/v1/namespaces/dev/pods/web", "", "Accept", "application/vnd.kubernetes.protobuf").wantStatus(t, 406, "NotAcceptable")

	// YAML out.
	r = ts.do("GET", "/api/v1/namespaces/dev/pods/web", "", "Accept", "application/yaml").want(t, 200)
	var fromYAML api.Pod
	if err := yaml.Unmarshal(r.body, &fromYAML); err != nil || fromYAML.UID != created.UID || r.header.Get("Content-Type") != "application/yaml" {
		t.Errorf("yaml: %v %s", err, r.body)
	}

	// Update (PUT) with the current resourceVersion; then a stale one.
	got.Labels["tier"] = "front"
	var updated api.Pod
	ts.do("PUT", "/api/v1/namespaces/dev/pods/web", mustJSONString(t, &got)).want(t, 200).decode(t, &updated)
	if updated.Labels["tier"] != "front" || updated.ResourceVersion == got.ResourceVersion {
		t.Errorf("updated %+v", updated.ObjectMeta)
	}
	st := ts.do("PUT", "/api/v1/namespaces/dev/pods/web", mustJSONString(t, &got)).wantStatus(t, 409, api.ReasonConflict)
	if !strings.HasPrefix(st.Message, `Operation cannot be fulfilled on pods "web"`) || st.Details == nil || st.Details.Name != "web" {
		t.Errorf("conflict details %+v", st.Details)
	}

	// YAML in.
	y, err := yaml.JSONToYAML([]byte(podJSON("dev", "web2", nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts.do("POST", "/api/v1/namespaces/dev/pods", string(y), "Content-Type", "application/yaml").want(t, 201)

	// Patches: merge and JSON patch through client.Patch.
	var patched api.Pod
	ts.do("PATCH", "/api/v1/namespaces/dev/pods/web", `{"metadata":{"labels":{"patched":"merge"}}}`,
		"Content-Type", "application/merge-patch+json").want(t, 200).decode(t, &patched)
	if patched.Labels["patched"] != "merge" || patched.Labels["tier"] != "front" {
		t.Errorf("merge patch: %v", patched.Labels)
	}
	ts.do("PATCH", "/api/v1/namespaces/dev/pods/web", `[{"op":"add","path":"/metadata/labels/json","value":"yes"}]`,
		"Content-Type", "application/json-patch+json").want(t, 200).decode(t, &patched)
	if patched.Labels["json"] != "yes" {
		t.Errorf("json patch: %v", patched.Labels)
	}
	ts.do("PATCH", "/api/v1/namespaces/dev/pods/web", `{}`, "Content-Type", "application/apply-patch+yaml").wantStatus(t, 415, api.ReasonUnsupportedMedia)
	ts.do("PATCH", "/api/v1/namespaces/dev/pods/web", `{}`, "Content-Type", "text/plain").wantStatus(t, 415, api.ReasonUnsupportedMedia)
	ts.do("PATCH", "/api/v1/namespaces/dev/pods/nope", `{}`, "Content-Type", "application/merge-patch+json").wantStatus(t, 404, api.ReasonNotFound)

	// Delete returns the last state; then the object is gone.
	var deleted api.Pod
	ts.do("DELETE", "/api/v1/namespaces/dev/pods/web", "").want(t, 200).decode(t, &deleted)
	if deleted.UID != created.UID {
		t.Errorf("deleted %+v", deleted.ObjectMeta)
	}
	st = ts.do("GET", "/api/v1/namespaces/dev/pods/web", "").wantStatus(t, 404, api.ReasonNotFound)
	if st.Message != `pods "web" not found` {
		t.Errorf("not found message %q", st.Message)
	}
	if st.Details == nil || st.Details.Name != "web" || st.Details.Kind != "pods" {
		t.Errorf("not found details %+v", st.Details)
	}
	ts.do("DELETE", "/api/v1/namespaces/dev/pods/web", "").wantStatus(t, 404, api.ReasonNotFound)
}

func TestWriteErrors(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	ts.do("POST", "/apis/apps/v1/namespaces/dev/deployments", deploymentJSON("dev", "web", 1)).want(t, 201)
	ts.do("POST", "/apis/apps/v1/namespaces/dev/deployments", deploymentJSON("dev", "web", 1)).wantStatus(t, 409, api.ReasonAlreadyExists)

	st := ts.do("POST", "/apis/apps/v1/namespaces/dev/deployments", deploymentJSON("dev", "bad", -1)).wantStatus(t, 422, api.ReasonInvalid)
	want := `Deployment.apps "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`
	if st.Message != want {
		t.Errorf("message %q", st.Message)
	}
	if st.Details == nil || st.Details.Name != "bad" || st.Details.Kind != "Deployment" || st.Details.Group != "apps" || len(st.Details.Causes) == 0 || st.Details.Causes[0].Field != "spec.replicas" ||
		st.Details.Causes[0].Type != api.ErrorTypeInvalid || st.Details.Causes[0].Message != "Invalid value: -1: must be greater than or equal to 0" {
		t.Errorf("details %+v", st.Details)
	}

	ts.do("POST", "/apis/apps/v1/namespaces/other/deployments", deploymentJSON("dev", "x", 1)).wantStatus(t, 400, api.ReasonBadRequest)
	st = ts.do("PUT", "/apis/apps/v1/namespaces/dev/deployments/other", deploymentJSON("dev", "web", 1)).wantStatus(t, 400, api.ReasonBadRequest)
	if st.Message != "the name of the object (web) does not match the name on the URL (other)" {
		t.Errorf("message %q", st.Message)
	}
	ts.do("POST", "/apis/apps/v1/namespaces/dev/deployments", "{not json").wantStatus(t, 400, api.ReasonBadRequest)
	ts.do("POST", "/apis/apps/v1/namespaces/dev/deployments", deploymentJSON("dev", "p", 1), "Content-Type", "application/cbor").wantStatus(t, 415, api.ReasonUnsupportedMedia)
	ts.do("POST", "/apis/apps/v1/namespaces/dev/deployments", deploymentJSON("dev", "p", 1), "Content-Type", protobufContentType).wantStatus(t, 400, api.ReasonBadRequest)
	ts.do("POST", "/api/v1/namespaces/dev/pods", deploymentJSON("dev", "k", 1)).wantStatus(t, 422, api.ReasonInvalid)
	st = ts.do("POST", "/api/v1/namespaces/missing/pods", podJSON("missing", "p", nil)).wantStatus(t, 404, api.ReasonNotFound)
	if st.Message != `namespaces "missing" not found` {
		t.Errorf("message %q", st.Message)
	}
}

func TestDryRun(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	var obj api.Pod
	ts.do("POST", "/api/v1/namespaces/dev/pods?dryRun=All", podJSON("dev", "web", nil)).want(t, 201).decode(t, &obj)
	if obj.Name != "web" {
		t.Errorf("dry-run create answered %+v", obj.ObjectMeta)
	}
	ts.do("GET", "/api/v1/namespaces/dev/pods/web", "").wantStatus(t, 404, api.ReasonNotFound)
	st := ts.do("POST", "/api/v1/namespaces/dev/pods?dryRun=Some", podJSON("dev", "web", nil)).wantStatus(t, 422, api.ReasonInvalid)
	if !strings.Contains(st.Message, "dryRun") {
		t.Errorf("message %q", st.Message)
	}

	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "web", map[string]string{"a": "1"})).want(t, 201)
	ts.do("PATCH", "/api/v1/namespaces/dev/pods/web?dryRun=All", `{"metadata":{"labels":{"a":"2"}}}`, "Content-Type", "application/merge-patch+json").want(t, 200)
	ts.do("DELETE", "/api/v1/namespaces/dev/pods/web?dryRun=All", "").want(t, 200)
	ts.do("DELETE", "/api/v1/namespaces/dev/pods/web", `{"kind":"DeleteOptions","apiVersion":"v1","dryRun":["All"]}`).want(t, 200)
	var cur api.Pod
	ts.do("GET", "/api/v1/namespaces/dev/pods/web", "").want(t, 200).decode(t, &cur)
	if cur.Labels["a"] != "1" {
		t.Errorf("dry-run patch stored: %v", cur.Labels)
	}
}

func TestDeleteOptions(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	var p api.Pod
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "web", nil)).want(t, 201).decode(t, &p)
	ts.do("DELETE", "/api/v1/namespaces/dev/pods/web", `{"preconditions":{"resourceVersion":"1"}}`).wantStatus(t, 409, api.ReasonConflict)
	ts.do("DELETE", "/api/v1/namespaces/dev/pods/web", `{"preconditions":{"uid":"not-it"}}`).wantStatus(t, 409, api.ReasonConflict)
	ts.do("DELETE", "/api/v1/namespaces/dev/pods/web?propagationPolicy=Sideways", "").wantStatus(t, 400, api.ReasonBadRequest)
	ts.do("DELETE", "/api/v1/namespaces/dev/pods/web?gracePeriodSeconds=-2", "").wantStatus(t, 422, api.ReasonInvalid)
	ts.do("DELETE", "/api/v1/namespaces/dev/pods/web?gracePeriodSeconds=0&propagationPolicy=Foreground",
		`{"preconditions":{"uid":"`+string(p.UID)+`","resourceVersion":"`+p.ResourceVersion+`"}}`).want(t, 202) // only marked: foreground
}

func TestDeleteCollection(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	for _, n := range []string{"a", "b", "c"} {
		app := "x"
		if n == "c" {
			app = "y"
		}
		ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", n, map[string]string{"app": app})).want(t, 201)
	}
	var deleted api.PodList
	ts.do("DELETE", "/api/v1/namespaces/dev/pods?labelSelector=app%3Dx", "").want(t, 200).decode(t, &deleted)
	if deleted.Kind != "PodList" || len(deleted.Items) != 2 {
		t.Errorf("deleted %d items, kind %q", len(deleted.Items), deleted.Kind)
	}
	var left api.PodList
	ts.do("GET", "/api/v1/namespaces/dev/pods", "").want(t, 200).decode(t, &left)
	if len(left.Items) != 1 || left.Items[0].Name != "c" {
		t.Errorf("left %+v", left.Items)
	}
}

func TestClusterScoped(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.do("POST", "/api/v1/namespaces", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev"}}`).want(t, 201)
	var ns api.Namespace
	ts.do("GET", "/api/v1/namespaces/dev", "").want(t, 200).decode(t, &ns)
	if ns.Name != "dev" || ns.Kind != "Namespace" {
		t.Errorf("namespace %s", mustJSONString(t, ns))
	}
	var list api.NamespaceList
	ts.do("GET", "/api/v1/namespaces", "").want(t, 200).decode(t, &list)
	if len(list.Items) != 1 {
		t.Errorf("namespaces %d", len(list.Items))
	}
	ts.do("POST", "/api/v1/namespaces", `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x","namespace":"dev"}}`).wantStatus(t, 400, api.ReasonBadRequest)
}

func TestProtobufBody(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	s := runtime.NewScheme()
	if err := appsv1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	d := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "dev"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr[int32](0),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
			},
		},
	}
	var buf bytes.Buffer
	if err := protobuf.NewSerializer(s, s).Encode(d, &buf); err != nil {
		t.Fatal(err)
	}
	var got api.Deployment
	ts.do("POST", "/apis/apps/v1/namespaces/dev/deployments?fieldValidation=Strict", buf.String(), "Content-Type", protobufContentType).want(t, 201).decode(t, &got)
	if got.Name != "web" || got.Spec.Replicas == nil || *got.Spec.Replicas != 0 || got.Spec.Template.Spec.Containers[0].Image != "nginx" {
		t.Errorf("created %s", mustJSONString(t, got))
	}
}
