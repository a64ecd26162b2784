package registry_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

// reports collects what a registry reported unreadable.
type reports struct {
	mu  sync.Mutex
	got []registry.Unreadable
}

func (r *reports) add(u registry.Unreadable) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, u)
}

func (r *reports) keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, u := range r.got {
		out = append(out, fmt.Sprintf("%s %s/%s", u.Kind.Kind, u.Namespace, u.Name))
	}
	return out
}

func pod(name string) *api.Pod {
	return &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "web"}},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "img"}}}}
}

// One value under /registry/pods/ that is not a Pod's JSON does not fail
// List: the other Pods are listed, the bad one is reported with its kind,
// namespace and name, and Get of it still fails. A Scan and an informer's
// ListObjects do the same.
func TestListSkipsUnreadableObject(t *testing.T) {
	st := testutil.Store(t)
	var rep reports
	r, err := registry.New(st, registry.Config{OnUnreadable: rep.add})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, n := range []string{"a", "c"} {
		if err := r.Create(ctx, pod(n), client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Put(ctx, "/registry/pods/default/b", []byte(`{"metadata": {"name": "b"`)); err != nil {
		t.Fatal(err)
	}

	var list api.PodList
	if err := r.List(ctx, &list, client.ListOptions{Namespace: "default"}); err != nil {
		t.Fatalf("List: %v", err)
	}
	var names []string
	for _, p := range list.Items {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"a", "c"}) {
		t.Errorf("List = %v, want [a c]", names)
	}
	if got := rep.keys(); !slices.Equal(got, []string{"Pod default/b"}) {
		t.Errorf("reported %v, want [Pod default/b]", got)
	}
	if u := rep.got[0]; u.Key != "/registry/pods/default/b" || api.ReasonForError(u.Err) != api.ReasonInternalError {
		t.Errorf("report %+v: want the key and an InternalError", u)
	}
	if err := r.Get(ctx, "default", "b", &api.Pod{}, client.GetOptions{}); api.ReasonForError(err) != api.ReasonInternalError || !strings.Contains(err.Error(), "/registry/pods/default/b") {
		t.Errorf("Get of the bad Pod: %v, want an InternalError naming its key", err)
	}
	objs, _, err := r.ListObjects(ctx, podKind(t, r), client.ListOptions{Shared: true})
	if err != nil || len(objs) != 2 {
		t.Errorf("ListObjects: %d objects, %v; want 2", len(objs), err)
	}
	if got := len(rep.keys()); got != 2 {
		t.Errorf("%d reports after two lists, want 2", got)
	}
}

// Typed nil objects are a BadRequest on every call, never a panic.
func TestNilObjects(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	calls := map[string]func() error{
		"Create":       func() error { return r.Create(ctx, (*api.Deployment)(nil), client.CreateOptions{}) },
		"Update":       func() error { return r.Update(ctx, (*api.Deployment)(nil), client.UpdateOptions{}) },
		"UpdateStatus": func() error { return r.UpdateStatus(ctx, (*api.Pod)(nil), client.UpdateOptions{}) },
		"Patch": func() error {
			return r.Patch(ctx, (*api.Pod)(nil), api.MergePatchType, []byte(`{}`), client.PatchOptions{})
		},
		"Delete":          func() error { return r.Delete(ctx, "default", "x", (*api.Pod)(nil), client.DeleteOptions{}) },
		"Get":             func() error { return r.Get(ctx, "default", "x", (*api.Pod)(nil), client.GetOptions{}) },
		"List":            func() error { return r.List(ctx, (*api.PodList)(nil), client.ListOptions{}) },
		"Bind":            func() error { _, err := r.Bind(ctx, nil, "n", client.UpdateOptions{}); return err },
		"RemoveNamespace": func() error { return r.RemoveNamespace(ctx, "x", "", nil) },
		"Create(nil)":     func() error { return r.Create(ctx, nil, client.CreateOptions{}) },
	}
	for name, call := range calls {
		if err := call(); !api.IsBadRequest(err) || !strings.Contains(err.Error(), "nil") {
			t.Errorf("%s: %v, want BadRequest naming the nil", name, err)
		}
	}
}

// A Create that carries a resourceVersion is refused as Kubernetes does
// ("0" means unset); nothing is stored.
func TestCreateWithResourceVersion(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	d := deployment("web")
	d.ResourceVersion = "42"
	if err := r.Create(ctx, d, client.CreateOptions{}); !api.IsBadRequest(err) || err.Error() != "resourceVersion should not be set on objects to be created" {
		t.Fatalf("Create with resourceVersion 42: %v", err)
	}
	if err := r.Get(ctx, "default", "web", &api.Deployment{}, client.GetOptions{}); !api.IsNotFound(err) {
		t.Fatalf("stored anyway: %v", err)
	}
	d.ResourceVersion = "0"
	if err := r.Create(ctx, d, client.CreateOptions{}); err != nil {
		t.Fatalf("Create with resourceVersion 0: %v", err)
	}
}

// List and Watch refuse a namespace that is no namespace name and a label
// selector no label can match, naming the argument.
func TestListArguments(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	info := podKind(t, r)
	for _, tc := range []struct {
		name string
		o    client.ListOptions
		want string
	}{
		{"namespace with a slash", client.ListOptions{Namespace: "default/"}, `invalid namespace "default/"`},
		{"label key with a space", client.ListOptions{Labels: api.SelectorFromSet(map[string]string{"a b": "x"})}, `invalid label key "a b"`},
		{"label value with a space", client.ListOptions{Labels: api.SelectorFromSet(map[string]string{"app": "a b"})}, `invalid value "a b" for label key "app"`},
	} {
		err := r.List(ctx, &api.PodList{}, tc.o)
		if !api.IsBadRequest(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("List, %s: %v; want BadRequest containing %s", tc.name, err, tc.want)
		}
		if _, err := r.Watch(ctx, info, tc.o); !api.IsBadRequest(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Watch, %s: %v; want BadRequest containing %s", tc.name, err, tc.want)
		}
	}
	// Cluster-scoped kinds have no namespace to check.
	if err := r.List(ctx, &api.NodeList{}, client.ListOptions{Namespace: "default/"}); err != nil {
		t.Errorf("List of Nodes: %v", err)
	}
}

// A watch from a revision the cluster has not reached is refused as
// Kubernetes does; from the current revision it works.
func TestWatchFromTheFuture(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	if err := r.Create(ctx, pod("a"), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	info := podKind(t, r)
	cur := r.Revision()
	_, err := r.Watch(ctx, info, client.ListOptions{ResourceVersion: fmt.Sprint(cur + 1000000)})
	want := fmt.Sprintf("Timeout: Too large resource version: %d, current: %d", cur+1000000, cur)
	if !api.IsTooLargeResourceVersion(err) || err.Error() != want {
		t.Fatalf("watch from the future: %v; want %q", err, want)
	}
	w, err := r.Watch(ctx, info, client.ListOptions{ResourceVersion: fmt.Sprint(cur)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if err := r.Create(ctx, pod("b"), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, w); ev.Type != api.Added || ev.Object.GetName() != "b" {
		t.Errorf("event %s %s, want ADDED b", ev.Type, ev.Object.GetName())
	}
}

// Replicas over the limit are Invalid on create and on an update that
// raises them; an object already over a lowered limit stays writable as
// long as its replicas do not grow.
func TestReplicaLimit(t *testing.T) {
	st := testutil.Store(t)
	ctx := context.Background()
	r, err := registry.New(st, registry.Config{Limits: registry.Limits{MaxReplicas: 10}})
	if err != nil {
		t.Fatal(err)
	}
	d := deployment("web")
	d.Spec.Replicas = api.Ptr(int32(11))
	err = r.Create(ctx, d, client.CreateOptions{})
	if !api.IsInvalid(err) || !strings.Contains(err.Error(), "spec.replicas: Invalid value: 11: must be less than or equal to 10, the cluster's limit of replicas per workload") {
		t.Fatalf("create with 11 replicas: %v", err)
	}
	d.Spec.Replicas = api.Ptr(int32(10))
	if err := r.Create(ctx, d, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	d.Spec.Replicas = api.Ptr(int32(1000000))
	if err := r.Update(ctx, d.DeepCopyObject(), client.UpdateOptions{}); !api.IsInvalid(err) {
		t.Fatalf("scale to a million: %v", err)
	}
	if err := r.Patch(ctx, &api.Deployment{ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "default"}}, api.MergePatchType,
		[]byte(`{"spec":{"replicas":11}}`), client.PatchOptions{}); !api.IsInvalid(err) {
		t.Fatalf("patch to 11: %v", err)
	}
	rs := &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "rs", Namespace: "default"}, Spec: api.ReplicaSetSpec{
		Replicas: api.Ptr(int32(11)), Selector: d.Spec.Selector, Template: d.Spec.Template}}
	if err := r.Create(ctx, rs, client.CreateOptions{}); !api.IsInvalid(err) {
		t.Fatalf("ReplicaSet with 11 replicas: %v", err)
	}

	// The same store under a lower limit: web (10 replicas) may still be
	// relabeled and scaled down, not up.
	lower, err := registry.New(st, registry.Config{Limits: registry.Limits{MaxReplicas: 5}})
	if err != nil {
		t.Fatal(err)
	}
	var cur api.Deployment
	if err := lower.Get(ctx, "default", "web", &cur, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	cur.Labels["tier"] = "front"
	if err := lower.Update(ctx, &cur, client.UpdateOptions{}); err != nil {
		t.Fatalf("relabel over a lowered limit: %v", err)
	}
	cur.Spec.Replicas = api.Ptr(int32(8))
	if err := lower.Update(ctx, &cur, client.UpdateOptions{}); err != nil {
		t.Fatalf("scale down over a lowered limit: %v", err)
	}
	off, err := registry.New(st, registry.Config{Limits: registry.Limits{MaxReplicas: -1}})
	if err != nil {
		t.Fatal(err)
	}
	cur.Spec.Replicas = api.Ptr(int32(100000))
	if err := off.Update(ctx, &cur, client.UpdateOptions{}); err != nil {
		t.Fatalf("no limit: %v", err)
	}
}

// A namespace holds at most MaxObjectsPerNamespace objects of one kind:
// the next create is Forbidden, naming the namespace and the limit, while
// other kinds and other namespaces are not affected; a delete makes room.
func TestObjectsPerNamespaceLimit(t *testing.T) {
	st := testutil.Store(t)
	ctx := context.Background()
	r, err := registry.New(st, registry.Config{Limits: registry.Limits{MaxObjectsPerNamespace: 3}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := r.Create(ctx, pod(fmt.Sprint("p", i)), client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	err = r.Create(ctx, pod("p3"), client.CreateOptions{})
	if !api.IsForbidden(err) || !strings.Contains(err.Error(), `namespace "default" holds 3 pods, the cluster's limit of objects of one kind per namespace`) {
		t.Fatalf("fourth Pod: %v", err)
	}
	if err := r.Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "cm", Namespace: "default"}}, client.CreateOptions{}); err != nil {
		t.Errorf("a ConfigMap in the full namespace: %v", err)
	}
	other := pod("q")
	other.Namespace = "kube-system"
	if err := r.Create(ctx, other, client.CreateOptions{}); err != nil {
		t.Errorf("a Pod in another namespace: %v", err)
	}
	if err := r.Delete(ctx, "default", "p0", &api.Pod{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := r.Create(ctx, pod("p3"), client.CreateOptions{}); err != nil {
		t.Errorf("after a delete: %v", err)
	}

	// Creates racing through one registry never pass the limit.
	r, err = registry.New(st, registry.Config{Limits: registry.Limits{MaxObjectsPerNamespace: 30}})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: "race"}}, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	stored, refused := 0, 0
	for i := range 60 {
		wg.Go(func() {
			p := pod(fmt.Sprint("r", i))
			p.Namespace = "race"
			err := r.Create(ctx, p, client.CreateOptions{})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				stored++
			case api.IsForbidden(err):
				refused++
			default:
				t.Errorf("create %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if stored != 30 || refused != 30 {
		t.Errorf("60 racing creates under a limit of 30: %d stored, %d refused", stored, refused)
	}
}

func podKind(t *testing.T, r *registry.Registry) api.KindInfo {
	t.Helper()
	info, err := r.Info(&api.Pod{})
	if err != nil {
		t.Fatal(err)
	}
	return info
}
