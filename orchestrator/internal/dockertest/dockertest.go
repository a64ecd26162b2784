// Package dockertest gives tests a client to the local Docker daemon, with
// the project's one rule for a missing daemon: the test is skipped, unless
// CI=true, when it fails (CI on this project always has a daemon). Image
// builds a test's Go program into an image once per test binary.
package dockertest

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker/dockerimage"
	"github.com/moby/moby/client"
)

// Client returns a client to the daemon named by the environment
// (DOCKER_HOST, or the default socket), after a ping. It is closed by
// tb.Cleanup. Without a reachable daemon it calls tb.Skip, or tb.Fatal
// when CI=true.
func Client(tb testing.TB) *client.Client {
	tb.Helper()
	cli, err := client.New(client.FromEnv)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		cancel()
		if err != nil {
			cli.Close()
		}
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("CI=true and the Docker daemon is unreachable: %v", err)
		}
		tb.Skipf("Docker daemon unreachable (set CI=true to make this a failure): %v", err)
	}
	tb.Cleanup(func() { cli.Close() })
	return cli
}

// builds holds one build per image reference for the test binary.
var builds sync.Map // ref -> *build

type build struct {
	once sync.Once
	id   string
	err  error
}

// Image builds the Go package pkg (a path relative to the test's package,
// as dockerimage.Options.Package takes it) into the image ref, once per
// test binary, and returns the image's ID. A failed build fails tb.
func Image(tb testing.TB, cli *client.Client, pkg, ref string) string {
	tb.Helper()
	v, _ := builds.LoadOrStore(ref, &build{})
	b := v.(*build)
	b.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		res, err := dockerimage.Build(ctx, cli, dockerimage.Options{Package: pkg, Ref: ref})
		if err == nil {
			b.id = res.ImageID
		}
		b.err = err
	})
	if b.err != nil {
		tb.Fatalf("build %s from %s: %v", ref, pkg, b.err)
	}
	return b.id
}
