package fake

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// Exec implements runtime.Execer with Behavior.Exec (default: exit 0, or 1
// while the container is unhealthy).
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string) (*runtime.ExecResult, error) {
	const op = "Exec"
	if err := r.call(ctx, Call{Op: OpExec, ID: id}); err != nil {
		return nil, err
	}
	if len(cmd) == 0 {
		return nil, runtime.Errorf(op, id, runtime.ErrInvalid, "cmd: must not be empty")
	}
	r.mu.Lock()
	c, err := r.containerLocked(op, id)
	if err != nil {
		r.mu.Unlock()
		return nil, err
	}
	if c.status.State != runtime.ContainerRunning {
		r.mu.Unlock()
		return nil, runtime.Errorf(op, id, runtime.ErrNotRunning, "container is %s", c.status.State)
	}
	fn, healthy := c.behavior.Exec, c.healthy
	r.mu.Unlock()
	res := runtime.ExecResult{}
	switch {
	case fn != nil:
		res = fn(slices.Clone(cmd))
	case !healthy:
		res.ExitCode = 1
	}
	if len(res.Stdout) > runtime.MaxExecOutput {
		res.Stdout, res.Truncated = res.Stdout[:runtime.MaxExecOutput], true
	}
	if len(res.Stderr) > runtime.MaxExecOutput {
		res.Stderr, res.Truncated = res.Stderr[:runtime.MaxExecOutput], true
	}
	return &res, nil
}

// Logs implements runtime.LogReader over the lines of Behavior.Logs and
// WriteLog.
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions, stdout, stderr io.Writer) error {
	const op = "Logs"
	if err := r.call(ctx, Call{Op: OpLogs, ID: id}); err != nil {
		return err
	}
	if opts.Tail < 0 {
		return runtime.Errorf(op, id, runtime.ErrInvalid, "tail: %d must not be negative", opts.Tail)
	}
	r.mu.Lock()
	c, err := r.containerLocked(op, id)
	if err == nil && opts.Previous {
		c, err = r.previousLocked(c)
	}
	if err != nil {
		r.mu.Unlock()
		return err
	}
	lines := slices.Clone(c.logs)
	if !opts.Since.IsZero() {
		lines = slices.DeleteFunc(lines, func(l logLine) bool { return l.t.Before(opts.Since) })
	}
	if opts.Tail > 0 && len(lines) > opts.Tail {
		lines = lines[len(lines)-opts.Tail:]
	}
	sent := len(c.logs)
	r.mu.Unlock()
	for {
		if err := writeLines(lines, opts.Timestamps, stdout, stderr); err != nil {
			return err
		}
		if !opts.Follow {
			return nil
		}
		r.mu.Lock()
		if c.status.State != runtime.ContainerRunning && c.status.State != runtime.ContainerCreated && sent == len(c.logs) {
			r.mu.Unlock()
			return nil
		}
		changed := c.changed
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
		r.mu.Lock()
		lines = slices.Clone(c.logs[sent:])
		sent = len(c.logs)
		r.mu.Unlock()
	}
}

func writeLines(lines []logLine, ts bool, stdout, stderr io.Writer) error {
	for _, l := range lines {
		w := stdout
		if l.stderr {
			w = stderr
		}
		if w == nil {
			continue
		}
		var err error
		if ts {
			_, err = fmt.Fprintf(w, "%s %s\n", l.t.Format(time.RFC3339Nano), l.text)
		} else {
			_, err = fmt.Fprintln(w, l.text)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// previousLocked finds the instance of the same Pod container with the
// highest restart count below c's.
func (r *Runtime) previousLocked(c *container) (*container, error) {
	var prev *container
	for _, o := range r.containers {
		if o.status.PodUID == c.status.PodUID && o.status.Name == c.status.Name && o.status.RestartCount < c.status.RestartCount &&
			(prev == nil || o.status.RestartCount > prev.status.RestartCount) {
			prev = o
		}
	}
	if prev == nil {
		return nil, runtime.Errorf("Logs", c.status.ID, runtime.ErrNotFound, "no previous instance of container %q", c.status.Name)
	}
	return prev, nil
}

// ProbeHTTP implements runtime.NetworkProber: the running containers of the
// sandbox with podIP answer through Behavior.HTTP, or 200 (503 while
// unhealthy) on their declared ports. Errors: ErrNotFound for an unknown
// IP; a "connection refused" error when no container listens on port.
func (r *Runtime) ProbeHTTP(ctx context.Context, podIP string, port int, path string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r.mu.Lock()
	cs, err := r.runningAtLocked(podIP)
	r.mu.Unlock()
	if err != nil {
		return 0, err
	}
	for _, c := range cs {
		if c.behavior.HTTP != nil {
			if code := c.behavior.HTTP(port, path); code > 0 {
				return code, nil
			}
			continue
		}
		if declares(c, port) {
			if !c.healthy {
				return 503, nil
			}
			return 200, nil
		}
	}
	return 0, fmt.Errorf("fake: dial tcp %s:%d: connection refused", podIP, port)
}

// ProbeTCP implements runtime.NetworkProber like ProbeHTTP, with Behavior.TCP.
func (r *Runtime) ProbeTCP(ctx context.Context, podIP string, port int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	cs, err := r.runningAtLocked(podIP)
	r.mu.Unlock()
	if err != nil {
		return err
	}
	for _, c := range cs {
		if c.behavior.TCP != nil {
			if c.behavior.TCP(port) {
				return nil
			}
			continue
		}
		if declares(c, port) && c.healthy {
			return nil
		}
	}
	return fmt.Errorf("fake: dial tcp %s:%d: connection refused", podIP, port)
}

// ProbeGRPC implements runtime.NetworkProber like ProbeHTTP, with
// Behavior.GRPC.
func (r *Runtime) ProbeGRPC(ctx context.Context, podIP string, port int, service string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	r.mu.Lock()
	cs, err := r.runningAtLocked(podIP)
	r.mu.Unlock()
	if err != nil {
		return 0, err
	}
	for _, c := range cs {
		if c.behavior.GRPC != nil {
			if status := c.behavior.GRPC(port, service); status >= 0 {
				return status, nil
			}
			continue
		}
		if declares(c, port) {
			if !c.healthy {
				return 2, nil // NOT_SERVING
			}
			return 1, nil // SERVING
		}
	}
	return 0, fmt.Errorf("fake: dial tcp %s:%d: connection refused", podIP, port)
}

// runningAtLocked returns snapshots of the running containers at podIP;
// the behaviour funcs are called after the lock is released.
func (r *Runtime) runningAtLocked(podIP string) ([]container, error) {
	a, err := netip.ParseAddr(podIP)
	sb := r.ips[a]
	if err != nil || sb == nil || sb.status.State != runtime.SandboxReady {
		return nil, runtime.Errorf("Probe", podIP, runtime.ErrNotFound, "no ready sandbox with IP %s", podIP)
	}
	var out []container
	for _, c := range sb.containers {
		if c.status.State == runtime.ContainerRunning {
			out = append(out, container{behavior: c.behavior, healthy: c.healthy, cfg: runtime.ContainerConfig{Ports: c.cfg.Ports}})
		}
	}
	return out, nil
}

func declares(c container, port int) bool {
	for _, p := range c.cfg.Ports {
		if p.ContainerPort == port {
			return true
		}
	}
	return false
}

// Crash makes a running container exit now with exitCode (fault
// injection). Errors: ErrNotFound; ErrNotRunning; ErrInvalid for a code
// outside 0-255.
func (r *Runtime) Crash(id string, exitCode int) error {
	if exitCode < 0 || exitCode > 255 {
		return runtime.Errorf("Crash", id, runtime.ErrInvalid, "exitCode: %d must be in 0-255", exitCode)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.runningLocked("Crash", id)
	if err != nil {
		return err
	}
	r.exitLocked(c, exitCode, "", "crashed (fault injection)")
	return nil
}

// OOMKill makes a running container exit as killed for exceeding its
// memory limit: an EventContainerOOM, then exit 137 with Reason OOMKilled.
// Errors: ErrNotFound; ErrNotRunning.
func (r *Runtime) OOMKill(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.runningLocked("OOMKill", id)
	if err != nil {
		return err
	}
	r.oomLocked(c)
	return nil
}

func (r *Runtime) runningLocked(op, id string) (*container, error) {
	c, err := r.containerLocked(op, id)
	if err != nil {
		return nil, err
	}
	if c.status.State != runtime.ContainerRunning {
		return nil, runtime.Errorf(op, id, runtime.ErrNotRunning, "container is %s", c.status.State)
	}
	return c, nil
}

// SetHealthy flips the default probe answers of a container: unhealthy
// containers answer HTTP 503, refuse TCP and exec exits 1. Behaviour funcs
// (Behavior.HTTP/TCP/Exec) are not affected. Errors: ErrNotFound.
func (r *Runtime) SetHealthy(id string, healthy bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.containerLocked("SetHealthy", id)
	if err != nil {
		return err
	}
	c.healthy = healthy
	return nil
}

// KillSandbox makes a sandbox die as if its infra process was killed: it
// becomes NotReady (EventSandboxNotReady); its containers keep running,
// as with Docker, but have lost their network. Errors: ErrNotFound.
func (r *Runtime) KillSandbox(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, err := r.sandboxLocked("KillSandbox", id)
	if err != nil {
		return err
	}
	if sb.status.State == runtime.SandboxReady {
		sb.status.State = runtime.SandboxNotReady
		r.publishSandbox(runtime.EventSandboxNotReady, sb)
	}
	return nil
}

// WriteLog appends a line to a container's stdout (or stderr) output.
// Errors: ErrNotFound.
func (r *Runtime) WriteLog(id string, stderr bool, line string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, err := r.containerLocked("WriteLog", id)
	if err != nil {
		return err
	}
	c.logs = append(c.logs, logLine{t: r.now(), stderr: stderr, text: line})
	r.notifyLocked(c)
	return nil
}

// UpdateFiles implements runtime.FilesUpdater: the Files of every mount of
// source m.Source in the sandbox's containers become m.Files (what Config
// returns from then on); a mount with a subPath keeps its files, as the
// runtime's other implementations do. Errors: as the interface's.
func (r *Runtime) UpdateFiles(ctx context.Context, sandboxID string, m *runtime.Mount) error {
	const op = "UpdateFiles"
	var name string
	if m != nil {
		name = m.Source
	}
	if err := r.call(ctx, Call{Op: OpUpdateFiles, ID: sandboxID, Name: name}); err != nil {
		return err
	}
	if err := runtime.ValidateFilesUpdate(m); err != nil {
		return &runtime.Error{Op: op, ID: sandboxID, Kind: runtime.ErrInvalid, Err: err}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	sb, err := r.sandboxLocked(op, sandboxID)
	if err != nil {
		return err
	}
	if sb.status.State != runtime.SandboxReady {
		return runtime.Errorf(op, sandboxID, runtime.ErrSandboxNotReady, "sandbox is not running")
	}
	for _, c := range sb.containers {
		for i := range c.cfg.Mounts {
			cm := &c.cfg.Mounts[i]
			if cm.Type == runtime.MountFiles && cm.Medium == runtime.MediumMemory && cm.Source == m.Source && cm.SubPath == "" {
				cm.Files, cm.Group = slices.Clone(m.Files), clonePtr(m.Group)
			}
		}
	}
	return nil
}
