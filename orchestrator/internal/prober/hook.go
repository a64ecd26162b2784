package prober

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Hook names a container lifecycle hook.
type Hook string

// Lifecycle hooks.
const (
	PostStart Hook = "PostStart"
	PreStop   Hook = "PreStop"
)

// ErrHookFailed is wrapped by RunHook when the hook ran and failed.
var ErrHookFailed = errors.New("prober: lifecycle hook failed")

// RunHook runs the container's postStart or preStop hook once, if it has
// one, and waits for it: exec through the runtime (exit code 0 is
// success), httpGet with the probes' rules (200-399), tcpSocket (a
// connection opens), or sleep. ctx bounds it: the agent passes a context
// that ends with the termination grace period, and stops the container
// when RunHook returns, whatever it returned. It needs no AddContainer
// and starts no goroutine.
//
// Errors: nil when there is no such hook; errors wrapping ErrInvalid that
// name the field (lifecycle.preStop.httpGet.port, ...) for a bad handler;
// ErrHookFailed wrapping the failure message when the hook failed; ctx's
// error when ctx ended first.
func (m *Manager) RunHook(ctx context.Context, c Container, which Hook) error {
	lc := c.Spec.Lifecycle
	if lc == nil {
		return nil
	}
	h, field := lc.PreStop, "lifecycle.preStop"
	if which == PostStart {
		h, field = lc.PostStart, "lifecycle.postStart"
	} else if which != PreStop {
		return fmt.Errorf("%w: unknown hook %q", ErrInvalid, which)
	}
	if h == nil {
		return nil
	}
	if h.Sleep != nil {
		if h.HTTPGet != nil || h.Exec != nil || h.TCPSocket != nil {
			return fmt.Errorf("%w: container %q: %s: may not specify more than 1 handler type", ErrInvalid, c.Spec.Name, field)
		}
		if h.Sleep.Seconds < 0 {
			return fmt.Errorf("%w: container %q: %s.sleep.seconds: must be >= 0, got %d", ErrInvalid, c.Spec.Name, field, h.Sleep.Seconds)
		}
		t := time.NewTimer(time.Duration(min(h.Sleep.Seconds, math.MaxInt64/int64(time.Second))) * time.Second)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s, err := buildSpec(Kind(field), &api.Probe{ProbeHandler: api.ProbeHandler{Exec: h.Exec, HTTPGet: h.HTTPGet, TCPSocket: h.TCPSocket}}, &c.Spec)
	if err != nil {
		return fmt.Errorf("%w: container %q: %w", ErrInvalid, c.Spec.Name, err)
	}
	if s.handler != handlerExec && s.host == "" && net.ParseIP(c.PodIP) == nil {
		return fmt.Errorf("%w: container %q: PodIP: %q is not an IP address, and %s needs it", ErrInvalid, c.Spec.Name, c.PodIP, field)
	}
	s.timeout = 0 // bounded by ctx alone
	t := &target{containerID: c.ContainerID, podIP: c.PodIP}
	if s.handler == handlerHTTP {
		scheme := "http"
		if s.https {
			scheme = "https"
		}
		t.urls[kindIndex(s.kind)] = scheme + "://" + s.addr(c.PodIP) + s.path
	}
	o := m.exec.run(ctx, s, t)
	if err := ctx.Err(); err != nil {
		return err
	}
	if !o.ok {
		return fmt.Errorf("%w: container %q: %s: %s", ErrHookFailed, c.Spec.Name, which, o.msg)
	}
	return nil
}
