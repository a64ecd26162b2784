package remote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// streamer answers a watch with lines, flushing each, then ends the
// stream, or with hold, keeps it open until the client goes. It answers
// a list with an empty one at resourceVersion 5.
func streamer(lines []string, hold bool) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") != "true" {
			writeJSON(w, 200, map[string]any{"kind": "ConfigMapList", "apiVersion": "v1", "metadata": map[string]any{"resourceVersion": "5"}, "items": []any{}})
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		for _, l := range lines {
			_, _ = fmt.Fprintln(w, l)
			w.(http.Flusher).Flush()
		}
		if hold {
			<-r.Context().Done()
		}
	}
}

func cmEvent(typ, name, rv string) string {
	return fmt.Sprintf(`{"type":%q,"object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":%q,"namespace":"default","resourceVersion":%q}}}`, typ, name, rv)
}

// collect reads events until the watcher closes or the deadline.
func collect(t *testing.T, w api.Watcher) []string {
	t.Helper()
	var got []string
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return got
			}
			got = append(got, fmt.Sprintf("%s %s %d", ev.Type, ev.Object.GetName(), ev.Revision))
		case <-deadline:
			t.Fatalf("the watch did not end; events so far %v", got)
		}
	}
}

// TestWatchStream: events arrive in order with their revisions; a
// bookmark is not delivered but advances the resourceVersion; an ERROR
// event with 410 ends the watch with a TooOld error.
func TestWatchStream(t *testing.T) {
	s := newServer(t, streamer([]string{
		cmEvent("ADDED", "a", "11"),
		`{"type":"BOOKMARK","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"resourceVersion":"15"}}}`,
		cmEvent("MODIFIED", "a", "16"),
		cmEvent("DELETED", "a", "17"),
		`{"type":"BOOKMARK","object":{"kind":"ConfigMap","metadata":{"resourceVersion":"20"}}}`,
		`{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 10 (20)","reason":"Expired","code":410}}`,
	}, false))
	c := newClient(t, s)
	labels, _ := api.ParseSelector("app=web")
	w, err := c.Watch(context.Background(), mustKind(t, c, &api.ConfigMap{}), client.ListOptions{Namespace: "default", ResourceVersion: "10", Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	got := collect(t, w)
	if want := "ADDED a 11,MODIFIED a 16,DELETED a 17"; strings.Join(got, ",") != want {
		t.Errorf("events %v, want %s", got, want)
	}
	if err := w.Err(); !api.IsTooOld(err) || !strings.Contains(err.Error(), "too old resource version") {
		t.Errorf("Err() = %v, want TooOld", err)
	}
	if rv := w.(interface{ ResourceVersion() string }).ResourceVersion(); rv != "20" {
		t.Errorf("ResourceVersion() = %s, want the last bookmark's 20", rv)
	}
	req := s.last(t)
	if req.RawPath != "/api/v1/namespaces/default/configmaps" || req.Query != "allowWatchBookmarks=true&labelSelector=app%3Dweb&resourceVersion=10&watch=true" {
		t.Errorf("watch request %s ?%s", req.RawPath, req.Query)
	}
}

// TestWatchStreamEnd: a stream the server ends is ServiceUnavailable, so
// the caller watches again.
func TestWatchStreamEnd(t *testing.T) {
	s := newServer(t, streamer([]string{cmEvent("ADDED", "a", "3")}, false))
	c := newClient(t, s)
	w, err := c.Watch(context.Background(), mustKind(t, c, &api.ConfigMap{}), client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if got := collect(t, w); len(got) != 1 {
		t.Errorf("events %v", got)
	}
	if err := w.Err(); !api.IsServiceUnavailable(err) {
		t.Errorf("Err() = %v, want ServiceUnavailable", err)
	}
	// Without a resourceVersion the watch starts at the serving
	// replica's revision, read first.
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) != 2 || s.reqs[0].Query != "limit=1&resourceVersion=0" || !strings.Contains(s.reqs[1].Query, "resourceVersion=5&watch=true") {
		t.Errorf("requests %+v; want a one-item list, then a watch from its resourceVersion", s.reqs)
	}
}

// TestWatchStop: Stop ends a watch blocked on a quiet stream, and one
// blocked delivering an event nobody reads; Err is then the context's
// error; Stop twice is fine. A ctx that ends ends the watch too.
func TestWatchStop(t *testing.T) {
	s := newServer(t, streamer([]string{cmEvent("ADDED", "a", "3"), cmEvent("ADDED", "b", "4")}, true))
	c := newClient(t, s)
	info := mustKind(t, c, &api.ConfigMap{})
	w, err := c.Watch(context.Background(), info, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	<-w.Events() // the second event now waits for a reader
	w.Stop()
	w.Stop()
	if _, ok := <-w.Events(); ok {
		t.Error("Events still open after Stop")
	}
	if err := w.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err() after Stop = %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	w, err = c.Watch(ctx, info, client.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	<-w.Events()
	<-w.Events()
	cancel() // the stream is now quiet: the read is what blocks
	collect(t, w)
	if err := w.Err(); !errors.Is(err, context.Canceled) {
		t.Errorf("Err() after ctx ended = %v", err)
	}
}

// TestWatchRefused: a watch the server refuses is an error of Watch
// itself; a malformed resourceVersion is refused before sending.
func TestWatchRefused(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 410, api.NewTooOld("too old resource version: 1 (9)").Status())
	})
	c := newClient(t, s)
	info := mustKind(t, c, &api.ConfigMap{})
	if _, err := c.Watch(context.Background(), info, client.ListOptions{ResourceVersion: "1"}); !api.IsTooOld(err) {
		t.Errorf("refused watch: %v, want TooOld", err)
	}
	n := s.count()
	if _, err := c.Watch(context.Background(), info, client.ListOptions{ResourceVersion: "x"}); !api.IsBadRequest(err) {
		t.Errorf("malformed resourceVersion: %v", err)
	}
	if s.count() != n {
		t.Error("a malformed resourceVersion was sent")
	}
}

// TestWatchesDoNotStarveRequests: on a server speaking only HTTP/1.1,
// where each watch holds a connection, open watches beyond
// MaxConnsPerServer do not keep requests waiting.
func TestWatchesDoNotStarveRequests(t *testing.T) {
	s := &server{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("watch") == "true" {
			streamer(nil, true)(w, r)
			return
		}
		echo(w, r)
	}))
	s.StartTLS() // no EnableHTTP2: HTTP/1.1 only
	t.Cleanup(s.Close)
	c, err := New(Config{
		Servers: []string{s.URL}, RootCAs: s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs,
		MaxConnsPerServer: 1, Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Were requests and watches to share the one connection, the second
	// watch would wait for it until this deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	info := mustKind(t, c, &api.ConfigMap{})
	for range 3 {
		w, err := c.Watch(ctx, info, client.ListOptions{ResourceVersion: "1"})
		if err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
	}
	if err := c.Get(ctx, "ns", "cm", &api.ConfigMap{}, client.GetOptions{}); err != nil {
		t.Fatalf("a Get beside 3 watches with one connection per server for requests: %v", err)
	}
}
