package orchestrator_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
)

// The basics of the Client contract, run by clientConformance on every
// implementation: each verb, the error predicates, selectors, watches and
// the status subresource.

// crud: each verb on a namespaced kind of the core group, one of a named
// group, and a cluster-scoped kind; obj receives what is stored.
func crud(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	cm := configMap("cf-crud", map[string]string{"app": "crud"}, map[string]string{"a": "1"})
	if err := cl.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if cm.UID == "" || cm.ResourceVersion == "" || cm.CreationTimestamp.IsZero() || cm.Namespace != "default" {
		t.Fatalf("created object lacks what the server fills: uid %q resourceVersion %q namespace %q", cm.UID, cm.ResourceVersion, cm.Namespace)
	}
	got := getCM(t, cl, "cf-crud")
	if got.UID != cm.UID || got.Data["a"] != "1" || got.Labels["app"] != "crud" {
		t.Fatalf("Get after Create: %+v", got)
	}
	got.Data["a"] = "2"
	before := got.ResourceVersion
	if err := cl.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion == before || got.Data["a"] != "2" {
		t.Fatalf("Update: resourceVersion %s (was %s), data %v", got.ResourceVersion, before, got.Data)
	}
	if err := cl.Patch(ctx, got, orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"data":{"b":"3"}}`))); err != nil {
		t.Fatal(err)
	}
	if got.Data["a"] != "2" || got.Data["b"] != "3" {
		t.Fatalf("Patch result %v", got.Data)
	}
	last := configMap("cf-crud", nil, nil)
	if err := cl.Delete(ctx, last); err != nil {
		t.Fatal(err)
	}
	if last.UID != cm.UID {
		t.Errorf("Delete did not return the last state: uid %q, want %q", last.UID, cm.UID)
	}
	if err := cl.Get(ctx, orchestrator.KeyFor(cm), &orchestrator.ConfigMap{}); !orchestrator.IsNotFound(err) {
		t.Fatalf("Get after Delete: %v", err)
	}

	// A kind of the apps group.
	dep := &orchestrator.Deployment{
		ObjectMeta: orchestrator.ObjectMeta{Name: "cf-crud"},
		Spec: orchestrator.DeploymentSpec{
			Replicas: new(int32(0)),
			Selector: &orchestrator.LabelSelector{MatchLabels: map[string]string{"app": "cf-crud"}},
			Template: orchestrator.PodTemplateSpec{
				ObjectMeta: orchestrator.ObjectMeta{Labels: map[string]string{"app": "cf-crud"}},
				Spec:       orchestrator.PodSpec{Containers: []orchestrator.Container{{Name: "app", Image: "app:1"}}},
			},
		},
	}
	if err := cl.Create(ctx, dep); err != nil {
		t.Fatal(err)
	}
	var gotDep orchestrator.Deployment
	if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "cf-crud"}, &gotDep); err != nil {
		t.Fatal(err)
	}
	if gotDep.Spec.Template.Spec.Containers[0].Image != "app:1" || gotDep.Generation != 1 {
		t.Fatalf("Deployment read back: generation %d, %+v", gotDep.Generation, gotDep.Spec.Template.Spec.Containers)
	}
	if err := cl.Delete(ctx, &gotDep); err != nil {
		t.Fatal(err)
	}

	// A cluster-scoped kind: no namespace in its key.
	ns := &orchestrator.Namespace{ObjectMeta: orchestrator.ObjectMeta{Name: "cf-crud", Labels: map[string]string{"team": "a"}}}
	if err := cl.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	var gotNS orchestrator.Namespace
	if err := cl.Get(ctx, orchestrator.ObjectKey{Name: "cf-crud"}, &gotNS); err != nil || gotNS.Labels["team"] != "a" || gotNS.Namespace != "" {
		t.Fatalf("Namespace read back: %v %+v", err, gotNS.ObjectMeta)
	}
	var all orchestrator.NamespaceList
	if err := cl.List(ctx, &all); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(all.Items, func(n orchestrator.Namespace) bool { return n.Name == "cf-crud" }) {
		t.Errorf("Namespace list lacks cf-crud")
	}
}

// errorPredicates: the typed errors of each failure, with Invalid's field
// paths.
func errorPredicates(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	missing := orchestrator.ObjectKey{Namespace: "default", Name: "cf-missing"}
	err := cl.Get(ctx, missing, &orchestrator.ConfigMap{})
	if !orchestrator.IsNotFound(err) || !strings.Contains(err.Error(), `"cf-missing"`) {
		t.Errorf("Get of a missing object: %v", err)
	}
	if err := cl.Update(ctx, configMap("cf-missing", nil, nil)); !orchestrator.IsNotFound(err) {
		t.Errorf("Update of a missing object: %v", err)
	}
	if err := cl.Delete(ctx, configMap("cf-missing", nil, nil)); !orchestrator.IsNotFound(err) {
		t.Errorf("Delete of a missing object: %v", err)
	}
	if err := cl.Patch(ctx, configMap("cf-missing", nil, nil), orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{}`))); !orchestrator.IsNotFound(err) {
		t.Errorf("Patch of a missing object: %v", err)
	}
	if err := cl.Create(ctx, &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Name: "x", Namespace: "cf-no-such-ns"}}); !orchestrator.IsNotFound(err) ||
		!strings.Contains(err.Error(), `"cf-no-such-ns"`) {
		t.Errorf("Create in a missing Namespace: %v", err)
	}

	cm := configMap("cf-errors", nil, map[string]string{"a": "1"})
	if err := cl.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if err := cl.Create(ctx, configMap("cf-errors", nil, nil)); !orchestrator.IsAlreadyExists(err) {
		t.Errorf("Create of an existing name: %v", err)
	}

	stale := cm.DeepCopy()
	cm.Data["a"] = "2"
	if err := cl.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	stale.Data["a"] = "3"
	if err := cl.Update(ctx, stale); !orchestrator.IsConflict(err) {
		t.Errorf("Update at a stale resourceVersion: %v", err)
	}
	if err := cl.Delete(ctx, configMap("cf-errors", nil, nil), orchestrator.Preconditions{ResourceVersion: stale.ResourceVersion}); !orchestrator.IsConflict(err) {
		t.Errorf("Delete with a stale precondition: %v", err)
	}
	if err := cl.Patch(ctx, configMap("cf-errors", nil, nil), orchestrator.RawPatch(orchestrator.MergePatchType,
		[]byte(`{"metadata":{"resourceVersion":"`+stale.ResourceVersion+`"},"data":{"a":"4"}}`))); !orchestrator.IsConflict(err) {
		t.Errorf("Patch at a stale resourceVersion: %v", err)
	}

	bad := &orchestrator.ConfigMap{
		ObjectMeta: orchestrator.ObjectMeta{Name: "Not_A_Name", Labels: map[string]string{"bad key!": "v"}},
		Data:       map[string]string{"a b": "x"},
	}
	err = cl.Create(ctx, bad)
	if !orchestrator.IsInvalid(err) {
		t.Fatalf("Create of an invalid object: %v", err)
	}
	fields := orchestrator.FieldErrors(err).Fields()
	for _, want := range []string{"metadata.name", "metadata.labels", "data[a b]"} {
		if !slices.Contains(fields, want) {
			t.Errorf("Invalid error names fields %v; want %s among them", fields, want)
		}
	}
	if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "Not_A_Name"}, &orchestrator.ConfigMap{}); !orchestrator.IsNotFound(err) {
		t.Errorf("an invalid object was stored: %v", err)
	}
}

// listSelectors: List and the label and field selectors, in one namespace
// or all.
func listSelectors(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	for _, ns := range []string{"cf-list-a", "cf-list-b"} {
		if err := cl.Create(ctx, &orchestrator.Namespace{ObjectMeta: orchestrator.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
		for i, tier := range []string{"web", "web", "db"} {
			cm := &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{
				Name: fmt.Sprintf("cm-%d", i), Namespace: ns, Labels: map[string]string{"tier": tier, "cf-list": "yes"},
			}}
			if err := cl.Create(ctx, cm); err != nil {
				t.Fatal(err)
			}
		}
	}
	names := func(opts ...orchestrator.ListOption) []string {
		t.Helper()
		var l orchestrator.ConfigMapList
		if err := cl.List(ctx, &l, opts...); err != nil {
			return []string{"error: " + err.Error()}
		}
		if _, err := strconv.ParseInt(l.ResourceVersion, 10, 64); err != nil {
			t.Errorf("list resourceVersion %q", l.ResourceVersion)
		}
		var out []string
		for _, cm := range l.Items {
			out = append(out, cm.Namespace+"/"+cm.Name)
		}
		slices.Sort(out)
		return out
	}
	sel, err := orchestrator.ParseSelector("cf-list=yes,tier in (web)")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts []orchestrator.ListOption
		want string
	}{
		{"Namespace", []orchestrator.ListOption{orchestrator.InNamespace("cf-list-a")}, "cf-list-a/cm-0 cf-list-a/cm-1 cf-list-a/cm-2"},
		{"Labels", []orchestrator.ListOption{orchestrator.InNamespace("cf-list-b"), orchestrator.MatchingLabels{"tier": "db"}}, "cf-list-b/cm-2"},
		{"SelectorAllNamespaces", []orchestrator.ListOption{orchestrator.MatchingLabelsSelector{Selector: sel}},
			"cf-list-a/cm-0 cf-list-a/cm-1 cf-list-b/cm-0 cf-list-b/cm-1"},
		{"Fields", []orchestrator.ListOption{orchestrator.MatchingFields{"metadata.name": "cm-1"}, orchestrator.MatchingLabels{"cf-list": "yes"}},
			"cf-list-a/cm-1 cf-list-b/cm-1"},
		{"FieldsAndLabels", []orchestrator.ListOption{orchestrator.MatchingFields{"metadata.namespace": "cf-list-a"}, orchestrator.MatchingLabels{"tier": "db"}},
			"cf-list-a/cm-2"},
		{"NothingMatches", []orchestrator.ListOption{orchestrator.InNamespace("cf-list-a"), orchestrator.MatchingLabels{"tier": "cache"}}, ""},
	}
	for _, tt := range tests {
		if got := strings.Join(names(tt.opts...), " "); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	var l orchestrator.ConfigMapList
	if err := cl.List(ctx, &l, orchestrator.MatchingFields{"spec.nothing": "x"}); !orchestrator.IsBadRequest(err) {
		t.Errorf("field selector on an unsupported field: %v", err)
	}
}

// nextEvent returns the next event of w, failing after a deadline.
func nextEvent(t *testing.T, w orchestrator.Watcher) orchestrator.WatchEvent {
	t.Helper()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatalf("watch ended: %v", w.Err())
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	return orchestrator.WatchEvent{}
}

func describeEvent(ev orchestrator.WatchEvent) string {
	cm, _ := ev.Object.(*orchestrator.ConfigMap)
	if cm == nil {
		return fmt.Sprintf("%s %T", ev.Type, ev.Object)
	}
	return fmt.Sprintf("%s %s a=%s", ev.Type, cm.Name, cm.Data["a"])
}

// watchOrderAndResume: a watch from a list's resourceVersion delivers
// ADDED, MODIFIED and DELETED in order with their revisions, filtered by
// its selectors; a watch from a revision in the middle replays what came
// after it.
func watchOrderAndResume(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	var start orchestrator.ConfigMapList
	if err := cl.List(ctx, &start, orchestrator.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	w, err := cl.Watch(ctx, &orchestrator.ConfigMapList{}, orchestrator.InNamespace("default"),
		orchestrator.MatchingLabels{"cf-watch": "yes"}, orchestrator.FromResourceVersion(start.ResourceVersion))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	cm := configMap("cf-watch", map[string]string{"cf-watch": "yes"}, map[string]string{"a": "1"})
	if err := cl.Create(ctx, cm); err != nil {
		t.Fatal(err)
	}
	// Not matching the selector: not seen.
	if err := cl.Create(ctx, configMap("cf-watch-other", nil, map[string]string{"a": "x"})); err != nil {
		t.Fatal(err)
	}
	created := cm.ResourceVersion
	cm.Data["a"] = "2"
	if err := cl.Update(ctx, cm); err != nil {
		t.Fatal(err)
	}
	if err := cl.Delete(ctx, configMap("cf-watch", nil, nil)); err != nil {
		t.Fatal(err)
	}
	var got []string
	var revs []int64
	for range 3 {
		ev := nextEvent(t, w)
		got = append(got, describeEvent(ev))
		revs = append(revs, ev.Revision)
	}
	if want := []string{"ADDED cf-watch a=1", "MODIFIED cf-watch a=2", "DELETED cf-watch a=2"}; !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	if !slices.IsSorted(revs) || strconv.FormatInt(revs[0], 10) != created {
		t.Errorf("revisions %v; want increasing, the first %s", revs, created)
	}

	// Resume after the ADDED event: the rest is replayed.
	again, err := cl.Watch(ctx, &orchestrator.ConfigMapList{}, orchestrator.InNamespace("default"),
		orchestrator.MatchingLabels{"cf-watch": "yes"}, orchestrator.FromResourceVersion(created))
	if err != nil {
		t.Fatal(err)
	}
	defer again.Stop()
	got = nil
	for range 2 {
		got = append(got, describeEvent(nextEvent(t, again)))
	}
	if want := []string{"MODIFIED cf-watch a=2", "DELETED cf-watch a=2"}; !slices.Equal(got, want) {
		t.Fatalf("resumed events %q, want %q", got, want)
	}
	again.Stop()
	if _, ok := <-again.Events(); ok {
		t.Error("Events open after Stop")
	}

	// Without a resourceVersion a watch starts now: the objects that
	// exist are not sent (cf-watch-other is), the next change is.
	now, err := cl.Watch(ctx, &orchestrator.ConfigMapList{}, orchestrator.InNamespace("default"))
	if err != nil {
		t.Fatal(err)
	}
	defer now.Stop()
	if err := cl.Create(ctx, configMap("cf-watch-now", nil, map[string]string{"a": "now"})); err != nil {
		t.Fatal(err)
	}
	if got := describeEvent(nextEvent(t, now)); got != "ADDED cf-watch-now a=now" {
		t.Fatalf("first event of a watch from now: %s, want the new object's ADDED", got)
	}
}

// watchTooOld: a watch from a revision older than the retained history
// ends with IsTooOld, from Watch itself or as the watcher's Err.
func watchTooOld(t *testing.T, cl orchestrator.Client, compacted string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w, err := cl.Watch(ctx, &orchestrator.ConfigMapList{}, orchestrator.FromResourceVersion(compacted))
	if err == nil {
		defer w.Stop()
		for range w.Events() {
		}
		err = w.Err()
	}
	if !orchestrator.IsTooOld(err) {
		t.Fatalf("watch from compacted revision %s: %v, want TooOld", compacted, err)
	}
}

// updateStatus: UpdateStatus writes only the status, Update only the rest.
func updateStatus(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	ns := &orchestrator.Namespace{ObjectMeta: orchestrator.ObjectMeta{Name: "cf-status"}}
	if err := cl.Create(ctx, ns); err != nil {
		t.Fatal(err)
	}
	ns.Labels = map[string]string{"ignored": "yes"}
	ns.Status.Conditions = []orchestrator.NamespaceCondition{{Type: "example.com/Checked", Status: orchestrator.ConditionTrue, Reason: "Test"}}
	if err := cl.UpdateStatus(ctx, ns); err != nil {
		t.Fatal(err)
	}
	var got orchestrator.Namespace
	if err := cl.Get(ctx, orchestrator.ObjectKey{Name: "cf-status"}, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Conditions) != 1 || got.Status.Conditions[0].Reason != "Test" || got.Labels["ignored"] != "" {
		t.Fatalf("after UpdateStatus: labels %v conditions %+v; want the condition and not the label", got.Labels, got.Status.Conditions)
	}
	got.Labels = map[string]string{"kept": "yes"}
	got.Status.Conditions = nil
	if err := cl.Update(ctx, &got); err != nil {
		t.Fatal(err)
	}
	if err := cl.Get(ctx, orchestrator.ObjectKey{Name: "cf-status"}, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Status.Conditions) != 1 || got.Labels["kept"] != "yes" {
		t.Fatalf("after Update: labels %v conditions %+v; want the label and the condition kept", got.Labels, got.Status.Conditions)
	}
	stale := got.DeepCopy()
	stale.ResourceVersion = "1"
	if err := cl.UpdateStatus(ctx, stale); !orchestrator.IsConflict(err) {
		t.Errorf("UpdateStatus at a stale resourceVersion: %v", err)
	}
	if err := cl.UpdateStatus(ctx, &orchestrator.Namespace{ObjectMeta: orchestrator.ObjectMeta{Name: "cf-status-missing"}}); !orchestrator.IsNotFound(err) {
		t.Errorf("UpdateStatus of a missing object: %v", err)
	}
}
