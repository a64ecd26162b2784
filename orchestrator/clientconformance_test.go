package orchestrator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// clientConformance checks the write options, patch types and Apply of
// one Client implementation. Every implementation (the in-process client
// today, the HTTPS client with the API server) runs it.
func clientConformance(t *testing.T, cl orchestrator.Client) {
	t.Run("ApplyKeepsOtherWritersWork", func(t *testing.T) { applyKeepsOtherWritersWork(t, cl) })
	t.Run("ApplyDoesNotFinishDeletion", func(t *testing.T) { applyDoesNotFinishDeletion(t, cl) })
	t.Run("DryRun", func(t *testing.T) { dryRun(t, cl) })
	t.Run("FieldOwner", func(t *testing.T) { fieldOwner(t, cl) })
	t.Run("PatchTypes", func(t *testing.T) { patchTypes(t, cl) })
}

func TestLocalClientConformance(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	clientConformance(t, c.Client())
}

func configMap(name string, labels, data map[string]string) *orchestrator.ConfigMap {
	return &orchestrator.ConfigMap{
		ObjectMeta: orchestrator.ObjectMeta{Name: name, Namespace: "default", Labels: labels},
		Data:       data,
	}
}

func getCM(t *testing.T, cl orchestrator.Client, name string) *orchestrator.ConfigMap {
	t.Helper()
	var cm orchestrator.ConfigMap
	if err := cl.Get(context.Background(), orchestrator.ObjectKey{Namespace: "default", Name: name}, &cm); err != nil {
		t.Fatalf("get %s: %v", name, err)
	}
	return &cm
}

// applyKeepsOtherWritersWork: what controllers and other users add beside
// a manifest survives re-applying it, changed or not; what the previous
// manifest set and the new one drops is removed.
func applyKeepsOtherWritersWork(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	owner := configMap("apply-owner", nil, nil)
	if err := cl.Create(ctx, owner); err != nil {
		t.Fatal(err)
	}
	manifest := func(data map[string]string) *orchestrator.ConfigMap {
		return configMap("applied", map[string]string{"app": "web"}, data)
	}
	if err := cl.Apply(ctx, manifest(map[string]string{"a": "1", "b": "2"})); err != nil {
		t.Fatal(err)
	}
	// Another writer adds a label, an annotation, a finalizer, an owner
	// reference and a data key.
	cur := getCM(t, cl, "applied")
	cur.Labels["team"] = "blue"
	cur.Annotations["note"] = "kept"
	cur.Finalizers = append(cur.Finalizers, "example.com/hold")
	cur.OwnerReferences = []orchestrator.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}}
	cur.Data["c"] = "3"
	if err := cl.Update(ctx, cur); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cl.Patch(context.Background(), configMap("applied", nil, nil), orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`)))
	})

	// The unchanged manifest writes nothing.
	same := manifest(map[string]string{"a": "1", "b": "2"})
	if err := cl.Apply(ctx, same); err != nil {
		t.Fatal(err)
	}
	if same.ResourceVersion != cur.ResourceVersion {
		t.Errorf("re-applying an unchanged manifest wrote: resourceVersion %s -> %s", cur.ResourceVersion, same.ResourceVersion)
	}

	// A changed manifest: a changes, b goes; the other writer's work stays.
	changed := manifest(map[string]string{"a": "10"})
	if err := cl.Apply(ctx, changed); err != nil {
		t.Fatal(err)
	}
	got := getCM(t, cl, "applied")
	var problems []string
	if got.Data["a"] != "10" || got.Data["c"] != "3" || len(got.Data) != 2 {
		problems = append(problems, "data "+strings.TrimSpace(fmtMap(got.Data))+", want a=10 c=3")
	}
	if got.Labels["app"] != "web" || got.Labels["team"] != "blue" {
		problems = append(problems, "labels "+fmtMap(got.Labels))
	}
	if got.Annotations["note"] != "kept" || got.Annotations[lastApplied] == "" {
		problems = append(problems, "annotations "+fmtMap(got.Annotations))
	}
	if len(got.Finalizers) != 1 || len(got.OwnerReferences) != 1 {
		problems = append(problems, "finalizers or ownerReferences lost")
	}
	if len(problems) > 0 {
		t.Fatalf("after applying a changed manifest: %s", strings.Join(problems, "; "))
	}
}

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

func fmtMap(m map[string]string) string {
	var b strings.Builder
	for k, v := range m {
		if k == lastApplied {
			v = "…"
		}
		b.WriteString(k + "=" + v + " ")
	}
	return b.String()
}

// applyDoesNotFinishDeletion: an object being deleted, held by another
// actor's finalizer, is not deleted by re-applying its manifest.
func applyDoesNotFinishDeletion(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	manifest := func() *orchestrator.ConfigMap {
		return configMap("held", nil, map[string]string{"k": "v"})
	}
	if err := cl.Apply(ctx, manifest()); err != nil {
		t.Fatal(err)
	}
	held := getCM(t, cl, "held")
	held.Finalizers = []string{"example.com/hold"}
	if err := cl.Update(ctx, held); err != nil {
		t.Fatal(err)
	}
	if err := cl.Delete(ctx, configMap("held", nil, nil)); err != nil {
		t.Fatal(err)
	}
	if err := cl.Apply(ctx, manifest()); err != nil {
		t.Fatal(err)
	}
	got := getCM(t, cl, "held")
	if got.DeletionTimestamp == nil || len(got.Finalizers) != 1 {
		t.Fatalf("after re-apply: deletionTimestamp %v finalizers %v", got.DeletionTimestamp, got.Finalizers)
	}
	// Releasing the finalizer finishes the deletion.
	if err := cl.Patch(ctx, got, orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))); err != nil {
		t.Fatal(err)
	}
	if err := cl.Get(ctx, orchestrator.KeyFor(got), got); !orchestrator.IsNotFound(err) {
		t.Fatalf("after the finalizer went: %v", err)
	}
}

func dryRun(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	key := orchestrator.ObjectKey{Namespace: "default", Name: "dry"}
	cm := configMap("dry", nil, map[string]string{"a": "1"})
	if err := cl.Create(ctx, cm, orchestrator.DryRunAll); err != nil {
		t.Fatal(err)
	}
	if cm.UID == "" || cm.ResourceVersion != "" {
		t.Errorf("dry-run create returned uid %q resourceVersion %q; want a uid and no resourceVersion", cm.UID, cm.ResourceVersion)
	}
	if err := cl.Get(ctx, key, &orchestrator.ConfigMap{}); !orchestrator.IsNotFound(err) {
		t.Fatalf("dry-run create stored the object: %v", err)
	}
	if err := cl.Apply(ctx, configMap("dry", nil, nil), orchestrator.DryRunAll); err != nil {
		t.Fatal(err)
	}
	if err := cl.Get(ctx, key, &orchestrator.ConfigMap{}); !orchestrator.IsNotFound(err) {
		t.Fatalf("dry-run apply stored the object: %v", err)
	}
	// Dry runs still validate.
	bad := configMap("Not_A_Name", nil, nil)
	if err := cl.Create(ctx, bad, orchestrator.DryRunAll); !orchestrator.IsInvalid(err) {
		t.Fatalf("dry-run create of an invalid name: %v", err)
	}

	if err := cl.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	stored := cm.ResourceVersion
	upd := getCM(t, cl, "dry")
	upd.Data["a"] = "2"
	if err := cl.Update(ctx, upd, orchestrator.DryRunAll); err != nil {
		t.Fatal(err)
	}
	if upd.Data["a"] != "2" {
		t.Errorf("dry-run update did not return the would-be object: %v", upd.Data)
	}
	if err := cl.Patch(ctx, configMap("dry", nil, nil), orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"data":{"a":"3"}}`)), orchestrator.DryRunAll); err != nil {
		t.Fatal(err)
	}
	if err := cl.Delete(ctx, configMap("dry", nil, nil), orchestrator.DryRunAll); err != nil {
		t.Fatal(err)
	}
	got := getCM(t, cl, "dry")
	if got.ResourceVersion != stored || got.Data["a"] != "1" {
		t.Fatalf("dry runs changed the object: resourceVersion %s (was %s), data %v", got.ResourceVersion, stored, got.Data)
	}
	// A dry-run create of an existing name fails as the real one would.
	if err := cl.Create(ctx, configMap("dry", nil, nil), orchestrator.DryRunAll); !orchestrator.IsAlreadyExists(err) {
		t.Fatalf("dry-run create of an existing name: %v", err)
	}
}

func fieldOwner(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	cm := configMap("owned", nil, map[string]string{"a": "1"})
	if err := cl.Create(ctx, cm, orchestrator.FieldOwner("deployer")); err != nil {
		t.Fatal(err)
	}
	cm.Data["a"] = "2"
	if err := cl.Update(ctx, cm, orchestrator.FieldOwner("editor")); err != nil {
		t.Fatal(err)
	}
	got := getCM(t, cl, "owned")
	managers := map[string]bool{}
	for _, e := range got.ManagedFields {
		if e.Operation != "Update" || e.Time == nil || e.APIVersion != "v1" {
			t.Errorf("managedFields entry %+v: want operation Update, a time and apiVersion v1", e)
		}
		managers[e.Manager] = true
	}
	if !managers["deployer"] || !managers["editor"] || len(got.ManagedFields) != 2 {
		t.Fatalf("managedFields %+v: want one entry each for deployer and editor", got.ManagedFields)
	}
	err := cl.Update(ctx, got, orchestrator.FieldOwner(strings.Repeat("x", 129)))
	if !orchestrator.IsBadRequest(err) || !strings.Contains(err.Error(), "fieldManager") {
		t.Fatalf("a 129-character field owner: %v", err)
	}
}

func patchTypes(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	cm := configMap("patched", nil, map[string]string{"a": "1"})
	if err := cl.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	jp := orchestrator.RawPatch(orchestrator.JSONPatchType, []byte(`[{"op":"test","path":"/data/a","value":"1"},{"op":"add","path":"/data/b","value":"2"}]`))
	if err := cl.Patch(ctx, cm, jp); err != nil {
		t.Fatal(err)
	}
	if cm.Data["b"] != "2" {
		t.Fatalf("JSON patch result %v", cm.Data)
	}
	failing := orchestrator.RawPatch(orchestrator.JSONPatchType, []byte(`[{"op":"test","path":"/data/a","value":"9"}]`))
	if err := cl.Patch(ctx, cm, failing); !orchestrator.IsBadRequest(err) {
		t.Fatalf("failing JSON patch test: %v", err)
	}
	if err := cl.Patch(ctx, cm, orchestrator.RawPatch(orchestrator.JSONPatchType, []byte(`{"op":"add"}`))); !orchestrator.IsBadRequest(err) {
		t.Fatalf("malformed JSON patch: %v", err)
	}
	for _, pt := range []orchestrator.PatchType{orchestrator.StrategicMergePatchType, orchestrator.ApplyPatchType, "text/plain"} {
		if err := cl.Patch(ctx, cm, orchestrator.RawPatch(pt, []byte(`{}`))); !orchestrator.IsUnsupportedMediaType(err) {
			t.Errorf("patch type %s: want UnsupportedMediaType, got %v", pt, err)
		}
	}
	// MergeFrom: change a copy, send the difference.
	orig := getCM(t, cl, "patched")
	changed := orig.DeepCopy()
	changed.Data["a"] = "changed"
	delete(changed.Data, "b")
	if err := cl.Patch(ctx, changed, orchestrator.MergeFrom(orig)); err != nil {
		t.Fatal(err)
	}
	got := getCM(t, cl, "patched")
	if got.Data["a"] != "changed" || len(got.Data) != 1 {
		t.Fatalf("MergeFrom result %v", got.Data)
	}
}
