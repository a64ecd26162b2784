package prober

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

func TestRunHook(t *testing.T) {
	srv := newFlipServer(t, http.StatusOK)
	ip, port := hostPort(t, srv.Listener.Addr().String())
	rt := newFake(t)
	id, fakeIP := fakePod(t, rt, "u9", "app", 8080)
	var execd []string
	_ = rt.SetContainerBehavior("hooked", fake.Behavior{Exec: func(cmd []string) runtime.ExecResult {
		execd = cmd
		return runtime.ExecResult{ExitCode: 2, Stdout: []byte("still draining")}
	}})
	hid, _ := fakePod(t, rt, "u10", "hooked")
	direct, _ := newManager(t, Config{})
	viaFake, _ := newManager(t, Config{Runtime: rt})
	ctx := context.Background()

	withHook := func(h *api.LifecycleHandler) api.Container {
		return api.Container{Name: "app", Lifecycle: &api.Lifecycle{PreStop: h}}
	}
	// httpGet preStop reaches the server.
	c := Container{PodUID: "u", PodIP: ip, Spec: withHook(&api.LifecycleHandler{HTTPGet: &api.HTTPGetAction{Port: api.FromInt(port), Path: "/shutdown"}})}
	if err := direct.RunHook(ctx, c, PreStop); err != nil {
		t.Fatal(err)
	}
	if got := srv.last.Load(); got == nil || got.URL.Path != "/shutdown" {
		t.Fatal("preStop httpGet did not reach the server")
	}
	srv.status.Store(500)
	if err := direct.RunHook(ctx, c, PreStop); !errors.Is(err, ErrHookFailed) || !strings.Contains(err.Error(), "statuscode: 500") {
		t.Fatalf("failing httpGet hook: %v", err)
	}
	// No hook of that kind: nothing to do.
	if err := direct.RunHook(ctx, c, PostStart); err != nil {
		t.Fatal(err)
	}
	// exec through the runtime, success and failure.
	ce := Container{PodUID: "u9", ContainerID: id, PodIP: fakeIP, Spec: withHook(&api.LifecycleHandler{Exec: &api.ExecAction{Command: []string{"/app", "drain"}}})}
	if err := viaFake.RunHook(ctx, ce, PreStop); err != nil {
		t.Fatal(err)
	}
	ce.ContainerID = hid
	err := viaFake.RunHook(ctx, ce, PreStop)
	if !errors.Is(err, ErrHookFailed) || !strings.Contains(err.Error(), "exited with 2: still draining") || len(execd) != 2 {
		t.Fatalf("failing exec hook: %v (ran %v)", err, execd)
	}
	// sleep honours ctx (the grace period).
	cs := Container{PodUID: "u", Spec: withHook(&api.LifecycleHandler{Sleep: &api.SleepAction{Seconds: 60}})}
	sctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := direct.RunHook(sctx, cs, PreStop); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("sleep hook: %v", err)
	}
	// Bad handlers name their field.
	bad := Container{PodUID: "u", PodIP: ip, Spec: api.Container{Name: "app", Lifecycle: &api.Lifecycle{PostStart: &api.LifecycleHandler{
		HTTPGet: &api.HTTPGetAction{Port: api.FromString("nope")}}}}}
	if err := direct.RunHook(ctx, bad, PostStart); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `lifecycle.postStart.httpGet.port: port name "nope"`) {
		t.Fatalf("bad hook: %v", err)
	}
}
