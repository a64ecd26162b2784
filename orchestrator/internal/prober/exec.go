package prober

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

const (
	userAgent = "flotilla-probe/1"
	// maxBody is how much of a response body an HTTP probe reads (and
	// discards) before closing, as the kubelet's 10 KiB.
	maxBody = 10 << 10
	// maxRedirects bounds same-host redirects an HTTP probe follows.
	maxRedirects = 10
	// maxMessage bounds a failure message taken from exec output.
	maxMessage = 1 << 10
)

// outcome is the result of one probe attempt.
type outcome struct {
	ok  bool
	msg string // why it failed ("" on success)
}

func fail(format string, args ...any) outcome { return outcome{msg: fmt.Sprintf(format, args...)} }

// executor runs probe attempts. It is shared by all workers of a Manager.
type executor struct {
	dialer  *net.Dialer
	execer  runtime.Execer
	network runtime.NetworkProber
	http    *http.Client
	grpc    *http.Client
}

func newExecutor(rt runtime.Runtime) *executor {
	e := &executor{}
	if rt != nil {
		e.execer, _ = rt.(runtime.Execer)
		e.network, _ = rt.(runtime.NetworkProber)
	}
	dialer := &net.Dialer{}
	e.dialer = dialer
	// Probes dial each target afresh, as the kubelet does: a kept-alive
	// connection would hide a server that no longer accepts connections.
	// No proxy from the environment: the target is a Pod.
	e.http = &http.Client{
		Transport: &http.Transport{
			DialContext:            dialer.DialContext,
			DisableKeepAlives:      true,
			TLSClientConfig:        &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // probes do not verify, as in Kubernetes
			MaxResponseHeaderBytes: 64 << 10,
			DisableCompression:     true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			// A redirect to another host is not followed; its 3xx status
			// then counts as success, as in Kubernetes.
			if req.URL.Hostname() != via[0].URL.Hostname() {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	e.grpc = &http.Client{Transport: &http.Transport{
		DialContext:       dialer.DialContext,
		DisableKeepAlives: true,
		Protocols:         &h2c,
	}}
	return e
}

func (e *executor) close() {
	e.http.CloseIdleConnections()
	e.grpc.CloseIdleConnections()
}

// run performs one attempt of s against the container, bounded by the
// probe's timeout (by ctx alone when the timeout is 0, for hooks).
func (e *executor) run(ctx context.Context, s *spec, t *target) outcome {
	if s.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.timeout)
		defer cancel()
	}
	var o outcome
	switch s.handler {
	case handlerHTTP:
		o = e.runHTTP(ctx, s, t)
	case handlerTCP:
		o = e.runTCP(ctx, s, t)
	case handlerExec:
		o = e.runExec(ctx, s, t)
	case handlerGRPC:
		o = e.runGRPC(ctx, s, t)
	}
	if !o.ok && s.timeout > 0 && timedOut(ctx) {
		o.msg = fmt.Sprintf("timeout after %v: %s", s.timeout, o.msg)
	}
	return o
}

func timedOut(ctx context.Context) bool {
	if ctx.Err() == context.DeadlineExceeded {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// viaNetworkProber reports whether s must go through the runtime's
// NetworkProber: the runtime has one and the probe targets the Pod IP.
func (e *executor) viaNetworkProber(s *spec) bool { return e.network != nil && s.host == "" }

func (e *executor) runHTTP(ctx context.Context, s *spec, t *target) outcome {
	if e.viaNetworkProber(s) {
		code, err := e.network.ProbeHTTP(ctx, t.podIP, s.port, s.path)
		if err != nil {
			return fail("%v", err)
		}
		return httpStatus(code)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.urls[kindIndex(s.kind)], nil)
	if err != nil {
		return fail("%v", err)
	}
	req.Header = s.headers.Clone() // the client may add to it on redirects
	if s.hostHdr != "" {
		req.Host = s.hostHdr
	}
	if !s.https {
		code, err := e.plainGET(ctx, req, s.addr(t.podIP))
		if err != nil {
			return fail("%v", err)
		}
		if code < 300 || code >= 400 {
			return httpStatus(code)
		}
		// A redirect: let net/http's client follow it by the rules above
		// (the first request is sent again; redirecting health endpoints
		// are rare).
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return fail("%v", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	return httpStatus(resp.StatusCode)
}

// plainGET sends req over a fresh cleartext connection to addr and returns
// the status code. It is the common case of an HTTP probe without the
// connection pool and the two goroutines per connection of
// http.Transport, which at a thousand probes a second is most of the
// prober's user-space cost; redirects and HTTPS go through http.Client.
func (e *executor) plainGET(ctx context.Context, req *http.Request, addr string) (int, error) {
	conn, err := e.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Unblock a read or write when ctx ends before its deadline (the
	// worker is being stopped).
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	req.Close = true
	bw := bufio.NewWriterSize(conn, 512)
	if err := req.Write(bw); err != nil {
		return 0, ctxErr(ctx, err)
	}
	if err := bw.Flush(); err != nil {
		return 0, ctxErr(ctx, err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 1024), req)
	if err != nil {
		return 0, ctxErr(ctx, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// ctxErr reports the i/o timeout caused by ctx's deadline (which may
// fire a moment before ctx itself is done) as ctx's error.
func ctxErr(ctx context.Context, err error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return err
}

func httpStatus(code int) outcome {
	if code >= 200 && code < 400 {
		return outcome{ok: true}
	}
	return fail("HTTP probe failed with statuscode: %d", code)
}

func (e *executor) runTCP(ctx context.Context, s *spec, t *target) outcome {
	if e.viaNetworkProber(s) {
		if err := e.network.ProbeTCP(ctx, t.podIP, s.port); err != nil {
			return fail("%v", err)
		}
		return outcome{ok: true}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.addr(t.podIP))
	if err != nil {
		return fail("%v", err)
	}
	_ = conn.Close()
	return outcome{ok: true}
}

func (e *executor) runExec(ctx context.Context, s *spec, t *target) outcome {
	if e.execer == nil {
		return fail("exec probes are not supported: the runtime does not implement runtime.Execer")
	}
	res, err := e.execer.Exec(ctx, t.containerID, s.command)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return fail("command %q timed out", strings.Join(s.command, " "))
		}
		return fail("exec %q: %v", strings.Join(s.command, " "), err)
	}
	if res.ExitCode == 0 {
		return outcome{ok: true}
	}
	out := strings.TrimSpace(string(res.Stdout) + string(res.Stderr))
	if len(out) > maxMessage {
		out = out[:maxMessage] + "..."
	}
	if out == "" {
		return fail("command %q exited with %d", strings.Join(s.command, " "), res.ExitCode)
	}
	return fail("command %q exited with %d: %s", strings.Join(s.command, " "), res.ExitCode, out)
}
