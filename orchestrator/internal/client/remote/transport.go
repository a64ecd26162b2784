package remote

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// maxResponseBytes bounds a response body the Client reads whole; a list
// larger than this is refused rather than exhausting memory.
const maxResponseBytes = 256 << 20

// request is one REST call.
type request struct {
	method string
	// segs are the path's segments, unescaped ("api", "v1",
	// "namespaces", "default", "pods", "web-0").
	segs        []string
	query       url.Values
	body        []byte
	contentType string
	// watch: no Timeout, and the caller reads the body.
	watch bool
}

// path is r's path, for messages.
func (r request) path() string { return "/" + strings.Join(r.segs, "/") }

// idempotent requests may be sent again to the next server after a
// failure that happened once the request may have reached a server.
func (r request) idempotent() bool {
	return r.method == http.MethodGet || r.method == http.MethodHead
}

// transport sends requests to the servers, failing over between them.
type transport struct {
	servers []*url.URL
	// http sends requests, watchHTTP watches.
	http      *http.Client
	watchHTTP *http.Client
	token     string
	agent     string
	timeout   time.Duration
	log       *zap.Logger
	// current is the index of the server that last answered.
	current atomic.Int32
}

func newTransport(cfg Config) (*transport, error) {
	servers := make([]*url.URL, len(cfg.Servers))
	for i, s := range cfg.Servers {
		u, err := parseServer(s)
		if err != nil {
			return nil, err
		}
		servers[i] = u
	}
	tlsConf := &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    cfg.RootCAs,
		ServerName: cfg.TLSServerName,
		NextProtos: []string{"h2", "http/1.1"},
	}
	if cfg.Certificate != nil {
		tlsConf.Certificates = []tls.Certificate{*cfg.Certificate}
	}
	dialer := &net.Dialer{Timeout: cfg.DialTimeout, KeepAlive: 30 * time.Second}
	newClient := func(maxConns int) *http.Client {
		return &http.Client{
			Transport: &http.Transport{
				DialContext:         dialer.DialContext,
				TLSClientConfig:     tlsConf,
				TLSHandshakeTimeout: cfg.DialTimeout,
				ForceAttemptHTTP2:   true,
				MaxConnsPerHost:     maxConns,
				MaxIdleConnsPerHost: cfg.MaxConnsPerServer,
				MaxIdleConns:        cfg.MaxConnsPerServer * len(servers),
				IdleConnTimeout:     cfg.IdleConnTimeout,
				// A proxy from the environment is not what a cluster's
				// own client certificate is meant for.
				Proxy: nil,
			},
			// Kubernetes does not redirect API calls; following one
			// would send credentials elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &transport{
		servers: servers,
		http:    newClient(cfg.MaxConnsPerServer),
		// Watches have connections of their own, not bounded: each holds
		// a stream for as long as it lasts (a whole connection should a
		// server speak only HTTP/1.1), and a bounded pool of them would
		// make requests wait for watches to end.
		watchHTTP: newClient(0),
		token:     cfg.BearerToken,
		agent:     cfg.UserAgent,
		timeout:   cfg.Timeout,
		log:       cfg.Logger,
	}, nil
}

func (t *transport) close() {
	t.http.CloseIdleConnections()
	t.watchHTTP.CloseIdleConnections()
}

// send sends r to the current server, and to the next ones in turn while
// a server cannot be reached. It returns the first response any server
// gives, whatever its status. The response body must be closed.
//
// Errors: ctx.Err(); ServiceUnavailable wrapping the transport error when
// no server could be reached.
func (t *transport) send(ctx context.Context, r request) (*http.Response, error) {
	start := int(t.current.Load())
	var errs []error
	for i := range t.servers {
		idx := (start + i) % len(t.servers)
		resp, err := t.sendTo(ctx, t.servers[idx], r)
		if err == nil {
			if idx != start {
				t.current.Store(int32(idx))
			}
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, err)
		if !r.idempotent() && !unsent(err) {
			// The request may have reached the server and been acted
			// on: sending it again could apply it twice.
			return nil, unavailable(fmt.Sprintf("%s %s: no answer from %s", r.method, r.path(), t.servers[idx].Host), err)
		}
		if len(t.servers) > 1 {
			t.log.Warn("API server unreachable, trying the next", zap.String("server", t.servers[idx].Host), zap.Error(err))
		}
	}
	return nil, unavailable(fmt.Sprintf("%s %s: no API server could be reached", r.method, r.path()), errors.Join(errs...))
}

func (t *transport) sendTo(ctx context.Context, server *url.URL, r request) (*http.Response, error) {
	u := *server
	escaped := make([]string, len(r.segs))
	for i, s := range r.segs {
		escaped[i] = url.PathEscape(s)
	}
	u.Path = server.Path + "/" + strings.Join(r.segs, "/")
	u.RawPath = server.EscapedPath() + "/" + strings.Join(escaped, "/")
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		return nil, err
	}
	if r.body != nil {
		b := r.body
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		req.Header.Set("Content-Type", r.contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", t.agent)
	if t.token != "" {
		req.Header.Set("Authorization", "Bearer "+t.token)
	}
	if r.watch {
		return t.watchHTTP.Do(req)
	}
	return t.http.Do(req)
}

// unsent reports whether err happened before the request could have
// reached a server (connecting failed), so it is safe to send elsewhere.
func unsent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var tlsErr *tls.CertificateVerificationError
	if errors.As(err, &tlsErr) {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

// unavailable returns a ServiceUnavailable StatusError that also wraps
// cause, so both api.IsServiceUnavailable and errors.Is/As on the cause
// see through it.
func unavailable(msg string, cause error) error {
	return &transportError{status: api.NewServiceUnavailable(msg + ": " + cause.Error()), cause: cause}
}

type transportError struct {
	status *api.StatusError
	cause  error
}

func (e *transportError) Error() string   { return e.status.Error() }
func (e *transportError) Unwrap() []error { return []error{e.status, e.cause} }

// call sends r and reads the whole answer: a 2xx body is returned, any
// other status becomes the StatusError it describes.
//
// Errors: the response's StatusError; ctx.Err() when ctx ends; a Timeout
// StatusError wrapping context.DeadlineExceeded past the Timeout; those
// of send.
func (t *transport) call(ctx context.Context, r request) ([]byte, error) {
	parent := ctx
	if t.timeout > 0 && !r.watch {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.timeout)
		defer cancel()
	}
	body, err := t.read(ctx, r)
	if err != nil && parent.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return nil, &transportError{
			status: api.NewTimeout(fmt.Sprintf("%s %s: no answer within %v", r.method, r.path(), t.timeout), 0),
			cause:  context.DeadlineExceeded,
		}
	}
	return body, err
}

func (t *transport) read(ctx context.Context, r request) ([]byte, error) {
	resp, err := t.send(ctx, r)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, unavailable(fmt.Sprintf("%s %s: reading the response", r.method, r.path()), err)
	}
	if len(body) > maxResponseBytes {
		return nil, api.NewRequestEntityTooLarge(fmt.Sprintf("%s %s: response over %d bytes", r.method, r.path(), maxResponseBytes))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, responseError(resp.StatusCode, body)
	}
	return body, nil
}

// responseError turns an error response into the error it describes: its
// Status body when it has one, otherwise a StatusError with the reason
// Kubernetes' clients give the HTTP code.
func responseError(code int, body []byte) error {
	var st api.Status
	if json.Unmarshal(body, &st) == nil && (st.Kind == "Status" || st.Kind == "" && (st.Reason != "" || st.Code != 0)) {
		if st.Code == 0 {
			st.Code = int32(code)
		}
		if st.Reason == api.ReasonUnknown {
			st.Reason = reasonForCode(int(st.Code))
		}
		st.Status = "Failure"
		return api.FromStatus(st)
	}
	msg := strings.TrimSpace(string(body))
	if len(msg) > 512 {
		msg = msg[:512] + "…"
	}
	if msg == "" {
		msg = http.StatusText(code)
	}
	return api.FromStatus(api.Status{
		TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status:   "Failure",
		Message:  fmt.Sprintf("the server answered %d: %s", code, msg),
		Reason:   reasonForCode(code),
		Code:     int32(code),
	})
}

// reasonForCode is the reason a status code implies when the server gave
// none (as client-go's NewGenericServerResponse reads it).
func reasonForCode(code int) api.StatusReason {
	switch code {
	case http.StatusBadRequest:
		return api.ReasonBadRequest
	case http.StatusUnauthorized:
		return api.ReasonUnauthorized
	case http.StatusForbidden:
		return api.ReasonForbidden
	case http.StatusNotFound:
		return api.ReasonNotFound
	case http.StatusConflict:
		return api.ReasonConflict
	case http.StatusGone:
		return api.ReasonGone
	case http.StatusRequestEntityTooLarge:
		return api.ReasonRequestTooLarge
	case http.StatusUnsupportedMediaType, http.StatusNotAcceptable:
		return api.ReasonUnsupportedMedia
	case http.StatusUnprocessableEntity:
		return api.ReasonInvalid
	case http.StatusInternalServerError:
		return api.ReasonInternalError
	case http.StatusServiceUnavailable:
		return api.ReasonServiceUnavailable
	case http.StatusGatewayTimeout:
		return api.ReasonTimeout
	}
	return api.ReasonUnknown
}
