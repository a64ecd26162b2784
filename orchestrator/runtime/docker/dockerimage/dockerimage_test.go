package dockerimage_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/dockertest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker/dockerimage"
	"github.com/moby/moby/client"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func dockerClient(t *testing.T) *client.Client { return dockertest.Client(t) }

func TestBuildIsCachedByContent(t *testing.T) {
	cli := dockerClient(t)
	ctx := context.Background()
	ref := "flotilla-test/dockerimage:" + time.Now().Format("150405.000000")[7:]
	opts := dockerimage.Options{Package: "../internal/testapp", Ref: ref, Env: []string{"HTTP_PORT=8081"}}
	first, err := dockerimage.Build(ctx, cli, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = cli.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{}) })
	in, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Config.Entrypoint) != 1 || in.Config.Entrypoint[0] != "/app" || in.Config.Labels[dockerimage.LabelContentHash] != first.ContentHash ||
		!strings.Contains(strings.Join(in.Config.Env, ","), "HTTP_PORT=8081") || in.ID != first.ImageID {
		t.Fatalf("image config: entrypoint %v labels %v env %v", in.Config.Entrypoint, in.Config.Labels, in.Config.Env)
	}
	second, err := dockerimage.Build(ctx, cli, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !second.Cached || second.ImageID != first.ImageID || second.ContentHash != first.ContentHash {
		t.Fatalf("second build not cached: %+v vs %+v", second, first)
	}
	t.Logf("first: build %v import %v; second: build %v, cache check %v", first.BuildTime, first.ImportTime, second.BuildTime, second.ImportTime)
	// The same content under another name is tagged, not imported again.
	ref2 := ref + "-copy"
	third, err := dockerimage.Build(ctx, cli, dockerimage.Options{Package: opts.Package, Ref: ref2, Env: opts.Env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = cli.ImageRemove(context.Background(), ref2, client.ImageRemoveOptions{}) })
	if !third.Cached || third.ImageID != first.ImageID {
		t.Fatalf("same content under a new name imported again: %+v", third)
	}
}

func TestBuildErrors(t *testing.T) {
	cli := dockerClient(t)
	ctx := context.Background()
	_, err := dockerimage.Build(ctx, cli, dockerimage.Options{Package: "./does/not/exist", Ref: "flotilla-test/never:v1"})
	if err == nil || !strings.Contains(err.Error(), "go build ./does/not/exist") {
		t.Fatalf("missing package: %v", err)
	}
	_, err = dockerimage.Build(ctx, nil, dockerimage.Options{Ref: "a b", Env: []string{"NOEQUALS"}})
	for _, want := range []string{"cli", "Package", "Ref", "Env[0]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validation error does not name %s: %v", want, err)
		}
	}
}
