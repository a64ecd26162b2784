package prober

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// fakePod runs one container named name in a fake runtime and returns
// its ID and the Pod IP.
func fakePod(t *testing.T, rt *fake.Runtime, uid, name string, ports ...int) (id, ip string) {
	t.Helper()
	ctx := context.Background()
	sb, err := rt.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: "pod-" + uid, Namespace: "default", UID: uid})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rt.EnsureImage(ctx, "app:v1", runtime.PullIfNotPresent); err != nil {
		t.Fatal(err)
	}
	cfg := &runtime.ContainerConfig{Name: name, Image: "app:v1"}
	for _, p := range ports {
		cfg.Ports = append(cfg.Ports, runtime.ContainerPort{ContainerPort: p})
	}
	id, err = rt.CreateContainer(ctx, sb, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	st, err := rt.PodSandboxStatus(ctx, sb)
	if err != nil {
		t.Fatal(err)
	}
	return id, st.IP
}

func newFake(t *testing.T) *fake.Runtime {
	t.Helper()
	rt, err := fake.New(fake.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	return rt
}

func TestFakeRuntimeDefaultAnswers(t *testing.T) {
	kinds := []struct {
		name  string
		probe api.ProbeHandler
		msg   string // failure message while unhealthy
	}{
		{"http", httpGet(8080, "/healthz"), "statuscode: 503"},
		{"tcp", api.ProbeHandler{TCPSocket: &api.TCPSocketAction{Port: api.FromInt(8080)}}, "refused"},
		{"exec", api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"/app", "health"}}}, `command "/app health" exited with 1`},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			rt := newFake(t)
			id, ip := fakePod(t, rt, "u1", "web", 8080)
			m, c := newManager(t, Config{Runtime: rt})
			p := fast(k.probe)
			p.FailureThreshold = 2
			if err := m.AddContainer(Container{PodUID: "u1", ContainerID: id, PodIP: ip, Spec: api.Container{Name: "web", ReadinessProbe: p}}); err != nil {
				t.Fatal(err)
			}
			c.wait(t, waitLong, "ready", func(r Result) bool { return r.Passing })
			if err := rt.SetHealthy(id, false); err != nil {
				t.Fatal(err)
			}
			r := c.wait(t, waitLong, "unready", func(r Result) bool { return r.Changed && !r.Passing })
			if r.ConsecutiveFailures != 2 || !strings.Contains(r.Message, k.msg) {
				t.Fatalf("unready result %+v, want message with %q", r, k.msg)
			}
			_ = rt.SetHealthy(id, true)
			eventually(t, waitLong, "ready again", func() bool { return m.Ready("u1", "web") })
		})
	}
}

func TestFakeRuntimeProgrammedAnswers(t *testing.T) {
	rt := newFake(t)
	err := rt.SetContainerBehavior("web", fake.Behavior{
		HTTP: func(port int, path string) int {
			if path == "/live" {
				return 200
			}
			return 418
		},
		TCP: func(port int) bool { return port == 9000 },
		Exec: func(cmd []string) runtime.ExecResult {
			return runtime.ExecResult{ExitCode: 3, Stderr: []byte("db not reachable\n")}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	id, ip := fakePod(t, rt, "u2", "web", 8080)
	m, c := newManager(t, Config{Runtime: rt})
	if err := m.AddContainer(Container{PodUID: "u2", ContainerID: id, PodIP: ip, Spec: api.Container{Name: "web",
		StartupProbe:   fast(api.ProbeHandler{TCPSocket: &api.TCPSocketAction{Port: api.FromInt(9000)}}),
		LivenessProbe:  fast(httpGet(8080, "/live")),
		ReadinessProbe: fast(api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"check"}}}),
	}}); err != nil {
		t.Fatal(err)
	}
	r := c.wait(t, waitLong, "readiness failure", func(r Result) bool { return r.Kind == Readiness && !r.Succeeded })
	if r.Message != `command "check" exited with 3: db not reachable` {
		t.Fatalf("exec message %q", r.Message)
	}
	if !m.Started("u2", "web") {
		t.Fatal("startup over TCP port 9000 did not pass")
	}
	eventually(t, waitLong, "liveness attempts", func() bool { return status(t, m, "u2", "web", Liveness).Attempts >= 3 })
	if st := status(t, m, "u2", "web", Liveness); !st.Passing || st.ConsecutiveFailures != 0 {
		t.Fatalf("liveness on /live: %+v", st)
	}
	if m.Ready("u2", "web") {
		t.Fatal("ready although the exec readiness probe fails")
	}
}

func TestFakeRuntimeExecTimeout(t *testing.T) {
	rt := newFake(t)
	id, ip := fakePod(t, rt, "u3", "web", 8080)
	rt.SetHook(fake.DelayOn(fake.OpExec, time.Minute))
	m, c := newManager(t, Config{Runtime: rt})
	if err := m.AddContainer(Container{PodUID: "u3", ContainerID: id, PodIP: ip, Spec: api.Container{Name: "web",
		LivenessProbe: fast(api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"sleep", "60"}}}),
	}}); err != nil {
		t.Fatal(err)
	}
	r := c.wait(t, waitLong, "exec timeout", func(r Result) bool { return r.Kind == Liveness })
	if r.Succeeded || !r.Restart || !strings.Contains(r.Message, `command "sleep 60" timed out`) || r.Duration > 3*time.Second {
		t.Fatalf("exec timeout: %+v", r)
	}
}

// TestFakeRuntimeGRPC runs grpc probes through the fake runtime's
// NetworkProber: SERVING on a declared port, NOT_SERVING while the
// container is unhealthy, a programmed answer per service, and a refused
// connection on a port nothing listens on.
func TestFakeRuntimeGRPC(t *testing.T) {
	rt := newFake(t)
	if err := rt.SetContainerBehavior("api", fake.Behavior{GRPC: func(port int, service string) int {
		switch {
		case port != 9090:
			return -1
		case service == "orders":
			return 3 // SERVICE_UNKNOWN
		}
		return 1
	}}); err != nil {
		t.Fatal(err)
	}
	webID, webIP := fakePod(t, rt, "g1", "web", 8080)
	_, apiIP := fakePod(t, rt, "g2", "api", 9090)
	m, c := newManager(t, Config{Runtime: rt})
	orders := "orders"
	if err := m.AddContainer(Container{PodUID: "g1", ContainerID: webID, PodIP: webIP, Spec: api.Container{Name: "web",
		ReadinessProbe: fast(api.ProbeHandler{GRPC: &api.GRPCAction{Port: 8080}}),
		LivenessProbe:  fast(api.ProbeHandler{GRPC: &api.GRPCAction{Port: 7070}}),
	}}); err != nil {
		t.Fatal(err)
	}
	if err := m.AddContainer(Container{PodUID: "g2", ContainerID: "api-1", PodIP: apiIP, Spec: api.Container{Name: "api",
		ReadinessProbe: fast(api.ProbeHandler{GRPC: &api.GRPCAction{Port: 9090, Service: &orders}}),
		StartupProbe:   fast(api.ProbeHandler{GRPC: &api.GRPCAction{Port: 9090}}),
	}}); err != nil {
		t.Fatal(err)
	}
	c.wait(t, waitLong, "web ready over grpc", func(r Result) bool { return r.PodUID == "g1" && r.Kind == Readiness && r.Passing })
	r := c.wait(t, waitLong, "refused port", func(r Result) bool { return r.PodUID == "g1" && r.Kind == Liveness && !r.Succeeded })
	if !strings.Contains(r.Message, "connection refused") {
		t.Fatalf("grpc on a closed port: %+v", r)
	}
	c.wait(t, waitLong, "api started over grpc", func(r Result) bool { return r.PodUID == "g2" && r.Kind == Startup && r.Passing })
	r = c.wait(t, waitLong, "unknown service", func(r Result) bool { return r.PodUID == "g2" && r.Kind == Readiness && !r.Succeeded })
	if r.Message != `service unhealthy (responded with "SERVICE_UNKNOWN")` {
		t.Fatalf("grpc programmed answer: %+v", r)
	}
	if err := rt.SetHealthy(webID, false); err != nil {
		t.Fatal(err)
	}
	r = c.wait(t, waitLong, "web not serving", func(r Result) bool { return r.PodUID == "g1" && r.Kind == Readiness && r.Changed && !r.Passing })
	if r.Message != `service unhealthy (responded with "NOT_SERVING")` {
		t.Fatalf("grpc while unhealthy: %+v", r)
	}
}

func TestNoExecer(t *testing.T) {
	m, c := newManager(t, Config{})
	if err := m.AddContainer(Container{PodUID: "u", ContainerID: "x", Spec: api.Container{Name: "c",
		ReadinessProbe: fast(api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"true"}}})}}); err != nil {
		t.Fatal(err)
	}
	r := c.wait(t, waitLong, "failure", func(Result) bool { return true })
	if r.Succeeded || !strings.Contains(r.Message, "does not implement runtime.Execer") {
		t.Fatalf("%+v", r)
	}
}
