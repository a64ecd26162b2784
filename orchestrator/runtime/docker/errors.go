package docker

import (
	"context"
	"errors"
	"fmt"
	"os"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/moby/moby/client"
)

// daemonAddr names where the client looks for the daemon, for messages.
func daemonAddr(cli *client.Client) string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return "DOCKER_HOST=" + h
	}
	return cli.DaemonHost() + " (DOCKER_HOST unset)"
}

// wrap turns an Engine API error into a *runtime.Error; kind overrides the
// derived kind for not-found errors when non-nil (e.g. images).
func (r *Runtime) wrap(op, id string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: %w", op, id, err)
	}
	e := &runtime.Error{Op: op, ID: id, Kind: runtime.ErrEngine, Message: cerrMessage(err), Err: err}
	switch {
	case client.IsErrConnectionFailed(err), cerrdefs.IsUnavailable(err):
		e.Kind = runtime.ErrUnavailable
		e.Message = "cannot reach the Docker daemon at " + daemonAddr(r.cli) + ": " + err.Error()
	case cerrdefs.IsNotFound(err):
		e.Kind = runtime.ErrNotFound
	case cerrdefs.IsInvalidArgument(err):
		e.Kind = runtime.ErrInvalid
	}
	return e
}

// cerrMessage returns the daemon's message without client prefixes.
func cerrMessage(err error) string {
	msg := err.Error()
	const prefix = "Error response from daemon: "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		return msg[len(prefix):]
	}
	return msg
}
