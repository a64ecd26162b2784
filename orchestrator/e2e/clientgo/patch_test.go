package clientgo

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

// TestStrategicMergePatch patches a Deployment through the clientset with
// a strategic merge patch that merges containers and env by name, deletes
// an env var with $patch: delete and replaces a label, and checks that the
// stored result is what apimachinery's strategicpatch computes locally on
// the typed object (defaulted by the server, through a dry-run update, so
// that server-side defaults on the new container do not count as a
// difference).
func TestStrategicMergePatch(t *testing.T) {
	c := newCluster(t, 1)
	cs := c.clientset(0)
	ctx := ctxFor(t, time.Minute)
	createNamespace(t, cs, "smp")
	deps := cs.AppsV1().Deployments("smp")
	orig, err := deps.Create(ctx, testDeployment("smp", "web", 1), metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	patch := []byte(`{
  "metadata": {"labels": {"app": "web", "tier": "front"}},
  "spec": {"template": {"spec": {"containers": [
    {"name": "web", "image": "example.invalid/web:2", "env": [{"name": "A", "$patch": "delete"}, {"name": "C", "value": "3"}]},
    {"name": "sidecar", "image": "example.invalid/sidecar:1"}
  ]}}}
}`)

	origJSON, err := json.Marshal(orig)
	if err != nil {
		t.Fatal(err)
	}
	localJSON, err := strategicpatch.StrategicMergePatch(origJSON, patch, appsv1.Deployment{})
	if err != nil {
		t.Fatalf("the local strategic merge: %v", err)
	}
	var local appsv1.Deployment
	if err := json.Unmarshal(localJSON, &local); err != nil {
		t.Fatal(err)
	}
	// The server defaults the merged object as it does any update; a
	// dry-run update of the local result gets the same defaults and
	// stores nothing. Unconditional: the controllers write the status.
	local.ResourceVersion = ""
	want, err := deps.Update(ctx, &local, metav1.UpdateOptions{DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		t.Fatalf("dry-run update with the local result: %v", err)
	}

	got, err := deps.Patch(ctx, "web", types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	if err != nil {
		t.Fatalf("strategic merge patch: %v", err)
	}
	if !reflect.DeepEqual(got.Spec, want.Spec) {
		gj, _ := json.MarshalIndent(got.Spec, "", "  ")
		wj, _ := json.MarshalIndent(want.Spec, "", "  ")
		t.Errorf("patched spec:\n%s\nwant (strategicpatch locally):\n%s", gj, wj)
	}
	if !reflect.DeepEqual(got.Labels, want.Labels) {
		t.Errorf("patched labels %v, want %v", got.Labels, want.Labels)
	}
	// The merge really merged: env B kept, A deleted, C added; two
	// containers, web first.
	cts := got.Spec.Template.Spec.Containers
	if len(cts) != 2 || cts[0].Name != "web" || cts[1].Name != "sidecar" || cts[0].Image != "example.invalid/web:2" {
		t.Fatalf("containers after the patch: %+v", cts)
	}
	var env []string
	for _, e := range cts[0].Env {
		env = append(env, e.Name+"="+e.Value)
	}
	// (In strategicpatch's order: the patch's new items first.)
	slices.Sort(env)
	if !reflect.DeepEqual(env, []string{"B=2", "C=3"}) {
		t.Errorf("env after the patch: %v, want B=2 and C=3", env)
	}
	if got.Generation != orig.Generation+1 {
		t.Errorf("generation after a spec patch: %d, want %d", got.Generation, orig.Generation+1)
	}
	stored, err := deps.Get(ctx, "web", metav1.GetOptions{})
	if err != nil || !reflect.DeepEqual(stored.Spec.Template.Spec, got.Spec.Template.Spec) {
		t.Errorf("stored after the patch differs from the patch's answer: %v", err)
	}
}

// TestNoOpWrites checks Kubernetes' rule that an update or patch that
// changes nothing writes nothing: the resourceVersion stays (and kubectl
// patch prints "patched (no change)").
func TestNoOpWrites(t *testing.T) {
	c := newCluster(t, 1)
	cs := c.clientset(0)
	ctx := ctxFor(t, time.Minute)
	cms := cs.CoreV1().ConfigMaps("default")
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "same"}, Data: map[string]string{"k": "v"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	upd, err := cms.Update(ctx, cm.DeepCopy(), metav1.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if upd.ResourceVersion != cm.ResourceVersion {
		t.Errorf("an update that changes nothing moved resourceVersion %s -> %s", cm.ResourceVersion, upd.ResourceVersion)
	}
	for _, p := range []struct {
		typ  types.PatchType
		body string
	}{
		{types.MergePatchType, `{"data":{"k":"v"}}`},
		{types.StrategicMergePatchType, `{"data":{"k":"v"}}`},
		{types.JSONPatchType, `[{"op":"replace","path":"/data/k","value":"v"}]`},
	} {
		got, err := cms.Patch(ctx, "same", p.typ, []byte(p.body), metav1.PatchOptions{})
		if err != nil {
			t.Fatalf("%s: %v", p.typ, err)
		}
		if got.ResourceVersion != cm.ResourceVersion {
			t.Errorf("a %s patch that changes nothing moved resourceVersion %s -> %s", p.typ, cm.ResourceVersion, got.ResourceVersion)
		}
	}
}
