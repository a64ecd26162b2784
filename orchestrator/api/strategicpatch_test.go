package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// podSpecJSON is a PodSpec with something in every list a patch merges.
const podSpecJSON = `{
  "containers": [
    {"name": "web", "image": "web:1",
     "ports": [{"name": "http", "containerPort": 8080}, {"name": "admin", "containerPort": 9090}],
     "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
     "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "cfg", "mountPath": "/etc/cfg"}],
     "resources": {"requests": {"cpu": "100m"}, "limits": {"memory": "128Mi"}}},
    {"name": "sidecar", "image": "side:1", "args": ["--a", "--b"]}
  ],
  "initContainers": [{"name": "init", "image": "init:1"}],
  "volumes": [{"name": "data", "emptyDir": {}}, {"name": "cfg", "configMap": {"name": "cfg"}}],
  "tolerations": [{"key": "k", "operator": "Exists"}],
  "imagePullSecrets": [{"name": "reg1"}],
  "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["a"]}],
  "nodeSelector": {"disk": "ssd", "zone": "a"}
}`

// metaJSON is metadata with labels, annotations, finalizers and owners.
const metaJSON = `{
  "name": "x", "namespace": "ns",
  "labels": {"app": "web", "tier": "front"},
  "annotations": {"note": "n"},
  "finalizers": ["a.example/f", "b.example/f"],
  "ownerReferences": [
    {"apiVersion": "v1", "kind": "ConfigMap", "name": "o1", "uid": "u1"},
    {"apiVersion": "v1", "kind": "ConfigMap", "name": "o2", "uid": "u2"}
  ]
}`

const conditionsJSON = `[
  {"type": "A", "status": "True", "reason": "Ra"},
  {"type": "B", "status": "False", "reason": "Rb"}
]`

// smpOriginals holds one object of each served kind; %[1]s is metadata,
// %[2]s a PodSpec, %[3]s a list of conditions.
var smpOriginals = map[string]string{
	"Namespace": `{"apiVersion":"v1","kind":"Namespace","metadata":%[1]s,
	  "spec":{"finalizers":["kubernetes"]},
	  "status":{"phase":"Active","conditions":%[3]s}}`,
	"Node": `{"apiVersion":"v1","kind":"Node","metadata":%[1]s,
	  "spec":{"podCIDRs":["10.0.0.0/24"],"taints":[{"key":"t","effect":"NoSchedule"}]},
	  "status":{"conditions":%[3]s,"addresses":[{"type":"InternalIP","address":"10.0.0.5"},{"type":"Hostname","address":"n1"}],
	    "capacity":{"cpu":"4"}}}`,
	"Pod": `{"apiVersion":"v1","kind":"Pod","metadata":%[1]s,"spec":%[2]s,
	  "status":{"phase":"Running","conditions":%[3]s,"podIPs":[{"ip":"10.1.0.1"}],"hostIPs":[{"ip":"10.0.0.5"}]}}`,
	"ConfigMap": `{"apiVersion":"v1","kind":"ConfigMap","metadata":%[1]s,"data":{"a":"1","b":"2"}}`,
	"Secret":    `{"apiVersion":"v1","kind":"Secret","metadata":%[1]s,"type":"Opaque","data":{"a":"MQ==","b":"Mg=="}}`,
	"Event": `{"apiVersion":"v1","kind":"Event","metadata":%[1]s,
	  "involvedObject":{"kind":"Pod","name":"p","namespace":"ns"},"reason":"Started","message":"m","type":"Normal","count":1}`,
	"Deployment": `{"apiVersion":"apps/v1","kind":"Deployment","metadata":%[1]s,
	  "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
	    "template":{"metadata":{"labels":{"app":"web"}},"spec":%[2]s},
	    "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":"25%%"}}},
	  "status":{"replicas":2,"conditions":%[3]s}}`,
	"ReplicaSet": `{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":%[1]s,
	  "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
	    "template":{"metadata":{"labels":{"app":"web"}},"spec":%[2]s}},
	  "status":{"replicas":2,"conditions":%[3]s}}`,
	"Lease": `{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":%[1]s,
	  "spec":{"holderIdentity":"n1","leaseDurationSeconds":40,"renewTime":"2024-01-02T15:04:05.123456Z","leaseTransitions":0}}`,
	"Job": `{"apiVersion":"batch/v1","kind":"Job","metadata":%[1]s,
	  "spec":{"completions":1,"template":{"metadata":{"labels":{"app":"web"}},"spec":%[2]s}},
	  "status":{"active":1,"conditions":%[3]s}}`,
	"DaemonSet": `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":%[1]s,
	  "spec":{"selector":{"matchLabels":{"app":"web"}},
	    "template":{"metadata":{"labels":{"app":"web"}},"spec":%[2]s}},
	  "status":{"desiredNumberScheduled":1,"conditions":%[3]s}}`,
	"Role": `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":%[1]s,
	  "rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]}`,
	"ClusterRole": `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":%[1]s,
	  "rules":[{"verbs":["get"],"nonResourceURLs":["/healthz"]}]}`,
	"RoleBinding": `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":%[1]s,
	  "subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}],
	  "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"Role","name":"r"}}`,
	"ClusterRoleBinding": `{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","metadata":%[1]s,
	  "subjects":[{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"devs"}],
	  "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"}}`,
	"Service": `{"apiVersion":"v1","kind":"Service","metadata":%[1]s,
	  "spec":{"type":"NodePort","selector":{"app":"web"},"clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10"],
	    "ports":[{"name":"http","protocol":"TCP","port":80,"targetPort":"http","nodePort":30080},
	             {"name":"dns","protocol":"UDP","port":53,"targetPort":5353,"nodePort":30053}]},
	  "status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.1"}]}}}`,
	"EndpointSlice": `{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":%[1]s,
	  "addressType":"IPv4","ports":[{"name":"http","protocol":"TCP","port":8080}],
	  "endpoints":[{"addresses":["10.244.0.5"],"conditions":{"ready":true},"nodeName":"n1"}]}`,
}

// podSpecPath is where each kind keeps its PodSpec, outermost first.
var podSpecPath = map[string][]string{
	"Pod":        {"spec"},
	"Deployment": {"spec", "template", "spec"},
	"ReplicaSet": {"spec", "template", "spec"},
	"Job":        {"spec", "template", "spec"},
	"DaemonSet":  {"spec", "template", "spec"},
}

// nest wraps the JSON value inner in objects keyed by path.
func nest(path []string, inner string) string {
	for i := len(path) - 1; i >= 0; i-- {
		inner = fmt.Sprintf("{%q:%s}", path[i], inner)
	}
	return inner
}

type smpCase struct {
	name, patch string
}

// metaPatches apply to every kind.
var metaPatches = []smpCase{
	{"label changed and removed", `{"metadata":{"labels":{"app":"api","tier":null}}}`},
	{"annotations null", `{"metadata":{"annotations":null}}`},
	{"finalizer added to the set", `{"metadata":{"finalizers":["c.example/f","a.example/f"]}}`},
	{"finalizer deleted from primitive list", `{"metadata":{"$deleteFromPrimitiveList/finalizers":["a.example/f"]}}`},
	{"owner merged by uid", `{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"o3","uid":"u3"},{"uid":"u1","name":"renamed"}]}}`},
	{"owner deleted by uid", `{"metadata":{"ownerReferences":[{"$patch":"delete","uid":"u2"}]}}`},
	{"owners replaced", `{"metadata":{"ownerReferences":[{"$patch":"replace"},{"apiVersion":"v1","kind":"Secret","name":"s","uid":"u9"}]}}`},
	{"owners set element order", `{"metadata":{"$setElementOrder/ownerReferences":[{"uid":"u2"},{"uid":"u1"}]}}`},
}

// podSpecPatches apply inside every PodSpec.
var podSpecPatches = []smpCase{
	{"container image by name", `{"containers":[{"name":"web","image":"web:2"}]}`},
	{"container added", `{"containers":[{"name":"extra","image":"x:1"}]}`},
	{"container deleted", `{"containers":[{"$patch":"delete","name":"sidecar"}]}`},
	{"containers reordered", `{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"web"}],"containers":[{"name":"sidecar","image":"side:2"}]}`},
	{"containers replaced", `{"containers":[{"$patch":"replace"},{"name":"only","image":"o:1"}]}`},
	{"env merged by name", `{"containers":[{"name":"web","env":[{"name":"B","value":"two"},{"name":"C","value":"3"}]}]}`},
	{"env deleted by name", `{"containers":[{"name":"web","env":[{"$patch":"delete","name":"A"}]}]}`},
	{"port merged by containerPort", `{"containers":[{"name":"web","ports":[{"containerPort":8080,"name":"web"},{"containerPort":7070}]}]}`},
	{"volumeMount by mountPath", `{"containers":[{"name":"web","volumeMounts":[{"mountPath":"/data","readOnly":true}]}]}`},
	{"args replaced whole", `{"containers":[{"name":"sidecar","args":["--c"]}]}`},
	{"resources null", `{"containers":[{"name":"web","resources":{"requests":null,"limits":{"memory":"256Mi","cpu":"1"}}}]}`},
	{"volume source swapped with retainKeys", `{"volumes":[{"name":"cfg","$retainKeys":["name","secret"],"secret":{"secretName":"s"}}]}`},
	{"volume source swapped without retainKeys", `{"volumes":[{"name":"data","hostPath":{"path":"/srv"}}]}`},
	{"volume deleted", `{"volumes":[{"$patch":"delete","name":"data"}]}`},
	{"tolerations replaced", `{"tolerations":[{"key":"other","operator":"Exists","effect":"NoSchedule"}]}`},
	{"imagePullSecrets merged", `{"imagePullSecrets":[{"name":"reg2"}]}`},
	{"hostAliases merged by ip", `{"hostAliases":[{"ip":"10.0.0.1","hostnames":["b"]},{"ip":"10.0.0.2","hostnames":["c"]}]}`},
	{"init container image", `{"initContainers":[{"name":"init","image":"init:2"}]}`},
	{"nodeSelector key removed", `{"nodeSelector":{"zone":null,"rack":"r1"}}`},
	{"scalar set", `{"restartPolicy":"Always","terminationGracePeriodSeconds":5}`},
}

// conditionPatches apply to kinds whose status has conditions.
var conditionPatches = []smpCase{
	{"condition merged by type", `{"status":{"conditions":[{"type":"B","status":"True","reason":null},{"type":"C","status":"Unknown"}]}}`},
	{"condition deleted by type", `{"status":{"conditions":[{"$patch":"delete","type":"A"}]}}`},
}

// kindPatches are particular to one kind.
var kindPatches = map[string][]smpCase{
	"Namespace": {{"spec finalizers replaced", `{"spec":{"finalizers":["other"]}}`}},
	"Node": {
		{"podCIDRs merged", `{"spec":{"podCIDRs":["10.0.1.0/24"]}}`},
		{"taints replaced", `{"spec":{"taints":[{"key":"u","effect":"NoExecute"}]}}`},
		{"address merged by type", `{"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.6"}]}}`},
		{"capacity quantity", `{"status":{"capacity":{"cpu":"8","memory":"1Gi"}}}`},
	},
	"Pod": {
		{"podIPs merged by ip", `{"status":{"podIPs":[{"ip":"10.1.0.2"}]}}`},
		{"phase", `{"status":{"phase":"Succeeded"}}`},
	},
	"ConfigMap": {{"data key changed and removed", `{"data":{"a":"one","b":null,"c":"3"}}`}},
	"Secret":    {{"data key changed and removed", `{"data":{"a":"b25l","b":null,"c":"Mw=="}}`}},
	"Event":     {{"message and count", `{"message":"again","count":2}`}},
	"Deployment": {
		{"strategy to Recreate with retainKeys", `{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}`},
		{"rollingUpdate changed", `{"spec":{"strategy":{"rollingUpdate":{"maxSurge":"50%"}}}}`},
		{"replicas", `{"spec":{"replicas":5}}`},
		{"selector replaced member", `{"spec":{"selector":{"matchLabels":{"app":"web","x":"y"}}}}`},
		{"template label", `{"spec":{"template":{"metadata":{"labels":{"v":"2"}}}}}`},
	},
	"ReplicaSet":         {{"replicas", `{"spec":{"replicas":0}}`}},
	"Job":                {{"parallelism", `{"spec":{"parallelism":3}}`}},
	"DaemonSet":          {{"minReadySeconds", `{"spec":{"minReadySeconds":10}}`}},
	"Role":               {{"rules replaced", `{"rules":[{"verbs":["list"],"apiGroups":["apps"],"resources":["deployments"]}]}`}},
	"ClusterRole":        {{"rules replaced", `{"rules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"]}]}`}},
	"RoleBinding":        {{"subjects replaced", `{"subjects":[{"kind":"ServiceAccount","name":"default","namespace":"ns"}]}`}},
	"ClusterRoleBinding": {{"subjects replaced", `{"subjects":[{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"bob"}]}`}},
	"Lease":              {{"renewed", `{"spec":{"renewTime":"2024-01-02T15:04:15.654321Z","holderIdentity":"n2"}}`}},
	"Service": {
		{"port changed by merge key", `{"spec":{"ports":[{"port":80,"targetPort":8080}]}}`},
		{"port added", `{"spec":{"ports":[{"name":"https","port":443}]}}`},
		{"selector member removed", `{"spec":{"selector":{"app":null,"tier":"web"}}}`},
	},
	"EndpointSlice": {{"endpoints replaced", `{"endpoints":[{"addresses":["10.244.0.6"]}]}`}},
}

// casesFor returns every patch case for kind.
func casesFor(kind string) []smpCase {
	cases := append([]smpCase{}, metaPatches...)
	if p, ok := podSpecPath[kind]; ok {
		for _, c := range podSpecPatches {
			cases = append(cases, smpCase{"podspec " + c.name, nest(p, c.patch)})
		}
	}
	switch kind {
	case "ConfigMap", "Event", "Secret", "Lease", "Service", "EndpointSlice", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
	default:
		cases = append(cases, conditionPatches...)
	}
	return append(cases, kindPatches[kind]...)
}

// normalise decodes doc into the Kubernetes type of kind and re-encodes
// it, so that two documents compare equal when Kubernetes reads them the
// same.
func normalise(t *testing.T, kind string, doc []byte) string {
	t.Helper()
	v := k8sTypeFor(t, kind)
	if err := json.Unmarshal(doc, v); err != nil {
		t.Fatalf("decoding into the Kubernetes type: %v\n%s", err, doc)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestStrategicMergePatchMatchesKubernetes applies each patch of a table to
// an object of every served kind, once through our types and once through
// k8s.io/api's with apimachinery's strategicpatch, and requires the same
// object.
func TestStrategicMergePatchMatchesKubernetes(t *testing.T) {
	for _, info := range DefaultScheme().Kinds() {
		tmpl, ok := smpOriginals[info.Kind]
		if !ok {
			t.Errorf("kind %s has no strategic merge patch original: add one to smpOriginals", info.Kind)
			continue
		}
		doc := []byte(fmt.Sprintf(tmpl, metaJSON, podSpecJSON, conditionsJSON))
		// As the registry does: the stored object, re-encoded by our types.
		obj := info.New()
		if err := DecodeInto(doc, obj); err != nil {
			t.Fatalf("%s: the original does not decode: %v", info.Kind, err)
		}
		ours, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range casesFor(info.Kind) {
			t.Run(info.Kind+"/"+c.name, func(t *testing.T) {
				got, err := StrategicMergePatch(ours, []byte(c.patch), info.New())
				if err != nil {
					t.Fatalf("StrategicMergePatch: %v", err)
				}
				res := info.New()
				if err := DecodeInto(got, res); err != nil {
					t.Fatalf("the result does not decode into %s: %v\n%s", info.Kind, err, got)
				}
				gotJSON, err := json.Marshal(res)
				if err != nil {
					t.Fatal(err)
				}
				want, err := strategicpatch.StrategicMergePatch(doc, []byte(c.patch), k8sTypeFor(t, info.Kind))
				if err != nil {
					t.Fatalf("Kubernetes' StrategicMergePatch: %v", err)
				}
				if g, w := normalise(t, info.Kind, gotJSON), normalise(t, info.Kind, want); g != w {
					t.Errorf("patch %s\n got %s\nwant %s", c.patch, g, w)
				}
				if g, o := normalise(t, info.Kind, gotJSON), normalise(t, info.Kind, ours); g == o {
					t.Errorf("patch %s changed nothing", c.patch)
				}
			})
		}
	}
}

// TestCreateTwoWayMergePatchRoundTrip checks that a computed patch turns
// the original into the modified object, keeps merged lists as changed
// elements, and is what Kubernetes computes on its types.
func TestCreateTwoWayMergePatchRoundTrip(t *testing.T) {
	d := newTestDeployment()
	d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, Container{Name: "side", Image: "side:1"})
	original, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	m := d.DeepCopy()
	m.Spec.Template.Spec.Containers[1].Image = "side:2"
	m.Labels["tier"] = "front"
	modified, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := CreateTwoWayMergePatch(original, modified, &Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(patch), `"web:1"`) {
		t.Errorf("patch %s carries the unchanged container", patch)
	}
	if !strings.Contains(string(patch), `"$setElementOrder/containers"`) {
		t.Errorf("patch %s has no $setElementOrder for the merged containers", patch)
	}
	want, err := strategicpatch.CreateTwoWayMergePatch(original, modified, k8sTypeFor(t, "Deployment"))
	if err != nil {
		t.Fatal(err)
	}
	if string(patch) != string(want) {
		t.Errorf("patch\n got %s\nwant %s (Kubernetes)", patch, want)
	}
	out, err := StrategicMergePatch(original, patch, &Deployment{})
	if err != nil {
		t.Fatal(err)
	}
	if normalise(t, "Deployment", out) != normalise(t, "Deployment", modified) {
		t.Errorf("applying the patch\n got %s\nwant %s", out, modified)
	}
}

func TestStrategicMergePatchErrors(t *testing.T) {
	orig := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a"},"spec":{"strategy":{"type":"RollingUpdate"},"template":{"spec":{"containers":[{"name":"a","image":"a"}]}}}}`)
	for _, c := range []struct{ name, patch string }{
		{"not JSON", `{`},
		{"not an object", `[1]`},
		{"bad $patch directive", `{"spec":{"template":{"spec":{"containers":[{"$patch":"explode","name":"a"}]}}}}`},
		{"retainKeys not a list", `{"spec":{"strategy":{"$retainKeys":"type"}}}`},
		{"patch outside retainKeys", `{"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":{"maxSurge":1}}}}`},
		{"setElementOrder not a list", `{"metadata":{"$setElementOrder/ownerReferences":"x"}}`},
		{"list of lists", `{"spec":{"template":{"spec":{"containers":[[{"name":"a"}]]}}}}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := StrategicMergePatch(orig, []byte(c.patch), &Deployment{})
			if !errors.Is(err, ErrStrategicMergePatch) {
				t.Errorf("error %v, want one wrapping ErrStrategicMergePatch", err)
			}
		})
	}
	if _, err := StrategicMergePatch(orig, []byte(`{}`), nil); !errors.Is(err, ErrStrategicMergePatch) {
		t.Errorf("nil object: error %v, want one wrapping ErrStrategicMergePatch", err)
	}
	if _, err := CreateTwoWayMergePatch([]byte(`[`), orig, &Deployment{}); !errors.Is(err, ErrStrategicMergePatch) {
		t.Errorf("CreateTwoWayMergePatch of bad JSON: error %v, want one wrapping ErrStrategicMergePatch", err)
	}
}
