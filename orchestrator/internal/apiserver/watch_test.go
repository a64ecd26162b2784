package apiserver

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/flotilla-io/flotilla/raftstore"
)

// rawEvent is a watch event as received.
type rawEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

// eventMeta reads the object's kind, name and resourceVersion.
func (e rawEvent) meta(t testing.TB) (kind, name, rv string) {
	t.Helper()
	var o struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name            string `json:"name"`
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(e.Object, &o); err != nil {
		t.Fatalf("event object: %v: %s", err, e.Object)
	}
	return o.Kind, o.Metadata.Name, o.Metadata.ResourceVersion
}

// watchStream is an open watch.
type watchStream struct {
	t      testing.TB
	events chan rawEvent
	done   chan struct{} // closed when the stream ended
	header http.Header
}

// watch opens a watch; the stream is read until it ends or the test does.
func (ts *testServer) watch(path string, headers ...string) *watchStream {
	ts.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", ts.http.URL+path, nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("X-Test-User", "alice")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		cancel()
		ts.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		cancel()
		resp.Body.Close()
		ts.t.Fatalf("watch %s: code %d", path, resp.StatusCode)
	}
	ws := &watchStream{t: ts.t, events: make(chan rawEvent, 100), done: make(chan struct{}), header: resp.Header}
	go func() {
		defer close(ws.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var ev rawEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = rawEvent{Type: "UNPARSABLE", Object: json.RawMessage(strconv.Quote(sc.Text()))}
			}
			ws.events <- ev
		}
	}()
	ts.t.Cleanup(func() {
		cancel()
		<-ws.done
	})
	return ws
}

// next returns the next event, failing after a deadline.
func (ws *watchStream) next() rawEvent {
	ws.t.Helper()
	select {
	case ev := <-ws.events:
		return ev
	case <-ws.done:
		select {
		case ev := <-ws.events:
			return ev
		default:
		}
		ws.t.Fatal("watch ended, want an event")
	case <-time.After(10 * time.Second):
		ws.t.Fatal("timed out waiting for a watch event")
	}
	return rawEvent{}
}

// ended waits for the stream to end with no further event.
func (ws *watchStream) ended(within time.Duration) {
	ws.t.Helper()
	select {
	case <-ws.done:
	case <-time.After(within):
		ws.t.Fatalf("watch still open after %v", within)
	}
	select {
	case ev := <-ws.events:
		ws.t.Fatalf("unexpected event %s %s", ev.Type, ev.Object)
	default:
	}
}

func listRV(t testing.TB, ts *testServer, path string) string {
	t.Helper()
	var l struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	ts.do("GET", path, "").want(t, 200).decode(t, &l)
	return l.Metadata.ResourceVersion
}

func TestWatchEventsInOrder(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "old", nil)).want(t, 201)
	rv := listRV(t, ts, "/api/v1/namespaces/dev/pods")
	ws := ts.watch("/api/v1/namespaces/dev/pods?watch=true&resourceVersion=" + rv)
	if ct := ws.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "web", nil)).want(t, 201)
	ts.do("PATCH", "/api/v1/namespaces/dev/pods/web", `{"metadata":{"labels":{"a":"b"}}}`, "Content-Type", "application/merge-patch+json").want(t, 200)
	ts.do("DELETE", "/api/v1/namespaces/dev/pods/web", "").want(t, 200)
	var revs []int
	for _, want := range []string{"ADDED", "MODIFIED", "DELETED"} {
		ev := ws.next()
		kind, name, rv := ev.meta(t)
		if ev.Type != want || kind != "Pod" || name != "web" {
			t.Fatalf("event %s %s/%s, want %s Pod/web", ev.Type, kind, name, want)
		}
		n, _ := strconv.Atoi(rv)
		revs = append(revs, n)
	}
	if !(revs[0] < revs[1] && revs[1] < revs[2]) {
		t.Errorf("revisions not increasing: %v", revs)
	}

	// Resume after the first event: the rest again, nothing before.
	ws2 := ts.watch("/api/v1/namespaces/dev/pods?watch=true&resourceVersion=" + strconv.Itoa(revs[0]))
	if ev := ws2.next(); ev.Type != "MODIFIED" {
		t.Errorf("resumed watch starts with %s", ev.Type)
	}
	if ev := ws2.next(); ev.Type != "DELETED" {
		t.Errorf("resumed watch then %s", ev.Type)
	}
}

func TestWatchWithoutResourceVersionStartsWithExisting(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "a", map[string]string{"app": "x"})).want(t, 201)
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "b", map[string]string{"app": "y"})).want(t, 201)
	ws := ts.watch("/api/v1/watch/namespaces/dev/pods?labelSelector=app%3Dx")
	if ev := ws.next(); ev.Type != "ADDED" {
		t.Fatalf("first event %s", ev.Type)
	} else if _, name, _ := ev.meta(t); name != "a" {
		t.Fatalf("first event for %s", name)
	}
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "c", map[string]string{"app": "x"})).want(t, 201)
	if _, name, _ := ws.next().meta(t); name != "c" {
		t.Errorf("next event for %s, want c (b does not match)", name)
	}
}

func TestWatchOneObject(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	for _, n := range []string{"a", "b"} {
		ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", n, nil)).want(t, 201)
	}
	rv := listRV(t, ts, "/api/v1/pods?fieldSelector=metadata.name%3Db") // cluster-wide list by name
	for _, path := range []string{
		"/api/v1/namespaces/dev/pods?watch=true&fieldSelector=metadata.name%3Db&resourceVersion=" + rv,
		"/api/v1/namespaces/dev/pods/b?watch=true&resourceVersion=" + rv,
		"/api/v1/watch/namespaces/dev/pods/b?resourceVersion=" + rv,
	} {
		ws := ts.watch(path)
		for _, n := range []string{"a", "b"} {
			ts.do("PATCH", "/api/v1/namespaces/dev/pods/"+n, `{"metadata":{"labels":{"x":"`+strconv.Itoa(len(path))+`"}}}`, "Content-Type", "application/merge-patch+json").want(t, 200)
		}
		if ev := ws.next(); ev.Type != "MODIFIED" {
			t.Fatalf("%s: %s", path, ev.Type)
		} else if _, name, _ := ev.meta(t); name != "b" {
			t.Errorf("%s: event for %s", path, name)
		}
	}
}

func TestWatchTooOldIsExpiredEvent(t *testing.T) {
	store := testutil.StoreWith(t, func(c *raftstore.Config) { c.HistorySize = 4 })
	ts := newTestServerOn(t, store, nil)
	ts.createNamespace("dev")
	for i := range 10 {
		ts.do("POST", "/api/v1/namespaces/dev/configmaps", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c`+strconv.Itoa(i)+`"}}`).want(t, 201)
	}
	ws := ts.watch("/api/v1/namespaces/dev/configmaps?watch=true&resourceVersion=2")
	ev := ws.next()
	if ev.Type != "ERROR" {
		t.Fatalf("event %s, want ERROR", ev.Type)
	}
	var st metav1.Status
	if err := json.Unmarshal(ev.Object, &st); err != nil {
		t.Fatal(err)
	}
	if st.Code != 410 || st.Reason != metav1.StatusReasonExpired || st.Kind != "Status" {
		t.Errorf("status %+v", st)
	}
	ws.ended(5 * time.Second)
}

func TestWatchBookmarksAndTimeout(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.BookmarkInterval = 20 * time.Millisecond })
	ts.createNamespace("dev")
	rv := listRV(t, ts, "/api/v1/namespaces/dev/pods")
	ws := ts.watch("/api/v1/namespaces/dev/pods?watch=true&allowWatchBookmarks=true&timeoutSeconds=1&resourceVersion=" + rv)
	ev := ws.next()
	kind, _, brv := ev.meta(t)
	if ev.Type != "BOOKMARK" || kind != "Pod" || brv != rv {
		t.Fatalf("event %s %s rv %s, want BOOKMARK Pod rv %s", ev.Type, kind, brv, rv)
	}
	// timeoutSeconds=1 ends the stream cleanly.
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-ws.events:
			if ev.Type != "BOOKMARK" {
				t.Fatalf("unexpected %s", ev.Type)
			}
			continue
		case <-ws.done:
		case <-deadline:
			t.Fatal("watch with timeoutSeconds=1 still open")
		}
		break
	}
}

func TestWatchTable(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "a", nil)).want(t, 201)
	ws := ts.watch("/api/v1/namespaces/dev/pods?watch=true", "Accept", "application/json;as=Table;g=meta.k8s.io;v=v1,application/json")
	ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", "b", nil)).want(t, 201)
	for i, name := range []string{"a", "b"} {
		ev := ws.next()
		var tab metav1.Table
		if err := json.Unmarshal(ev.Object, &tab); err != nil {
			t.Fatal(err)
		}
		if ev.Type != "ADDED" || tab.Kind != "Table" || len(tab.Rows) != 1 || tab.Rows[0].Cells[0] != name {
			t.Fatalf("event %d: %s %s", i, ev.Type, ev.Object)
		}
		if (i == 0) != (len(tab.ColumnDefinitions) > 0) {
			t.Errorf("event %d: %d column definitions", i, len(tab.ColumnDefinitions))
		}
	}
}

func TestWatchRefusals(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.do("GET", "/api/v1/pods?watch=true&sendInitialEvents=true", "").wantStatus(t, 422, api.ReasonInvalid)
	ts.do("GET", "/api/v1/pods?watch=true&resourceVersion=abc", "").wantStatus(t, 400, api.ReasonBadRequest)
	ts.do("GET", "/api/v1/pods?watch=true&fieldSelector=spec.nope%3D1", "").wantStatus(t, 400, api.ReasonBadRequest)
	ts.do("GET", "/api/v1/pods?watch=true&timeoutSeconds=x", "").wantStatus(t, 400, api.ReasonBadRequest)
}

func TestWatchEndsCleanlyWhenStoreStops(t *testing.T) {
	store := testutil.Store(t)
	ts := newTestServerOn(t, store, nil)
	ts.createNamespace("dev")
	rv := listRV(t, ts, "/api/v1/namespaces/dev/pods")
	ws := ts.watch("/api/v1/namespaces/dev/pods?watch=true&resourceVersion=" + rv)
	if err := store.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ws.ended(10 * time.Second) // no ERROR: the client re-watches elsewhere
}

// watchRaw opens a streaming GET whose body is read line by line.
func (ts *testServer) watchRaw(path string) *lineStream {
	ts.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", ts.http.URL+path, nil)
	if err != nil {
		ts.t.Fatal(err)
	}
	req.Header.Set("X-Test-User", "alice")
	resp, err := ts.http.Client().Do(req)
	if err != nil {
		cancel()
		ts.t.Fatal(err)
	}
	ls := &lineStream{t: ts.t, lines: make(chan string, 100), done: make(chan struct{})}
	go func() {
		defer close(ls.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			ls.lines <- sc.Text()
		}
	}()
	ts.t.Cleanup(func() {
		cancel()
		<-ls.done
	})
	return ls
}

type lineStream struct {
	t     testing.TB
	lines chan string
	done  chan struct{}
}

func (ls *lineStream) nextLine() string {
	ls.t.Helper()
	select {
	case l := <-ls.lines:
		return l
	case <-time.After(10 * time.Second):
		ls.t.Fatal("timed out waiting for a line")
	}
	return ""
}

// TestWatchBacklogInOrder watches from before a backlog of events larger
// than one write of a stream (watchWriteSize), then from "0" (the
// existing objects as ADDED events): every event arrives once, whole and
// in order.
func TestWatchBacklogInOrder(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.createNamespace("dev")
	rv := listRV(t, ts, "/api/v1/namespaces/dev/pods")
	const n = 80
	// Names in creation order and in key order (the order of a list).
	name := func(i int) string { return "p" + strconv.Itoa(100+i) }
	for i := range n {
		ts.do("POST", "/api/v1/namespaces/dev/pods", podJSON("dev", name(i), nil)).want(t, 201)
	}
	check := func(ws *watchStream) {
		t.Helper()
		size, last := 0, 0
		for i := range n {
			ev := ws.next()
			kind, got, rv := ev.meta(t)
			if ev.Type != "ADDED" || kind != "Pod" || got != name(i) {
				t.Fatalf("event %d: %s %s/%s, want ADDED Pod/%s", i, ev.Type, kind, got, name(i))
			}
			r, err := strconv.Atoi(rv)
			if err != nil || r <= last {
				t.Fatalf("event %d: resourceVersion %q after %d", i, rv, last)
			}
			last = r
			size += len(ev.Object)
		}
		if size <= watchWriteSize {
			t.Fatalf("the backlog is %d bytes, not more than one write (%d)", size, watchWriteSize)
		}
	}
	check(ts.watch("/api/v1/namespaces/dev/pods?watch=true&resourceVersion=" + rv))
	check(ts.watch("/api/v1/namespaces/dev/pods?watch=true&resourceVersion=0"))
}
