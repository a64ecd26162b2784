package docker_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
)

// idleWarm lists the node's warm sandboxes that no Pod has claimed.
func (e *env) idleWarm(t *testing.T, node string) []string {
	t.Helper()
	list, err := e.cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: make(client.Filters).Add("label",
		runtime.LabelClusterID+"="+e.cluster,
		runtime.LabelNode+"="+node,
		runtime.LabelPrefix+"sandbox.warm=true")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list.Items {
		if len(c.Names) > 0 && strings.HasPrefix(c.Names[0], "/flotilla-warm_") && c.State == container.StateRunning {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

func (e *env) waitIdleWarm(t *testing.T, node string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ids := e.idleWarm(t, node)
		if len(ids) == n {
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s: %d idle warm sandboxes, want %d", node, len(ids), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestWarmSandboxes(t *testing.T) {
	e := newEnv(t)
	r := e.runtimeWith("node-1", func(c *docker.Config) { c.WarmSandboxes = 2 })
	ev := subscribe(t, r)
	warm := e.waitIdleWarm(t, "node-1", 2)

	// Unclaimed warm sandboxes are no Pod's: not listed, no status.
	if l, err := r.ListPodSandboxes(ctx, nil); err != nil || len(l) != 0 {
		t.Fatalf("listed before any Pod: %d %v", len(l), err)
	}
	if _, err := r.PodSandboxStatus(ctx, warm[0]); !runtime.IsNotFound(err) {
		t.Fatalf("status of an unclaimed warm sandbox: %v", err)
	}

	// A Pod without host ports claims one, which then carries its identity.
	cfg := &runtime.PodSandboxConfig{Name: "web", Namespace: "default", UID: uniqueID("uid-"), Attempt: 1}
	sb, err := r.RunPodSandbox(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(warm, sb) {
		t.Fatalf("sandbox %s is not one of the warm ones %v", sb, warm)
	}
	st, err := r.PodSandboxStatus(ctx, sb)
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "web" || st.Namespace != "default" || st.UID != cfg.UID || st.Attempt != 1 || st.State != runtime.SandboxReady || st.IP == "" {
		t.Fatalf("claimed sandbox status %+v", st)
	}
	l, err := r.ListPodSandboxes(ctx, &runtime.PodSandboxFilter{UID: cfg.UID})
	if err != nil || len(l) != 1 || l[0].ID != sb || l[0].Name != "web" {
		t.Fatalf("list by UID: %+v %v", l, err)
	}
	// Asking again for the same attempt returns the same sandbox.
	if again, err := r.RunPodSandbox(ctx, cfg); err != nil || again != sb {
		t.Fatalf("second RunPodSandbox: %s %v, want %s", again, err, sb)
	}
	// Its containers run in it and report the Pod.
	id := startContainer(t, r, sb, &runtime.ContainerConfig{Name: "app"})
	cs, err := r.ContainerStatus(ctx, id)
	if err != nil || cs.PodUID != cfg.UID || cs.SandboxID != sb {
		t.Fatalf("container status %+v %v", cs, err)
	}
	ev.want(runtime.EventContainerStarted, id)
	// The pool refills.
	e.waitIdleWarm(t, "node-1", 2)

	// Host ports need a sandbox of its own, named after the Pod.
	hp := sandbox(t, r, "ported", runtime.PortMapping{ContainerPort: 8080, HostPort: freePort(t)})
	if slices.Contains(e.idleWarm(t, "node-1"), hp) || slices.Contains(warm, hp) {
		t.Fatal("a Pod with host ports got a warm sandbox")
	}
	if in, err := inspect(e.cli, hp); err != nil || in.Config.Hostname != "ported" {
		t.Fatalf("dedicated sandbox hostname: %v", err)
	}

	// Killing the claimed sandbox reports the Pod's sandbox, not a warm one.
	if _, err := e.cli.ContainerKill(ctx, sb, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		t.Fatal(err)
	}
	if got := ev.want(runtime.EventSandboxNotReady, sb); got.PodUID != cfg.UID {
		t.Fatalf("sandbox event %+v", got)
	}
	if err := r.RemovePodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if _, err := r.PodSandboxStatus(ctx, sb); !runtime.IsNotFound(err) {
		t.Fatalf("removed sandbox: %v", err)
	}

	// A runtime of the same node that keeps no warm sandboxes removes the
	// idle ones it finds; Close removes a runtime's own idle ones.
	e.runtimeWith("node-1", func(c *docker.Config) { c.WarmSandboxes = -1 })
	if ids := e.idleWarm(t, "node-1"); len(ids) != 0 {
		t.Fatalf("idle warm sandboxes left after a cold runtime started: %v", ids)
	}
	r2 := e.runtimeWith("node-2", func(c *docker.Config) { c.WarmSandboxes = 1 })
	e.waitIdleWarm(t, "node-2", 1)
	if err := r2.Close(); err != nil {
		t.Fatal(err)
	}
	if ids := e.idleWarm(t, "node-2"); len(ids) != 0 {
		t.Fatalf("idle warm sandboxes left after Close: %v", ids)
	}
}
