package registry_test

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newReg(t *testing.T) *registry.Registry {
	return testutil.Registry(t)
}

func deployment(name string) *api.Deployment {
	return &api.Deployment{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": name}},
		Spec: api.DeploymentSpec{
			Replicas: api.Ptr(int32(2)),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: api.PodTemplateSpec{
				ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       api.PodSpec{Containers: []api.Container{{Name: "c", Image: "img:1"}}},
			},
		},
	}
}

func TestCRUD(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	d := deployment("web")
	if err := r.Create(ctx, d, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if d.UID == "" || d.ResourceVersion == "" || d.Generation != 1 || d.CreationTimestamp.IsZero() {
		t.Fatalf("server fields not set: %+v", d.ObjectMeta)
	}
	if err := r.Create(ctx, deployment("web"), client.CreateOptions{}); !api.IsAlreadyExists(err) {
		t.Fatalf("second create: %v", err)
	}
	var got api.Deployment
	if err := r.Get(ctx, "default", "web", &got, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if got.ResourceVersion != d.ResourceVersion || got.UID != d.UID {
		t.Fatalf("get: rv %s uid %s, want %s %s", got.ResourceVersion, got.UID, d.ResourceVersion, d.UID)
	}
	// Status is kept by Update and generation bumps on spec changes only.
	st := got.DeepCopyObject().(*api.Deployment)
	st.Status.Replicas = 7
	if err := r.UpdateStatus(ctx, st, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got.Spec.Replicas = api.Ptr(int32(5))
	if err := r.Update(ctx, &got, client.UpdateOptions{}); !api.IsConflict(err) {
		t.Fatalf("stale update: %v", err)
	}
	st.Spec.Replicas = api.Ptr(int32(5))
	st.Status.Replicas = 99
	if err := r.Update(ctx, st, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if st.Generation != 2 || st.Status.Replicas != 7 {
		t.Fatalf("after update: generation %d status.replicas %d, want 2 and 7", st.Generation, st.Status.Replicas)
	}
	st.Labels["x"] = "y"
	if err := r.Update(ctx, st, client.UpdateOptions{}); err != nil || st.Generation != 2 {
		t.Fatalf("label update: %v generation %d", err, st.Generation)
	}
	st.Annotations = map[string]string{api.RevisionAnnotation: "1"}
	if err := r.Update(ctx, st, client.UpdateOptions{}); err != nil || st.Generation != 2 {
		t.Fatalf("annotation update: %v generation %d", err, st.Generation)
	}
	// Immutable selector.
	bad := st.DeepCopyObject().(*api.Deployment)
	bad.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "other"}}
	bad.Spec.Template.Labels = map[string]string{"app": "other"}
	if err := r.Update(ctx, bad, client.UpdateOptions{}); !api.IsInvalid(err) {
		t.Fatalf("selector change: %v", err)
	}
	// Patch.
	var p api.Deployment
	p.Name, p.Namespace = "web", "default"
	if err := r.Patch(ctx, &p, api.MergePatchType, []byte(`{"spec":{"replicas":3}}`), client.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if *p.Spec.Replicas != 3 || p.Generation != 3 {
		t.Fatalf("patch: replicas %d generation %d", *p.Spec.Replicas, p.Generation)
	}
	if err := r.Patch(ctx, &p, api.MergePatchType, []byte(`{"spec":{"replicaz":3}}`), client.PatchOptions{}); !api.IsInvalid(err) {
		t.Fatalf("patch with unknown field: %v", err)
	}
	// List with selectors.
	if err := r.Create(ctx, deployment("db"), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var list api.DeploymentList
	sel, _ := api.ParseSelector("app=db")
	if err := r.List(ctx, &list, client.ListOptions{Namespace: "default", Labels: sel}); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].Name != "db" || list.ResourceVersion == "" {
		t.Fatalf("list: %+v", list)
	}
	fs, _ := api.ParseFieldSelector("metadata.name=web")
	if err := r.List(ctx, &list, client.ListOptions{Fields: fs}); err != nil || len(list.Items) != 1 || list.Items[0].Name != "web" {
		t.Fatalf("field list: %v %d", err, len(list.Items))
	}
	// Delete.
	if err := r.Delete(ctx, "default", "db", &api.Deployment{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Get(ctx, "default", "db", &got, client.GetOptions{}); !api.IsNotFound(err) {
		t.Fatalf("after delete: %v", err)
	}
	if err := r.Delete(ctx, "default", "db", &api.Deployment{}, client.DeleteOptions{}); !api.IsNotFound(err) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestGenerateNameAndFinalizers(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{GenerateName: "cfg-", Namespace: "default", Finalizers: []string{"example.com/keep"}}}
	if err := r.Create(ctx, cm, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(cm.Name) != len("cfg-")+5 {
		t.Fatalf("generated name %q", cm.Name)
	}
	var out api.ConfigMap
	if err := r.Delete(ctx, "default", cm.Name, &out, client.DeleteOptions{Propagation: api.DeletePropagationForeground}); err != nil {
		t.Fatal(err)
	}
	if out.DeletionTimestamp == nil || len(out.Finalizers) != 2 {
		t.Fatalf("marked for deletion: %+v", out.ObjectMeta)
	}
	out.Finalizers = nil
	if err := r.Update(ctx, &out, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Get(ctx, "default", cm.Name, &out, client.GetOptions{}); !api.IsNotFound(err) {
		t.Fatalf("finalized object still there: %v", err)
	}
}

func TestBadInputStoresNothing(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	d := deployment("Bad_Name")
	d.Spec.Replicas = api.Ptr(int32(-1))
	d.Spec.Template.Labels = map[string]string{"app": "other"}
	d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, api.Container{Name: "c"})
	err := r.Create(ctx, d, client.CreateOptions{})
	if !api.IsInvalid(err) {
		t.Fatalf("want invalid, got %v", err)
	}
	paths := map[string]bool{}
	for _, fe := range api.FieldErrors(err) {
		paths[fe.Field] = true
	}
	for _, p := range []string{"metadata.name", "spec.replicas", "spec.template.metadata.labels", "spec.template.spec.containers[1].name", "spec.template.spec.containers[1].image"} {
		if !paths[p] {
			t.Errorf("missing error for %s in %v", p, err)
		}
	}
	var list api.DeploymentList
	if err := r.List(ctx, &list, client.ListOptions{}); err != nil || len(list.Items) != 0 {
		t.Fatalf("stored something: %v %d", err, len(list.Items))
	}
}

func TestConcurrentUpdatesLoseNothing(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "counter", Namespace: "default"}, Data: map[string]string{}}
	if err := r.Create(ctx, cm, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const writers, each = 4, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				for {
					var cur api.ConfigMap
					if err := r.Get(ctx, "default", "counter", &cur, client.GetOptions{Consistent: true}); err != nil {
						t.Error(err)
						return
					}
					if cur.Data == nil {
						cur.Data = map[string]string{}
					}
					cur.Data[string(rune('a'+w))+string(rune('a'+i))] = "x"
					err := r.Update(ctx, &cur, client.UpdateOptions{})
					if api.IsConflict(err) {
						continue
					}
					if err != nil {
						t.Error(err)
					}
					break
				}
			}
		}()
	}
	wg.Wait()
	var got api.ConfigMap
	if err := r.Get(ctx, "default", "counter", &got, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(got.Data) != writers*each {
		t.Fatalf("lost updates: %d keys, want %d", len(got.Data), writers*each)
	}
}

func TestWatch(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	info, _ := r.Info(&api.ConfigMap{})
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "a", Namespace: "default"}}
	if err := r.Create(ctx, cm, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := r.Watch(ctx, info, client.ListOptions{ResourceVersion: "1", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	cm.Data = map[string]string{"k": "v"}
	if err := r.Update(ctx, cm, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, "default", "a", &api.ConfigMap{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	var types []api.WatchEventType
	timeout := time.After(10 * time.Second)
	for len(types) < 3 {
		select {
		case ev := <-w.Events():
			if ev.Object.GetName() != "a" {
				t.Fatalf("event for %s", ev.Object.GetName())
			}
			types = append(types, ev.Type)
		case <-timeout:
			t.Fatalf("events so far: %v", types)
		}
	}
	if types[0] != api.Added || types[1] != api.Modified || types[2] != api.Deleted {
		t.Fatalf("events %v", types)
	}
}

// A list of a store that has applied no write yet must name a revision a
// watch can start from without missing the writes made in between (its
// revision was 0, which Watch reads as "from now").
func TestWatchFromListOfEmptyStore(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	info, _ := r.Info(&api.ConfigMap{})
	_, rev, err := r.ListObjects(ctx, info, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rev < 1 {
		t.Fatalf("list revision %d of an empty store", rev)
	}
	if err := r.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "between", Namespace: "default"}}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := r.Watch(ctx, info, client.ListOptions{ResourceVersion: fmt.Sprint(rev)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	select {
	case ev := <-w.Events():
		if ev.Type != api.Added || ev.Object.GetName() != "between" {
			t.Fatalf("event %v %s", ev.Type, ev.Object.GetName())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the write made between list and watch was not delivered")
	}
}

func TestWatchTooOld(t *testing.T) {
	r := testutil.RegistryOn(t, testutil.StoreWith(t, func(c *raftstore.Config) { c.HistorySize = 4 }))
	ctx := context.Background()
	for i := range 10 {
		if err := r.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("c%d", i), Namespace: "default"}}, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	info, _ := r.Info(&api.ConfigMap{})
	if _, err := r.Watch(ctx, info, client.ListOptions{ResourceVersion: "1"}); !api.IsTooOld(err) {
		t.Fatalf("want TooOld, got %v", err)
	}
}

// nextEvent returns the next event of w, failing the test after 10 s.
func nextEvent(t *testing.T, w api.Watcher) api.WatchEvent {
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
	return api.WatchEvent{}
}

func expectEvent(t *testing.T, w api.Watcher, typ api.WatchEventType, name string, check func(api.Object) string) api.WatchEvent {
	t.Helper()
	ev := nextEvent(t, w)
	if ev.Type != typ || ev.Object.GetName() != name {
		t.Fatalf("got %s %s, want %s %s", ev.Type, ev.Object.GetName(), typ, name)
	}
	if ev.Object.GetResourceVersion() != fmt.Sprint(ev.Revision) {
		t.Fatalf("%s %s: object resourceVersion %s, event revision %d", ev.Type, name, ev.Object.GetResourceVersion(), ev.Revision)
	}
	if check != nil {
		if msg := check(ev.Object); msg != "" {
			t.Fatalf("%s %s: %s", typ, name, msg)
		}
	}
	return ev
}

// TestWatchLabelSelectorTransitions: an object entering a label selector is
// ADDED, one leaving it is DELETED with its last matching state, and changes
// while it matches are MODIFIED; objects outside it are never seen.
func TestWatchLabelSelectorTransitions(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	info, _ := r.Info(&api.ConfigMap{})
	sel, err := api.ParseSelector("tier=web")
	if err != nil {
		t.Fatal(err)
	}
	// Objects from before the watch: their first change is judged by
	// their previous state.
	inside := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "inside", Namespace: "default", Labels: map[string]string{"tier": "web"}}}
	outside := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "outside", Namespace: "default", Labels: map[string]string{"tier": "db"}}}
	for _, cm := range []*api.ConfigMap{inside, outside} {
		if err := r.Create(ctx, cm, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	w, err := r.Watch(ctx, info, client.ListOptions{ResourceVersion: "", Namespace: "default", Labels: sel})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	label := func(want string) func(api.Object) string {
		return func(o api.Object) string {
			if got := o.GetLabels()["tier"]; got != want {
				return fmt.Sprintf("label tier=%q, want %q", got, want)
			}
			return ""
		}
	}
	inside.Data = map[string]string{"k": "v"}
	outside.Data = map[string]string{"k": "v"}
	for _, cm := range []*api.ConfigMap{inside, outside} {
		if err := r.Update(ctx, cm, client.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	outside.Labels["tier"] = "web"
	if err := r.Update(ctx, outside, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, w, api.Modified, "inside", label("web"))
	expectEvent(t, w, api.Added, "outside", label("web"))

	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "c", Namespace: "default", Labels: map[string]string{"tier": "db"}}}
	if err := r.Create(ctx, cm, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm.Labels["tier"] = "web" // enters the selector
	if err := r.Update(ctx, cm, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm.Data = map[string]string{"k": "v"} // still matches
	if err := r.Update(ctx, cm, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm.Labels["tier"] = "cache" // leaves it
	if err := r.Update(ctx, cm, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm.Data["k"] = "w" // outside: unseen
	if err := r.Update(ctx, cm, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm.Labels["tier"] = "web" // back in
	if err := r.Update(ctx, cm, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, "default", "c", &api.ConfigMap{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, w, api.Added, "c", label("web"))
	expectEvent(t, w, api.Modified, "c", func(o api.Object) string {
		if o.(*api.ConfigMap).Data["k"] != "v" {
			return "data not updated"
		}
		return ""
	})
	left := expectEvent(t, w, api.Deleted, "c", label("web")) // last matching state
	if left.Object.(*api.ConfigMap).Data["k"] != "v" {
		t.Fatalf("DELETED on leaving carries %v, want the last matching data", left.Object.(*api.ConfigMap).Data)
	}
	expectEvent(t, w, api.Added, "c", func(o api.Object) string {
		if o.(*api.ConfigMap).Data["k"] != "w" {
			return "re-added object is not the current state"
		}
		return label("web")(o)
	})
	expectEvent(t, w, api.Deleted, "c", label("web"))
}

// TestWatchFieldSelectorTransitions follows a Pod through spec.nodeName and
// status.phase field selectors as it is bound and changes phase.
func TestWatchFieldSelectorTransitions(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	info, _ := r.Info(&api.Pod{})
	watch := func(field, value string) api.Watcher {
		w, err := r.Watch(ctx, info, client.ListOptions{ResourceVersion: "", Fields: api.OneTermEqualSelector(field, value)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
		return w
	}
	onNode := watch("spec.nodeName", "node-a")
	running := watch("status.phase", string(api.PodRunning))
	unbound := watch("spec.nodeName", "")

	pod := &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default"},
		Spec:       api.PodSpec{Containers: []api.Container{{Name: "c", Image: "img"}}},
	}
	if err := r.Create(ctx, pod, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	bound, err := r.Bind(ctx, pod, "node-a", client.UpdateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	setPhase := func(p *api.Pod, phase api.PodPhase) *api.Pod {
		p = p.DeepCopyObject().(*api.Pod)
		p.Status.Phase = phase
		if err := r.UpdateStatus(ctx, p, client.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := setPhase(bound, api.PodRunning)
	p = setPhase(p, api.PodSucceeded)
	if err := r.Delete(ctx, "default", "p", &api.Pod{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// A second Running Pod marks the end of what the Running watcher sees.
	q := &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: "q", Namespace: "default"},
		Spec:       api.PodSpec{NodeName: "node-b", Containers: []api.Container{{Name: "c", Image: "img"}}},
	}
	if err := r.Create(ctx, q, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	setPhase(q, api.PodRunning)

	phase := func(want api.PodPhase) func(api.Object) string {
		return func(o api.Object) string {
			if got := o.(*api.Pod).Status.Phase; got != want {
				return fmt.Sprintf("phase %q, want %q", got, want)
			}
			return ""
		}
	}
	node := func(want string) func(api.Object) string {
		return func(o api.Object) string {
			if got := o.(*api.Pod).Spec.NodeName; got != want {
				return fmt.Sprintf("nodeName %q, want %q", got, want)
			}
			return ""
		}
	}
	// The unbound watcher sees the Pod until it is bound; then it leaves.
	expectEvent(t, unbound, api.Added, "p", node(""))
	ev := expectEvent(t, unbound, api.Deleted, "p", node(""))
	if ev.Object.GetResourceVersion() != bound.ResourceVersion {
		t.Fatalf("DELETED on binding at resourceVersion %s, want the binding's %s", ev.Object.GetResourceVersion(), bound.ResourceVersion)
	}
	// The node's watcher sees it from the binding on, to its deletion.
	expectEvent(t, onNode, api.Added, "p", node("node-a"))
	expectEvent(t, onNode, api.Modified, "p", phase(api.PodRunning))
	expectEvent(t, onNode, api.Modified, "p", phase(api.PodSucceeded))
	expectEvent(t, onNode, api.Deleted, "p", phase(api.PodSucceeded))
	// The Running watcher sees it only while Running; the phase change
	// out of Running is a DELETED of the Running state, and the real
	// deletion later is not shown.
	expectEvent(t, running, api.Added, "p", phase(api.PodRunning))
	expectEvent(t, running, api.Deleted, "p", phase(api.PodRunning))
	expectEvent(t, running, api.Added, "q", phase(api.PodRunning))
	if _, err := r.Watch(ctx, info, client.ListOptions{ResourceVersion: "", Fields: api.OneTermEqualSelector("spec.bogus", "x")}); !api.IsBadRequest(err) {
		t.Fatalf("watch on an unsupported field: %v, want BadRequest", err)
	}
}

func TestNamespaceLifecycle(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	cm := func(ns, name string) *api.ConfigMap {
		return &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name, Namespace: ns}}
	}
	// A missing namespace: NotFound naming it, nothing stored.
	err := r.Create(ctx, cm("team", "a"), client.CreateOptions{})
	if !api.IsNotFound(err) || !strings.Contains(err.Error(), `Namespace "team" not found`) {
		t.Fatalf("create in a missing namespace: %v", err)
	}
	if err := r.Get(ctx, "team", "a", &api.ConfigMap{}, client.GetOptions{Consistent: true}); !api.IsNotFound(err) {
		t.Fatalf("object stored despite the error: %v", err)
	}
	// generateName objects get the same error, and their name is reset.
	gen := &api.ConfigMap{ObjectMeta: api.ObjectMeta{GenerateName: "g-", Namespace: "team"}}
	if err := r.Create(ctx, gen, client.CreateOptions{}); !api.IsNotFound(err) || gen.Name != "" {
		t.Fatalf("generateName in a missing namespace: %v, name %q", err, gen.Name)
	}

	// The system namespaces exist on first use and cannot be deleted.
	if err := r.Create(ctx, cm("default", "a"), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var def api.Namespace
	if err := r.Get(ctx, "", "default", &def, client.GetOptions{Consistent: true}); err != nil || def.Status.Phase != api.NamespaceActive {
		t.Fatalf("default namespace: %v, phase %q", err, def.Status.Phase)
	}
	if err := r.Delete(ctx, "", "default", &api.Namespace{}, client.DeleteOptions{}); !api.IsForbidden(err) {
		t.Fatalf("delete default: %v, want Forbidden", err)
	}

	// A user namespace: content allowed while Active.
	ns := &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "team"}, Status: api.NamespaceStatus{Phase: api.NamespaceTerminating}}
	if err := r.Create(ctx, ns, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if ns.Status.Phase != api.NamespaceActive {
		t.Fatalf("new namespace phase %q, want Active", ns.Status.Phase)
	}
	if err := r.Create(ctx, cm("team", "a"), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// Deleting marks it Terminating; new content is rejected, old stays
	// for the namespace controller.
	var marked api.Namespace
	if err := r.Delete(ctx, "", "team", &marked, client.DeleteOptions{Propagation: api.DeletePropagationForeground}); err != nil {
		t.Fatal(err)
	}
	if marked.DeletionTimestamp == nil || marked.Status.Phase != api.NamespaceTerminating || len(marked.Finalizers) != 0 {
		t.Fatalf("deleted namespace: deletionTimestamp %v phase %q finalizers %v", marked.DeletionTimestamp, marked.Status.Phase, marked.Finalizers)
	}
	err = r.Create(ctx, cm("team", "b"), client.CreateOptions{})
	if !api.IsForbidden(err) || !strings.Contains(err.Error(), "being terminated") {
		t.Fatalf("create in a terminating namespace: %v", err)
	}
	if err := r.Get(ctx, "team", "a", &api.ConfigMap{}, client.GetOptions{Consistent: true}); err != nil {
		t.Fatalf("existing content: %v", err)
	}
	// Neither a status write nor an update revives it or removes it.
	st := marked.DeepCopy()
	st.Status.Phase = api.NamespaceActive
	if err := r.UpdateStatus(ctx, st, client.UpdateOptions{}); err != nil || st.Status.Phase != api.NamespaceTerminating {
		t.Fatalf("status update: %v, phase %q", err, st.Status.Phase)
	}
	st.Labels = map[string]string{"x": "y"}
	if err := r.Update(ctx, st, client.UpdateOptions{}); err != nil || st.DeletionTimestamp == nil {
		t.Fatalf("update of a terminating namespace: %v", err)
	}
	// RemoveNamespace ends it; its name is then free and missing.
	if err := r.RemoveNamespace(ctx, "team", marked.ResourceVersion, &api.Namespace{}); !api.IsConflict(err) {
		t.Fatalf("remove at a stale resourceVersion: %v", err)
	}
	if err := r.RemoveNamespace(ctx, "team", "", &api.Namespace{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(ctx, cm("team", "c"), client.CreateOptions{}); !api.IsNotFound(err) {
		t.Fatalf("create after removal: %v", err)
	}
	if err := r.RemoveNamespace(ctx, "default", "", &api.Namespace{}); !api.IsConflict(err) {
		t.Fatalf("remove an Active namespace: %v, want Conflict", err)
	}
}

// Shared readers (informers) get one decoded object per key and revision;
// other reads get their own copies.
func TestSharedObjects(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	info, _ := r.Info(&api.Pod{})
	pod := &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default"},
		Spec:       api.PodSpec{Containers: []api.Container{{Name: "c", Image: "img"}}},
	}
	if err := r.Create(ctx, pod, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	shared := client.ListOptions{Shared: true}
	a, _, err := r.ListObjects(ctx, info, shared)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := r.ListObjects(ctx, info, shared)
	if err != nil {
		t.Fatal(err)
	}
	private, _, err := r.ListObjects(ctx, info, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 1 || len(b) != 1 || a[0] != b[0] {
		t.Fatalf("shared lists returned different objects: %p %p", a[0], b[0])
	}
	if private[0] == a[0] {
		t.Fatal("a private list returned the shared object")
	}
	// A shared watch's event is the object later shared lists return.
	sharedFrom := shared
	sharedFrom.ResourceVersion = a[0].GetResourceVersion()
	w, err := r.Watch(ctx, info, sharedFrom)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	pod.Labels = map[string]string{"v": "2"}
	if err := r.Update(ctx, pod, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	ev := nextEvent(t, w)
	c, _, err := r.ListObjects(ctx, info, shared)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Object != c[0] || c[0] == a[0] || c[0].GetLabels()["v"] != "2" {
		t.Fatalf("after the update: event %p, list %p (old %p), labels %v", ev.Object, c[0], a[0], c[0].GetLabels())
	}
}

// Watchers of a kind decode each event once: Shared watchers get the same
// object; the others get equal copies of their own, so one modifying its
// copy changes nothing another sees. A selector watcher's DELETED event
// for an object leaving its selection carries the previous state, also
// decoded once for all such watchers.
func TestWatchersShareDecodedEvents(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	info, _ := r.Info(&api.ConfigMap{})
	from := strconv.FormatInt(r.Revision(), 10)
	shared := client.ListOptions{Namespace: "default", ResourceVersion: from, Shared: true}
	private := client.ListOptions{Namespace: "default", ResourceVersion: from}
	sel, err := api.ParseSelector("app=a")
	if err != nil {
		t.Fatal(err)
	}
	selShared := shared
	selShared.Labels = sel
	var ws []api.Watcher
	for _, o := range []client.ListOptions{shared, shared, private, private, selShared, selShared} {
		w, err := r.Watch(ctx, info, o)
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
		ws = append(ws, w)
	}
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "a", Namespace: "default", Labels: map[string]string{"app": "a"}},
		Data: map[string]string{"k": "v1"}}
	if err := r.Create(ctx, cm, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	evs := make([]api.WatchEvent, len(ws))
	for i, w := range ws {
		evs[i] = expectEvent(t, w, api.Added, "a", nil)
	}
	if evs[0].Object != evs[1].Object || evs[0].Object != evs[4].Object || evs[4].Object != evs[5].Object {
		t.Fatalf("shared watchers got different objects: %p %p %p %p", evs[0].Object, evs[1].Object, evs[4].Object, evs[5].Object)
	}
	if evs[2].Object == evs[0].Object || evs[3].Object == evs[0].Object || evs[2].Object == evs[3].Object {
		t.Fatal("a private watcher got a shared object")
	}
	if !reflect.DeepEqual(evs[2].Object, evs[0].Object) {
		t.Fatalf("private copy %+v differs from shared %+v", evs[2].Object, evs[0].Object)
	}
	evs[2].Object.(*api.ConfigMap).Data["k"] = "changed by a consumer"
	if evs[0].Object.(*api.ConfigMap).Data["k"] != "v1" || evs[3].Object.(*api.ConfigMap).Data["k"] != "v1" {
		t.Fatal("modifying a private event's object changed another watcher's")
	}

	// Leaving the selection: the selector watchers see DELETED with the
	// previous state, one object for both; the others see MODIFIED.
	cm.Labels = map[string]string{"app": "b"}
	if err := r.Update(ctx, cm, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for i, w := range ws[:4] {
		evs[i] = expectEvent(t, w, api.Modified, "a", nil)
	}
	for i, w := range ws[4:] {
		evs[4+i] = expectEvent(t, w, api.Deleted, "a", func(o api.Object) string {
			if o.GetLabels()["app"] != "a" {
				return fmt.Sprintf("labels %v, want the previous state's", o.GetLabels())
			}
			return ""
		})
	}
	if evs[0].Object != evs[1].Object || evs[4].Object != evs[5].Object || evs[0].Object == evs[4].Object {
		t.Fatalf("after the update: shared %p %p, selector %p %p", evs[0].Object, evs[1].Object, evs[4].Object, evs[5].Object)
	}
	if evs[4].Object.GetResourceVersion() != evs[0].Object.GetResourceVersion() {
		t.Fatalf("DELETED resourceVersion %s, MODIFIED %s", evs[4].Object.GetResourceVersion(), evs[0].Object.GetResourceVersion())
	}
}
