package remote

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// Watch streams changes to objects of info's kind matching o after
// revision o.ResourceVersion: GET ?watch=true&allowWatchBookmarks=true
// with the selectors, read as Kubernetes' stream of {"type","object"}
// events. The watch lasts until Stop, ctx ends, or the stream does.
//
// With o.ResourceVersion "" or "0" the watch starts now, as the local
// registry's does: a Kubernetes server would first send every existing
// object as ADDED, so the Client first reads the serving replica's
// revision (a list with resourceVersion=0 and limit=1) and watches from
// it.
//
// Errors of Watch itself: those the server answers the request with
// (TooOld or TooLargeResourceVersion for a resourceVersion it cannot
// serve, BadRequest for a malformed one or an unsupported selector),
// ServiceUnavailable when no server answers, ctx.Err(). Once the watch
// runs, the Watcher's Err says why it ended: TooOld for an ERROR event
// with code 410 (re-list), the Status of any other ERROR event,
// ServiceUnavailable when the stream ended or broke (watch again from
// the last resourceVersion), or ctx's error after Stop or when ctx ends.
func (c *Client) Watch(ctx context.Context, info api.KindInfo, o client.ListOptions) (api.Watcher, error) {
	if _, err := client.ParseResourceVersion(o.ResourceVersion); err != nil {
		return nil, err
	}
	if err := client.CheckListOptions(info, o); err != nil {
		return nil, err
	}
	rv := o.ResourceVersion
	if rv == "" || rv == "0" {
		cur, err := c.revision(ctx, info, o.Namespace)
		if err != nil {
			return nil, err
		}
		rv = cur
	}
	q := listQuery(o)
	q.Set("watch", "true")
	q.Set("allowWatchBookmarks", "true")
	q.Set("resourceVersion", rv)
	r := request{method: http.MethodGet, segs: segments(info, o.Namespace, "", ""), query: q, watch: true}
	ctx, cancel := context.WithCancel(ctx)
	resp, err := c.t.send(ctx, r)
	if err != nil {
		cancel()
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		cancel()
		if rerr != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, responseError(resp.StatusCode, body)
	}
	w := &watcher{
		info:   info,
		body:   resp.Body,
		ch:     make(chan api.WatchEvent),
		cancel: cancel,
		done:   make(chan struct{}),
		rv:     rv,
		path:   r.path(),
	}
	go w.run(ctx)
	return w, nil
}

// watcher reads one watch stream. Its goroutine owns the body and ends
// (closing ch) when the stream ends or ctx is cancelled (by Stop).
type watcher struct {
	info   api.KindInfo
	body   io.ReadCloser
	ch     chan api.WatchEvent
	cancel context.CancelFunc
	done   chan struct{}
	path   string

	mu  sync.Mutex
	err error
	// rv is the resourceVersion of the last event or bookmark.
	rv string
}

// Events returns the channel of events; it is closed when the watch
// ends. It is unbuffered: the stream is read only as fast as events are
// taken, and the server cuts loose a watcher that falls far behind.
func (w *watcher) Events() <-chan api.WatchEvent { return w.ch }

// Err returns why the watch ended, once Events is closed.
func (w *watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// ResourceVersion returns the resourceVersion the watch has reached: that
// of its last event or bookmark (bookmarks are not delivered as events,
// but advance it), or the one it started from. Watch again from it to
// resume without a gap.
func (w *watcher) ResourceVersion() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rv
}

// Stop ends the watch and waits for its goroutine. It is safe to call
// more than once and from several goroutines.
func (w *watcher) Stop() {
	w.cancel()
	<-w.done
}

// wireEvent is one event of a Kubernetes watch stream.
type wireEvent struct {
	Type   string          `json:"type"`
	Object json.RawMessage `json:"object"`
}

func (w *watcher) run(ctx context.Context) {
	defer close(w.done)
	defer close(w.ch)
	// Closing the body is what unblocks a read when ctx ends.
	stop := context.AfterFunc(ctx, func() { w.body.Close() })
	defer stop()
	defer w.body.Close()
	dec := json.NewDecoder(w.body)
	for {
		var ev wireEvent
		if err := dec.Decode(&ev); err != nil {
			w.end(ctx, w.streamError(err))
			return
		}
		we, send, err := w.event(ev)
		if err != nil {
			w.end(ctx, err)
			return
		}
		if !send {
			continue
		}
		select {
		case w.ch <- we:
		case <-ctx.Done():
			w.end(ctx, nil)
			return
		}
	}
}

// end records why the watch ended; the context's error wins, as a
// stopped watch reports it whatever the read saw.
func (w *watcher) end(ctx context.Context, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ctx.Err() != nil {
		w.err = ctx.Err()
		return
	}
	w.err = err
}

func (w *watcher) streamError(err error) error {
	if errors.Is(err, io.EOF) {
		return api.NewServiceUnavailable(fmt.Sprintf("watch %s: the server ended the stream", w.path))
	}
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.As(err, &syn) || errors.As(err, &typ) {
		return api.NewInternalError(fmt.Errorf("watch %s: malformed event: %w", w.path, err))
	}
	return unavailable(fmt.Sprintf("watch %s: the stream broke", w.path), err)
}

// event turns a wire event into the WatchEvent to deliver. send is false
// for a bookmark; err is set for an ERROR event or one that does not
// decode.
func (w *watcher) event(ev wireEvent) (_ api.WatchEvent, send bool, _ error) {
	switch ev.Type {
	case string(api.Added), string(api.Modified), string(api.Deleted):
		obj := w.info.New()
		if err := json.Unmarshal(ev.Object, obj); err != nil {
			return api.WatchEvent{}, false, api.NewInternalError(fmt.Errorf("watch %s: decoding a %s event's %s: %w", w.path, ev.Type, w.info.Kind, err))
		}
		rev, err := strconv.ParseInt(obj.GetResourceVersion(), 10, 64)
		if err != nil {
			return api.WatchEvent{}, false, api.NewInternalError(fmt.Errorf("watch %s: %s event for %s has resourceVersion %q, not a revision", w.path, ev.Type, api.KeyOf(obj), obj.GetResourceVersion()))
		}
		w.setRV(obj.GetResourceVersion())
		return api.WatchEvent{Type: api.WatchEventType(ev.Type), Object: obj, Revision: rev}, true, nil
	case "BOOKMARK":
		var m struct {
			Metadata struct {
				ResourceVersion string `json:"resourceVersion"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(ev.Object, &m); err == nil && m.Metadata.ResourceVersion != "" {
			w.setRV(m.Metadata.ResourceVersion)
		}
		return api.WatchEvent{}, false, nil
	case "ERROR":
		return api.WatchEvent{}, false, responseError(statusCodeOf(ev.Object), ev.Object)
	}
	return api.WatchEvent{}, false, api.NewInternalError(fmt.Errorf("watch %s: unknown event type %q", w.path, ev.Type))
}

func (w *watcher) setRV(rv string) {
	w.mu.Lock()
	w.rv = rv
	w.mu.Unlock()
}

// statusCodeOf returns the code of an ERROR event's Status (500 if it
// has none).
func statusCodeOf(b []byte) int {
	var st api.Status
	if json.Unmarshal(b, &st) == nil && st.Code != 0 {
		return int(st.Code)
	}
	return http.StatusInternalServerError
}

// revision returns the serving replica's current revision: the
// resourceVersion of a one-item list from its state.
func (c *Client) revision(ctx context.Context, info api.KindInfo, namespace string) (string, error) {
	q := url.Values{"resourceVersion": {"0"}, "limit": {"1"}}
	body, err := c.t.call(ctx, request{method: http.MethodGet, segs: segments(info, namespace, "", ""), query: q})
	if err != nil {
		return "", err
	}
	var l struct {
		Metadata struct {
			ResourceVersion string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return "", api.NewInternalError(fmt.Errorf("decoding the server's %sList: %w", info.Kind, err))
	}
	if _, err := strconv.ParseInt(l.Metadata.ResourceVersion, 10, 64); err != nil {
		return "", api.NewInternalError(fmt.Errorf("the server's %sList has resourceVersion %q, not a revision", info.Kind, l.Metadata.ResourceVersion))
	}
	return l.Metadata.ResourceVersion, nil
}
