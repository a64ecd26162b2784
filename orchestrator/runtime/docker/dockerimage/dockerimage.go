package dockerimage

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// LabelContentHash holds the content hash of an image built here.
const LabelContentHash = "io.flotilla.image.content-hash"

// Options configure Build.
type Options struct {
	// Package is the Go package to build, as for `go build` (required).
	Package string
	// Ref is the image reference to tag, e.g. "web:dev" (required).
	Ref string
	// Dir is the directory go build runs in (it decides the module);
	// empty means the current directory.
	Dir string
	// BuildFlags are extra `go build` flags, e.g. "-tags=netgo".
	BuildFlags []string
	// Env are extra environment variables for the container ("K=V").
	Env []string
	// Labels are put on the image.
	Labels map[string]string
	// GOARCH overrides the target architecture; empty means the daemon's.
	GOARCH string
}

// Result says what Build did.
type Result struct {
	ImageID     string
	ContentHash string
	// Cached is true when no import was needed.
	Cached bool
	// BuildTime and ImportTime split the duration.
	BuildTime, ImportTime time.Duration
}

// BuildGo builds pkg into a FROM scratch image tagged ref; see Build.
func BuildGo(ctx context.Context, cli *client.Client, pkg, ref string) error {
	_, err := Build(ctx, cli, Options{Package: pkg, Ref: ref})
	return err
}

// Build compiles opts.Package and makes opts.Ref an image whose entrypoint
// is the binary (/app). Errors: invalid options (naming the field); the go
// build output when compilation fails; the daemon's message when the
// import fails (also when reported inside the 200-status JSON stream).
func Build(ctx context.Context, cli *client.Client, opts Options) (*Result, error) {
	var errs []error
	if cli == nil {
		errs = append(errs, errors.New("dockerimage: cli must not be nil"))
	}
	if opts.Package == "" {
		errs = append(errs, errors.New("dockerimage: Package must not be empty"))
	}
	if opts.Ref == "" || strings.ContainsAny(opts.Ref, " \t\n") {
		errs = append(errs, fmt.Errorf("dockerimage: Ref %q must be a non-empty image reference", opts.Ref))
	}
	for i, e := range opts.Env {
		if !strings.Contains(e, "=") {
			errs = append(errs, fmt.Errorf("dockerimage: Env[%d] %q must be K=V", i, e))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	arch := opts.GOARCH
	if arch == "" {
		v, err := cli.ServerVersion(ctx, client.ServerVersionOptions{})
		if err != nil {
			return nil, fmt.Errorf("dockerimage: ask the daemon for its architecture: %w", err)
		}
		arch = v.Arch
	}
	res := &Result{}
	t0 := time.Now()
	bin, err := compile(ctx, opts, arch)
	if err != nil {
		return nil, err
	}
	res.BuildTime = time.Since(t0)

	changes := []string{`ENTRYPOINT ["/app"]`}
	if len(opts.Env) > 0 {
		envs := make([]string, len(opts.Env))
		for i, e := range opts.Env {
			k, v, _ := strings.Cut(e, "=")
			envs[i] = k + "=" + quote(v)
		}
		changes = append(changes, "ENV "+strings.Join(envs, " "))
	}
	labels := map[string]string{}
	for k, v := range opts.Labels {
		labels[k] = v
	}
	h := sha256.New()
	h.Write(bin)
	cfgJSON, _ := json.Marshal(struct {
		C []string
		L map[string]string
		A string
	}{changes, labels, arch})
	h.Write(cfgJSON)
	res.ContentHash = hex.EncodeToString(h.Sum(nil))
	labels[LabelContentHash] = res.ContentHash
	labels["io.flotilla.managed"] = "true"
	labels["io.flotilla.kind"] = "image"

	t1 := time.Now()
	defer func() { res.ImportTime = time.Since(t1) }()
	if in, err := cli.ImageInspect(ctx, opts.Ref); err == nil && in.Config != nil && in.Config.Labels[LabelContentHash] == res.ContentHash {
		res.ImageID, res.Cached = in.ID, true
		return res, nil
	}
	same, err := cli.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("label", LabelContentHash+"="+res.ContentHash)})
	if err == nil && len(same.Items) > 0 {
		id := same.Items[0].ID
		if _, err := cli.ImageTag(ctx, client.ImageTagOptions{Source: id, Target: opts.Ref}); err != nil {
			return nil, fmt.Errorf("dockerimage: tag %s: %w", opts.Ref, err)
		}
		res.ImageID, res.Cached = id, true
		return res, nil
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var lb strings.Builder
	lb.WriteString("LABEL")
	for _, k := range keys {
		fmt.Fprintf(&lb, " %s=%s", k, quote(labels[k]))
	}
	changes = append(changes, lb.String())
	tarball, err := tarOf(bin)
	if err != nil {
		return nil, err
	}
	rc, err := cli.ImageImport(ctx, client.ImageImportSource{Source: bytes.NewReader(tarball), SourceName: "-"}, opts.Ref,
		client.ImageImportOptions{Changes: changes, Platform: ocispec.Platform{OS: "linux", Architecture: arch}})
	if err != nil {
		return nil, fmt.Errorf("dockerimage: import %s: %w", opts.Ref, err)
	}
	err = jsonmessage.DisplayJSONMessagesStream(rc, &bytes.Buffer{}, 0, false, nil)
	rc.Close()
	if err != nil {
		return nil, fmt.Errorf("dockerimage: import %s: daemon: %w", opts.Ref, err)
	}
	in, err := cli.ImageInspect(ctx, opts.Ref)
	if err != nil {
		return nil, fmt.Errorf("dockerimage: inspect %s after import: %w", opts.Ref, err)
	}
	res.ImageID = in.ID
	return res, nil
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func compile(ctx context.Context, opts Options, arch string) ([]byte, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("dockerimage: no Go toolchain in PATH: %w", err)
	}
	dir, err := os.MkdirTemp("", "dockerimage-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "app")
	args := append([]string{"build", "-trimpath", "-ldflags=-s -w", "-o", out}, opts.BuildFlags...)
	args = append(args, opts.Package)
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = opts.Dir
	cmd.Env = append(slices.Clone(os.Environ()), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("dockerimage: go build %s: %w\n%s", opts.Package, err, b)
	}
	return os.ReadFile(out)
}

func tarOf(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	if err := tw.WriteHeader(&tar.Header{Name: "tmp/", Mode: 0o1777, Typeflag: tar.TypeDir, ModTime: epoch}); err != nil {
		return nil, err
	}
	if err := tw.WriteHeader(&tar.Header{Name: "app", Mode: 0o755, Size: int64(len(bin)), Typeflag: tar.TypeReg, ModTime: epoch}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(bin); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
