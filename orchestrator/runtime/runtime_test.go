package runtime_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

func TestValidateSandboxConfig(t *testing.T) {
	good := &runtime.PodSandboxConfig{Name: "web-1", Namespace: "default", UID: "0a1b-2c",
		PortMappings: []runtime.PortMapping{{ContainerPort: 80, HostPort: 8080}}}
	if err := runtime.ValidateSandboxConfig(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	bad := &runtime.PodSandboxConfig{Name: "Web_1", Namespace: "", UID: "a/b", Attempt: -1,
		PortMappings: []runtime.PortMapping{{ContainerPort: 0, HostPort: 70000, Protocol: "SCTP"}, {ContainerPort: 1, HostPort: 70000}},
		Labels:       map[string]string{runtime.LabelPodUID: "x"}}
	err := runtime.ValidateSandboxConfig(bad)
	if !runtime.IsInvalid(err) {
		t.Fatalf("want ErrInvalid, got %v", err)
	}
	for _, field := range []string{"name", "namespace", "uid", "attempt", "portMappings[0].containerPort",
		"portMappings[0].hostPort", "portMappings[0].protocol", "portMappings[1].hostPort", "labels[" + runtime.LabelPodUID + "]"} {
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
	if err := runtime.ValidateSandboxConfig(nil); !runtime.IsInvalid(err) {
		t.Errorf("nil config: %v", err)
	}
}

func TestValidateContainerConfig(t *testing.T) {
	good := &runtime.ContainerConfig{Name: "app", Image: "app:v1", Env: []runtime.EnvVar{{Name: "A", Value: "1"}},
		WorkingDir: "/w", Resources: runtime.Resources{CPUMillis: 500, MemoryBytes: 64 << 20},
		Mounts: []runtime.Mount{
			{Type: runtime.MountEmptyDir, Source: "cache", Target: "/cache"},
			{Type: runtime.MountEmptyDir, Source: "mem", Target: "/mem", Medium: runtime.MediumMemory, SizeBytes: 1 << 20, Group: new(int64)},
			{Type: runtime.MountFiles, Source: "cfg", Target: "/etc/cfg", Files: []runtime.File{{Path: "a/b.conf", Data: []byte("x")}}},
			{Type: runtime.MountFiles, Source: "cfg", Target: "/etc/one.conf", SubPath: "a/b.conf", ReadOnly: true},
			{Type: runtime.MountBind, Source: "/var/log", Target: "/logs", SubPath: "app"},
		},
		Security: runtime.Security{RunAsUser: ptr(int64(1000)), RunAsGroup: ptr(int64(0)), SupplementalGroups: []int64{4000},
			ReadOnlyRootFilesystem: true, CapAdd: []string{"NET_BIND_SERVICE"}, CapDrop: []string{"ALL"}, NoNewPrivileges: true,
			Seccomp: runtime.SeccompUnconfined}}
	if err := runtime.ValidateContainerConfig(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	bad := &runtime.ContainerConfig{Name: "", Image: " ", Env: []runtime.EnvVar{{Name: "A=B"}}, WorkingDir: "rel",
		Resources: runtime.Resources{CPUMillis: -1, MemoryBytes: 1000}, Ports: []runtime.ContainerPort{{ContainerPort: 0}},
		Mounts: []runtime.Mount{
			{Type: runtime.MountBind, Source: "rel", Target: "/"},
			{Type: "Tmp", Target: "/x"},
			{Type: runtime.MountFiles, Target: "/y", Files: []runtime.File{{Path: "../etc/passwd"}, {Path: "ok", Mode: 0o4755}}},
			{Type: runtime.MountEmptyDir, Source: "e", Target: "/e", SubPath: "x", Medium: "Disk", SizeBytes: -1},
			{Type: runtime.MountBind, Source: "/h", Target: "/h", SubPath: "../x", Medium: runtime.MediumMemory, Group: new(int64)},
			{Type: runtime.MountVolume, Source: "v", Target: "/v", Files: []runtime.File{{Path: "a"}}},
		}, RestartCount: -1, StopSignal: "TERM",
		Security: runtime.Security{RunAsUser: ptr(int64(-1)), RunAsGroup: ptr(int64(1) << 32), SupplementalGroups: []int64{-2},
			CapAdd: []string{"CAP_NET_ADMIN"}, CapDrop: []string{"net_raw"}, Seccomp: "Localhost"}}
	err := runtime.ValidateContainerConfig(bad)
	for _, field := range []string{"name", "image", "env[0].name", "workingDir", "resources.cpuMillis", "resources.memoryBytes",
		"ports[0].containerPort", "mounts[0].source", "mounts[0].target", "mounts[1].type", "mounts[2].source", "mounts[2].files[0].path",
		"mounts[2].files[1].mode", "mounts[3].subPath", "mounts[3].medium", "mounts[3].sizeBytes", "mounts[4].subPath",
		"mounts[4].medium", "mounts[4].group", "mounts[5].files[0]", "restartCount", "stopSignal", "security.runAsUser",
		"security.runAsGroup", "security.supplementalGroups[0]", "security.capAdd[0]", "security.capDrop[0]", "security.seccomp"} {
		if !strings.Contains(err.Error(), field+":") {
			t.Errorf("error does not name %s: %v", field, err)
		}
	}
}

func TestErrorPredicates(t *testing.T) {
	cause := errors.New("daemon said no")
	err := fmt.Errorf("agent: %w", &runtime.Error{Op: "EnsureImage", ID: "app:v1", Kind: runtime.ErrImageNeverPull, Message: "No such image: app:v1", Err: cause})
	if !runtime.IsImageNeverPull(err) || runtime.IsNotFound(err) || !errors.Is(err, cause) {
		t.Fatalf("predicates wrong for %v", err)
	}
	if got := runtime.MessageOf(err); got != "No such image: app:v1" {
		t.Fatalf("MessageOf = %q", got)
	}
	nf := runtime.Errorf("ContainerStatus", "abc", runtime.ErrNotFound, "no such container")
	if !runtime.IsNotFound(nf) || runtime.IgnoreNotFound(nf) != nil || runtime.IgnoreNotFound(err) == nil {
		t.Fatal("IsNotFound/IgnoreNotFound wrong")
	}
	if got := nf.Error(); got != "ContainerStatus abc: runtime: not found: no such container" {
		t.Fatalf("Error() = %q", got)
	}
}

func TestLabels(t *testing.T) {
	l := map[string]string{runtime.LabelRestartCount: "3", "a": "b"}
	if runtime.RestartCountOf(l) != 3 || runtime.RestartCountOf(nil) != 0 || runtime.RestartCountOf(map[string]string{runtime.LabelRestartCount: "-2"}) != 0 {
		t.Fatal("RestartCountOf wrong")
	}
	if !runtime.MatchLabels(l, map[string]string{"a": "b"}) || runtime.MatchLabels(l, map[string]string{"a": "c"}) || !runtime.MatchLabels(l, nil) {
		t.Fatal("MatchLabels wrong")
	}
}

// Validation names every bad field at once, so the agent can put one
// complete message into the Pod's status.
func ExampleValidateContainerConfig() {
	err := runtime.ValidateContainerConfig(&runtime.ContainerConfig{Name: "web", Image: "", WorkingDir: "srv"})
	fmt.Println(runtime.IsInvalid(err))
	fmt.Println(err)
	// Output:
	// true
	// runtime: invalid argument: image: "" must be a non-empty image reference without spaces
	// runtime: invalid argument: workingDir: "srv" must be an absolute path
}

func ExampleMessageOf() {
	err := &runtime.Error{Op: "EnsureImage", ID: "web:v1", Kind: runtime.ErrImageNeverPull, Message: "No such image: web:v1"}
	if runtime.IsImageNeverPull(err) {
		fmt.Println("ErrImageNeverPull:", runtime.MessageOf(err))
	}
	// Output: ErrImageNeverPull: No such image: web:v1
}

func TestLongPodNameAccepted(t *testing.T) {
	name := strings.Repeat("a", 100) + ".b"
	if err := runtime.ValidateSandboxConfig(&runtime.PodSandboxConfig{Name: name, Namespace: "ns", UID: "u"}); err != nil {
		t.Fatalf("253-character Pod names are legal: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }
