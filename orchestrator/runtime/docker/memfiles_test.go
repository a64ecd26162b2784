package docker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// mountLine returns the /proc/mounts line of target in container id.
func mountLine(t *testing.T, r runtime.Runtime, id, target string) string {
	t.Helper()
	for _, line := range strings.Split(execOK(t, r, id, "/app", "cat", "/proc/mounts"), "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[1] == target {
			return line
		}
	}
	t.Fatalf("%s is not a mount point in the container", target)
	return ""
}

// A Memory Files mount (a Secret volume) is a tmpfs in the container,
// read-only, shared by the Pod's containers, and UpdateFiles changes its
// files under running containers at once; a subPath mount keeps the
// version it was created with, as in Kubernetes.
func TestMemoryFilesOnTmpfsUpdatedInPlace(t *testing.T) {
	e := newEnv(t)
	r := e.runtime("node-1")
	sb := sandbox(t, r, "web")
	group := int64(3000)
	secret := func(files ...runtime.File) *runtime.Mount {
		return &runtime.Mount{Type: runtime.MountFiles, Medium: runtime.MediumMemory, Source: "creds", Target: "/secret", ReadOnly: true, Group: &group, Files: files}
	}
	v1 := secret(runtime.File{Path: "password", Data: []byte("one")}, runtime.File{Path: "tls/key.pem", Data: []byte("k"), Mode: 0o400})
	sub := *v1
	sub.Target, sub.SubPath = "/pw", "password"
	id := startContainer(t, r, sb, &runtime.ContainerConfig{Name: "app", Mounts: []runtime.Mount{*v1, sub}})

	if got := execOK(t, r, id, "/app", "cat", "/secret/password"); got != "one" {
		t.Fatalf("password %q", got)
	}
	if got := execOK(t, r, id, "/app", "cat", "/secret/tls/key.pem"); got != "k" {
		t.Fatalf("key %q", got)
	}
	for _, target := range []string{"/secret", "/pw"} {
		line := mountLine(t, r, id, target)
		if f := strings.Fields(line); f[2] != "tmpfs" || !strings.HasPrefix(f[3], "ro") {
			t.Errorf("%s: mount %q, want a read-only tmpfs", target, line)
		}
	}
	if res, _ := r.Exec(ctx, id, []string{"/app", "write", "/secret/new", "x"}); res == nil || res.ExitCode == 0 {
		t.Fatalf("secret volume was writable: %+v", res)
	}

	start := time.Now()
	if err := r.UpdateFiles(ctx, sb, secret(runtime.File{Path: "password", Data: []byte("two")})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new password in the running container", func() bool {
		res, err := r.Exec(ctx, id, []string{"/app", "cat", "/secret/password"})
		return err == nil && res.ExitCode == 0 && string(res.Stdout) == "two"
	})
	t.Logf("update visible %v after UpdateFiles was called", time.Since(start))
	if got := execOK(t, r, id, "/app", "cat", "/pw"); got != "one" {
		t.Errorf("subPath file %q, want the version it was created with", got)
	}
	if res, _ := r.Exec(ctx, id, []string{"/app", "cat", "/secret/tls/key.pem"}); res == nil || res.ExitCode == 0 {
		t.Errorf("a file gone from the set is still readable: %+v", res)
	}

	// A second update (back to the first directory), and a new container
	// of the Pod, see the latest set.
	if err := r.UpdateFiles(ctx, sb, secret(runtime.File{Path: "password", Data: []byte("three")})); err != nil {
		t.Fatal(err)
	}
	if got := execOK(t, r, id, "/app", "cat", "/secret/password"); got != "three" {
		t.Errorf("after a second update: %q", got)
	}
	id2 := startContainer(t, r, sb, &runtime.ContainerConfig{Name: "side", Args: []string{"sleep", "1h"}, // app serves the Pod's ports
		Mounts: []runtime.Mount{*secret(runtime.File{Path: "password", Data: []byte("three")})}})
	if got := execOK(t, r, id2, "/app", "cat", "/secret/password"); got != "three" {
		t.Errorf("second container: %q", got)
	}

	if err := r.UpdateFiles(ctx, sb, &runtime.Mount{Type: runtime.MountFiles, Source: "creds"}); !runtime.IsInvalid(err) {
		t.Errorf("UpdateFiles of a disk Files mount: %v, want ErrInvalid", err)
	}
	if err := r.UpdateFiles(ctx, "nonexistent", secret()); !runtime.IsNotFound(err) {
		t.Errorf("UpdateFiles of an unknown sandbox: %v, want ErrNotFound", err)
	}
}
