package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
)

// capped keeps the first max bytes written and counts the rest.
type capped struct {
	buf     []byte
	max     int
	dropped bool
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - len(c.buf); room < len(p) {
		c.buf = append(c.buf, p[:max(room, 0)]...)
		c.dropped = true
		return len(p), nil
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

// Exec implements runtime.Execer. A ctx that ends interrupts the wait (the
// command may keep running in the container).
func (r *Runtime) Exec(ctx context.Context, id string, cmd []string) (*runtime.ExecResult, error) {
	const op = "Exec"
	if len(cmd) == 0 {
		return nil, runtime.Errorf(op, id, runtime.ErrInvalid, "cmd: must not be empty")
	}
	ex, err := r.cli.ExecCreate(ctx, id, client.ExecCreateOptions{Cmd: cmd, AttachStdout: true, AttachStderr: true})
	if err != nil {
		if cerrdefs.IsConflict(err) || strings.Contains(err.Error(), "is not running") {
			return nil, &runtime.Error{Op: op, ID: id, Kind: runtime.ErrNotRunning, Message: cerrMessage(err), Err: err}
		}
		return nil, r.wrap(op, id, err)
	}
	att, err := r.cli.ExecAttach(ctx, ex.ID, client.ExecAttachOptions{})
	if err != nil {
		return nil, r.wrap(op, id, err)
	}
	stop := context.AfterFunc(ctx, att.Close) // unblock the copy when ctx ends
	stdout, stderr := &capped{max: runtime.MaxExecOutput}, &capped{max: runtime.MaxExecOutput}
	_, cerr := stdcopy.StdCopy(stdout, stderr, att.Reader)
	stop()
	att.Close()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s %s: %w", op, id, ctx.Err())
	}
	if cerr != nil && !errors.Is(cerr, io.EOF) {
		return nil, r.wrap(op, id, fmt.Errorf("read exec output: %w", cerr))
	}
	insp, err := r.cli.ExecInspect(ctx, ex.ID, client.ExecInspectOptions{})
	if err != nil {
		return nil, r.wrap(op, id, err)
	}
	return &runtime.ExecResult{ExitCode: insp.ExitCode, Stdout: stdout.buf, Stderr: stderr.buf, Truncated: stdout.dropped || stderr.dropped}, nil
}

// Logs implements runtime.LogReader from Docker's log driver (json-file or
// local; other drivers cannot be read back). Previous finds the instance of
// the same Pod container with the highest restart count below this one's
// among the containers still present.
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions, stdout, stderr io.Writer) error {
	const op = "Logs"
	if opts.Tail < 0 {
		return runtime.Errorf(op, id, runtime.ErrInvalid, "tail: %d must not be negative", opts.Tail)
	}
	if opts.Previous {
		prev, err := r.previous(ctx, id)
		if err != nil {
			return err
		}
		id = prev
	}
	lo := client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: opts.Follow, Timestamps: opts.Timestamps, Tail: "all"}
	if opts.Tail > 0 {
		lo.Tail = strconv.Itoa(opts.Tail)
	}
	if !opts.Since.IsZero() {
		lo.Since = fmt.Sprintf("%d.%09d", opts.Since.Unix(), opts.Since.Nanosecond())
	}
	rc, err := r.cli.ContainerLogs(ctx, id, lo)
	if err != nil {
		return r.wrap(op, id, err)
	}
	defer rc.Close()
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	stop := context.AfterFunc(ctx, func() { rc.Close() })
	defer stop()
	_, err = stdcopy.StdCopy(stdout, stderr, rc)
	if ctx.Err() != nil || err == nil || errors.Is(err, io.EOF) {
		return nil
	}
	return r.wrap(op, id, fmt.Errorf("read logs: %w", err))
}

func (r *Runtime) previous(ctx context.Context, id string) (string, error) {
	cur, err := r.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return "", r.wrap("Logs", id, err)
	}
	l := cur.Container.Config.Labels
	n := runtime.RestartCountOf(l)
	list, err := r.ListContainers(ctx, &runtime.ContainerFilter{PodUID: l[runtime.LabelPodUID],
		Labels: map[string]string{runtime.LabelContainerName: l[runtime.LabelContainerName]}})
	if err != nil {
		return "", err
	}
	best, bestN := "", -1
	for _, c := range list {
		if c.RestartCount < n && c.RestartCount > bestN {
			best, bestN = c.ID, c.RestartCount
		}
	}
	if best == "" {
		return "", runtime.Errorf("Logs", id, runtime.ErrNotFound, "no previous instance of container %q", l[runtime.LabelContainerName])
	}
	return best, nil
}
