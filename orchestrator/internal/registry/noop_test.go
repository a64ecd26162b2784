package registry_test

import (
	"context"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// TestNoOpWritesKeepResourceVersion: an update, status update, patch (of
// every type) or repeated delete that changes nothing stores nothing, as
// Kubernetes' GuaranteedUpdate: the caller gets the stored object with its
// resourceVersion and watchers see no event. A field manager's time alone
// is no change. A real change still writes.
func TestNoOpWritesKeepResourceVersion(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	d := deployment("same")
	d.Finalizers = []string{"example.com/hold"}
	if err := r.Create(ctx, d, client.CreateOptions{FieldManager: "creator"}); err != nil {
		t.Fatal(err)
	}
	st := d.DeepCopy()
	st.Status.Replicas = 2
	if err := r.UpdateStatus(ctx, st, client.UpdateOptions{FieldManager: "ctrl"}); err != nil {
		t.Fatal(err)
	}
	rv := st.ResourceVersion
	info, _ := r.Info(&api.Deployment{})
	w, err := r.Watch(ctx, info, client.ListOptions{ResourceVersion: rv, Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	check := func(what string, got *api.Deployment) {
		t.Helper()
		if got.ResourceVersion != rv {
			t.Errorf("%s that changes nothing: resourceVersion %s, want %s", what, got.ResourceVersion, rv)
		}
		if got.Status.Replicas != 2 || got.Generation != 1 || got.UID != d.UID {
			t.Errorf("%s: got status.replicas %d generation %d uid %s, want the stored object", what, got.Status.Replicas, got.Generation, got.UID)
		}
	}
	for _, manager := range []string{"", "creator", "someone-new"} {
		u := st.DeepCopy()
		if err := r.Update(ctx, u, client.UpdateOptions{FieldManager: manager}); err != nil {
			t.Fatal(err)
		}
		check("update by "+manager, u)
		u = st.DeepCopy()
		u.ResourceVersion = "" // unconditional
		if err := r.Update(ctx, u, client.UpdateOptions{FieldManager: manager}); err != nil {
			t.Fatal(err)
		}
		check("unconditional update by "+manager, u)
		s := st.DeepCopy()
		if err := r.UpdateStatus(ctx, s, client.UpdateOptions{FieldManager: manager}); err != nil {
			t.Fatal(err)
		}
		check("status update by "+manager, s)
	}
	for _, p := range []struct {
		typ  api.PatchType
		body string
	}{
		{api.MergePatchType, `{"metadata":{"labels":{"app":"same"}}}`},
		{api.StrategicMergePatchType, `{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"img:1"}]}}}}`},
		{api.JSONPatchType, `[{"op":"replace","path":"/spec/replicas","value":2}]`},
	} {
		got := &api.Deployment{ObjectMeta: api.ObjectMeta{Name: "same", Namespace: "default"}}
		if err := r.Patch(ctx, got, p.typ, []byte(p.body), client.PatchOptions{FieldManager: "kubectl-patch"}); err != nil {
			t.Fatalf("%s: %v", p.typ, err)
		}
		check(string(p.typ)+" patch", got)
	}
	// Dry run reports the stored version too.
	dry := st.DeepCopy()
	if err := r.Update(ctx, dry, client.UpdateOptions{DryRun: true}); err != nil {
		t.Fatal(err)
	}
	check("dry-run update", dry)

	// A real change writes, and is the first event the watcher sees.
	changed := st.DeepCopy()
	changed.Labels["tier"] = "web"
	if err := r.Update(ctx, changed, client.UpdateOptions{FieldManager: "creator"}); err != nil {
		t.Fatal(err)
	}
	if changed.ResourceVersion == rv {
		t.Fatalf("a label change kept resourceVersion %s", rv)
	}
	ev := expectEvent(t, w, api.Modified, "same", nil)
	if ev.Object.GetResourceVersion() != changed.ResourceVersion {
		t.Fatalf("first event at %s, want the label change at %s (a no-op write was seen)", ev.Object.GetResourceVersion(), changed.ResourceVersion)
	}

	// Deleting marks the object (its finalizer holds it); deleting it
	// again changes nothing.
	var del api.Deployment
	if err := r.Delete(ctx, "default", "same", &del, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if del.DeletionTimestamp == nil {
		t.Fatal("delete of a held object did not mark it")
	}
	expectEvent(t, w, api.Modified, "same", nil)
	var again api.Deployment
	if err := r.Delete(ctx, "default", "same", &again, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if again.ResourceVersion != del.ResourceVersion {
		t.Errorf("second delete: resourceVersion %s, want %s", again.ResourceVersion, del.ResourceVersion)
	}
	// Removing the finalizer removes the object: the next event is that.
	again.Finalizers = nil
	if err := r.Update(ctx, &again, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, w, api.Deleted, "same", nil)
}

// TestManagedFieldsChangeIsAWrite: managedFields the caller changes are a
// change, even when nothing else is.
func TestManagedFieldsChangeIsAWrite(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "m", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	if err := r.Create(ctx, cm, client.CreateOptions{FieldManager: "a"}); err != nil {
		t.Fatal(err)
	}
	if len(cm.ManagedFields) != 1 {
		t.Fatalf("managedFields %+v, want one entry", cm.ManagedFields)
	}
	rv := cm.ResourceVersion
	cm.ManagedFields = []api.ManagedFieldsEntry{}
	if err := r.Update(ctx, cm, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if cm.ResourceVersion == rv || len(cm.ManagedFields) != 0 {
		t.Fatalf("clearing managedFields: resourceVersion %s (was %s), managedFields %+v", cm.ResourceVersion, rv, cm.ManagedFields)
	}
}
