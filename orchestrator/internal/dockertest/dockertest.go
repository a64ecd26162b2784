// Package dockertest gives tests a client to the local Docker daemon, with
// the project's one rule for a missing daemon: the test is skipped, unless
// CI=true, when it fails (CI on this project always has a daemon).
package dockertest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// Client returns a client to the daemon named by the environment
// (DOCKER_HOST, or the default socket), after a ping. It is closed by
// tb.Cleanup. Without a reachable daemon it calls tb.Skip, or tb.Fatal
// when CI=true.
func Client(tb testing.TB) *client.Client {
	tb.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err = cli.Ping(ctx)
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
