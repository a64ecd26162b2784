package docker

import (
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/internal/eventbus"
	"github.com/moby/moby/api/types/events"
	"go.uber.org/zap"
)

func TestPauseELF(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64"} {
		b, err := pauseELF(arch)
		if err != nil {
			t.Fatal(err)
		}
		if string(b[:4]) != "\x7fELF" || len(b) > 200 {
			t.Fatalf("%s: bad ELF (%d bytes)", arch, len(b))
		}
	}
	if _, err := pauseELF("s390x"); err == nil {
		t.Fatal("unknown arch accepted")
	}
	if goruntime.GOARCH != "amd64" && goruntime.GOARCH != "arm64" {
		return
	}
	// Run the program for this machine: it must block, not exit or crash.
	b, _ := pauseELF(goruntime.GOARCH)
	path := filepath.Join(t.TempDir(), "pause")
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// It must be asleep in its system call (state S), never exit by itself.
	deadline := time.Now().Add(10 * time.Second)
	for {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(cmd.Process.Pid), "stat"))
		if err == nil && strings.Contains(string(stat), ") S ") {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("pause program exited: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pause program not sleeping: %s", stat)
		}
		time.Sleep(5 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-exited
	ref1, tar1, _ := pauseImage("amd64")
	ref2, tar2, _ := pauseImage("amd64")
	if ref1 != ref2 || string(tar1) != string(tar2) || !strings.HasPrefix(ref1, "flotilla/pause:") {
		t.Fatalf("pause image not deterministic: %s %s", ref1, ref2)
	}
}

// handle turns Docker events into runtime events once per state change.
func TestHandleDedupesAndMaps(t *testing.T) {
	r := &Runtime{cfg: Config{ClusterID: "c", NodeName: "n"}, log: zap.NewNop(), known: map[string]known{}, bus: eventbus.New(0)}
	defer r.bus.Close()
	ch, _ := r.bus.Subscribe(t.Context())
	ctr := map[string]string{runtime.LabelKind: runtime.KindContainer, runtime.LabelPodUID: "u", runtime.LabelContainerName: "app",
		runtime.LabelSandboxID: "sb", "name": "flotilla_x", "image": "img"}
	sb := map[string]string{runtime.LabelKind: runtime.KindSandbox, runtime.LabelPodUID: "u"}
	msg := func(id string, a events.Action, attrs map[string]string, code string) events.Message {
		at := map[string]string{}
		for k, v := range attrs {
			at[k] = v
		}
		if code != "" {
			at["exitCode"] = code
		}
		return events.Message{Type: events.ContainerEventType, Action: a, Actor: events.Actor{ID: id, Attributes: at}, TimeNano: time.Now().UnixNano()}
	}
	r.handle(msg("c1", events.ActionStart, ctr, ""))
	r.handle(msg("c1", events.ActionStart, ctr, "")) // duplicate (replayed by Since)
	r.handle(msg("c1", events.ActionOOM, ctr, ""))
	r.handle(msg("c1", events.ActionDie, ctr, "137"))
	r.handle(msg("s1", events.ActionStart, sb, ""))
	r.handle(msg("s1", events.ActionDie, sb, "137"))
	r.handle(msg("c1", events.ActionDestroy, ctr, ""))
	r.handle(msg("c1", events.Action("exec_start: /app"), ctr, ""))
	want := []runtime.Event{
		{Type: runtime.EventContainerStarted, ContainerID: "c1", SandboxID: "sb", Name: "app", PodUID: "u"},
		{Type: runtime.EventContainerOOM, ContainerID: "c1", SandboxID: "sb", Name: "app", PodUID: "u"},
		{Type: runtime.EventContainerExited, ContainerID: "c1", SandboxID: "sb", Name: "app", PodUID: "u", ExitCode: 137},
		{Type: runtime.EventSandboxReady, SandboxID: "s1", PodUID: "u"},
		{Type: runtime.EventSandboxNotReady, SandboxID: "s1", PodUID: "u", ExitCode: 137},
		{Type: runtime.EventContainerRemoved, ContainerID: "c1", SandboxID: "sb", Name: "app", PodUID: "u"},
	}
	for i, w := range want {
		select {
		case got := <-ch:
			if got.Type != w.Type || got.ContainerID != w.ContainerID || got.SandboxID != w.SandboxID || got.Name != w.Name || got.PodUID != w.PodUID || got.ExitCode != w.ExitCode {
				t.Fatalf("event %d: got %v, want %v", i, got, w)
			}
			if _, leaked := got.Labels["image"]; leaked {
				t.Fatalf("event %d carries Docker attributes as labels: %v", i, got.Labels)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d (%v) missing", i, w)
		}
	}
	select {
	case extra := <-ch:
		t.Fatalf("unexpected event %v", extra)
	case <-time.After(50 * time.Millisecond):
	}
}

// portBindings parses host addresses, which the Engine API types hold as
// netip.Addr, and names the mapping whose address is not one.
func TestPortBindings(t *testing.T) {
	exposed, bindings, err := portBindings([]runtime.PortMapping{
		{ContainerPort: 8080, HostPort: 18080},
		{ContainerPort: 8080, HostPort: 18081, HostIP: "127.0.0.1"},
		{ContainerPort: 53, HostPort: 1053, HostIP: "::1", Protocol: runtime.ProtocolUDP},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(exposed) != 2 || len(bindings) != 2 {
		t.Fatalf("exposed %v, bindings %v", exposed, bindings)
	}
	got := portMappings(bindings)
	want := []runtime.PortMapping{
		{ContainerPort: 53, HostPort: 1053, HostIP: "::1", Protocol: runtime.ProtocolUDP},
		{ContainerPort: 8080, HostPort: 18080, Protocol: runtime.ProtocolTCP},
		{ContainerPort: 8080, HostPort: 18081, HostIP: "127.0.0.1", Protocol: runtime.ProtocolTCP},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
	_, _, err = portBindings([]runtime.PortMapping{{ContainerPort: 80, HostPort: 80}, {ContainerPort: 81, HostPort: 81, HostIP: "localhost"}})
	if err == nil || !strings.Contains(err.Error(), "portMappings[1].hostIP") {
		t.Fatalf("bad host address: %v", err)
	}
}
