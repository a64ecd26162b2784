package fake_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newFake(t testing.TB, cfg fake.Config) *fake.Runtime {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = zaptest.NewLogger(t)
	}
	r, err := fake.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

type events struct {
	t  testing.TB
	ch <-chan runtime.Event
}

func subscribe(t testing.TB, r runtime.Runtime) *events {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := r.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return &events{t: t, ch: ch}
}

// want waits for the next event of type typ for id, skipping others.
func (e *events) want(typ runtime.EventType, id string) runtime.Event {
	e.t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case ev := <-e.ch:
			if ev.Type == typ && (id == "" || ev.ContainerID == id || (ev.ContainerID == "" && ev.SandboxID == id)) {
				return ev
			}
		case <-deadline:
			e.t.Fatalf("no %s event for %s within 5s", typ, id)
		}
	}
}

var ctx = context.Background()

func pod(t testing.TB, r runtime.Runtime, name string) string {
	t.Helper()
	id, err := r.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: name, Namespace: "default", UID: "uid-" + name})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func start(t testing.TB, r runtime.Runtime, sb string, cfg *runtime.ContainerConfig) string {
	t.Helper()
	if _, err := r.EnsureImage(ctx, cfg.Image, runtime.PullIfNotPresent); err != nil {
		t.Fatal(err)
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

func status(t testing.TB, r runtime.Runtime, id string) *runtime.ContainerStatus {
	t.Helper()
	s, err := r.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLifecycleAndLabels(t *testing.T) {
	r := newFake(t, fake.Config{ClusterID: "c1", NodeName: "n1"})
	ev := subscribe(t, r)
	sb := pod(t, r, "web")
	ev.want(runtime.EventSandboxReady, sb)
	if again := pod(t, r, "web"); again != sb {
		t.Fatalf("RunPodSandbox not idempotent: %s then %s", sb, again)
	}
	ss, _ := r.PodSandboxStatus(ctx, sb)
	if ss.State != runtime.SandboxReady || !strings.HasPrefix(ss.IP, "10.244.") {
		t.Fatalf("sandbox status %+v", ss)
	}
	id := start(t, r, sb, &runtime.ContainerConfig{Name: "app", Image: "app:v1", RestartCount: 2, Labels: map[string]string{"team": "a"}})
	ev.want(runtime.EventContainerCreated, id)
	ev.want(runtime.EventContainerStarted, id)
	s := status(t, r, id)
	want := map[string]string{runtime.LabelClusterID: "c1", runtime.LabelNode: "n1", runtime.LabelNamespace: "default",
		runtime.LabelPodName: "web", runtime.LabelPodUID: "uid-web", runtime.LabelContainerName: "app",
		runtime.LabelRestartCount: "2", runtime.LabelSandboxID: sb, "team": "a"}
	if !runtime.MatchLabels(s.Labels, want) || s.RestartCount != 2 || s.State != runtime.ContainerRunning || s.IP != ss.IP || s.StartedAt.IsZero() {
		t.Fatalf("status %+v", s)
	}
	if _, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "app", Image: "app:v1", RestartCount: 2}); !runtime.IsAlreadyExists(err) {
		t.Fatalf("duplicate create: %v", err)
	}
	if err := r.StartContainer(ctx, id); err != nil { // running: no-op
		t.Fatal(err)
	}
	if err := r.StopContainer(ctx, id, time.Second); err != nil {
		t.Fatal(err)
	}
	if e := ev.want(runtime.EventContainerExited, id); e.ExitCode != 0 {
		t.Fatalf("exit code %d", e.ExitCode)
	}
	if s := status(t, r, id); s.State != runtime.ContainerExited || s.Reason != runtime.ReasonCompleted || s.FinishedAt.IsZero() {
		t.Fatalf("after stop %+v", s)
	}
	if err := r.StopContainer(ctx, id, time.Second); err != nil { // stopped: no-op
		t.Fatal(err)
	}
	list, _ := r.ListContainers(ctx, &runtime.ContainerFilter{PodUID: "uid-web", Labels: map[string]string{"team": "a"}})
	if len(list) != 1 || list[0].ID != id {
		t.Fatalf("list %v", list)
	}
	if list, _ := r.ListContainers(ctx, &runtime.ContainerFilter{State: runtime.ContainerRunning}); len(list) != 0 {
		t.Fatalf("running list %v", list)
	}
	if err := r.RemovePodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	ev.want(runtime.EventContainerRemoved, id)
	ev.want(runtime.EventSandboxRemoved, sb)
	if _, err := r.ContainerStatus(ctx, id); !runtime.IsNotFound(err) {
		t.Fatalf("status after remove: %v", err)
	}
	if _, err := r.PodSandboxStatus(ctx, sb); !runtime.IsNotFound(err) {
		t.Fatalf("sandbox after remove: %v", err)
	}
	if l, _ := r.ListPodSandboxes(ctx, nil); len(l) != 0 {
		t.Fatalf("sandboxes left: %v", l)
	}
}

func TestNotFoundAndInvalid(t *testing.T) {
	r := newFake(t, fake.Config{})
	for name, err := range map[string]error{
		"StartContainer":  r.StartContainer(ctx, "nope"),
		"StopContainer":   r.StopContainer(ctx, "nope", 0),
		"RemoveContainer": r.RemoveContainer(ctx, "nope"),
		"StopPodSandbox":  r.StopPodSandbox(ctx, "nope"),
		"Remove sandbox":  r.RemovePodSandbox(ctx, "nope"),
		"Crash":           r.Crash("nope", 1),
	} {
		if !runtime.IsNotFound(err) {
			t.Errorf("%s: %v, want not found", name, err)
		}
	}
	if _, err := r.CreateContainer(ctx, "nope", &runtime.ContainerConfig{Name: "a", Image: "x"}); !runtime.IsNotFound(err) {
		t.Errorf("create in missing sandbox: %v", err)
	}
	sb := pod(t, r, "p")
	if _, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "Bad_Name"}); !runtime.IsInvalid(err) || !strings.Contains(err.Error(), "name:") || !strings.Contains(err.Error(), "image:") {
		t.Errorf("invalid create: %v", err)
	}
	if _, err := r.RunPodSandbox(ctx, nil); !runtime.IsInvalid(err) {
		t.Errorf("nil sandbox config: %v", err)
	}
	id := start(t, r, sb, &runtime.ContainerConfig{Name: "a", Image: "x"})
	if err := r.StopContainer(ctx, id, -time.Second); !runtime.IsInvalid(err) {
		t.Errorf("negative grace: %v", err)
	}
	if _, err := r.Exec(ctx, id, nil); !runtime.IsInvalid(err) {
		t.Errorf("empty exec: %v", err)
	}
	if err := r.Logs(ctx, id, runtime.LogOptions{Tail: -1}, nil, nil); !runtime.IsInvalid(err) {
		t.Errorf("negative tail: %v", err)
	}
	if _, err := fake.New(fake.Config{ClusterID: "Bad!", PodCIDR: "10.0.0.0/31", EventQueue: -1,
		ImageBehaviors: map[string]fake.Behavior{"x": {ExitAfter: -1}}}); err == nil ||
		!strings.Contains(err.Error(), "ClusterID") || !strings.Contains(err.Error(), "PodCIDR") ||
		!strings.Contains(err.Error(), "EventQueue") || !strings.Contains(err.Error(), "ImageBehaviors[x]") {
		t.Errorf("config validation: %v", err)
	}
}

func TestImages(t *testing.T) {
	pullErr := errors.New("manifest unknown")
	r := newFake(t, fake.Config{Images: []string{"local:v1"}, Registry: func(img string) error {
		if img == "missing:v1" {
			return pullErr
		}
		return nil
	}})
	if _, err := r.EnsureImage(ctx, "local:v1", runtime.PullNever); err != nil {
		t.Fatal(err)
	}
	_, err := r.EnsureImage(ctx, "other:v1", runtime.PullNever)
	if !runtime.IsImageNeverPull(err) {
		t.Fatalf("never pull: %v", err)
	}
	sb := pod(t, r, "p")
	if _, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "a", Image: "other:v1"}); !runtime.IsImageNeverPull(err) {
		t.Fatalf("create with absent image: %v", err)
	}
	_, err = r.EnsureImage(ctx, "missing:v1", runtime.PullIfNotPresent)
	if !runtime.IsImagePull(err) || !errors.Is(err, pullErr) || runtime.MessageOf(err) != "manifest unknown" {
		t.Fatalf("pull error: %v", err)
	}
	if _, err := r.EnsureImage(ctx, "other:v1", runtime.PullAlways); err != nil {
		t.Fatal(err)
	}
	if _, err := r.EnsureImage(ctx, "other:v1", runtime.PullNever); err != nil {
		t.Fatalf("pulled image absent: %v", err)
	}
	r.RemoveImage("other:v1")
	if _, err := r.EnsureImage(ctx, "other:v1", runtime.PullNever); !runtime.IsImageNeverPull(err) {
		t.Fatalf("removed image present: %v", err)
	}
	if _, err := r.EnsureImage(ctx, "x", "Sometimes"); !runtime.IsInvalid(err) {
		t.Fatalf("bad policy: %v", err)
	}
}

func TestExitAfterAndRestartCount(t *testing.T) {
	r := newFake(t, fake.Config{ImageBehaviors: map[string]fake.Behavior{"job:v1": {ExitAfter: 10 * time.Millisecond, ExitCode: 3}}})
	ev := subscribe(t, r)
	sb := pod(t, r, "p")
	id := start(t, r, sb, &runtime.ContainerConfig{Name: "job", Image: "job:v1"})
	if e := ev.want(runtime.EventContainerExited, id); e.ExitCode != 3 || e.Name != "job" || e.PodUID != "uid-p" {
		t.Fatalf("exit event %+v", e)
	}
	if s := status(t, r, id); s.Reason != runtime.ReasonError || s.ExitCode != 3 {
		t.Fatalf("status %+v", s)
	}
	// The agent restarts by creating RestartCount+1; the old one stays for logs.
	id2 := start(t, r, sb, &runtime.ContainerConfig{Name: "job", Image: "job:v1", RestartCount: 1})
	ev.want(runtime.EventContainerExited, id2)
	// Restarting the same container (Docker semantics) runs it again.
	if err := r.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	ev.want(runtime.EventContainerStarted, id)
	ev.want(runtime.EventContainerExited, id)
}

func TestStartErrorAndDelays(t *testing.T) {
	r := newFake(t, fake.Config{})
	_ = r.SetImageBehavior("bad:v1", fake.Behavior{StartError: "exec: \"/app\": no such file"})
	_ = r.SetContainerBehavior("slow", fake.Behavior{StartDelay: 20 * time.Millisecond})
	if err := r.SetContainerBehavior("x", fake.Behavior{ExitCode: 300}); !runtime.IsInvalid(err) {
		t.Fatalf("bad behavior accepted: %v", err)
	}
	sb := pod(t, r, "p")
	_, _ = r.EnsureImage(ctx, "bad:v1", "")
	id, _ := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "a", Image: "bad:v1"})
	err := r.StartContainer(ctx, id)
	if !errors.Is(err, runtime.ErrStartFailed) || !strings.Contains(runtime.MessageOf(err), "no such file") {
		t.Fatalf("start error: %v", err)
	}
	if s := status(t, r, id); s.State != runtime.ContainerExited || s.Reason != runtime.ReasonStartError || s.ExitCode != 128 {
		t.Fatalf("status %+v", s)
	}
	// Container-name behaviour wins over the image's.
	slow := start(t, r, sb, &runtime.ContainerConfig{Name: "slow", Image: "bad:v1"})
	if s := status(t, r, slow); s.State != runtime.ContainerRunning {
		t.Fatalf("slow: %+v", s)
	}
	// A slow start honours ctx.
	id3, _ := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "slow", Image: "bad:v1", RestartCount: 1})
	_ = r.SetContainerBehavior("slow", fake.Behavior{StartDelay: time.Hour})
	id4, _ := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "slow", Image: "bad:v1", RestartCount: 2})
	_ = id3
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := r.StartContainer(cctx, id4); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled start: %v", err)
	}
}

func TestStopGrace(t *testing.T) {
	r := newFake(t, fake.Config{})
	_ = r.SetContainerBehavior("graceful", fake.Behavior{StopDelay: 5 * time.Millisecond, StopExitCode: 0})
	_ = r.SetContainerBehavior("slowstop", fake.Behavior{StopDelay: time.Hour})
	_ = r.SetContainerBehavior("deaf", fake.Behavior{IgnoreStopSignal: true})
	sb := pod(t, r, "p")
	cases := []struct {
		name  string
		grace time.Duration
		code  int
	}{{"graceful", time.Second, 0}, {"slowstop", 10 * time.Millisecond, 137}, {"deaf", 10 * time.Millisecond, 137}, {"deaf", 0, 137}}
	for i, c := range cases {
		id := start(t, r, sb, &runtime.ContainerConfig{Name: c.name, Image: "i", RestartCount: i})
		if err := r.StopContainer(ctx, id, c.grace); err != nil {
			t.Fatal(err)
		}
		if s := status(t, r, id); s.State != runtime.ContainerExited || s.ExitCode != c.code {
			t.Errorf("%s grace %v: %+v", c.name, c.grace, s)
		}
	}
	// ctx ending during the grace period kills at once.
	id := start(t, r, sb, &runtime.ContainerConfig{Name: "deaf", Image: "i", RestartCount: 10})
	cctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	if err := r.StopContainer(cctx, id, time.Hour); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop with ctx: %v", err)
	}
	if s := status(t, r, id); s.ExitCode != 137 {
		t.Fatalf("not killed: %+v", s)
	}
}

func TestFaultsCrashOOMSandbox(t *testing.T) {
	r := newFake(t, fake.Config{})
	_ = r.SetImageBehavior("hog", fake.Behavior{OOMAfter: 5 * time.Millisecond})
	ev := subscribe(t, r)
	sb := pod(t, r, "p")
	id := start(t, r, sb, &runtime.ContainerConfig{Name: "a", Image: "i"})
	if err := r.Crash(id, 2); err != nil {
		t.Fatal(err)
	}
	if e := ev.want(runtime.EventContainerExited, id); e.ExitCode != 2 {
		t.Fatalf("crash exit %d", e.ExitCode)
	}
	if err := r.Crash(id, 2); !errors.Is(err, runtime.ErrNotRunning) {
		t.Fatalf("crash of exited: %v", err)
	}
	hog := start(t, r, sb, &runtime.ContainerConfig{Name: "hog", Image: "hog"})
	ev.want(runtime.EventContainerOOM, hog)
	ev.want(runtime.EventContainerExited, hog)
	if s := status(t, r, hog); s.Reason != runtime.ReasonOOMKilled || s.ExitCode != 137 {
		t.Fatalf("oom status %+v", s)
	}
	b := start(t, r, sb, &runtime.ContainerConfig{Name: "b", Image: "i"})
	if err := r.OOMKill(b); err != nil {
		t.Fatal(err)
	}
	ev.want(runtime.EventContainerOOM, b)
	if err := r.KillSandbox(sb); err != nil {
		t.Fatal(err)
	}
	ev.want(runtime.EventSandboxNotReady, sb)
	if s, _ := r.PodSandboxStatus(ctx, sb); s.State != runtime.SandboxNotReady || s.IP != "" {
		t.Fatalf("sandbox %+v", s)
	}
	if _, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "c", Image: "i"}); !errors.Is(err, runtime.ErrSandboxNotReady) {
		t.Fatalf("create in dead sandbox: %v", err)
	}
	// StopPodSandbox kills what runs.
	sb2 := pod(t, r, "q")
	c := start(t, r, sb2, &runtime.ContainerConfig{Name: "c", Image: "i"})
	if err := r.StopPodSandbox(ctx, sb2); err != nil {
		t.Fatal(err)
	}
	if e := ev.want(runtime.EventContainerExited, c); e.ExitCode != 137 {
		t.Fatalf("exit %d", e.ExitCode)
	}
	ev.want(runtime.EventSandboxNotReady, sb2)
}

func TestHooks(t *testing.T) {
	boom := errors.New("boom")
	r := newFake(t, fake.Config{Hook: fake.FailOn(fake.OpCreateContainer, boom)})
	sb := pod(t, r, "p")
	_, _ = r.EnsureImage(ctx, "i", "")
	if _, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "a", Image: "i"}); !errors.Is(err, boom) {
		t.Fatalf("hook error: %v", err)
	}
	if l, _ := r.ListContainers(ctx, nil); len(l) != 0 {
		t.Fatal("failed call had an effect")
	}
	var mu sync.Mutex
	var seen []fake.Call
	r.SetHook(fake.Chain(func(_ context.Context, c fake.Call) error {
		mu.Lock()
		seen = append(seen, c)
		mu.Unlock()
		return nil
	}, fake.DelayOn(fake.OpStartContainer, time.Hour)))
	id, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "a", Image: "i"})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	if err := r.StartContainer(cctx, id); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed start: %v", err)
	}
	if s := status(t, r, id); s.State != runtime.ContainerCreated {
		t.Fatalf("delayed start had an effect: %+v", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 2 || seen[0].Op != fake.OpCreateContainer || seen[0].Name != "a" || seen[0].Image != "i" || seen[0].ID != sb || seen[1].Op != fake.OpStartContainer || seen[1].ID != id {
		t.Fatalf("calls seen %+v", seen)
	}
}

func TestProbesAndExec(t *testing.T) {
	r := newFake(t, fake.Config{PodCIDR: "10.9.0.0/24"})
	_ = r.SetContainerBehavior("custom", fake.Behavior{
		HTTP: func(port int, path string) int {
			if path == "/ready" {
				return 204
			}
			return 500
		},
		TCP: func(port int) bool { return port == 7000 },
		Exec: func(cmd []string) runtime.ExecResult {
			return runtime.ExecResult{ExitCode: 4, Stdout: []byte(strings.Join(cmd, " "))}
		},
	})
	sb := pod(t, r, "p")
	ip := func() string { s, _ := r.PodSandboxStatus(ctx, sb); return s.IP }()
	if !strings.HasPrefix(ip, "10.9.0.") {
		t.Fatalf("ip %s", ip)
	}
	web := start(t, r, sb, &runtime.ContainerConfig{Name: "web", Image: "i", Ports: []runtime.ContainerPort{{ContainerPort: 8080}}})
	if code, err := r.ProbeHTTP(ctx, ip, 8080, "/healthz"); err != nil || code != 200 {
		t.Fatalf("http %d %v", code, err)
	}
	if _, err := r.ProbeHTTP(ctx, ip, 9999, "/"); err == nil {
		t.Fatal("undeclared port answered")
	}
	if err := r.ProbeTCP(ctx, ip, 8080); err != nil {
		t.Fatal(err)
	}
	if st, err := r.ProbeGRPC(ctx, ip, 8080, ""); err != nil || st != 1 {
		t.Fatalf("grpc %d %v, want SERVING", st, err)
	}
	if _, err := r.ProbeGRPC(ctx, ip, 9999, ""); err == nil {
		t.Fatal("undeclared grpc port answered")
	}
	if _, err := r.ProbeGRPC(ctx, "10.1.1.1", 8080, ""); !runtime.IsNotFound(err) {
		t.Fatalf("grpc unknown ip: %v", err)
	}
	if _, err := r.ProbeHTTP(ctx, "10.1.1.1", 8080, "/"); !runtime.IsNotFound(err) {
		t.Fatalf("unknown ip: %v", err)
	}
	_ = r.SetHealthy(web, false)
	if code, _ := r.ProbeHTTP(ctx, ip, 8080, "/"); code != 503 {
		t.Fatalf("unhealthy http %d", code)
	}
	if r.ProbeTCP(ctx, ip, 8080) == nil {
		t.Fatal("unhealthy tcp accepted")
	}
	if st, _ := r.ProbeGRPC(ctx, ip, 8080, ""); st != 2 {
		t.Fatalf("unhealthy grpc %d, want NOT_SERVING", st)
	}
	if res, _ := r.Exec(ctx, web, []string{"check"}); res.ExitCode != 1 {
		t.Fatalf("unhealthy exec %+v", res)
	}
	_ = r.SetHealthy(web, true)
	if res, _ := r.Exec(ctx, web, []string{"check"}); res.ExitCode != 0 {
		t.Fatalf("healthy exec %+v", res)
	}
	custom := start(t, r, sb, &runtime.ContainerConfig{Name: "custom", Image: "i"})
	if code, _ := r.ProbeHTTP(ctx, ip, 1234, "/ready"); code != 204 {
		t.Fatalf("custom http %d", code)
	}
	if r.ProbeTCP(ctx, ip, 7000) != nil || r.ProbeTCP(ctx, ip, 7001) == nil {
		t.Fatal("custom tcp")
	}
	if res, _ := r.Exec(ctx, custom, []string{"a", "b"}); res.ExitCode != 4 || string(res.Stdout) != "a b" {
		t.Fatalf("custom exec %+v", res)
	}
	_ = r.StopContainer(ctx, web, 0)
	if _, err := r.Exec(ctx, web, []string{"x"}); !errors.Is(err, runtime.ErrNotRunning) {
		t.Fatalf("exec in stopped: %v", err)
	}
}

func TestLogs(t *testing.T) {
	r := newFake(t, fake.Config{})
	_ = r.SetImageBehavior("i", fake.Behavior{Logs: []string{"one", "two", "three"}})
	sb := pod(t, r, "p")
	id := start(t, r, sb, &runtime.ContainerConfig{Name: "a", Image: "i"})
	_ = r.WriteLog(id, true, "oops")
	var out, errb bytes.Buffer
	if err := r.Logs(ctx, id, runtime.LogOptions{}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if out.String() != "one\ntwo\nthree\n" || errb.String() != "oops\n" {
		t.Fatalf("logs %q %q", out.String(), errb.String())
	}
	out.Reset()
	_ = r.Logs(ctx, id, runtime.LogOptions{Tail: 2, Timestamps: true}, &out, nil)
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 1 || !strings.HasSuffix(lines[0], " three") {
		t.Fatalf("tail 2 (one stdout line + stderr dropped) %q", out.String())
	}
	out.Reset()
	_ = r.Logs(ctx, id, runtime.LogOptions{Since: time.Now().Add(time.Hour)}, &out, nil)
	if out.Len() != 0 {
		t.Fatalf("since future %q", out.String())
	}
	// Follow streams new lines until the container exits.
	pr := &syncBuf{}
	done := make(chan error, 1)
	go func() { done <- r.Logs(ctx, id, runtime.LogOptions{Follow: true, Tail: 1}, pr, nil) }()
	_ = r.WriteLog(id, false, "four")
	waitFor(t, func() bool { return strings.Contains(pr.String(), "four") })
	_ = r.Crash(id, 1)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Previous instance.
	if err := r.Logs(ctx, id, runtime.LogOptions{Previous: true}, &out, nil); !runtime.IsNotFound(err) {
		t.Fatalf("previous of first: %v", err)
	}
	id2 := start(t, r, sb, &runtime.ContainerConfig{Name: "a", Image: "i", RestartCount: 1})
	out.Reset()
	if err := r.Logs(ctx, id2, runtime.LogOptions{Previous: true}, &out, nil); err != nil || !strings.Contains(out.String(), "four") {
		t.Fatalf("previous: %v %q", err, out.String())
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestIPsUniqueAndReused(t *testing.T) {
	r := newFake(t, fake.Config{PodCIDR: "10.1.2.0/30"}) // two usable addresses
	a, b := pod(t, r, "a"), pod(t, r, "b")
	if _, err := r.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: "c", Namespace: "d", UID: "c"}); !runtime.IsUnavailable(err) {
		t.Fatalf("exhausted CIDR: %v", err)
	}
	sa, _ := r.PodSandboxStatus(ctx, a)
	sbb, _ := r.PodSandboxStatus(ctx, b)
	if sa.IP == sbb.IP {
		t.Fatal("duplicate IP")
	}
	_ = r.RemovePodSandbox(ctx, a)
	if _, err := r.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: "c", Namespace: "d", UID: "c"}); err != nil {
		t.Fatalf("IP not released: %v", err)
	}
}

func TestClose(t *testing.T) {
	r, _ := fake.New(fake.Config{ImageBehaviors: map[string]fake.Behavior{"i": {ExitAfter: time.Hour}}})
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ch, _ := r.Events(ctx)
	sb := pod(t, r, "p")
	start(t, r, sb, &runtime.ContainerConfig{Name: "a", Image: "i"})
	_ = r.Close()
	_ = r.Close()
	for range ch {
	}
	if _, err := r.ListContainers(ctx, nil); !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := r.Events(ctx); !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("events after close: %v", err)
	}
	if err := r.Start(ctx); !errors.Is(err, runtime.ErrClosed) {
		t.Fatalf("start after close: %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	r := newFake(t, fake.Config{ImageBehaviors: map[string]fake.Behavior{"i": {ExitAfter: time.Millisecond}}})
	ev := subscribe(t, r)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			sb := pod(t, r, fmt.Sprintf("p%d", i))
			for j := range 20 {
				id := start(t, r, sb, &runtime.ContainerConfig{Name: "a", Image: "i", RestartCount: j})
				_ = r.StopContainer(ctx, id, 0)
			}
			_ = r.RemovePodSandbox(ctx, sb)
		})
	}
	go func() {
		for range ev.ch {
		}
	}()
	wg.Wait()
	if l, _ := r.ListContainers(ctx, nil); len(l) != 0 {
		t.Fatalf("%d containers left", len(l))
	}
}

// BenchmarkPodLifecycle measures one sandbox + one container created,
// started, stopped and removed, with an event subscriber attached.
func BenchmarkPodLifecycle(b *testing.B) {
	r := newFake(b, fake.Config{Logger: zaptest.NewLogger(b), PodCIDR: "10.0.0.0/8"})
	ev := subscribe(b, r)
	go func() {
		for range ev.ch {
		}
	}()
	_, _ = r.EnsureImage(ctx, "i", "")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		sb, err := r.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: "p", Namespace: "d", UID: fmt.Sprint(i)})
		if err != nil {
			b.Fatal(err)
		}
		id, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "a", Image: "i"})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.StartContainer(ctx, id); err != nil {
			b.Fatal(err)
		}
		if err := r.StopContainer(ctx, id, 0); err != nil {
			b.Fatal(err)
		}
		if err := r.RemovePodSandbox(ctx, sb); err != nil {
			b.Fatal(err)
		}
	}
}
