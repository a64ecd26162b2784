package orchestrator

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"go.uber.org/zap"
)

// Pod logs across nodes: what this file does.
//
// The API server of any server node answers pods/log. The Pod's node reads
// the log from its runtime (runtime.LogReader); when that is another node,
// this node dials it on the cluster port with the svcLogs service (mutual
// TLS with cluster trust: only servers may ask), sends one request frame
// and copies the bytes that come back until the other side closes. Either
// side ending (the client leaving, the container stopping in follow mode)
// closes the connection.
const svcLogs byte = 'L'

// logRequest asks a node for a container's log.
type logRequest struct {
	Namespace    string     `json:"namespace"`
	Pod          string     `json:"pod"`
	UID          api.UID    `json:"uid"`
	Container    string     `json:"container"`
	Follow       bool       `json:"follow,omitempty"`
	Previous     bool       `json:"previous,omitempty"`
	Timestamps   bool       `json:"timestamps,omitempty"`
	TailLines    *int64     `json:"tailLines,omitempty"`
	SinceSeconds *int64     `json:"sinceSeconds,omitempty"`
	SinceTime    *time.Time `json:"sinceTime,omitempty"`
	LimitBytes   *int64     `json:"limitBytes,omitempty"`
}

// logAnswer precedes the log bytes: a nil Status means the log follows.
type logAnswer struct {
	Status *api.Status `json:"status,omitempty"`
}

// podLogs is the Cluster's apiserver.LogStreamer.
type podLogs struct{ c *Cluster }

var _ apiserver.LogStreamer = podLogs{}

// StreamLogs writes the log of pod's container to w, from this node's
// runtime or, for a Pod of another node, from that node over the cluster
// port. Options are the runtime's (runtime.LogOptions): tailLines,
// sinceSeconds/sinceTime, timestamps, previous and follow as the runtime
// implements them; limitBytes is applied here, on the bytes written.
//
// Errors: BadRequest for a Pod not bound to a node, or a container the Pod
// lacks (or none named when it has several); NotFound when the container
// has no instance (or no previous one) on its node; ServiceUnavailable
// when the Pod's node cannot be reached or its runtime keeps no logs.
func (l podLogs) StreamLogs(ctx context.Context, pod *api.Pod, o apiserver.LogOptions, w io.Writer) error {
	w = flushWriter{w} // followed lines reach the client as they come
	name, err := logContainer(pod, o.Container)
	if err != nil {
		return err
	}
	if pod.Spec.NodeName == "" {
		return api.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	req := logRequest{Namespace: pod.Namespace, Pod: pod.Name, UID: pod.UID, Container: name, Follow: o.Follow, Previous: o.Previous,
		Timestamps: o.Timestamps, TailLines: o.TailLines, SinceSeconds: o.SinceSeconds, SinceTime: o.SinceTime, LimitBytes: o.LimitBytes}
	if pod.Spec.NodeName == l.c.cfg.NodeName {
		return l.c.readLog(ctx, req, w)
	}
	return l.c.remoteLog(ctx, pod.Spec.NodeName, req, w)
}

// logContainer is the container pods/log reads: the one named, or the
// Pod's only one.
func logContainer(pod *api.Pod, name string) (string, error) {
	var names []string
	for _, c := range pod.Spec.InitContainers {
		names = append(names, c.Name)
	}
	for _, c := range pod.Spec.Containers {
		names = append(names, c.Name)
	}
	if name == "" {
		if len(pod.Spec.Containers) == 1 {
			return pod.Spec.Containers[0].Name, nil
		}
		return "", api.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %v", pod.Name, names))
	}
	if !slices.Contains(names, name) {
		return "", api.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
	}
	return name, nil
}

// readLog streams a container of a Pod of this node from the runtime.
func (c *Cluster) readLog(ctx context.Context, req logRequest, w io.Writer) error {
	lr, ok := c.cfg.Runtime.(runtime.LogReader)
	if c.cfg.Runtime == nil || !ok {
		return api.NewServiceUnavailable(fmt.Sprintf("node %s: its container runtime keeps no logs", c.cfg.NodeName))
	}
	list, err := c.cfg.Runtime.ListContainers(ctx, &runtime.ContainerFilter{PodUID: string(req.UID),
		Labels: map[string]string{runtime.LabelContainerName: req.Container}})
	if err != nil {
		return api.NewServiceUnavailable(fmt.Sprintf("node %s: listing containers: %v", c.cfg.NodeName, err))
	}
	if len(list) == 0 {
		return api.NewNotFound("container", fmt.Sprintf("%s (pod %s/%s has not started it on node %s)", req.Container, req.Namespace, req.Pod, c.cfg.NodeName))
	}
	latest := slices.MaxFunc(list, func(a, b *runtime.ContainerStatus) int { return a.RestartCount - b.RestartCount })
	opts := runtime.LogOptions{Follow: req.Follow, Timestamps: req.Timestamps, Previous: req.Previous}
	if req.TailLines != nil {
		if *req.TailLines < 0 {
			return api.NewBadRequest(fmt.Sprintf("tailLines: %d must not be negative", *req.TailLines))
		}
		opts.Tail = int(*req.TailLines)
	}
	switch {
	case req.SinceTime != nil:
		opts.Since = *req.SinceTime
	case req.SinceSeconds != nil:
		opts.Since = time.Now().Add(-time.Duration(*req.SinceSeconds) * time.Second)
	}
	if req.TailLines != nil && *req.TailLines == 0 {
		// No line written so far (the runtime's Tail 0 means all of them).
		if !req.Follow {
			return nil
		}
		opts.Tail, opts.Since = 0, time.Now()
	}
	out := &lockedWriter{w: w}
	if req.LimitBytes != nil {
		out.left, out.limited = *req.LimitBytes, true
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out.cancel = cancel
	err = lr.Logs(ctx, latest.ID, opts, out, out)
	switch {
	case out.full():
		return nil
	case errors.Is(err, runtime.ErrNotFound):
		return api.NewNotFound("container", fmt.Sprintf("%s of pod %s/%s: %v", req.Container, req.Namespace, req.Pod, err))
	case errors.Is(err, runtime.ErrInvalid):
		return api.NewBadRequest(err.Error())
	case err != nil:
		return api.NewServiceUnavailable(fmt.Sprintf("node %s: reading the log: %v", c.cfg.NodeName, err))
	}
	return nil
}

// lockedWriter serializes the runtime's stdout and stderr onto one writer
// and stops the read once limitBytes were written.
type lockedWriter struct {
	mu      sync.Mutex
	w       io.Writer
	limited bool
	left    int64
	cancel  context.CancelFunc
}

var errLogLimit = errors.New("limitBytes reached")

func (lw *lockedWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if !lw.limited {
		return lw.w.Write(p)
	}
	if lw.left <= 0 {
		return 0, errLogLimit
	}
	q := p
	if int64(len(q)) > lw.left {
		q = q[:lw.left]
	}
	n, err := lw.w.Write(q)
	lw.left -= int64(n)
	if err == nil && lw.left <= 0 {
		lw.cancel()
		if len(q) < len(p) {
			return n, errLogLimit
		}
	}
	return n, err
}

func (lw *lockedWriter) full() bool {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return lw.limited && lw.left <= 0
}

// remoteLog asks node for the log and copies it to w.
func (c *Cluster) remoteLog(ctx context.Context, node string, req logRequest, w io.Writer) error {
	addr, agentOnly := "", false
	c.mu.Lock()
	g := c.gosp
	c.mu.Unlock()
	if g != nil {
		for _, m := range g.Members() {
			if m.Name == node && m.Status == membership.StatusAlive {
				addr, agentOnly = m.Record.RPCAddr, m.Record.Role == membership.RoleAgent
			}
		}
	}
	if addr == "" {
		return api.NewServiceUnavailable(fmt.Sprintf("node %s is not a live member with a cluster address: its Pod's log cannot be read", node))
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	var conn net.Conn
	var err error
	if agentOnly {
		conn, err = c.dialAgentLogs(dctx, node, addr) // its log listener (agentlogs.go)
	} else {
		conn, err = c.store.Dial(dctx, addr, svcLogs)
	}
	cancel()
	if err != nil {
		return api.NewServiceUnavailable(fmt.Sprintf("node %s: %v", node, err))
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	if err := trust.WriteFrame(conn, req); err != nil {
		return api.NewServiceUnavailable(fmt.Sprintf("node %s: sending the log request: %v", node, err))
	}
	var ans logAnswer
	if err := trust.ReadFrame(conn, &ans); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return api.NewServiceUnavailable(fmt.Sprintf("node %s: reading the answer: %v", node, err))
	}
	if ans.Status != nil {
		return &api.StatusError{ErrStatus: *ans.Status}
	}
	if _, err := io.Copy(w, conn); err != nil && ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
		return api.NewServiceUnavailable(fmt.Sprintf("node %s: the log stream broke: %v", node, err))
	}
	return nil
}

// flushWriter flushes w after every write when it can (an
// http.ResponseWriter), so that followed lines reach the client at once.
type flushWriter struct{ w io.Writer }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if fl, ok := f.w.(interface{ Flush() }); ok {
		fl.Flush()
	}
	return n, err
}

// serveLogs answers svcLogs: a server node asks for the log of a Pod
// container of this node.
func (c *Cluster) serveLogs(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	if tc, ok := conn.(*tls.Conn); ok && c.trust != nil {
		id, err := trust.PeerIdentity(tc.ConnectionState(), c.trust.pool, time.Now())
		if err != nil || id.Role != trust.RoleServer {
			c.log.Warn("log request refused: only servers may ask", zap.Stringer("remote", conn.RemoteAddr()), zap.Error(err))
			return
		}
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var req logRequest
	if err := trust.ReadFrame(conn, &req); err != nil {
		c.log.Debug("log request unreadable", zap.Error(err))
		return
	}
	_ = conn.SetReadDeadline(time.Time{})
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The asker closing its end ends the stream.
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(io.Discard, conn); cancel() })
	defer wg.Wait()
	defer conn.Close()
	// The answer frame goes first: on success an empty one, written just
	// before the first log byte (or at the end of an empty log).
	first := &answerWriter{conn: conn}
	err := c.readLog(ctx, req, first)
	if err != nil {
		var se *api.StatusError
		if !errors.As(err, &se) {
			se = api.NewInternalError(err)
		}
		st := se.Status()
		if !first.sent {
			_ = trust.WriteFrame(conn, logAnswer{Status: &st})
		}
		return
	}
	_ = first.start()
}

// answerWriter writes the empty answer frame before the first log bytes.
type answerWriter struct {
	conn net.Conn
	sent bool
}

func (a *answerWriter) start() error {
	if a.sent {
		return nil
	}
	a.sent = true
	return trust.WriteFrame(a.conn, logAnswer{})
}

func (a *answerWriter) Write(p []byte) (int, error) {
	if err := a.start(); err != nil {
		return 0, err
	}
	return a.conn.Write(p)
}
