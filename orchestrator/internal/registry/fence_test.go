package registry_test

import (
	"context"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/flotilla-io/flotilla/raftstore"
)

// TestFencedWrites: a view fenced to the term the store's node leads
// writes as the registry does; a view fenced to any other term (a term
// that ended) fails every kind of write with ServiceUnavailable naming the term,
// wrapping raftstore.ErrFenced, and stores nothing; its reads are the
// registry's.
func TestFencedWrites(t *testing.T) {
	store := testutil.Store(t)
	r := testutil.RegistryOn(t, store)
	ctx := context.Background()
	term, leader, _ := store.LeaderTerm()
	if !leader {
		t.Fatal("the test store does not lead")
	}

	live := r.Fenced(term)
	if err := live.Create(ctx, deployment("web"), client.CreateOptions{}); err != nil {
		t.Fatalf("create through the view of the current term: %v", err)
	}
	pod := &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "c", Image: "img:1"}}}}
	if err := live.Create(ctx, pod, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	stale := r.Fenced(term + 1)
	var d api.Deployment
	if err := stale.Get(ctx, "default", "web", &d, client.GetOptions{}); err != nil {
		t.Fatalf("read through a stale view: %v", err)
	}
	writes := map[string]func() error{
		"Create": func() error { return stale.Create(ctx, deployment("other"), client.CreateOptions{}) },
		"Update": func() error {
			u := d.DeepCopyObject().(*api.Deployment)
			u.Spec.Replicas = api.Ptr(int32(5))
			return stale.Update(ctx, u, client.UpdateOptions{})
		},
		"UpdateStatus": func() error {
			u := d.DeepCopyObject().(*api.Deployment)
			u.Status.Replicas = 3
			return stale.UpdateStatus(ctx, u, client.UpdateOptions{})
		},
		"Patch": func() error {
			return stale.Patch(ctx, deployment("web"), api.MergePatchType, []byte(`{"spec":{"replicas":7}}`), client.PatchOptions{})
		},
		"Delete": func() error { return stale.Delete(ctx, "default", "web", &api.Deployment{}, client.DeleteOptions{}) },
		"Bind": func() error {
			_, err := stale.Bind(ctx, pod.DeepCopyObject().(*api.Pod), "node-1", client.UpdateOptions{})
			return err
		},
	}
	for name, write := range writes {
		err := write()
		if !api.IsServiceUnavailable(err) || !raftstore.IsFenced(err) {
			t.Errorf("%s through a stale view: %v, want ServiceUnavailable wrapping raftstore.ErrFenced", name, err)
			continue
		}
		if want := "this node no longer leads term"; !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %q does not say %q", name, err, want)
		}
	}
	var after api.Deployment
	if err := r.Get(ctx, "default", "web", &after, client.GetOptions{}); err != nil || after.ResourceVersion != d.ResourceVersion {
		t.Errorf("web after stale writes: resourceVersion %q (%v), want %q unchanged", after.ResourceVersion, err, d.ResourceVersion)
	}
	if err := r.Get(ctx, "default", "other", &api.Deployment{}, client.GetOptions{}); !api.IsNotFound(err) {
		t.Errorf("a stale Create: %v, want NotFound", err)
	}
	var p api.Pod
	if err := r.Get(ctx, "default", "p", &p, client.GetOptions{}); err != nil || p.Spec.NodeName != "" {
		t.Errorf("pod after a stale Bind: node %q, %v; want unbound", p.Spec.NodeName, err)
	}
	if err := r.Create(ctx, deployment("unfenced"), client.CreateOptions{}); err != nil {
		t.Errorf("the unfenced registry beside the views: %v", err)
	}
}
