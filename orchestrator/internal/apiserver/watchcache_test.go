package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// Streams of one kind send each event's object encoded once: their lines
// are the same bytes json.Marshal of the event would write, in order, also
// when a stream has a backlog (several events written before one flush).
func TestWatchStreamsShareEncodings(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	rv := listRV(t, ts, "/api/v1/namespaces/dev/configmaps")
	var streams []*lineStream
	for range 3 {
		streams = append(streams, ts.watchRaw("/api/v1/namespaces/dev/configmaps?watch=true&resourceVersion="+rv))
	}
	const n = 40
	ctx := context.Background()
	for i := range n {
		cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("c%02d", i), Namespace: "dev"}, Data: map[string]string{"i": fmt.Sprint(i)}}
		if err := ts.client.Create(ctx, cm, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		name := fmt.Sprintf("c%02d", i)
		var stored api.ConfigMap
		if err := ts.client.Get(ctx, "dev", name, &stored, client.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(watchEvent{Type: "ADDED", Object: &stored})
		if err != nil {
			t.Fatal(err)
		}
		for s, ls := range streams {
			if got := ls.nextLine(); got != string(want) {
				t.Fatalf("stream %d, event %d:\n got %s\nwant %s", s, i, got, want)
			}
		}
	}
	ts.srv.encoded.mu.Lock()
	cached := len(ts.srv.encoded.m)
	ts.srv.encoded.mu.Unlock()
	if cached != n {
		t.Fatalf("%d encodings cached for %d events sent to 3 streams, want %d", cached, n, n)
	}
}

// The cache of encodings keeps the most recent encodedCacheSize objects and
// encodes an object once while it holds it.
func TestEncodedObjectsBounded(t *testing.T) {
	var c encodedObjects
	first := &api.ConfigMap{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: api.ObjectMeta{Name: "a"}}
	b1, err := c.json(first)
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := c.json(first)
	want, _ := json.Marshal(first)
	if string(b1) != string(want) || &b1[0] != &b2[0] {
		t.Fatalf("encodings %s and %s (shared: %v), want %s once", b1, b2, &b1[0] == &b2[0], want)
	}
	for i := range 2 * encodedCacheSize {
		if _, err := c.json(&api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.m) != encodedCacheSize {
		t.Fatalf("%d encodings cached, want %d", len(c.m), encodedCacheSize)
	}
	if b3, _ := c.json(first); &b3[0] == &b1[0] || string(b3) != string(want) {
		t.Fatal("an evicted object's encoding was kept")
	}
}
