package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// watchEvent is one line of a watch stream, as kube-apiserver writes it.
type watchEvent struct {
	Type   string `json:"type"`
	Object any    `json:"object"`
}

// serveWatch streams the changes of req's objects: a chunked JSON stream
// of watch events, flushed as soon as no further event is ready, until
// timeoutSeconds (or the server's watch timeout) passes, the client goes
// away or the serving store stops (the client then re-watches from the
// last resourceVersion it saw). A resourceVersion that is no longer in the store's history,
// or a reader too slow for the store, gets an ERROR event carrying a 410
// Expired Status, as kube-apiserver's watch cache answers, and the end
// of the stream. Without a resourceVersion, or with "0", the stream
// starts with an ADDED event for every object that exists (the first a
// consistent read, the second from the local replica), as Kubernetes.
func (s *Server) serveWatch(req *request) {
	w, r := req.w, req.r
	fail := func(err error) { s.writeError(w, r, err) }
	f, err := req.format(true)
	if err != nil {
		fail(err)
		return
	}
	if req.ri.Name != "" {
		// The legacy watch of one object by path: a watch selecting it.
		fs := req.query.Get("fieldSelector")
		if fs != "" {
			fs += ","
		}
		req.query.Set("fieldSelector", fs+"metadata.name="+req.ri.Name)
	}
	o, err := req.listOptions()
	if err != nil {
		fail(err)
		return
	}
	q := req.query
	if isTrue(q.Get("sendInitialEvents")) {
		fail(api.NewInvalid("ListOptions.meta.k8s.io", "", api.FieldErrorList{api.Forbidden(api.NewPath("sendInitialEvents"),
			"streaming lists (sendInitialEvents) are not supported: list, then watch from the list's resourceVersion")}))
		return
	}
	var requested time.Duration
	if v := q.Get("timeoutSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			fail(api.NewBadRequest(fmt.Sprintf("invalid timeoutSeconds %q: want a non-negative integer", v)))
			return
		}
		requested = time.Duration(n) * time.Second
	}
	rv := q.Get("resourceVersion")
	lastRev, err := client.ParseResourceVersion(rv)
	if err != nil {
		fail(err)
		return
	}
	bookmarks := isTrue(q.Get("allowWatchBookmarks")) && f.table == ""
	ctx, cancel := context.WithTimeout(r.Context(), s.watchTimeout(requested))
	defer cancel()

	var initial []api.Object
	if rv == "" || rv == "0" {
		lo := o
		lo.Consistent = rv == ""
		lo.Shared = true
		if initial, lastRev, err = s.cfg.Client.ListObjects(ctx, req.res.info, lo); err != nil {
			fail(err)
			return
		}
		o.ResourceVersion = strconv.FormatInt(lastRev, 10)
	} else {
		o.ResourceVersion = rv
	}
	// The events' objects are only encoded: share them with the node's
	// other watchers (one decode per event), and their encoding with the
	// other streams (see encodedObjects).
	o.Shared = true

	enc := &watchEncoder{s: s, w: w, res: req.res, table: f.table}
	if tops, err := tableOptions(req); err == nil {
		enc.tableOpts = tops
	} else if f.table != "" {
		fail(err)
		return
	}
	watcher, err := s.cfg.Client.Watch(ctx, req.res.info, o)
	if err != nil && !api.IsTooOld(err) {
		fail(err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(http.StatusOK)
	if err != nil {
		_ = enc.status(err)
		return
	}
	defer watcher.Stop()
	flush(w)
	for _, obj := range initial {
		if enc.object(string(api.Added), obj, false) != nil {
			return
		}
		if enc.pending() >= watchWriteSize && enc.send() != nil {
			return
		}
	}
	if len(initial) > 0 {
		if enc.send() != nil {
			return
		}
		flush(w)
	}

	var tick <-chan time.Time
	if bookmarks {
		t := time.NewTicker(s.cfg.BookmarkInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			if lastRev > 0 && enc.bookmark(lastRev) != nil {
				return
			}
		case ev, ok := <-watcher.Events():
			// Write every event that is ready, then flush once: a stream
			// that is behind sends its backlog in large writes, few
			// HTTP/2 frames, TLS records and system calls, and one that
			// keeps up flushes each event at once. The node's watcher
			// hands events over one at a time (its channel is
			// unbuffered), so before deciding that none is ready the
			// stream yields once, letting that goroutine bring the next.
			for ok {
				if enc.object(string(ev.Type), ev.Object, true) != nil {
					return
				}
				lastRev = ev.Revision
				if enc.pending() >= watchWriteSize && enc.send() != nil {
					return
				}
				if ev, ok = nextReady(watcher); ev.Type != "" || !ok {
					continue
				}
				runtime.Gosched()
				if ev, ok = nextReady(watcher); ev.Type != "" || !ok {
					continue
				}
				break
			}
			if enc.send() != nil {
				return
			}
			flush(w)
			if !ok {
				if err := watcher.Err(); api.IsTooOld(err) {
					_ = enc.status(err)
				}
				return
			}
		}
	}
}

// watchWriteSize (an HTTP/2 DATA frame of the default maximum size) is
// how many bytes of events a stream gathers before it
// writes them to the connection while more are ready: one write of the
// handler becomes one HTTP/2 data request however many frames it takes
// (the ResponseWriter's own buffer would send every 4 KiB as a request).
const watchWriteSize = 16 << 10

// nextReady returns the watcher's next event if one is ready: ok false
// when the watcher has ended, a zero event when none is ready.
func nextReady(w api.Watcher) (ev api.WatchEvent, ok bool) {
	select {
	case ev, ok = <-w.Events():
		return ev, ok
	default:
		return api.WatchEvent{}, true
	}
}

// watchEncoder writes the events of one watch.
type watchEncoder struct {
	s           *Server
	w           http.ResponseWriter
	res         *resource
	table       string
	tableOpts   TableOptions
	sentHeaders bool
	buf         []byte // events encoded and not yet written (see send)
}

// write writes what is pending and ev as one line, and flushes.
func (e *watchEncoder) write(ev watchEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	e.buf = append(append(e.buf, b...), '\n')
	if err := e.send(); err != nil {
		return err
	}
	flush(e.w)
	return nil
}

// pending is how many bytes of events wait for send.
func (e *watchEncoder) pending() int { return len(e.buf) }

// send writes the pending events, unflushed.
func (e *watchEncoder) send() error {
	if len(e.buf) == 0 {
		return nil
	}
	_, err := e.w.Write(e.buf)
	e.buf = e.buf[:0]
	return err
}

// object adds one change to the pending events; in a table watch, the
// object is a Table of one row, with the column definitions only in the
// first event. With shared (an event's object, shared by the node's
// watchers), the object's encoding is shared with the other streams.
func (e *watchEncoder) object(typ string, obj api.Object, shared bool) error {
	obj = e.s.typed(obj)
	if e.table == "" {
		var b []byte
		var err error
		if shared {
			b, err = e.s.encoded.json(obj)
		} else {
			b, err = json.Marshal(obj)
		}
		if err != nil {
			return err
		}
		// As json.Marshal(watchEvent{typ, obj}) writes it: typ is one
		// of the watch event types, which need no escaping.
		e.buf = append(append(append(append(e.buf, `{"type":"`...), typ...), `","object":`...), b...)
		e.buf = append(e.buf, "}\n"...)
		return nil
	}
	o := e.tableOpts
	o.Now = time.Now()
	o.NoHeaders = e.sentHeaders
	t, err := e.s.convertTable(e.res, []api.Object{obj}, o, e.table, tableMeta{})
	if err != nil {
		return e.status(err)
	}
	e.sentHeaders = true
	b, err := json.Marshal(watchEvent{Type: typ, Object: t})
	if err != nil {
		return err
	}
	e.buf = append(append(e.buf, b...), '\n')
	return nil
}

// status writes an ERROR event carrying err's Status.
func (e *watchEncoder) status(err error) error {
	st := statusOf(err).Status()
	st.APIVersion, st.Kind = "v1", "Status"
	return e.write(watchEvent{Type: "ERROR", Object: st})
}

// bookmark writes a BOOKMARK: an object of the kind with only its
// resourceVersion, which every event up to it has been sent.
func (e *watchEncoder) bookmark(rev int64) error {
	return e.write(watchEvent{Type: "BOOKMARK", Object: map[string]any{
		"apiVersion": e.res.info.APIVersion,
		"kind":       e.res.info.Kind,
		"metadata":   map[string]any{"resourceVersion": strconv.FormatInt(rev, 10)},
	}})
}

func flush(w http.ResponseWriter) {
	_ = http.NewResponseController(w).Flush()
}
