package registry

import (
	"fmt"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/raftstore"
)

// The cache of decoded events keeps the most recent eventCacheSize and
// returns the same object for the same event while it holds it.
func TestEventObjectsBounded(t *testing.T) {
	r, err := New(nil, Config{})
	if err != nil {
		t.Fatal(err)
	}
	info, _ := r.Info(&api.ConfigMap{})
	kv := func(i int) raftstore.KV {
		return raftstore.KV{Key: fmt.Sprintf("/registry/configmaps/default/c%d", i), ModRevision: int64(i + 10),
			Value: fmt.Appendf(nil, `{"metadata":{"name":"c%d","namespace":"default"}}`, i)}
	}
	first, err := r.decodeEvent(info, kv(0), false, true)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := r.decodeEvent(info, kv(0), false, true)
	prev, _ := r.decodeEvent(info, kv(0), true, false)
	if again != first || prev == first || prev.GetName() != "c0" || prev.GetResourceVersion() != "10" {
		t.Fatalf("same event: %p then %p; its previous state %p %s@%s", first, again, prev, prev.GetName(), prev.GetResourceVersion())
	}
	for i := 1; i < 3*eventCacheSize; i++ {
		if _, err := r.decodeEvent(info, kv(i), false, true); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.events.m); n != eventCacheSize {
		t.Fatalf("cache holds %d objects, want %d", n, eventCacheSize)
	}
	if o, _ := r.decodeEvent(info, kv(0), false, true); o == first {
		t.Fatal("an evicted event still returned its old object")
	}
	bad := kv(1)
	bad.Value = []byte("{")
	bad.ModRevision = 1 << 40
	if _, err := r.decodeEvent(info, bad, false, true); api.ReasonForError(err) != api.ReasonInternalError {
		t.Fatalf("undecodable value: %v, want InternalError", err)
	}
}
