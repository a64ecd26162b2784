package orchestrator_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// clientConformance checks one Client implementation: each verb, the
// typed errors, selectors, watches, the status subresource, the write
// options, patch types and Apply. Every implementation (the in-process
// client, the HTTPS client) runs it and must pass all of it.
func clientConformance(t *testing.T, cl orchestrator.Client) {
	t.Run("CRUD", func(t *testing.T) { crud(t, cl) })
	t.Run("ErrorPredicates", func(t *testing.T) { errorPredicates(t, cl) })
	t.Run("ListSelectors", func(t *testing.T) { listSelectors(t, cl) })
	t.Run("WatchOrderAndResume", func(t *testing.T) { watchOrderAndResume(t, cl) })
	t.Run("UpdateStatus", func(t *testing.T) { updateStatus(t, cl) })
	t.Run("ApplyKeepsOtherWritersWork", func(t *testing.T) { applyKeepsOtherWritersWork(t, cl) })
	t.Run("ApplyDoesNotFinishDeletion", func(t *testing.T) { applyDoesNotFinishDeletion(t, cl) })
	t.Run("DryRun", func(t *testing.T) { dryRun(t, cl) })
	t.Run("FieldOwner", func(t *testing.T) { fieldOwner(t, cl) })
	t.Run("PatchTypes", func(t *testing.T) { patchTypes(t, cl) })
	t.Run("ApplyAllStoresNothingWhenADocumentFails", func(t *testing.T) { applyAllStoresNothingWhenADocumentFails(t, cl) })
	t.Run("ApplyAllAppliesInOrder", func(t *testing.T) { applyAllAppliesInOrder(t, cl) })
	t.Run("NilObjectsAreBadRequests", func(t *testing.T) { nilObjectsAreBadRequests(t, cl) })
	t.Run("CreateWithResourceVersion", func(t *testing.T) { createWithResourceVersion(t, cl) })
	t.Run("ListArguments", func(t *testing.T) { listArguments(t, cl) })
	t.Run("WatchFromTheFuture", func(t *testing.T) { watchFromTheFuture(t, cl) })
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
	smp := orchestrator.RawPatch(orchestrator.StrategicMergePatchType, []byte(`{"metadata":{"finalizers":["example.com/keep"]},"data":{"c":"3"}}`))
	if err := cl.Patch(ctx, cm, smp); err != nil {
		t.Fatalf("strategic merge patch: %v", err)
	}
	if cm.Data["c"] != "3" || cm.Data["a"] != "1" || len(cm.Finalizers) != 1 {
		t.Fatalf("strategic merge patch result %v %v", cm.Data, cm.Finalizers)
	}
	unfinalize := orchestrator.RawPatch(orchestrator.StrategicMergePatchType, []byte(`{"metadata":{"$deleteFromPrimitiveList/finalizers":["example.com/keep"]},"data":{"c":null}}`))
	if err := cl.Patch(ctx, cm, unfinalize); err != nil {
		t.Fatalf("strategic merge patch: %v", err)
	}
	if _, ok := cm.Data["c"]; ok || len(cm.Finalizers) != 0 {
		t.Fatalf("strategic merge patch result %v %v", cm.Data, cm.Finalizers)
	}
	badSMP := orchestrator.RawPatch(orchestrator.StrategicMergePatchType, []byte(`{"metadata":{"$setElementOrder/ownerReferences":"x"}}`))
	if err := cl.Patch(ctx, cm, badSMP); !orchestrator.IsBadRequest(err) {
		t.Fatalf("malformed strategic merge patch: %v", err)
	}
	for _, pt := range []orchestrator.PatchType{orchestrator.ApplyPatchType, "text/plain"} {
		if err := cl.Patch(ctx, cm, orchestrator.RawPatch(pt, []byte(`{}`))); !orchestrator.IsUnsupportedMediaType(err) {
			t.Errorf("patch type %s: want UnsupportedMediaType, got %v", pt, err)
		}
	}
	// StrategicMergeFrom: a merged list keeps what another writer added.
	base := getCM(t, cl, "patched")
	other := base.DeepCopy()
	other.Finalizers = append(other.Finalizers, "example.com/other")
	if err := cl.Update(ctx, other); err != nil {
		t.Fatal(err)
	}
	mine := base.DeepCopy()
	mine.Finalizers = append(mine.Finalizers, "example.com/mine")
	mine.Data["d"] = "4"
	if err := cl.Patch(ctx, mine, orchestrator.StrategicMergeFrom(base)); err != nil {
		t.Fatal(err)
	}
	if got := getCM(t, cl, "patched"); len(got.Finalizers) != 2 || got.Data["d"] != "4" {
		t.Fatalf("StrategicMergeFrom result: finalizers %v data %v, want both finalizers", got.Finalizers, got.Data)
	}
	reset := getCM(t, cl, "patched")
	reset.Finalizers = nil
	delete(reset.Data, "d")
	if err := cl.Update(ctx, reset); err != nil {
		t.Fatal(err)
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

// A manifest for ApplyAll with a problem in every document but the last:
// a Namespace created too late, a Deployment that fails validation, a
// misspelled kind, a Namespace that exists nowhere.
const badManifest = `apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: aa-shop}
data: {a: "1"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: aa-web}
spec:
  replicas: -1
  selector: {matchLabels: {app: aa-web}}
  template:
    metadata: {labels: {app: aa-web}}
    spec:
      containers: [{name: web, image: web:1}]
---
# a misspelled kind
apiVersion: apps/v1
kind: Deplyment
metadata: {name: aa-typo}
---
apiVersion: v1
kind: Pod
metadata: {name: aa-pod, namespace: aa-nowhere}
spec:
  containers: [{name: app, image: app:1}]
---
apiVersion: v1
kind: Namespace
metadata: {name: aa-shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: aa-fine}
`

// applyAllStoresNothingWhenADocumentFails: every failing document is
// reported, decoding, validation and admission alike, and nothing of the
// manifest is stored.
func applyAllStoresNothingWhenADocumentFails(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	objs, err := cl.ApplyAll(ctx, []byte(badManifest))
	if objs != nil {
		t.Errorf("ApplyAll returned %d objects with its error", len(objs))
	}
	// Each line in the registry's wording (the in-process client) or in
	// Kubernetes' (the HTTPS API names the resource, and the group of
	// an Invalid kind).
	want := [][]string{
		{`nothing applied: 4 of 6 objects failed the checks`},
		{`document 1 (line 1, ConfigMap "settings"): Namespace "aa-shop" not found (document 5 creates it: put that document before this one)`,
			`document 1 (line 1, ConfigMap "settings"): namespaces "aa-shop" not found (document 5 creates it: put that document before this one)`},
		{`document 2 (line 6): Deployment "aa-web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`,
			`document 2 (line 6, Deployment "aa-web"): Deployment.apps "aa-web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`},
		{`document 3 (line 18, Deplyment "aa-typo"): unsupported kind "Deplyment" in group/version "apps/v1": did you mean "Deployment"?`},
		{`document 4 (line 22, Pod "aa-pod"): Namespace "aa-nowhere" not found`,
			`document 4 (line 22, Pod "aa-pod"): namespaces "aa-nowhere" not found`},
	}
	if err == nil {
		t.Fatal("ApplyAll of a bad manifest succeeded")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("error has %d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for i, l := range lines {
		if !slices.Contains(want[i], l) {
			t.Errorf("error line %d\n got %s\nwant %s", i+1, l, strings.Join(want[i], "\n  or "))
		}
	}
	var ae *orchestrator.ApplyAllError
	if !errors.As(err, &ae) || ae.Validated || ae.Applied != 0 || ae.Total != 6 {
		t.Fatalf("error %#v: want an *ApplyAllError, not validated, 0 of 6 applied", err)
	}
	var where []string
	for _, d := range ae.Failed {
		where = append(where, fmt.Sprintf("%d:%d:%s/%s", d.Index, d.Line, d.Kind, d.Name))
		if d.Object != nil {
			t.Errorf("document %d failed, yet has an Object", d.Index)
		}
	}
	if got := strings.Join(where, " "); got != "1:1:ConfigMap/settings 2:6:Deployment/aa-web 3:18:Deplyment/aa-typo 4:22:Pod/aa-pod" {
		t.Errorf("failed documents %s", got)
	}
	// Each document's error keeps its reason; the predicates on the
	// whole error see the first one's.
	for i, is := range []func(error) bool{orchestrator.IsNotFound, orchestrator.IsInvalid, orchestrator.IsInvalid, orchestrator.IsNotFound} {
		if !is(ae.Failed[i].Err) {
			t.Errorf("document %d: unexpected reason: %v", ae.Failed[i].Index, ae.Failed[i].Err)
		}
	}
	if !orchestrator.IsNotFound(err) {
		t.Errorf("IsNotFound(err) = false, want the first failing document's reason")
	}
	if got := orchestrator.FieldErrors(err).Fields(); !slices.Equal(got, []string{"spec.replicas", "kind"}) {
		t.Errorf("FieldErrors = %v", got)
	}
	// Nothing was stored, not even the documents that passed.
	if err := cl.Get(ctx, orchestrator.ObjectKey{Name: "aa-shop"}, &orchestrator.Namespace{}); !orchestrator.IsNotFound(err) {
		t.Errorf("Namespace aa-shop: %v, want NotFound", err)
	}
	if err := cl.Get(ctx, orchestrator.ObjectKey{Name: "aa-fine"}, &orchestrator.ConfigMap{}); !orchestrator.IsNotFound(err) {
		t.Errorf("ConfigMap aa-fine: %v, want NotFound", err)
	}
	// A manifest without objects is refused.
	if _, err := cl.ApplyAll(ctx, []byte("---\n# nothing\n")); !orchestrator.IsBadRequest(err) {
		t.Errorf("empty manifest: %v, want BadRequest", err)
	}
}

// applyAllAppliesInOrder: a Namespace first lets the objects after it be
// created in it; the objects come back as stored; DryRunAll stores
// nothing; applying the manifest again changes nothing.
func applyAllAppliesInOrder(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	manifest := func(level string) []byte {
		return []byte(`apiVersion: v1
kind: Namespace
metadata: {name: ao-shop}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: ao-shop}
data: {level: ` + level + `}
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: ao-first}, data: {n: "1"}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: ao-second, namespace: ao-shop}, data: {n: "2"}}
`)
	}
	objs, err := cl.ApplyAll(ctx, manifest("info"), orchestrator.FieldOwner("deployer"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		if o.GetResourceVersion() == "" || o.GetUID() == "" {
			t.Errorf("%s %s came back without resourceVersion or uid", o.GetTypeMeta().Kind, o.GetName())
		}
		got = append(got, o.GetTypeMeta().Kind+" "+o.GetNamespace()+"/"+o.GetName())
	}
	if want := []string{"Namespace /ao-shop", "ConfigMap ao-shop/settings", "ConfigMap default/ao-first", "ConfigMap ao-shop/ao-second"}; !slices.Equal(got, want) {
		t.Fatalf("applied %q, want %q", got, want)
	}
	settings := func() *orchestrator.ConfigMap {
		var cm orchestrator.ConfigMap
		if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "ao-shop", Name: "settings"}, &cm); err != nil {
			t.Fatal(err)
		}
		return &cm
	}
	stored := settings()
	if stored.Data["level"] != "info" || stored.ManagedFields[0].Manager != "deployer" {
		t.Errorf("stored settings: data %v managedFields %+v", stored.Data, stored.ManagedFields)
	}

	// A dry run returns what would be stored and stores nothing.
	preview, err := cl.ApplyAll(ctx, manifest("debug"), orchestrator.DryRunAll)
	if err != nil {
		t.Fatal(err)
	}
	if cm := preview[1].(*orchestrator.ConfigMap); cm.Data["level"] != "debug" {
		t.Errorf("dry run returned %v", cm.Data)
	}
	if cur := settings(); cur.ResourceVersion != stored.ResourceVersion || cur.Data["level"] != "info" {
		t.Errorf("a dry run changed the object: resourceVersion %s -> %s, data %v", stored.ResourceVersion, cur.ResourceVersion, cur.Data)
	}

	// The same manifest again writes nothing.
	again, err := cl.ApplyAll(ctx, manifest("info"))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(objs); i++ {
		if again[i].GetResourceVersion() != objs[i].GetResourceVersion() {
			t.Errorf("re-applying %s wrote: resourceVersion %s -> %s", objs[i].GetName(), objs[i].GetResourceVersion(), again[i].GetResourceVersion())
		}
	}
}
