package docker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

func TestConfigValidate(t *testing.T) {
	err := (&docker.Config{ClusterID: "", NodeName: "Bad_Node", Network: "-x", EventQueue: -1, ReconnectDelay: -1, LogMaxBytes: 10}).Validate()
	for _, f := range []string{"ClusterID", "NodeName", "Network", "EventQueue", "ReconnectDelay", "LogMaxBytes"} {
		if !strings.Contains(err.Error(), f+":") {
			t.Errorf("error does not name %s: %v", f, err)
		}
	}
	if !runtime.IsInvalid(err) {
		t.Errorf("not ErrInvalid: %v", err)
	}
	if _, err := docker.New(ctx, docker.Config{}); !runtime.IsInvalid(err) {
		t.Errorf("New with empty config: %v", err)
	}
}

func TestNewUnreachableDaemon(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/flotilla-test.sock")
	_, err := docker.New(ctx, docker.Config{ClusterID: "c", NodeName: "n"})
	if !runtime.IsUnavailable(err) {
		t.Fatalf("want ErrUnavailable, got %v", err)
	}
	if !strings.Contains(err.Error(), "DOCKER_HOST=unix:///nonexistent/flotilla-test.sock") {
		t.Fatalf("error does not name DOCKER_HOST: %v", err)
	}
}

func TestPodLifecycle(t *testing.T) {
	e := newEnv(t)
	r := e.runtime("node-1")
	ev := subscribe(t, r)
	sb := sandbox(t, r, "web")
	ev.want(runtime.EventSandboxReady, sb)
	st, err := r.PodSandboxStatus(ctx, sb)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != runtime.SandboxReady || net.ParseIP(st.IP) == nil || st.Name != "web" || st.Labels[runtime.LabelClusterID] != e.cluster {
		t.Fatalf("sandbox status %+v", st)
	}
	hostDir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(hostDir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	group := int64(3000)
	files := []runtime.File{{Path: "app.conf", Data: []byte("key=value\n")}, {Path: "sub/x", Data: []byte("x"), Mode: 0o600}}
	cfg := &runtime.ContainerConfig{
		Name: "app", Env: []runtime.EnvVar{{Name: "GREETING", Value: "hello world"}}, WorkingDir: "/tmp",
		Resources: runtime.Resources{CPUMillis: 250, MemoryBytes: 64 << 20}, RestartCount: 4,
		Ports: []runtime.ContainerPort{{ContainerPort: 8080}},
		Mounts: []runtime.Mount{
			{Type: runtime.MountEmptyDir, Source: "scratch", Target: "/scratch"},
			{Type: runtime.MountVolume, Source: e.cluster + "-data", Target: "/data"},
			{Type: runtime.MountBind, Source: hostDir, Target: "/host", ReadOnly: true},
			{Type: runtime.MountFiles, Source: "config", Target: "/etc/config", ReadOnly: true, Group: &group, Files: files},
			{Type: runtime.MountFiles, Source: "config", Target: "/etc/app.conf", ReadOnly: true, Group: &group, Files: files, SubPath: "app.conf"},
			{Type: runtime.MountEmptyDir, Source: "mem", Target: "/mem", Medium: runtime.MediumMemory, SizeBytes: 8 << 20},
			{Type: runtime.MountBind, Source: hostDir, Target: "/hostsub", SubPath: "sub"},
		},
		Labels: map[string]string{"team": "a"},
	}
	id := startContainer(t, r, sb, cfg)
	ev.want(runtime.EventContainerStarted, id)

	cs, err := r.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if cs.State != runtime.ContainerRunning || cs.IP != st.IP || cs.RestartCount != 4 || cs.Name != "app" || cs.PodName != "web" ||
		cs.SandboxID != sb || cs.StartedAt.IsZero() || cs.Labels["team"] != "a" || cs.Labels[runtime.LabelNode] != "node-1" {
		t.Fatalf("container status %+v", cs)
	}
	// What Docker was asked for.
	in, err := inspect(e.cli, id)
	if err != nil {
		t.Fatal(err)
	}
	hc := in.HostConfig
	if hc.NanoCPUs != 250_000_000 || hc.Memory != 64<<20 || hc.Init == nil || !*hc.Init || hc.RestartPolicy.Name != container.RestartPolicyDisabled ||
		string(hc.NetworkMode) != "container:"+sb || in.Config.WorkingDir != "/tmp" {
		t.Fatalf("host config: cpus %d mem %d init %v restart %q net %q wd %q", hc.NanoCPUs, hc.Memory, hc.Init, hc.RestartPolicy.Name, hc.NetworkMode, in.Config.WorkingDir)
	}
	if hc.LogConfig.Type != "json-file" || hc.LogConfig.Config["max-size"] != "10485760" {
		t.Fatalf("log config %+v", hc.LogConfig)
	}
	if got := execOK(t, r, id, "/app", "env", "GREETING"); got != "hello world\n" {
		t.Fatalf("env: %q", got)
	}
	if got := execOK(t, r, id, "/app", "cat", "/etc/config/app.conf"); got != "key=value\n" {
		t.Fatalf("config file: %q", got)
	}
	if got := execOK(t, r, id, "/app", "cat", "/etc/app.conf"); got != "key=value\n" {
		t.Fatalf("config file by subPath: %q", got)
	}
	if res, _ := r.Exec(ctx, id, []string{"/app", "write", "/etc/config/new", "x"}); res == nil || res.ExitCode == 0 {
		t.Fatalf("read-only files volume was writable: %+v", res)
	}
	// Owned by the group, directories set-group-ID, files group-readable.
	mp := filesMountpoint(t, e, "config")
	for name, want := range map[string]os.FileMode{".": 0o755 | os.ModeDir | os.ModeSetgid, "sub": 0o755 | os.ModeDir | os.ModeSetgid,
		"app.conf": 0o644, "sub/x": 0o640} {
		fi, err := os.Stat(filepath.Join(mp, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != want || fi.Sys().(*syscall.Stat_t).Gid != 3000 {
			t.Errorf("%s: mode %v gid %d, want %v gid 3000", name, fi.Mode(), fi.Sys().(*syscall.Stat_t).Gid, want)
		}
	}
	if got := execOK(t, r, id, "/app", "cat", "/proc/mounts"); !strings.Contains(got, "tmpfs /mem tmpfs rw") || !strings.Contains(got, "size=8192k") {
		t.Fatalf("memory emptyDir is no 8 MiB tmpfs:\n%s", got)
	}
	execOK(t, r, id, "/app", "write", "/hostsub/f", "through-subpath")
	if b, err := os.ReadFile(filepath.Join(hostDir, "sub", "f")); err != nil || string(b) != "through-subpath" {
		t.Fatalf("bind subPath: %q %v", b, err)
	}
	execOK(t, r, id, "/app", "write", "/scratch/f", "in-empty-dir")
	execOK(t, r, id, "/app", "write", "/data/f", "in-volume")
	if res, _ := r.Exec(ctx, id, []string{"/app", "write", "/host/f", "x"}); res == nil || res.ExitCode == 0 {
		t.Fatalf("read-only bind mount was writable: %+v", res)
	}
	res, err := r.Exec(ctx, id, []string{"/app", "exit", "7"})
	if err != nil || res.ExitCode != 7 {
		t.Fatalf("exec exit code: %+v %v", res, err)
	}
	if res, err := r.Exec(ctx, id, []string{"/nonexistent"}); err != nil || res.ExitCode == 0 {
		t.Fatalf("exec of a missing binary: %+v %v", res, err)
	}
	// An exec probe's timeout: ctx ends the wait.
	tctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = r.Exec(tctx, id, []string{"/app", "sleep", "30s"})
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("exec past its deadline: %v", err)
	}
	list, err := r.ListContainers(ctx, &runtime.ContainerFilter{SandboxID: sb, State: runtime.ContainerRunning})
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].Image != testImage || list[0].RestartCount != 4 {
		t.Fatalf("list: %v %v", list, err)
	}
	// Grace-period stop: the program's SIGTERM handler runs and exits 0.
	if err := r.StopContainer(ctx, id, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := ev.want(runtime.EventContainerExited, id); got.ExitCode != 0 || got.Name != "app" {
		t.Fatalf("exit event %+v", got)
	}
	if l := logs(t, r, id, runtime.LogOptions{}); !strings.Contains(l, "testapp: got SIGTERM") {
		t.Fatalf("SIGTERM not seen by the program; logs: %q", l)
	}
	cs, _ = r.ContainerStatus(ctx, id)
	if cs.State != runtime.ContainerExited || cs.ExitCode != 0 || cs.Reason != runtime.ReasonCompleted || cs.FinishedAt.IsZero() {
		t.Fatalf("status after stop %+v", cs)
	}
	if err := r.StopContainer(ctx, id, time.Second); err != nil {
		t.Fatalf("stopping a stopped container: %v", err)
	}
	// The emptyDir volume exists until the Pod is removed; the named volume stays.
	emptyDirs := func() int {
		vs, _ := e.cli.VolumeList(ctx, client.VolumeListOptions{Filters: make(client.Filters).Add("label",
			runtime.LabelClusterID+"="+e.cluster, runtime.LabelEmptyDir)})
		return len(vs.Items)
	}
	if n := emptyDirs(); n != 3 { // scratch, mem and config
		t.Fatalf("%d emptyDir volumes before removal", n)
	}
	if err := r.RemovePodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	ev.want(runtime.EventContainerRemoved, id)
	ev.want(runtime.EventSandboxRemoved, sb)
	if n := emptyDirs(); n != 0 {
		t.Fatalf("%d emptyDir volumes after removal", n)
	}
	if _, err := e.cli.VolumeInspect(ctx, e.cluster+"-data", client.VolumeInspectOptions{}); err != nil {
		t.Fatalf("named volume removed with the Pod: %v", err)
	}
	if _, err := r.ContainerStatus(ctx, id); !runtime.IsNotFound(err) {
		t.Fatalf("status after removal: %v", err)
	}
	if _, err := r.PodSandboxStatus(ctx, sb); !runtime.IsNotFound(err) {
		t.Fatalf("sandbox status after removal: %v", err)
	}
	if err := r.RemovePodSandbox(ctx, sb); !runtime.IsNotFound(err) {
		t.Fatalf("second removal: %v", err)
	}
}

// Security settings reach Docker as asked: the user and group (the
// image's user with a group alone), groups, read-only root, capabilities,
// no_new_privs, seccomp and privileged; ImageUser reads the image's.
func TestSecuritySettings(t *testing.T) {
	e := newEnv(t)
	r := e.runtime("node-1")
	sb := sandbox(t, r, "secure")
	id := func(v int64) *int64 { return &v }
	a := startContainer(t, r, sb, &runtime.ContainerConfig{Name: "a", Security: runtime.Security{
		RunAsUser: id(1000), RunAsGroup: id(3000), SupplementalGroups: []int64{2000}, ReadOnlyRootFilesystem: true,
		CapAdd: []string{"NET_BIND_SERVICE"}, CapDrop: []string{"ALL"}, NoNewPrivileges: true, Seccomp: runtime.SeccompUnconfined}})
	status := execOK(t, r, a, "/app", "cat", "/proc/self/status")
	for _, want := range []string{"Uid:\t1000\t", "Gid:\t3000\t", "NoNewPrivs:\t1", "Seccomp:\t0", "CapBnd:\t0000000000000400"} {
		if !strings.Contains(status, want) {
			t.Errorf("no %q in the container's status:\n%s", want, status)
		}
	}
	if res, _ := r.Exec(ctx, a, []string{"/app", "write", "/f", "x"}); res == nil || res.ExitCode == 0 {
		t.Errorf("read-only root filesystem was writable: %+v", res)
	}
	in, err := inspect(e.cli, a)
	if err != nil {
		t.Fatal(err)
	}
	hc := in.HostConfig
	if in.Config.User != "1000:3000" || !slices.Equal(hc.GroupAdd, []string{"2000"}) || !hc.ReadonlyRootfs || hc.Privileged ||
		!slices.Equal(hc.SecurityOpt, []string{"no-new-privileges", "seccomp=unconfined"}) {
		t.Errorf("user %q groups %v readonly %v privileged %v securityOpt %v", in.Config.User, hc.GroupAdd, hc.ReadonlyRootfs, hc.Privileged, hc.SecurityOpt)
	}
	// Created only: a daemon with bounded capabilities cannot start it.
	b, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "b", Image: testImage, Security: runtime.Security{RunAsGroup: id(5), Privileged: true}})
	if err != nil {
		t.Fatal(err)
	}
	if in, err = inspect(e.cli, b); err != nil {
		t.Fatal(err)
	}
	if in.Config.User != "0:5" || !in.HostConfig.Privileged {
		t.Errorf("group alone: user %q; privileged %v", in.Config.User, in.HostConfig.Privileged)
	}
	if u, err := r.ImageUser(ctx, testImage); err != nil || u != "" {
		t.Errorf("ImageUser = %q, %v", u, err)
	}
	if _, err := r.ImageUser(ctx, "flotilla-test/absent:1"); !runtime.IsNotFound(err) {
		t.Errorf("ImageUser of an absent image: %v", err)
	}
}

// filesMountpoint returns the directory on the daemon's host of the Files
// volume of the Pod's volume source (the daemon is local in these tests).
func filesMountpoint(t *testing.T, e *env, source string) string {
	t.Helper()
	vs, err := e.cli.VolumeList(ctx, client.VolumeListOptions{Filters: make(client.Filters).Add("label",
		runtime.LabelClusterID+"="+e.cluster, runtime.LabelEmptyDir+"="+source)})
	if err != nil || len(vs.Items) != 1 {
		t.Fatalf("volumes of %s: %d, %v", source, len(vs.Items), err)
	}
	return vs.Items[0].Mountpoint
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestPodNetworkSharingAndPorts(t *testing.T) {
	e := newEnv(t)
	r := e.runtime("node-1")
	ev := subscribe(t, r)
	hostPort := freePort(t)
	sb := sandbox(t, r, "pair", runtime.PortMapping{ContainerPort: 8080, HostPort: hostPort, HostIP: "127.0.0.1"})
	a := startContainer(t, r, sb, &runtime.ContainerConfig{Name: "a"})
	b := startContainer(t, r, sb, &runtime.ContainerConfig{Name: "b", Env: []runtime.EnvVar{{Name: "HTTP_PORT", Value: "8081"}, {Name: "TCP_PORT", Value: "9091"}}})
	// B reaches A on localhost: they share the sandbox's network namespace.
	waitFor(t, "container a listening", func() bool {
		res, err := r.Exec(ctx, b, []string{"/app", "dial", "localhost:9090"})
		return err == nil && res.ExitCode == 0 && string(res.Stdout) == "pong ping\n"
	})
	if got := execOK(t, r, a, "/app", "get", "http://localhost:8081/healthz"); got != "200 ok\n" {
		t.Fatalf("a -> b: %q", got)
	}
	// The host port published on the sandbox reaches A.
	var body string
	waitFor(t, "host port", func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", hostPort))
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		bb, _ := io.ReadAll(resp.Body)
		body = string(bb)
		return resp.StatusCode == 200
	})
	if body != "ok\n" {
		t.Fatalf("host port body %q", body)
	}
	st, _ := r.PodSandboxStatus(ctx, sb)
	if len(st.PortMappings) != 1 || st.PortMappings[0].HostPort != hostPort || st.PortMappings[0].ContainerPort != 8080 || st.PortMappings[0].Protocol != runtime.ProtocolTCP {
		t.Fatalf("port mappings %+v", st.PortMappings)
	}
	list, err := r.ListPodSandboxes(ctx, &runtime.PodSandboxFilter{UID: st.UID})
	if err != nil || len(list) != 1 || list[0].IP != st.IP || list[0].State != runtime.SandboxReady || len(list[0].PortMappings) != 1 {
		t.Fatalf("list sandboxes %+v %v", list, err)
	}
	if l, _ := r.ListContainers(ctx, &runtime.ContainerFilter{ID: a}); len(l) != 1 || l[0].ID != a {
		t.Fatalf("list by ID: %v", l)
	}
	if l, _ := r.ListContainers(ctx, &runtime.ContainerFilter{ID: a[:12]}); len(l) != 0 {
		t.Fatalf("list by an ID prefix matched: %v", l)
	}
	if l, _ := r.ListPodSandboxes(ctx, &runtime.PodSandboxFilter{ID: sb[:12]}); len(l) != 0 {
		t.Fatalf("sandbox list by an ID prefix matched: %v", l)
	}
	// A second Pod asking for the same host port fails to start, cleanly.
	_, err = r.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: "clash", Namespace: "default", UID: uniqueID("u"),
		PortMappings: []runtime.PortMapping{{ContainerPort: 8080, HostPort: hostPort, HostIP: "127.0.0.1"}}})
	if !errors.Is(err, runtime.ErrStartFailed) || runtime.MessageOf(err) == "" {
		t.Fatalf("port clash: %v", err)
	}
	if l, _ := r.ListPodSandboxes(ctx, nil); len(l) != 1 {
		t.Fatalf("failed sandbox left behind: %d sandboxes", len(l))
	}
	// StopPodSandbox kills the Pod's containers and the sandbox.
	if err := r.StopPodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	ev.want(runtime.EventContainerExited, a)
	ev.want(runtime.EventSandboxNotReady, sb)
	st, _ = r.PodSandboxStatus(ctx, sb)
	if st.State != runtime.SandboxNotReady || st.IP != "" {
		t.Fatalf("after stop %+v", st)
	}
	if l, _ := r.ListContainers(ctx, &runtime.ContainerFilter{SandboxID: sb, State: runtime.ContainerRunning}); len(l) != 0 {
		t.Fatalf("%d containers still running", len(l))
	}
	if _, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "late", Image: testImage}); !errors.Is(err, runtime.ErrSandboxNotReady) {
		t.Fatalf("create in a stopped sandbox: %v", err)
	}
}

func TestCrashEventsAndLogsAcrossRestart(t *testing.T) {
	e := newEnv(t)
	r := e.runtime("node-1")
	ev := subscribe(t, r)
	sb := sandbox(t, r, "crashy")
	id0 := startContainer(t, r, sb, &runtime.ContainerConfig{Name: "app"})
	ev.want(runtime.EventContainerStarted, id0)
	waitFor(t, "app serving", func() bool { return strings.Contains(logs(t, r, id0, runtime.LogOptions{}), "serving") })
	// The program crashes with code 3.
	_, _ = r.Exec(ctx, id0, []string{"/app", "get", "http://localhost:8080/exit?code=3"})
	if got := ev.want(runtime.EventContainerExited, id0); got.ExitCode != 3 || got.PodUID == "" || got.SandboxID != sb {
		t.Fatalf("exit event %+v", got)
	}
	cs, _ := r.ContainerStatus(ctx, id0)
	if cs.ExitCode != 3 || cs.Reason != runtime.ReasonError {
		t.Fatalf("status %+v", cs)
	}
	// The agent restarts it: a new container with the next restart count.
	id1 := startContainer(t, r, sb, &runtime.ContainerConfig{Name: "app", RestartCount: 1})
	ev.want(runtime.EventContainerStarted, id1)
	waitFor(t, "restarted app serving", func() bool { return strings.Contains(logs(t, r, id1, runtime.LogOptions{}), "serving") })
	if prev := logs(t, r, id1, runtime.LogOptions{Previous: true}); !strings.Contains(prev, "exiting with 3") {
		t.Fatalf("previous logs %q", prev)
	}
	if cur := logs(t, r, id1, runtime.LogOptions{}); strings.Contains(cur, "exiting with 3") {
		t.Fatalf("current logs hold the previous instance: %q", cur)
	}
	if err := r.Logs(ctx, id0, runtime.LogOptions{Previous: true}, io.Discard, nil); !runtime.IsNotFound(err) {
		t.Fatalf("previous of the first instance: %v", err)
	}
	ts := logs(t, r, id1, runtime.LogOptions{Timestamps: true, Tail: 1})
	if f := strings.Fields(ts); len(f) < 2 || !strings.HasPrefix(f[0], time.Now().UTC().Format("2006-01-02")) || strings.Count(ts, "\n") != 1 {
		t.Fatalf("tail 1 with timestamps: %q", ts)
	}
	if l := logs(t, r, id1, runtime.LogOptions{Since: time.Now().Add(time.Hour)}); l != "" {
		t.Fatalf("since the future: %q", l)
	}
	// Follow returns when the container stops.
	done := make(chan error, 1)
	var followed strings.Builder
	go func() { done <- r.Logs(ctx, id1, runtime.LogOptions{Follow: true}, &followed, io.Discard) }()
	// Killed from outside Flotilla (docker kill): seen through the event stream.
	if _, err := e.cli.ContainerKill(ctx, id1, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		t.Fatal(err)
	}
	if got := ev.want(runtime.EventContainerExited, id1); got.ExitCode != 137 {
		t.Fatalf("kill exit code %d", got.ExitCode)
	}
	select {
	case err := <-done:
		if err != nil || !strings.Contains(followed.String(), "serving") {
			t.Fatalf("follow: %v %q", err, followed.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("follow did not end when the container stopped")
	}
}

func TestStartFailureAndOOM(t *testing.T) {
	e := newEnv(t)
	r := e.runtime("node-1")
	ev := subscribe(t, r)
	sb := sandbox(t, r, "broken")
	// Containers run under Docker's init (tini), so a missing executable
	// shows as exit code 127 right after start, with tini's message in the logs.
	id := startContainer(t, r, sb, &runtime.ContainerConfig{Name: "bad", Command: []string{"/does-not-exist"}})
	if got := ev.want(runtime.EventContainerExited, id); got.ExitCode != 127 {
		t.Fatalf("missing executable: exit %d", got.ExitCode)
	}
	if l := logs(t, r, id, runtime.LogOptions{}); !strings.Contains(l, "does-not-exist") {
		t.Fatalf("logs do not say what failed: %q", l)
	}
	// Docker refuses some configurations only when asked to run them.
	_, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "nobind", Image: testImage,
		Mounts: []runtime.Mount{{Type: runtime.MountBind, Source: "/nonexistent/flotilla", Target: "/x"}}})
	if err == nil || !strings.Contains(runtime.MessageOf(err), "/nonexistent/flotilla") {
		t.Fatalf("bind of a missing path: %v", err)
	}
	hog := startContainer(t, r, sb, &runtime.ContainerConfig{Name: "hog", Resources: runtime.Resources{MemoryBytes: 32 << 20}})
	_, _ = r.Exec(ctx, hog, []string{"/app", "get", "http://localhost:8080/alloc?mb=256"})
	ev.want(runtime.EventContainerOOM, hog)
	ev.want(runtime.EventContainerExited, hog)
	cs, _ := r.ContainerStatus(ctx, hog)
	if cs.Reason != runtime.ReasonOOMKilled || cs.ExitCode != 137 {
		t.Fatalf("status after OOM %+v", cs)
	}
}

func TestGraceExpiresThenKill(t *testing.T) {
	e := newEnv(t)
	r := e.runtime("node-1")
	sb := sandbox(t, r, "stubborn")
	// A stop signal the program ignores (the Go runtime ignores SIGURG), so
	// only the SIGKILL after the grace period ends it.
	id := startContainer(t, r, sb, &runtime.ContainerConfig{Name: "app", StopSignal: "SIGURG"})
	waitFor(t, "app serving", func() bool { return strings.Contains(logs(t, r, id, runtime.LogOptions{}), "serving") })
	start := time.Now()
	if err := r.StopContainer(ctx, id, 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	cs, _ := r.ContainerStatus(ctx, id)
	if cs.State != runtime.ContainerExited || cs.ExitCode != 137 {
		t.Fatalf("status after grace %+v", cs)
	}
	t.Logf("stop with 300ms grace took %v", time.Since(start))
	if err := r.StopContainer(ctx, id, -1); !runtime.IsInvalid(err) {
		t.Fatalf("negative grace: %v", err)
	}
}

func TestImageAbsent(t *testing.T) {
	e := newEnv(t)
	r := e.runtime("node-1")
	const absent = "flotilla-test/absent:v1"
	_, err := r.EnsureImage(ctx, absent, runtime.PullNever)
	if !runtime.IsImageNeverPull(err) || !strings.Contains(runtime.MessageOf(err), "No such image") {
		t.Fatalf("Never: %v", err)
	}
	_, err = r.EnsureImage(ctx, absent, runtime.PullIfNotPresent)
	if !runtime.IsImagePull(err) || runtime.MessageOf(err) == "" {
		t.Fatalf("IfNotPresent without a registry: %v", err)
	}
	t.Logf("daemon's pull message: %s", runtime.MessageOf(err))
	sb := sandbox(t, r, "noimage")
	if _, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "x", Image: absent}); !runtime.IsImageNeverPull(err) {
		t.Fatalf("create with absent image: %v", err)
	}
	if id, err := r.EnsureImage(ctx, testImage, ""); err != nil || !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("present image: %q %v", id, err)
	}
	if _, err := r.EnsureImage(ctx, testImage, runtime.PullAlways); !runtime.IsImagePull(err) {
		t.Fatalf("Always without a registry: %v", err)
	}
	if _, err := r.EnsureImage(ctx, testImage, "Sometimes"); !runtime.IsInvalid(err) {
		t.Fatalf("bad policy: %v", err)
	}
}

func TestAdoptionAfterRestart(t *testing.T) {
	e := newEnv(t)
	r1 := e.runtime("node-1")
	cfg := &runtime.PodSandboxConfig{Name: "keep", Namespace: "default", UID: uniqueID("uid-")}
	sb, err := r1.RunPodSandbox(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	id := startContainer(t, r1, sb, &runtime.ContainerConfig{Name: "app"})
	other := e.runtime("node-2")
	if l, _ := other.ListContainers(ctx, nil); len(l) != 0 {
		t.Fatalf("node-2 sees node-1's containers: %v", l)
	}
	_ = r1.Close() // the agent restarts

	r2 := e.runtime("node-1")
	ev := subscribe(t, r2)
	list, err := r2.ListContainers(ctx, &runtime.ContainerFilter{PodUID: cfg.UID})
	if err != nil || len(list) != 1 || list[0].ID != id || list[0].State != runtime.ContainerRunning {
		t.Fatalf("adopted list %+v %v", list, err)
	}
	if again, err := r2.RunPodSandbox(ctx, cfg); err != nil || again != sb {
		t.Fatalf("RunPodSandbox after restart: %s %v (want %s)", again, err, sb)
	}
	if _, err := r2.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "app", Image: testImage}); !runtime.IsAlreadyExists(err) {
		t.Fatalf("duplicate container after restart: %v", err)
	}
	in, _ := inspect(e.cli, id)
	if in.RestartCount != 0 || !in.State.Running {
		t.Fatalf("adopted container was restarted: %+v", in.State)
	}
	// The new runtime follows the adopted container's events.
	if _, err := e.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		t.Fatal(err)
	}
	ev.want(runtime.EventContainerExited, id)
}

func TestAPIErrors(t *testing.T) {
	e := newEnv(t)
	r := e.runtime("node-1")
	for name, err := range map[string]error{
		"StartContainer":   r.StartContainer(ctx, "nope"),
		"StopContainer":    r.StopContainer(ctx, "nope", 0),
		"RemoveContainer":  r.RemoveContainer(ctx, "nope"),
		"StopPodSandbox":   r.StopPodSandbox(ctx, "nope"),
		"RemovePodSandbox": r.RemovePodSandbox(ctx, "nope"),
	} {
		if !runtime.IsNotFound(err) {
			t.Errorf("%s: %v, want not found", name, err)
		}
	}
	if _, err := r.CreateContainer(ctx, "nope", &runtime.ContainerConfig{Name: "a", Image: testImage}); !runtime.IsNotFound(err) {
		t.Errorf("create in missing sandbox: %v", err)
	}
	if _, err := r.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: "X"}); !runtime.IsInvalid(err) || !strings.Contains(err.Error(), "uid") {
		t.Errorf("invalid sandbox: %v", err)
	}
	sb := sandbox(t, r, "p")
	if _, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "a", WorkingDir: "x"}); !runtime.IsInvalid(err) {
		t.Errorf("invalid container: %v", err)
	}
	id, _ := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "a", Image: testImage})
	if _, err := r.Exec(ctx, id, []string{"/app"}); !errors.Is(err, runtime.ErrNotRunning) {
		t.Errorf("exec in created container: %v", err)
	}
	if _, err := r.Exec(ctx, id, nil); !runtime.IsInvalid(err) {
		t.Errorf("empty exec: %v", err)
	}
	// Long Pod names are legal; the hostname of a sandbox of its own (not
	// a warm one) is the name cut to 63 characters.
	long := strings.Repeat("x", 70) + "-long"
	cold := e.runtimeWith("node-3", func(c *docker.Config) { c.WarmSandboxes = -1 })
	lsb, err := cold.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: long, Namespace: "default", UID: uniqueID("u")})
	if err != nil {
		t.Fatalf("long Pod name: %v", err)
	}
	if in, _ := inspect(e.cli, lsb); in.Config == nil || in.Config.Hostname != strings.Repeat("x", 63) {
		t.Fatalf("hostname of a long-named Pod: %+v", in.Config)
	}
	// Another node's runtime does not see or touch this node's objects.
	other := e.runtime("node-2")
	if _, err := other.ContainerStatus(ctx, id); !runtime.IsNotFound(err) {
		t.Errorf("foreign container status: %v", err)
	}
	if _, err := other.PodSandboxStatus(ctx, sb); !runtime.IsNotFound(err) {
		t.Errorf("foreign sandbox status: %v", err)
	}
}

func TestReadJSONStreamDetectsDaemonErrors(t *testing.T) {
	ok := `{"status":"Pulling"}` + "\n" + `{"status":"Done"}` + "\n"
	if err := docker.ReadJSONStream(strings.NewReader(ok)); err != nil {
		t.Fatalf("clean stream: %v", err)
	}
	bad := `{"status":"Importing"}` + "\n" + `{"errorDetail":{"message":"archive/tar: invalid tar header"},"error":"archive/tar: invalid tar header"}` + "\n"
	err := docker.ReadJSONStream(strings.NewReader(bad))
	if err == nil || !strings.Contains(err.Error(), "invalid tar header") {
		t.Fatalf("error inside a 200 stream not detected: %v", err)
	}
}

// Three nodes of one cluster starting at once on one daemon share one
// network (the quickstart does this).
func TestConcurrentStartSharesNetwork(t *testing.T) {
	e := newEnv(t)
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			r, err := docker.New(ctx, docker.Config{ClusterID: e.cluster, NodeName: fmt.Sprintf("node-%d", i), Network: e.network, CreateNetwork: true})
			if err == nil {
				err = r.Start(ctx)
				_ = r.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	nets, err := e.cli.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("name", e.network)})
	if err != nil {
		t.Fatal(err)
	}
	if len(nets.Items) != 1 {
		t.Fatalf("%d networks named %s", len(nets.Items), e.network)
	}
}
