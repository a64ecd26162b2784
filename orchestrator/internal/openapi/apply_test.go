package openapi_test

import (
	"encoding/json"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// v3Schema returns the schema of kind from the group version's v3
// document, found by its group-version-kind as kubectl finds it.
func v3Schema(t *testing.T, gvPath, group, version, kind string) strategicpatch.PatchMetaFromOpenAPIV3 {
	t.Helper()
	h := newHandler(t)
	var doc spec3.OpenAPI
	if err := json.Unmarshal(readBody(t, get(t, h, discovery(t, h)[gvPath])), &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range doc.Components.Schemas {
		if hasGVK(s.Extensions, group, version, kind) {
			return strategicpatch.PatchMetaFromOpenAPIV3{SchemaList: doc.Components.Schemas, Schema: s}
		}
	}
	t.Fatalf("no schema of %s/%s %s", group, version, kind)
	return strategicpatch.PatchMetaFromOpenAPIV3{SchemaList: map[string]*spec.Schema{}}
}

// TestApplyPatchesFromTheDocument computes kubectl apply's three-way
// patches with the patch metadata of our OpenAPI v3 document, as kubectl
// 1.32 does, and requires the patches Kubernetes' own types give.
func TestApplyPatchesFromTheDocument(t *testing.T) {
	cases := []struct {
		name, gvPath, group, version, kind string
		k8s                                any
		original, modified, current        string
	}{
		{
			name: "deployment image and env", gvPath: "apis/apps/v1", group: "apps", version: "v1", kind: "Deployment", k8s: appsv1.Deployment{},
			original: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"a":"1"}},
			  "spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}},"template":{"spec":{"containers":[
			    {"name":"web","image":"web:1","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"ports":[{"containerPort":80}]},
			    {"name":"side","image":"side:1"}]}}}}`,
			modified: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"b":"2"}},
			  "spec":{"strategy":{"type":"Recreate"},"template":{"spec":{"containers":[
			    {"name":"web","image":"web:2","env":[{"name":"A","value":"one"}],"ports":[{"containerPort":80},{"containerPort":81}]}]}}}}`,
			current: `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"a":"1"},"annotations":{"x":"y"},"finalizers":["f"]},
			  "spec":{"replicas":3,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":"25%"}},"template":{"spec":{"containers":[
			    {"name":"web","image":"web:1","imagePullPolicy":"IfNotPresent","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],"ports":[{"containerPort":80,"protocol":"TCP"}]},
			    {"name":"side","image":"side:1"},{"name":"injected","image":"i:1"}]}}},
			  "status":{"conditions":[{"type":"Available","status":"True"}]}}`,
		},
		{
			name: "pod volumes and tolerations", gvPath: "api/v1", group: "", version: "v1", kind: "Pod", k8s: corev1.Pod{},
			original: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"c:1",
			  "volumeMounts":[{"name":"d","mountPath":"/d"}]}],"volumes":[{"name":"d","emptyDir":{}}],"tolerations":[{"key":"a","operator":"Exists"}]}}`,
			modified: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"c:1",
			  "volumeMounts":[{"name":"d","mountPath":"/data"}]}],"volumes":[{"name":"d","configMap":{"name":"cm"}}],"tolerations":[{"key":"b","operator":"Exists"}]}}`,
			current: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","ownerReferences":[{"apiVersion":"v1","kind":"X","name":"o","uid":"u"}]},
			  "spec":{"nodeName":"n1","containers":[{"name":"c","image":"c:1","volumeMounts":[{"name":"d","mountPath":"/d"},{"name":"sa","mountPath":"/var/run/secrets"}]}],
			  "volumes":[{"name":"d","emptyDir":{}},{"name":"sa","projected":{"sources":[]}}],"tolerations":[{"key":"a","operator":"Exists"},{"key":"node","operator":"Exists"}]}}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ours := v3Schema(t, c.gvPath, c.group, c.version, c.kind)
			theirs, err := strategicpatch.NewPatchMetaFromStruct(c.k8s)
			if err != nil {
				t.Fatal(err)
			}
			got, err := strategicpatch.CreateThreeWayMergePatch([]byte(c.original), []byte(c.modified), []byte(c.current), ours, true)
			if err != nil {
				t.Fatalf("three-way patch from our document: %v", err)
			}
			want, err := strategicpatch.CreateThreeWayMergePatch([]byte(c.original), []byte(c.modified), []byte(c.current), theirs, true)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("patch\n got %s\nwant %s (Kubernetes' types)", got, want)
			}
			if string(got) == "{}" {
				t.Error("empty patch")
			}
		})
	}
}
