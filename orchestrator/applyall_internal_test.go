package orchestrator

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

const threeConfigMaps = `apiVersion: v1
kind: ConfigMap
metadata: {name: first}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: second}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: third}
`

// A write that fails after every check passed leaves the objects before
// it applied and the rest not, says so, and applying the manifest again
// finishes the job without touching what was applied.
func TestApplyAllWriteFailsMidway(t *testing.T) {
	reg := testutil.Registry(t)
	var leaderLost atomic.Bool
	leaderLost.Store(true)
	c := &localClient{c: client.Intercept(reg, client.Funcs{
		Create: func(ctx context.Context, c client.Interface, obj api.Object, o client.CreateOptions) error {
			if !o.DryRun && obj.GetName() == "second" && leaderLost.Load() {
				return api.NewServiceUnavailable("no leader")
			}
			return c.Create(ctx, obj, o)
		},
	})}
	ctx := context.Background()

	objs, err := c.ApplyAll(ctx, []byte(threeConfigMaps))
	want := `applied 1 of 3 objects, then document 2 (line 5, ConfigMap "second"): no leader; the object after it was not applied (Apply is idempotent: apply the manifest again to finish)`
	if err == nil || err.Error() != want {
		t.Fatalf("error\n got %v\nwant %s", err, want)
	}
	var ae *ApplyAllError
	if !errors.As(err, &ae) || !ae.Validated || ae.Applied != 1 || ae.Total != 3 || len(ae.Failed) != 1 || ae.Failed[0].Name != "second" {
		t.Fatalf("error %#v: want Validated, 1 of 3 applied, second failed", err)
	}
	if !IsServiceUnavailable(err) {
		t.Errorf("IsServiceUnavailable(%v) = false", err)
	}
	if len(objs) != 1 || objs[0].GetName() != "first" || objs[0].GetResourceVersion() == "" {
		t.Fatalf("returned %v, want the stored first object", objs)
	}
	first := objs[0].GetResourceVersion()
	for name, stored := range map[string]bool{"first": true, "second": false, "third": false} {
		err := c.Get(ctx, ObjectKey{Name: name}, &ConfigMap{})
		if stored && err != nil || !stored && !IsNotFound(err) {
			t.Errorf("%s: Get = %v, want stored %v", name, err, stored)
		}
	}

	leaderLost.Store(false)
	objs, err = c.ApplyAll(ctx, []byte(threeConfigMaps))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 || objs[0].GetResourceVersion() != first {
		t.Errorf("re-applied: %d objects, first at resourceVersion %s (was %s)", len(objs), objs[0].GetResourceVersion(), first)
	}
}

// Checks that cannot finish because ctx ended store nothing and return
// ctx's error, not a list of documents.
func TestApplyAllContextEnds(t *testing.T) {
	c := &localClient{c: testutil.Registry(t)}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.ApplyAll(ctx, []byte(threeConfigMaps))
	var ae *ApplyAllError
	if !errors.Is(err, context.Canceled) || errors.As(err, &ae) {
		t.Fatalf("error %v: want context.Canceled, not an ApplyAllError", err)
	}
	if err := c.Get(context.Background(), ObjectKey{Name: "first"}, &ConfigMap{}); !IsNotFound(err) {
		t.Errorf("first: Get = %v, want NotFound", err)
	}
}
