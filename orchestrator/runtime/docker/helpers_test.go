package docker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/dockertest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testImage is built once per test binary from internal/testapp.
const testImage = "flotilla-test/testapp:dev"

// dockerClient returns a client to the local daemon (see dockertest).
func dockerClient(t testing.TB) *client.Client { return dockertest.Client(t) }

func buildTestImage(t testing.TB, cli *client.Client) {
	t.Helper()
	dockertest.Image(t, cli, "./internal/testapp", testImage)
}

func uniqueID(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// env is one test's cluster on the real daemon: a unique cluster ID, a
// private network, and a cleanup that removes everything labelled with the
// cluster ID and checks nothing is left.
type env struct {
	t       testing.TB
	cli     *client.Client
	cluster string
	network string
}

func newEnv(t testing.TB) *env {
	t.Helper()
	cli := dockerClient(t)
	buildTestImage(t, cli)
	e := &env{t: t, cli: cli, cluster: uniqueID("t"), network: uniqueID("flotilla-test-")}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := docker.Purge(ctx, cli, e.cluster, ""); err != nil {
			t.Errorf("purge: %v", err)
		}
		f := make(client.Filters).Add("label", runtime.LabelClusterID+"="+e.cluster)
		cs, _ := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
		vs, _ := cli.VolumeList(ctx, client.VolumeListOptions{Filters: f})
		ns, _ := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
		if len(cs.Items)+len(vs.Items)+len(ns.Items) != 0 {
			t.Errorf("left behind: %d containers, %d volumes, %d networks", len(cs.Items), len(vs.Items), len(ns.Items))
		}
	})
	return e
}

// runtime returns a started runtime for node, closed at test end.
func (e *env) runtime(node string) *docker.Runtime {
	e.t.Helper()
	return e.runtimeWith(node, nil)
}

// runtimeWith is runtime with a change to the default Config.
func (e *env) runtimeWith(node string, change func(*docker.Config)) *docker.Runtime {
	e.t.Helper()
	cfg := docker.Config{ClusterID: e.cluster, NodeName: node, Network: e.network, CreateNetwork: true, Logger: zaptest.NewLogger(e.t)}
	if change != nil {
		change(&cfg)
	}
	r, err := docker.New(ctx, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = r.Close() })
	if err := r.Start(ctx); err != nil {
		e.t.Fatal(err)
	}
	return r
}

var ctx = context.Background()

// inspect asks the daemon about a container directly, past the runtime.
func inspect(cli *client.Client, id string) (container.InspectResponse, error) {
	res, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	return res.Container, err
}

type events struct {
	t  testing.TB
	ch <-chan runtime.Event
}

func subscribe(t testing.TB, r runtime.Runtime) *events {
	t.Helper()
	c, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	ch, err := r.Events(c)
	if err != nil {
		t.Fatal(err)
	}
	return &events{t: t, ch: ch}
}

// want waits up to 20 s for an event of type typ about id (container or
// sandbox), skipping others.
func (e *events) want(typ runtime.EventType, id string) runtime.Event {
	e.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-e.ch:
			if !ok {
				e.t.Fatal("event channel closed")
			}
			if ev.Type == typ && (ev.ContainerID == id || (ev.ContainerID == "" && ev.SandboxID == id)) {
				return ev
			}
		case <-deadline:
			e.t.Fatalf("no %s event for %.12s within 20s", typ, id)
		}
	}
}

func sandbox(t testing.TB, r runtime.Runtime, name string, ports ...runtime.PortMapping) string {
	t.Helper()
	id, err := r.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: name, Namespace: "default", UID: uniqueID("uid-"), PortMappings: ports})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func startContainer(t testing.TB, r runtime.Runtime, sb string, cfg *runtime.ContainerConfig) string {
	t.Helper()
	if cfg.Image == "" {
		cfg.Image = testImage
	}
	id, err := r.CreateContainer(ctx, sb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	return id
}

func execOK(t testing.TB, r runtime.Runtime, id string, cmd ...string) string {
	t.Helper()
	res, err := r.(runtime.Execer).Exec(ctx, id, cmd)
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 {
		t.Fatalf("exec %v: exit %d, stdout %q, stderr %q", cmd, res.ExitCode, res.Stdout, res.Stderr)
	}
	return string(res.Stdout)
}

// waitFor polls cond every 20 ms until it holds or 20 s pass.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func logs(t testing.TB, r runtime.Runtime, id string, opts runtime.LogOptions) string {
	t.Helper()
	var out strings.Builder
	if err := r.(runtime.LogReader).Logs(ctx, id, opts, &out, &out); err != nil {
		t.Fatal(err)
	}
	return out.String()
}
