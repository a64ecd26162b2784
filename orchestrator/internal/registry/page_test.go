package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/registry"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/flotilla-io/flotilla/raftstore"
)

// countingKV counts the values its Lists return.
type countingKV struct {
	registry.KV
	read atomic.Int64
}

func (c *countingKV) List(ctx context.Context, prefix string, opts ...raftstore.ReadOption) ([]raftstore.KV, int64, error) {
	kvs, rev, err := c.KV.List(ctx, prefix, opts...)
	c.read.Add(int64(len(kvs)))
	return kvs, rev, err
}

// A page (Limit, After) reads the store from the resume point and only as
// far as it needs: paging through a kind reads each object about once.
// With selectors it reads on until the page is full. CountAfter counts
// what is left.
func TestScanPages(t *testing.T) {
	kv := &countingKV{KV: testutil.Store(t)}
	r := testutil.RegistryOn(t, kv)
	ctx := context.Background()
	info, _ := r.Info(&api.ConfigMap{})
	const n = 300
	var batch []raftstore.Op
	for i := range n {
		// Created out of key order; every third one labelled.
		cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("c%03d", (i*7)%n), Namespace: "default"}}
		if (i*7)%n%3 == 0 {
			cm.Labels = map[string]string{"m": "yes"}
		}
		batch = append(batch, raftstore.OpCreate(registry.StoreKey(info, "default", cm.Name), mustJSON(t, cm)))
	}
	for len(batch) > 0 {
		k := min(len(batch), 100)
		if _, err := kv.Txn(ctx, batch[:k]...); err != nil {
			t.Fatal(err)
		}
		batch = batch[k:]
	}

	pages := func(o client.ListOptions, limit int) (names []string, sizes []int) {
		t.Helper()
		o.Limit = limit
		for range n + 1 {
			objs, _, err := r.ListObjects(ctx, info, o)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(objs))
			for _, obj := range objs {
				names = append(names, obj.GetName())
			}
			if len(objs) < limit {
				return names, sizes
			}
			last := objs[len(objs)-1]
			o.After = last.GetNamespace() + "/" + last.GetName()
			left, err := r.CountAfter(ctx, info, o.Namespace, o.After)
			if err != nil {
				t.Fatal(err)
			}
			if o.Labels.Empty() && left != n-len(names) {
				t.Fatalf("after %s: CountAfter %d, want %d", o.After, left, n-len(names))
			}
		}
		t.Fatal("paging did not end")
		return nil, nil
	}
	var all, matching []string
	for i := range n {
		all = append(all, fmt.Sprintf("c%03d", i))
		if i%3 == 0 {
			matching = append(matching, fmt.Sprintf("c%03d", i))
		}
	}

	kv.read.Store(0)
	names, sizes := pages(client.ListOptions{Namespace: "default"}, 70)
	if !slices.Equal(names, all) || !slices.Equal(sizes, []int{70, 70, 70, 70, 20}) {
		t.Fatalf("pages of 70: sizes %v, names %v", sizes, names)
	}
	if read := kv.read.Load(); read > n+5 {
		t.Fatalf("paging through %d objects read %d values", n, read)
	}

	sel, _ := api.ParseSelector("m=yes")
	kv.read.Store(0)
	names, sizes = pages(client.ListOptions{Labels: sel, Shared: true}, 30)
	if !slices.Equal(names, matching) || !slices.Equal(sizes, []int{30, 30, 30, 10}) {
		t.Fatalf("selected pages of 30: sizes %v, names %v", sizes, names)
	}
	// Each page reads up to 256 values to find its 30 of every 3.
	if read := kv.read.Load(); read > 4*256 {
		t.Fatalf("paging through the selection read %d values", read)
	}

	// Past the end, and a malformed resume point.
	if objs, _, err := r.ListObjects(ctx, info, client.ListOptions{After: "default/zzz", Limit: 5}); err != nil || len(objs) != 0 {
		t.Fatalf("after the last: %d objects, %v", len(objs), err)
	}
	if _, _, err := r.ListObjects(ctx, info, client.ListOptions{After: "c001"}); !api.IsBadRequest(err) {
		t.Fatalf("after without a namespace: %v, want BadRequest", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
