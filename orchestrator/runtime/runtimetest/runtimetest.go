package runtimetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// Options configure Run.
type Options struct {
	// Runtime is the started runtime under test (required).
	Runtime runtime.Runtime
	// Image is present locally; its default process runs until its stop
	// signal and then exits 0 (or dies of SIGTERM, 143) (required).
	Image string
	// AbsentImage is not present locally (required).
	AbsentImage string
	// ExitCommand returns an exec command that exits with code; used when
	// Runtime implements runtime.Execer.
	ExitCommand func(code int) []string
	// Timeout bounds each wait for an event; 0 means 20 s.
	Timeout time.Duration
}

// Run runs the conformance subtests.
func Run(t *testing.T, o Options) {
	t.Helper()
	if o.Runtime == nil || o.Image == "" || o.AbsentImage == "" {
		t.Fatal("runtimetest: Options.Runtime, Image and AbsentImage are required")
	}
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Second
	}
	s := &suite{o: o, rt: o.Runtime}
	t.Run("SandboxLifecycle", s.sandboxLifecycle)
	t.Run("ContainerLifecycle", s.containerLifecycle)
	t.Run("NotFound", s.notFound)
	t.Run("Invalid", s.invalid)
	t.Run("Images", s.images)
	if _, ok := o.Runtime.(runtime.Execer); ok && o.ExitCommand != nil {
		t.Run("Exec", s.exec)
	}
	if _, ok := o.Runtime.(runtime.FilesUpdater); ok {
		t.Run("UpdateFiles", s.updateFiles)
	}
}

type suite struct {
	o  Options
	rt runtime.Runtime
}

func uid() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "conf-" + hex.EncodeToString(b[:])
}

func (s *suite) sandbox(t *testing.T, name string) (string, *runtime.PodSandboxConfig) {
	t.Helper()
	cfg := &runtime.PodSandboxConfig{Name: name, Namespace: "conformance", UID: uid()}
	id, err := s.rt.RunPodSandbox(context.Background(), cfg)
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	t.Cleanup(func() { _ = s.rt.RemovePodSandbox(context.Background(), id) })
	return id, cfg
}

type watcher struct {
	t       *testing.T
	ch      <-chan runtime.Event
	timeout time.Duration
}

func (s *suite) watch(t *testing.T) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ch, err := s.rt.Events(ctx)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	return &watcher{t: t, ch: ch, timeout: s.o.Timeout}
}

// next returns the next event about id (container or sandbox).
func (w *watcher) next(id string) runtime.Event {
	w.t.Helper()
	deadline := time.After(w.timeout)
	for {
		select {
		case ev, ok := <-w.ch:
			if !ok {
				w.t.Fatal("event channel closed")
			}
			if ev.ContainerID == id || (ev.ContainerID == "" && ev.SandboxID == id) {
				return ev
			}
		case <-deadline:
			w.t.Fatalf("no event for %.12s within %v", id, w.timeout)
		}
	}
}

func (w *watcher) want(id string, types ...runtime.EventType) {
	w.t.Helper()
	for _, typ := range types {
		if ev := w.next(id); ev.Type != typ {
			w.t.Fatalf("event for %.12s: got %s, want %s", id, ev.Type, typ)
		}
	}
}

func (s *suite) sandboxLifecycle(t *testing.T) {
	ctx := context.Background()
	w := s.watch(t)
	id, cfg := s.sandbox(t, "conf-sb")
	w.want(id, runtime.EventSandboxReady)
	again, err := s.rt.RunPodSandbox(ctx, cfg)
	if err != nil || again != id {
		t.Fatalf("RunPodSandbox twice: %s, %v; want %s", again, err, id)
	}
	st, err := s.rt.PodSandboxStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.ID != id || st.State != runtime.SandboxReady || st.IP == "" || st.Name != cfg.Name || st.Namespace != cfg.Namespace || st.UID != cfg.UID ||
		st.Labels[runtime.LabelPodUID] != cfg.UID || st.Labels[runtime.LabelKind] != runtime.KindSandbox || st.CreatedAt.IsZero() {
		t.Fatalf("PodSandboxStatus: %+v", st)
	}
	list, err := s.rt.ListPodSandboxes(ctx, &runtime.PodSandboxFilter{UID: cfg.UID})
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].IP != st.IP {
		t.Fatalf("ListPodSandboxes by UID: %+v, %v", list, err)
	}
	if err := s.rt.StopPodSandbox(ctx, id); err != nil {
		t.Fatal(err)
	}
	w.want(id, runtime.EventSandboxNotReady)
	if err := s.rt.StopPodSandbox(ctx, id); err != nil {
		t.Fatalf("stopping a stopped sandbox: %v", err)
	}
	st, _ = s.rt.PodSandboxStatus(ctx, id)
	if st.State != runtime.SandboxNotReady || st.IP != "" {
		t.Fatalf("stopped sandbox: %+v", st)
	}
	if l, _ := s.rt.ListPodSandboxes(ctx, &runtime.PodSandboxFilter{UID: cfg.UID, State: runtime.SandboxReady}); len(l) != 0 {
		t.Fatalf("stopped sandbox listed as ready: %+v", l)
	}
	if _, err := s.rt.CreateContainer(ctx, id, &runtime.ContainerConfig{Name: "late", Image: s.o.Image}); !errors.Is(err, runtime.ErrSandboxNotReady) {
		t.Fatalf("CreateContainer in a stopped sandbox: %v", err)
	}
	if err := s.rt.RemovePodSandbox(ctx, id); err != nil {
		t.Fatal(err)
	}
	w.want(id, runtime.EventSandboxRemoved)
	if _, err := s.rt.PodSandboxStatus(ctx, id); !runtime.IsNotFound(err) {
		t.Fatalf("status of a removed sandbox: %v", err)
	}
}

func (s *suite) containerLifecycle(t *testing.T) {
	ctx := context.Background()
	w := s.watch(t)
	sb, cfg := s.sandbox(t, "conf-ctr")
	cc := &runtime.ContainerConfig{Name: "main", Image: s.o.Image, RestartCount: 2, Labels: map[string]string{"conformance": "yes"}}
	id, err := s.rt.CreateContainer(ctx, sb, cc)
	if err != nil {
		t.Fatal(err)
	}
	w.want(id, runtime.EventContainerCreated)
	st, err := s.rt.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != runtime.ContainerCreated || st.Name != "main" || st.SandboxID != sb || st.PodUID != cfg.UID || st.PodName != cfg.Name ||
		st.Namespace != cfg.Namespace || st.RestartCount != 2 || st.Image != s.o.Image || st.Labels["conformance"] != "yes" ||
		st.Labels[runtime.LabelContainerName] != "main" || st.Labels[runtime.LabelRestartCount] != "2" || st.Labels[runtime.LabelKind] != runtime.KindContainer {
		t.Fatalf("created: %+v", st)
	}
	if _, err := s.rt.CreateContainer(ctx, sb, cc); !runtime.IsAlreadyExists(err) {
		t.Fatalf("same name and restart count twice: %v", err)
	}
	if err := s.rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	ev := w.next(id)
	if ev.Type != runtime.EventContainerStarted || ev.Name != "main" || ev.PodUID != cfg.UID || ev.SandboxID != sb || ev.Labels[runtime.LabelRestartCount] != "2" {
		t.Fatalf("start event: %+v", ev)
	}
	if err := s.rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("starting a running container: %v", err)
	}
	st, _ = s.rt.ContainerStatus(ctx, id)
	sbst, _ := s.rt.PodSandboxStatus(ctx, sb)
	if st.State != runtime.ContainerRunning || st.StartedAt.IsZero() || st.IP != sbst.IP {
		t.Fatalf("running: %+v (sandbox IP %s)", st, sbst.IP)
	}
	list, err := s.rt.ListContainers(ctx, &runtime.ContainerFilter{PodUID: cfg.UID, State: runtime.ContainerRunning, Labels: map[string]string{"conformance": "yes"}})
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].RestartCount != 2 {
		t.Fatalf("ListContainers: %+v %v", list, err)
	}
	if l, _ := s.rt.ListContainers(ctx, &runtime.ContainerFilter{SandboxID: sb, State: runtime.ContainerExited}); len(l) != 0 {
		t.Fatalf("running container listed as exited: %+v", l)
	}
	if err := s.rt.StopContainer(ctx, id, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	// 0 from the program's handler, or 143 (SIGTERM) when the signal came
	// before the program installed its handler.
	ev = w.next(id)
	if ev.Type != runtime.EventContainerExited || (ev.ExitCode != 0 && ev.ExitCode != 143) {
		t.Fatalf("stop event: %+v", ev)
	}
	wantReason := runtime.ReasonCompleted
	if ev.ExitCode != 0 {
		wantReason = runtime.ReasonError
	}
	st, _ = s.rt.ContainerStatus(ctx, id)
	if st.State != runtime.ContainerExited || st.ExitCode != ev.ExitCode || st.Reason != wantReason || st.FinishedAt.IsZero() {
		t.Fatalf("stopped: %+v", st)
	}
	if err := s.rt.StopContainer(ctx, id, time.Second); err != nil {
		t.Fatalf("stopping a stopped container: %v", err)
	}
	// The next instance, as the agent restarts it.
	cc2 := *cc
	cc2.RestartCount = 3
	id2, err := s.rt.CreateContainer(ctx, sb, &cc2)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.rt.StartContainer(ctx, id2); err != nil {
		t.Fatal(err)
	}
	w.want(id2, runtime.EventContainerCreated, runtime.EventContainerStarted)
	if err := s.rt.RemoveContainer(ctx, id2); err != nil {
		t.Fatalf("removing a running container: %v", err)
	}
	w.want(id2, runtime.EventContainerExited, runtime.EventContainerRemoved)
	if err := s.rt.RemoveContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	w.want(id, runtime.EventContainerRemoved)
	if _, err := s.rt.ContainerStatus(ctx, id); !runtime.IsNotFound(err) {
		t.Fatalf("status of a removed container: %v", err)
	}
}

func (s *suite) notFound(t *testing.T) {
	ctx := context.Background()
	const id = "0000000000000000000000000000000000000000000000000000000000000000"
	checks := map[string]error{
		"StartContainer":   s.rt.StartContainer(ctx, id),
		"StopContainer":    s.rt.StopContainer(ctx, id, time.Second),
		"RemoveContainer":  s.rt.RemoveContainer(ctx, id),
		"StopPodSandbox":   s.rt.StopPodSandbox(ctx, id),
		"RemovePodSandbox": s.rt.RemovePodSandbox(ctx, id),
	}
	_, checks["ContainerStatus"] = s.rt.ContainerStatus(ctx, id)
	_, checks["PodSandboxStatus"] = s.rt.PodSandboxStatus(ctx, id)
	_, checks["CreateContainer"] = s.rt.CreateContainer(ctx, id, &runtime.ContainerConfig{Name: "x", Image: s.o.Image})
	for name, err := range checks {
		if !runtime.IsNotFound(err) {
			t.Errorf("%s of an unknown ID: %v, want ErrNotFound", name, err)
		}
	}
	if l, err := s.rt.ListContainers(ctx, &runtime.ContainerFilter{ID: id}); err != nil || len(l) != 0 {
		t.Errorf("ListContainers of an unknown ID: %v %v", l, err)
	}
}

func (s *suite) invalid(t *testing.T) {
	ctx := context.Background()
	if _, err := s.rt.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: "Bad Name"}); !runtime.IsInvalid(err) {
		t.Errorf("RunPodSandbox with bad config: %v", err)
	}
	if _, err := s.rt.RunPodSandbox(ctx, nil); !runtime.IsInvalid(err) {
		t.Errorf("RunPodSandbox(nil): %v", err)
	}
	sb, _ := s.sandbox(t, "conf-invalid")
	if _, err := s.rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "x", Image: s.o.Image, WorkingDir: "relative"}); !runtime.IsInvalid(err) {
		t.Errorf("CreateContainer with bad config: %v", err)
	}
	if _, err := s.rt.CreateContainer(ctx, sb, nil); !runtime.IsInvalid(err) {
		t.Errorf("CreateContainer(nil): %v", err)
	}
	id, err := s.rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "x", Image: s.o.Image})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.rt.StopContainer(ctx, id, -time.Second); !runtime.IsInvalid(err) {
		t.Errorf("negative grace: %v", err)
	}
	if _, err := s.rt.EnsureImage(ctx, s.o.Image, "Sometimes"); !runtime.IsInvalid(err) {
		t.Errorf("unknown pull policy: %v", err)
	}
	if _, err := s.rt.EnsureImage(ctx, "", ""); !runtime.IsInvalid(err) {
		t.Errorf("empty image: %v", err)
	}
}

func (s *suite) images(t *testing.T) {
	ctx := context.Background()
	for _, p := range []runtime.PullPolicy{"", runtime.PullIfNotPresent, runtime.PullNever} {
		if id, err := s.rt.EnsureImage(ctx, s.o.Image, p); err != nil || id == "" {
			t.Errorf("EnsureImage(present, %q): %q %v", p, id, err)
		}
	}
	_, err := s.rt.EnsureImage(ctx, s.o.AbsentImage, runtime.PullNever)
	if !runtime.IsImageNeverPull(err) || runtime.MessageOf(err) == "" {
		t.Errorf("EnsureImage(absent, Never): %v", err)
	}
	sb, _ := s.sandbox(t, "conf-img")
	if _, err := s.rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "x", Image: s.o.AbsentImage}); !runtime.IsImageNeverPull(err) {
		t.Errorf("CreateContainer with an absent image: %v", err)
	}
}

func (s *suite) exec(t *testing.T) {
	ctx := context.Background()
	ex := s.rt.(runtime.Execer)
	sb, _ := s.sandbox(t, "conf-exec")
	id, err := s.rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "x", Image: s.o.Image})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ex.Exec(ctx, id, s.o.ExitCommand(0)); !errors.Is(err, runtime.ErrNotRunning) {
		t.Errorf("Exec in a created container: %v", err)
	}
	if err := s.rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	for _, code := range []int{0, 3} {
		res, err := ex.Exec(ctx, id, s.o.ExitCommand(code))
		if err != nil || res.ExitCode != code {
			t.Errorf("Exec exit %d: %+v %v", code, res, err)
		}
	}
	if _, err := ex.Exec(ctx, id, nil); !runtime.IsInvalid(err) {
		t.Errorf("Exec(nil): %v", err)
	}
	if _, err := ex.Exec(ctx, "0000000000000000000000000000000000000000000000000000000000000000", s.o.ExitCommand(0)); !runtime.IsNotFound(err) {
		t.Errorf("Exec in an unknown container: %v", err)
	}
}

// updateFiles checks the error contract of runtime.FilesUpdater (what the
// files hold is each implementation's own test: only it can read them).
func (s *suite) updateFiles(t *testing.T) {
	ctx := context.Background()
	up := s.rt.(runtime.FilesUpdater)
	mem := func(data string) *runtime.Mount {
		return &runtime.Mount{Type: runtime.MountFiles, Medium: runtime.MediumMemory, Source: "creds", Target: "/creds", ReadOnly: true,
			Files: []runtime.File{{Path: "password", Data: []byte(data), Mode: 0o400}}}
	}
	sb, _ := s.sandbox(t, "conf-files")
	id, err := s.rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "x", Image: s.o.Image, Mounts: []runtime.Mount{*mem("one")}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := up.UpdateFiles(ctx, sb, mem("two")); err != nil {
		t.Errorf("UpdateFiles: %v", err)
	}
	disk := mem("x")
	disk.Medium = runtime.MediumDisk
	for _, bad := range []*runtime.Mount{nil, disk, {Type: runtime.MountFiles, Medium: runtime.MediumMemory, Source: "bad name!"},
		{Type: runtime.MountFiles, Medium: runtime.MediumMemory, Source: "creds", Files: []runtime.File{{Path: "../up"}}},
		{Type: runtime.MountFiles, Medium: runtime.MediumMemory, Source: "creds", Files: []runtime.File{{Path: "..data"}}}} {
		if err := up.UpdateFiles(ctx, sb, bad); !runtime.IsInvalid(err) {
			t.Errorf("UpdateFiles(%+v): %v, want ErrInvalid", bad, err)
		}
	}
	if err := up.UpdateFiles(ctx, "0000000000000000000000000000000000000000000000000000000000000000", mem("x")); !runtime.IsNotFound(err) {
		t.Errorf("UpdateFiles of an unknown sandbox: %v, want ErrNotFound", err)
	}
	if err := s.rt.StopPodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if err := up.UpdateFiles(ctx, sb, mem("three")); !errors.Is(err, runtime.ErrSandboxNotReady) {
		t.Errorf("UpdateFiles of a stopped sandbox: %v, want ErrSandboxNotReady", err)
	}
}

// ExitArgs is an ExitCommand for programs that take "exit N".
func ExitArgs(prefix ...string) func(code int) []string {
	return func(code int) []string {
		return append(append([]string{}, prefix...), "exit", strconv.Itoa(code))
	}
}
