package api_test

import (
	"errors"
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Decode a manifest strictly. Defaults and validation are the server's:
// Client.Create applies them and returns every bad field at once.
func Example() {
	manifest := []byte(`
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: example/web:1.0
        ports: [{name: http, containerPort: 8080}]
        resources:
          requests: {cpu: 250m, memory: 64Mi}
        readinessProbe:
          httpGet: {path: /ready, port: http}
`)
	obj, err := api.Decode(manifest)
	if err != nil {
		fmt.Println(err)
		return
	}
	d := obj.(*api.Deployment)
	c := d.Spec.Template.Spec.Containers[0]
	fmt.Println(d.Name, *d.Spec.Replicas, c.ReadinessProbe.HTTPGet.Port.String(), c.Resources.Requests.Cpu().MilliValue())
	// Output:
	// web 3 http 250
}

// Strict decoding names the document and the misspelled field.
func ExampleDecodeAll() {
	_, err := api.DecodeAll([]byte(`
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: shop}
dta: {a: b}
`))
	fmt.Println(err)
	var de *api.DocumentError
	fmt.Println(errors.As(err, &de), de.Index)
	// Output:
	// document 2 (line 6): ConfigMap "cfg" is invalid: dta: Unknown field: did you mean "data"?
	// true 2
}

// DecodeDocuments reports every document of a file, decoded or not, with
// the numbers and lines a user finds them by. The leading "---" opens an
// empty document, which is not counted.
func ExampleDecodeDocuments() {
	docs, err := api.DecodeDocuments([]byte(`---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: apps/v1
kind: Deplyment
metadata: {name: web, namespace: shop}
---
# settings
{kind: ConfigMap, apiVersion: v1, metadata: {name: cfg, namespace: shop}, data: {a: b}}
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  containers:
  - name: app
    image: app:1
    imagePullPolicy: IfNotPresent
    imagePullPolicy: Always
`))
	for _, d := range docs {
		status := "ok"
		if d.Err != nil {
			status = "error"
		}
		fmt.Printf("%d line %d %s %s/%s: %s\n", d.Index, d.Line, d.Kind, d.Namespace, d.Name, status)
	}
	fmt.Println(err)
	// Output:
	// 1 line 2 Namespace /shop: ok
	// 2 line 6 Deplyment shop/web: error
	// 3 line 11 ConfigMap shop/cfg: ok
	// 4 line 13 Pod shop/p: error
	// document 2 (line 6, Deplyment "web"): unsupported kind "Deplyment" in group/version "apps/v1": did you mean "Deployment"?
	// document 4 (line 13, Pod "p"): malformed YAML: line 21: key "imagePullPolicy" already set in map
}

func ExampleParseQuantity() {
	for _, s := range []string{"100m", "0.5", "1.5Gi", "1e3", "2k", "1000m"} {
		q, _ := api.ParseQuantity(s)
		fmt.Printf("%s -> %s (milli %d)\n", s, q, q.MilliValue())
	}
	_, err := api.ParseQuantity("12MB")
	fmt.Println(err != nil)
	// Output:
	// 100m -> 100m (milli 100)
	// 0.5 -> 500m (milli 500)
	// 1.5Gi -> 1536Mi (milli 1610612736000)
	// 1e3 -> 1e3 (milli 1000000)
	// 2k -> 2k (milli 2000000)
	// 1000m -> 1 (milli 1000)
	// true
}

func ExampleParseSelector() {
	sel, err := api.ParseSelector("app=web,tier!=db,env in (a,b),!legacy,gpu")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(sel.Matches(map[string]string{"app": "web", "env": "a", "gpu": "1"}))
	fmt.Println(sel.Matches(map[string]string{"app": "web", "env": "c", "gpu": "1"}))
	_, err = api.ParseSelector("app in (a,b")
	fmt.Println(err)
	// Output:
	// true
	// false
	// invalid selector "app in (a,b": missing ')' in values of "app"
}

func ExampleMergePatch() {
	out, _ := api.MergePatch(
		[]byte(`{"spec":{"replicas":3,"paused":true}}`),
		[]byte(`{"spec":{"replicas":5,"paused":null}}`))
	fmt.Println(string(out))
	// Output:
	// {"spec":{"replicas":5}}
}

func ExampleIsNotFound() {
	err := fmt.Errorf("get pod: %w", api.NewNotFound("Pod", "web-1"))
	fmt.Println(api.IsNotFound(err), api.IgnoreNotFound(err) == nil)
	fmt.Println(err)
	// Output:
	// true true
	// get pod: Pod "web-1" not found
}

// A strategic merge patch changes one container by name and leaves the
// others, where a JSON merge patch would replace the whole list.
func ExampleStrategicMergePatch() {
	pod := []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
	  "spec":{"containers":[{"name":"web","image":"web:1"},{"name":"log","image":"log:1"}]}}`)
	patch := []byte(`{"spec":{"containers":[{"name":"web","image":"web:2"}]}}`)
	out, err := api.StrategicMergePatch(pod, patch, &api.Pod{})
	if err != nil {
		fmt.Println(err)
		return
	}
	var p api.Pod
	if err := api.DecodeInto(out, &p); err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range p.Spec.Containers {
		fmt.Println(c.Name, c.Image)
	}
	// Output:
	// web web:2
	// log log:1
}
