package api

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeAllManifest(t *testing.T) {
	objs, err := DecodeAll(readTestdata(t, "web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 {
		t.Fatalf("decoded %d objects, want 3 (the comment-only document is skipped)", len(objs))
	}
	cm, ok := objs[0].(*ConfigMap)
	if !ok || cm.Name != "web-config" || cm.Data["config.yaml"] != "listen: :8080\n" {
		t.Errorf("ConfigMap = %#v", objs[0])
	}
	if ns, ok := objs[2].(*Namespace); !ok || ns.Name != "shop" {
		t.Errorf("Namespace = %#v", objs[2])
	}
	d, ok := objs[1].(*Deployment)
	if !ok {
		t.Fatalf("objs[1] is %T", objs[1])
	}
	if d.APIVersion != "apps/v1" || d.Kind != "Deployment" || d.Name != "web" || d.Namespace != "shop" {
		t.Errorf("meta = %+v %+v", d.TypeMeta, d.ObjectMeta)
	}
	if d.Annotations["deployment.kubernetes.io/revision"] != "3" {
		t.Errorf("annotations = %v", d.Annotations)
	}
	if *d.Spec.Replicas != 3 || *d.Spec.RevisionHistoryLimit != 5 {
		t.Errorf("replicas/history = %d/%d", *d.Spec.Replicas, *d.Spec.RevisionHistoryLimit)
	}
	if d.Spec.Selector.MatchLabels["app"] != "web" || d.Spec.Selector.MatchExpressions[0].Operator != LabelSelectorOpIn {
		t.Errorf("selector = %+v", d.Spec.Selector)
	}
	ru := d.Spec.Strategy.RollingUpdate
	if d.Spec.Strategy.Type != RollingUpdateDeploymentStrategyType || *ru.MaxSurge != FromInt(1) || *ru.MaxUnavailable != FromInt(0) {
		t.Errorf("strategy = %+v %+v", d.Spec.Strategy, ru)
	}
	ps := d.Spec.Template.Spec
	if *ps.TerminationGracePeriodSeconds != 45 || ps.NodeSelector["disktype"] != "ssd" {
		t.Errorf("pod spec = %+v", ps)
	}
	if ps.Tolerations[0].Effect != TaintEffectNoSchedule {
		t.Errorf("tolerations = %+v", ps.Tolerations)
	}
	terms := ps.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if got := terms[0].MatchExpressions[0].Values; !slices.Equal(got, []string{"eu-west-1a", "eu-west-1b"}) {
		t.Errorf("affinity values = %v", got)
	}
	c := ps.Containers[0]
	if c.Image != "registry.example.com/web:1.4.2" || c.Args[1] != "--config=/etc/web/config.yaml" {
		t.Errorf("container = %+v", c)
	}
	if c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 8080 || c.Ports[1].Protocol != ProtocolTCP {
		t.Errorf("ports = %+v", c.Ports)
	}
	if c.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.name" ||
		c.Env[1].ValueFrom.ConfigMapKeyRef.Name != "web-config" ||
		c.Env[2].ValueFrom.SecretKeyRef.Key != "password" || c.Env[3].Value != "2" {
		t.Errorf("env = %+v", c.Env)
	}
	if c.EnvFrom[0].Prefix != "CFG_" || c.EnvFrom[0].ConfigMapRef.Name != "web-config" {
		t.Errorf("envFrom = %+v", c.EnvFrom)
	}
	if c.Resources.Requests.Cpu().MilliValue() != 250 || c.Resources.Limits.Cpu().MilliValue() != 1000 ||
		c.Resources.Limits.Memory().Value() != 512<<20 || c.Resources.Requests.Memory().String() != "64Mi" {
		t.Errorf("resources = %+v", c.Resources)
	}
	if c.VolumeMounts[0].MountPath != "/etc/web" || !c.VolumeMounts[0].ReadOnly {
		t.Errorf("mounts = %+v", c.VolumeMounts)
	}
	lp := c.LivenessProbe
	if lp.HTTPGet.Path != "/healthz" || lp.HTTPGet.Port != FromString("http") || lp.HTTPGet.HTTPHeaders[0].Value != "liveness" ||
		lp.InitialDelaySeconds != 5 || lp.FailureThreshold != 3 {
		t.Errorf("liveness = %+v %+v", lp, lp.HTTPGet)
	}
	if c.ReadinessProbe.TCPSocket.Port != FromInt(8080) || c.ReadinessProbe.PeriodSeconds != 5 {
		t.Errorf("readiness = %+v", c.ReadinessProbe)
	}
	if c.StartupProbe.Exec.Command[1] != "--startup" || c.StartupProbe.FailureThreshold != 30 {
		t.Errorf("startup = %+v", c.StartupProbe)
	}
	if c.Lifecycle.PreStop.Exec.Command[2] != "sleep 5" {
		t.Errorf("preStop = %+v", c.Lifecycle.PreStop)
	}
	v := ps.Volumes
	if v[0].ConfigMap.Name != "web-config" || v[1].EmptyDir.SizeLimit.String() != "1Gi" ||
		v[2].PersistentVolumeClaim.ClaimName != "web-data" || *v[3].HostPath.Type != "Directory" {
		t.Errorf("volumes = %+v", v)
	}
}

// The manifest survives encoding to YAML and decoding back. (Its
// defaulted form is a golden file of the strategies' tests, which own
// defaulting.)
func TestEncodeRoundTrip(t *testing.T) {
	objs, err := DecodeAll(readTestdata(t, "web.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := EncodeYAMLAll(objs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeAll(got)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, objs) {
		t.Errorf("round trip through YAML changed the objects:\n%s", got)
	}
}

func TestRoundTripJSON(t *testing.T) {
	d := newTestDeployment()
	now := NewTime(mustTime(t, "2024-05-01T10:00:00Z"))
	d.CreationTimestamp = now
	d.DeletionTimestamp = &now
	d.Status = DeploymentStatus{ObservedGeneration: 2, Replicas: 3, ReadyReplicas: 2,
		Conditions: []DeploymentCondition{{Type: DeploymentAvailable, Status: ConditionTrue, LastTransitionTime: now, LastUpdateTime: now}}}
	b, err := EncodeJSON(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"creationTimestamp":"2024-05-01T10:00:00Z"`)) {
		t.Errorf("timestamp not RFC 3339: %s", b)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("JSON round trip differs:\n got %+v\nwant %+v", got, d)
	}
	// EncodeJSON fills in TypeMeta without touching the object.
	p := &Pod{ObjectMeta: ObjectMeta{Name: "p"}}
	b, err = EncodeJSON(p)
	if err != nil || !bytes.Contains(b, []byte(`"kind":"Pod"`)) || !bytes.Contains(b, []byte(`"apiVersion":"v1"`)) || p.Kind != "" {
		t.Errorf("EncodeJSON(untyped pod) = %s, %v", b, err)
	}
}

func TestDecodeJSONStreamAndList(t *testing.T) {
	in := `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}
{"apiVersion":"v1","kind":"List","items":[
  {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"k":"v"}},
  {"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"r"},"spec":{"selector":{"matchLabels":{"a":"b"}}}}]}`
	objs, err := DecodeAll([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.GetTypeMeta().Kind)
	}
	if !slices.Equal(kinds, []string{"Namespace", "ConfigMap", "ReplicaSet"}) {
		t.Errorf("kinds = %v", kinds)
	}
	_, err = DecodeAll([]byte(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod","spec":{"nodename":"x"}}]}`))
	if !IsInvalid(err) || !slices.Contains(FieldErrors(err).Fields(), "items[0].spec.nodename") {
		t.Errorf("bad list item error = %v", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		doc     int // as users count: from 1, skipping empty documents
		fields  []string
		invalid bool
	}{
		{"misspelled field", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    imagee: x\n", 1,
			[]string{"spec.containers[0].imagee"}, true},
		{"wrong case", "apiVersion: v1\nkind: Pod\nmetadata: {Name: p}\n", 1, []string{"metadata.Name"}, true},
		{"unknown top-level", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nspec: {}\n", 1, []string{"spec"}, true},
		{"missing apiVersion and kind", "metadata: {name: x}\n", 1, []string{"apiVersion", "kind"}, true},
		{"unknown kind", "apiVersion: v1\nkind: Widget\n", 1, []string{"kind"}, true},
		{"non-string apiVersion", "apiVersion: 1\nkind: Pod\n", 1, []string{"apiVersion"}, true},
		{"wrong apiVersion for kind", "apiVersion: v1\nkind: Deployment\n", 1, []string{"apiVersion"}, true},
		{"extensions Deployment", "apiVersion: extensions/v1beta1\nkind: Deployment\n", 1, []string{"apiVersion"}, true},
		{"malformed quantity", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources:\n      requests: {memory: 12MB, cpu: 1}\n", 1,
			[]string{"spec.containers[0].resources.requests[memory]"}, true},
		{"wrong types", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, labels: {v: 1}}\nspec:\n  replicas: three\n  paused: 1\n  template: {spec: {containers: {}}}\n", 1,
			[]string{"metadata.labels[v]", "spec.paused", "spec.replicas", "spec.template.spec.containers"}, true},
		{"int32 overflow", "apiVersion: apps/v1\nkind: Deployment\nspec: {replicas: 3000000000}\n", 1, []string{"spec.replicas"}, true},
		{"bad int-or-string", "apiVersion: apps/v1\nkind: Deployment\nspec: {strategy: {rollingUpdate: {maxSurge: 1.5}}}\n", 1,
			[]string{"spec.strategy.rollingUpdate.maxSurge"}, true},
		{"bad time", "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns, creationTimestamp: yesterday}\n", 1,
			[]string{"metadata.creationTimestamp"}, true},
		{"bad base64", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbinaryData: {k: '%%%'}\n", 1, []string{"binaryData[k]"}, true},
		{"error in second document", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n# comment\n---\napiVersion: v1\nkind: Namespace\nmetadata: {nam: b}\n", 2,
			[]string{"metadata.nam"}, true},
		{"yaml syntax", "apiVersion: v1\nkind: [\n", 1, nil, false},
		{"duplicate key", "apiVersion: v1\nkind: Namespace\nkind: Namespace\n", 1, nil, false},
		{"not an object", "- a\n- b\n", 1, nil, false},
		{"json syntax", `{"apiVersion": "v1"`, 1, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, err := DecodeAll([]byte(tt.in))
			if err == nil {
				t.Fatalf("decoded %v, want error", objs)
			}
			var de *DocumentError
			if !errors.As(err, &de) || de.Index != tt.doc {
				t.Errorf("error %v: want DocumentError for document %d", err, tt.doc)
			}
			if IsInvalid(err) != tt.invalid || (!tt.invalid && !IsBadRequest(err)) {
				t.Errorf("IsInvalid = %v, want %v (error %v)", IsInvalid(err), tt.invalid, err)
			}
			got := FieldErrors(err).Fields()
			if tt.fields != nil && !slices.Equal(got, tt.fields) {
				t.Errorf("field errors %v, want %v (error %v)", got, tt.fields, err)
			}
			for _, f := range tt.fields {
				if !strings.Contains(err.Error(), f) {
					t.Errorf("message %q does not name %s", err, f)
				}
			}
		})
	}
}

func TestDecodeEdgeCases(t *testing.T) {
	// Empty input and comment-only input decode to nothing.
	for _, in := range []string{"", "\n", "# nothing\n", "---\n---\n"} {
		objs, err := DecodeAll([]byte(in))
		if err != nil || len(objs) != 0 {
			t.Errorf("DecodeAll(%q) = %v, %v", in, objs, err)
		}
	}
	if _, err := Decode([]byte("")); !IsBadRequest(err) {
		t.Errorf("Decode(empty) error = %v", err)
	}
	two := "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n"
	if _, err := Decode([]byte(two)); !IsBadRequest(err) {
		t.Errorf("Decode(two docs) error = %v", err)
	}
	// "--- " with content on the same line, CRLF line ends, nulls.
	in := "--- {apiVersion: v1, kind: Namespace, metadata: {name: a}}\r\n---\r\napiVersion: v1\r\nkind: Namespace\r\nmetadata:\r\n  name: b\r\n  labels: null\r\nspec: null\r\n"
	objs, err := DecodeAll([]byte(in))
	if err != nil || len(objs) != 2 || objs[1].GetName() != "b" {
		t.Errorf("DecodeAll = %v, %v", objs, err)
	}
	// Several bad documents: all reported.
	_, err = DecodeAll([]byte("kind: Pod\n---\nkind: Nope\n"))
	if n := len(FieldErrors(err)); n != 2 || !strings.Contains(err.Error(), "document 1") || !strings.Contains(err.Error(), "document 2") {
		t.Errorf("joined error (%d causes) = %v", n, err)
	}
}

func TestDecodeInto(t *testing.T) {
	var d Deployment
	if err := DecodeInto([]byte(`{"metadata":{"name":"web"},"spec":{"replicas":2}}`), &d); err != nil {
		t.Fatal(err)
	}
	if d.Name != "web" || *d.Spec.Replicas != 2 || d.Kind != "Deployment" {
		t.Errorf("decoded %+v", d)
	}
	err := DecodeInto([]byte("kind: Pod\nspec: {replicas: 2, foo: 1}\n"), &d)
	if got := FieldErrors(err).Fields(); !slices.Equal(got, []string{"kind", "spec.foo"}) {
		t.Errorf("fields = %v (%v)", got, err)
	}
	if d.Name != "web" {
		t.Error("failed DecodeInto modified the target")
	}
}

func TestEncodeUnregistered(t *testing.T) {
	type custom struct{ Pod }
	if _, err := EncodeJSON(&custom{}); err == nil {
		t.Error("EncodeJSON of an unregistered type succeeded")
	}
}

func TestDecodeKubectlGetOutput(t *testing.T) {
	obj, err := Decode(readTestdata(t, "kubectl-get-pod.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p := obj.(*Pod)
	if p.ResourceVersion != "48213" || p.CreationTimestamp.Unix() != mustTime(t, "2024-06-01T12:00:00Z").Unix() ||
		GetControllerOf(p).Kind != "ReplicaSet" || p.Labels[PodTemplateHashLabel] != "6d4cf56db6" {
		t.Errorf("metadata = %+v", p.ObjectMeta)
	}
	if len(p.ManagedFields) != 1 || !strings.Contains(string(p.ManagedFields[0].FieldsV1.Raw), `"f:app":{}`) {
		t.Errorf("managedFields = %+v", p.ManagedFields)
	}
	if !IsPodReady(p) || p.Status.Phase != PodRunning || p.Status.PodIPs[0].IP != "10.244.1.7" {
		t.Errorf("status = %+v", p.Status)
	}
	cs := GetContainerStatus(&p.Status, "web")
	if cs == nil || cs.RestartCount != 1 || cs.LastTerminationState.Terminated.ExitCode != 137 || cs.State.Running == nil {
		t.Errorf("container status = %+v", cs)
	}
	if p.Spec.Volumes[0].Projected.Sources[0].ServiceAccountToken.Path != "token" {
		t.Errorf("projected volume = %+v", p.Spec.Volumes[0])
	}
	// And it survives a round trip.
	y, err := EncodeYAML(p)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(y)
	if err != nil || !reflect.DeepEqual(back, obj) {
		t.Errorf("round trip: %v\n%s", err, y)
	}
}

func TestDecodeKubectlGetNode(t *testing.T) {
	obj, err := Decode(readTestdata(t, "kubectl-get-node.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	n := obj.(*Node)
	if !IsNodeReady(n) || n.Spec.Taints[0].Value != "web" || n.Status.NodeInfo.KubeletVersion != "v1.31.0" {
		t.Errorf("node = %+v", n)
	}
	if got := n.Status.Allocatable.Memory().Value(); got != 16179448*1024 {
		t.Errorf("allocatable memory = %d", got)
	}
	if got := n.Status.Capacity[ResourceEphemeralStorage].String(); got != "103612Mi" {
		t.Errorf("ephemeral-storage = %s", got)
	}
	if n.Status.Allocatable.Pods().Value() != 110 || n.Status.Allocatable.Cpu().MilliValue() != 4000 {
		t.Errorf("allocatable = %v", n.Status.Allocatable)
	}
	y, _ := EncodeYAML(n)
	if back, err := Decode(y); err != nil || !reflect.DeepEqual(back, n) {
		t.Errorf("round trip: %v\n%s", err, y)
	}
}

// TestInvalidManifestGolden decodes a file full of mistakes and compares
// what DecodeDocuments reports for each document with a golden file (go
// test -run TestInvalidManifestGolden -update rewrites it). What
// validation then finds in the documents that decode is the strategies'
// golden file.
func TestInvalidManifestGolden(t *testing.T) {
	data := readTestdata(t, "invalid.yaml")
	var report strings.Builder
	docs, err := DecodeDocuments(data)
	report.WriteString("== DecodeDocuments\n")
	for _, d := range docs {
		if d.Err != nil {
			report.WriteString(d.Err.Error() + "\n")
			continue
		}
		fmt.Fprintf(&report, "document %d (line %d): %s %q decoded\n", d.Index, d.Line, d.Kind, d.Name)
	}
	if got := len(FieldErrors(err)); err == nil || got == 0 {
		t.Errorf("DecodeDocuments error = %v with %d field errors, want the documents' errors joined", err, got)
	}
	got := []byte(report.String())
	golden := filepath.Join("testdata", "invalid.golden.txt")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("report differs from %s (run with -update after checking):\n%s", golden, got)
	}
}
