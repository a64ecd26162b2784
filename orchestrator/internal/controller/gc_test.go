package controller

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

// The garbage collector follows ownerReferences of every registered kind,
// not only the workload kinds: ConfigMaps owned by a ConfigMap go with it,
// in the background and in the foreground. Its deletes go through the
// client seam; the first ones fail and are retried.
func TestGarbageCollectorCoversEveryKind(t *testing.T) {
	reg := testutil.Registry(t)
	var failed atomic.Int32
	flaky := client.Intercept(reg, client.Funcs{
		Delete: func(ctx context.Context, c client.Interface, ns, name string, obj api.Object, o client.DeleteOptions) error {
			if name == "dep-bg" && failed.Add(1) <= 3 {
				return api.NewServiceUnavailable("injected: the cluster has no leader")
			}
			return c.Delete(ctx, ns, name, obj, o)
		},
	})
	runManager(t, Config{Client: flaky})
	ctx := context.Background()
	mk := func(name string, owner *api.ConfigMap) *api.ConfigMap {
		cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}, Data: map[string]string{"k": "v"}}
		if owner != nil {
			cm.OwnerReferences = []api.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: owner.Name, UID: owner.UID}}
		}
		if err := reg.Create(ctx, cm, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		return cm
	}
	exists := func(name string) bool {
		err := reg.Get(ctx, "default", name, &api.ConfigMap{}, client.GetOptions{Consistent: true})
		if err != nil && !api.IsNotFound(err) {
			t.Fatal(err)
		}
		return err == nil
	}

	bg := mk("owner-bg", nil)
	mk("dep-bg", bg)
	if err := reg.Delete(ctx, "default", bg.Name, &api.ConfigMap{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "background dependent collected", func() bool { return !exists("dep-bg") })
	if failed.Load() < 4 {
		t.Fatalf("the dependent went after %d delete calls; the first 3 were to fail", failed.Load())
	}

	fg := mk("owner-fg", nil)
	dep := mk("dep-fg", fg)
	dep.Finalizers = []string{"example.com/hold"}
	if err := reg.Update(ctx, dep, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Delete(ctx, "default", fg.Name, &api.ConfigMap{}, client.DeleteOptions{Propagation: api.DeletePropagationForeground}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "foreground dependent marked", func() bool {
		var got api.ConfigMap
		return reg.Get(ctx, "default", "dep-fg", &got, client.GetOptions{Consistent: true}) == nil && got.DeletionTimestamp != nil
	})
	if !exists("owner-fg") {
		t.Fatal("a foreground owner went before its dependent")
	}
	if err := reg.Patch(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "dep-fg", Namespace: "default"}},
		api.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), client.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "foreground owner removed", func() bool { return !exists("owner-fg") && !exists("dep-fg") })
}

// A kind only the garbage collector watches is cached as metadata alone;
// one a controller reads whole stays whole.
func TestManagerMetadataInformers(t *testing.T) {
	reg := testutil.Registry(t)
	ctx := context.Background()
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "c", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	if err := reg.Create(ctx, cm, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	m := NewManager(reg, nil)
	info, _ := reg.Scheme().KindFor(&api.ConfigMap{})
	nsInfo, _ := reg.Scheme().KindFor(&api.Namespace{})
	cms := m.MetadataInformer(info)
	nss := m.MetadataInformer(nsInfo)
	if m.Informer(&api.Namespace{}) != nss {
		t.Fatal("a second request for a kind made a second informer")
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); m.Run(runCtx) }()
	defer func() { cancel(); <-done }()
	if err := cms.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	got, ok := cms.Get("default/c")
	if !ok {
		t.Fatal("ConfigMap not cached")
	}
	if c := got.(*api.ConfigMap); c.Data != nil || c.Name != "c" || c.UID != cm.UID {
		t.Fatalf("metadata-only cache holds %+v", c)
	}
	testutil.Eventually(t, 10*time.Second, "namespace default cached whole", func() bool {
		o, ok := nss.Get("default")
		return ok && o.(*api.Namespace).Status.Phase == api.NamespaceActive
	})
}
