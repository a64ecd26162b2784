package informer_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func cm(name string) *api.ConfigMap {
	return &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}}
}

func TestInformerFollowsAndRelists(t *testing.T) {
	// A tiny history makes the watch fall behind and re-list.
	st := testutil.StoreWith(t, func(c *raftstore.Config) { c.HistorySize = 4; c.WatchBuffer = 1 })
	reg := testutil.RegistryOn(t, st)
	ctx, cancel := context.WithCancel(context.Background())
	if err := reg.Create(ctx, cm("before"), client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	inf := informer.New(reg, &api.ConfigMap{}, client.ListOptions{}, nil)
	var adds, deletes atomic.Int32
	inf.AddHandler(informer.Handler{
		OnAdd:    func(api.Object) { adds.Add(1) },
		OnDelete: func(api.Object) { deletes.Add(1) },
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); inf.Run(ctx) }()
	defer func() { cancel(); wg.Wait() }()
	if err := inf.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := inf.Get("default/before"); !ok {
		t.Fatal("listed object missing")
	}
	var last int64
	for i := range 50 {
		o := cm(fmt.Sprintf("c%d", i))
		if err := reg.Create(ctx, o, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		last, _ = client.ParseResourceVersion(o.ResourceVersion)
	}
	var del api.ConfigMap
	if err := reg.Delete(ctx, "default", "before", &del, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rev, _ := client.ParseResourceVersion(del.ResourceVersion)
	_ = last
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	testutil.Eventually(t, 10*time.Second, "cache converges", func() bool {
		_, gone := inf.Get("default/before")
		return len(inf.List()) == 50 && !gone
	})
	if err := inf.WaitForRevision(wctx, rev); err != nil {
		t.Fatal(err)
	}
	if adds.Load() != 51 || deletes.Load() != 1 {
		t.Fatalf("adds %d deletes %d, want 51 and 1", adds.Load(), deletes.Load())
	}
}
