package prober

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/dockertest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker"
)

// The Docker runtime's own test program: HTTP on 8080 with /healthz
// (503 after /health?ok=false), a TCP echo on 9090, and subcommands for
// exec (the image is FROM scratch: no shell).
const (
	dockerTestApp   = "../../runtime/docker/internal/testapp"
	dockerTestImage = "flotilla-test/probeapp:dev"
)

// TestDocker runs every probe kind against a real container, each to
// success and to failure: exec (the app's own subcommands), httpGet (its
// health endpoint flipped and flipped back), tcpSocket (until the
// container stops) and gRPC health (following the same flag). Without a
// daemon it is skipped, or fails under CI=true.
func TestDocker(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no Docker")
	}
	ctx := context.Background()
	cli := dockertest.Client(t)
	dockertest.Image(t, cli, dockerTestApp, dockerTestImage)
	var b [4]byte
	_, _ = rand.Read(b[:])
	cluster := "probe" + hex.EncodeToString(b[:])
	rt, err := docker.New(ctx, docker.Config{ClusterID: cluster, NodeName: "n1", Network: "flotilla-" + cluster,
		CreateNetwork: true, Client: cli, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = rt.Close()
		pctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := docker.Purge(pctx, cli, cluster, ""); err != nil {
			t.Errorf("purge: %v", err)
		}
	}()
	if err := rt.Start(ctx); err != nil {
		t.Fatal(err)
	}
	sb, err := rt.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: "web", Namespace: "default", UID: "uid-" + cluster})
	if err != nil {
		t.Fatal(err)
	}
	st, err := rt.PodSandboxStatus(ctx, sb)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.EnsureImage(ctx, dockerTestImage, runtime.PullNever); err != nil {
		t.Fatal(err)
	}
	id, err := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "app", Image: dockerTestImage,
		Ports: []runtime.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "echo", ContainerPort: 9090}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}

	m, c := newManager(t, Config{Runtime: rt})
	spec := api.Container{
		Name:  "app",
		Ports: []api.ContainerPort{{Name: "http", ContainerPort: 8080}, {Name: "echo", ContainerPort: 9090}},
		// The app's own subcommand stands in for a shell command.
		StartupProbe: &api.Probe{ProbeHandler: api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"/app", "dial", "127.0.0.1:9090"}}},
			PeriodMilliseconds: 100, TimeoutSeconds: 2, FailureThreshold: 50},
		LivenessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{TCPSocket: &api.TCPSocketAction{Port: api.FromString("echo")}},
			PeriodMilliseconds: 100, TimeoutSeconds: 1, FailureThreshold: 3},
		ReadinessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Port: api.FromString("http"), Path: "/healthz"}},
			PeriodMilliseconds: 100, TimeoutSeconds: 1, FailureThreshold: 2},
	}
	if err := m.AddContainer(Container{PodUID: "uid-" + cluster, ContainerID: id, PodIP: st.IP, Spec: spec}); err != nil {
		t.Fatal(err)
	}
	c.wait(t, 30*time.Second, "started (exec probe)", func(r Result) bool { return r.Kind == Startup && r.Passing })
	c.wait(t, 30*time.Second, "ready (httpGet probe)", func(r Result) bool { return r.Kind == Readiness && r.Passing })

	// Flip the app's health endpoint: readiness fails, liveness (TCP) holds.
	resp, err := http.Get("http://" + st.IP + ":8080/health?ok=false")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	r := c.wait(t, 30*time.Second, "unready", func(r Result) bool { return r.Kind == Readiness && r.Changed && !r.Passing })
	if !strings.Contains(r.Message, "statuscode: 503") {
		t.Fatalf("readiness failure %+v", r)
	}
	if ls := status(t, m, "uid-"+cluster, "app", Liveness); !ls.Passing || ls.Attempts == 0 {
		t.Fatalf("liveness %+v", ls)
	}
	// An exec probe that fails, with the program's own message.
	if err := m.RunHook(ctx, Container{PodUID: "x", ContainerID: id, Spec: api.Container{Name: "app", Lifecycle: &api.Lifecycle{
		PreStop: &api.LifecycleHandler{Exec: &api.ExecAction{Command: []string{"/app", "exit", "3"}}}}}}, PreStop); err == nil ||
		!strings.Contains(err.Error(), "exited with 3") {
		t.Fatalf("exec exit 3: %v", err)
	}
	// The same container probed as a second Pod: a gRPC health probe on
	// the app's port follows the same flag (NOT_SERVING now), and an exec
	// liveness probe whose command fails asks for a restart.
	uid2 := "uid2-" + cluster
	spec2 := api.Container{
		Name: "app",
		ReadinessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{GRPC: &api.GRPCAction{Port: 8080}},
			PeriodMilliseconds: 100, TimeoutSeconds: 1, FailureThreshold: 1},
		LivenessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"/app", "exit", "3"}}},
			PeriodMilliseconds: 100, TimeoutSeconds: 2, FailureThreshold: 2},
	}
	if err := m.AddContainer(Container{PodUID: uid2, ContainerID: id, PodIP: st.IP, Spec: spec2}); err != nil {
		t.Fatal(err)
	}
	r = c.wait(t, 30*time.Second, "gRPC NOT_SERVING", func(r Result) bool { return r.PodUID == uid2 && r.Kind == Readiness && !r.Succeeded })
	if !strings.Contains(r.Message, `"NOT_SERVING"`) {
		t.Fatalf("gRPC readiness failure %+v", r)
	}
	r = c.wait(t, 30*time.Second, "exec liveness restart", func(r Result) bool { return r.PodUID == uid2 && r.Kind == Liveness && r.Restart })
	if r.ConsecutiveFailures != 2 || !strings.Contains(r.Message, "exited with 3") {
		t.Fatalf("exec liveness restart %+v", r)
	}
	// Flip the health endpoint back: both readiness probes pass again.
	healthy := time.Now()
	resp, err = http.Get("http://" + st.IP + ":8080/health?ok=true")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, uid := range []string{"uid-" + cluster, uid2} {
		c.wait(t, 30*time.Second, "ready again", func(r Result) bool {
			return r.PodUID == uid && r.Kind == Readiness && r.Changed && r.Passing && r.Time.After(healthy)
		})
	}
	m.RemovePod(uid2)

	// Stopping the container: liveness fails and asks for a restart.
	if err := rt.StopContainer(ctx, id, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	r = c.wait(t, 30*time.Second, "liveness restart", func(r Result) bool {
		return r.PodUID == "uid-"+cluster && r.Kind == Liveness && r.Restart
	})
	if r.ConsecutiveFailures != 3 {
		t.Fatalf("liveness restart %+v", r)
	}
}
