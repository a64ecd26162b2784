package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	goruntime "runtime"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// ReadJSONStream drains a 200-status JSON message stream of the Engine API
// (image pull, import, build, push) and returns the first error the daemon
// reported inside it, if any. Such errors do not show in the HTTP status,
// so every stream must be read to the end with this.
func ReadJSONStream(rc io.Reader) error {
	err := jsonmessage.DisplayJSONMessagesStream(rc, io.Discard, 0, false, nil)
	var jerr *jsonstream.Error
	if errors.As(err, &jerr) {
		return fmt.Errorf("daemon: %s", jerr.Message)
	}
	return err
}

// EnsureImage implements runtime.Runtime. With no reachable registry a pull
// fails and the *runtime.Error carries the daemon's message (for example
// "dial tcp: lookup registry-1.docker.io: no such host").
func (r *Runtime) EnsureImage(ctx context.Context, ref string, policy runtime.PullPolicy) (string, error) {
	const op = "EnsureImage"
	if ref == "" {
		return "", runtime.Errorf(op, "", runtime.ErrInvalid, "image: must not be empty")
	}
	if !policy.Valid() {
		return "", runtime.Errorf(op, ref, runtime.ErrInvalid, "policy: %q must be IfNotPresent, Never or Always", policy)
	}
	in, err := r.cli.ImageInspect(ctx, ref)
	if err == nil && policy != runtime.PullAlways {
		return in.ID, nil
	}
	if err != nil {
		werr := r.wrap(op, ref, err)
		if !runtime.IsNotFound(werr) {
			return "", werr
		}
		if policy == runtime.PullNever {
			return "", &runtime.Error{Op: op, ID: ref, Kind: runtime.ErrImageNeverPull, Message: cerrMessage(err), Err: err}
		}
	}
	rc, err := r.cli.ImagePull(ctx, ref, client.ImagePullOptions{})
	if err == nil {
		err = ReadJSONStream(rc)
		rc.Close()
	}
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("%s %s: %w", op, ref, ctx.Err())
		}
		return "", &runtime.Error{Op: op, ID: ref, Kind: runtime.ErrImagePull, Message: cerrMessage(err), Err: err}
	}
	in, err = r.cli.ImageInspect(ctx, ref)
	if err != nil {
		return "", r.wrap(op, ref, err)
	}
	return in.ID, nil
}

// ensurePause makes the infra image present (importing it from memory
// once) and returns its reference.
func (r *Runtime) ensurePause(ctx context.Context) (string, error) {
	r.pauseMu.Lock()
	defer r.pauseMu.Unlock()
	if r.pauseRef != "" {
		return r.pauseRef, nil
	}
	arch := goruntime.GOARCH
	if v, err := r.cli.ServerVersion(ctx, client.ServerVersionOptions{}); err == nil && v.Arch != "" {
		arch = v.Arch // the daemon's, which may differ from ours
	}
	ref, tarball, err := pauseImage(arch)
	if err != nil {
		return "", &runtime.Error{Op: "Start", Kind: runtime.ErrUnavailable, Message: err.Error(), Err: err}
	}
	if _, err := r.cli.ImageInspect(ctx, ref); err == nil {
		r.pauseRef = ref
		return ref, nil
	}
	labels := fmt.Sprintf(`LABEL %s=true %s=%s`, runtime.LabelManaged, runtime.LabelKind, runtime.KindImage)
	rc, err := r.cli.ImageImport(ctx, client.ImageImportSource{Source: bytes.NewReader(tarball), SourceName: "-"}, ref,
		client.ImageImportOptions{Changes: []string{`ENTRYPOINT ["/pause"]`, labels}, Platform: ocispec.Platform{OS: "linux", Architecture: arch}})
	if err == nil {
		err = ReadJSONStream(rc)
		rc.Close()
	}
	if err != nil {
		return "", r.wrap("Start", ref, fmt.Errorf("import infra image: %w", err))
	}
	r.log.Info("imported infra image")
	r.pauseRef = ref
	return ref, nil
}
