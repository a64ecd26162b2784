package agent_test

import (
	"context"
	"slices"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// create stores p (in namespace default, bound to n1) and returns it as
// stored.
func (e *env) create(t *testing.T, p *api.Pod) *api.Pod {
	t.Helper()
	p.Namespace, p.Spec.NodeName = "default", "n1"
	if err := e.reg.Create(context.Background(), p, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return p
}

// containerConfig returns what the agent asked the runtime for when it
// created the latest instance of the Pod's container name.
func (e *env) containerConfig(t *testing.T, p *api.Pod, name string) *runtime.ContainerConfig {
	t.Helper()
	cs, err := e.rt.ListContainers(context.Background(), &runtime.ContainerFilter{PodUID: string(p.UID)})
	if err != nil {
		t.Fatal(err)
	}
	var latest *runtime.ContainerStatus
	for _, c := range cs {
		if c.Name == name && (latest == nil || c.RestartCount > latest.RestartCount) {
			latest = c
		}
	}
	if latest == nil {
		t.Fatalf("no container %s in pod %s", name, p.Name)
	}
	cfg, err := e.rt.Config(latest.ID)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// sandboxConfig returns what the agent asked the runtime for when it
// created the Pod's sandbox.
func (e *env) sandboxConfig(t *testing.T, p *api.Pod) *runtime.PodSandboxConfig {
	t.Helper()
	sbs, err := e.rt.ListPodSandboxes(context.Background(), &runtime.PodSandboxFilter{UID: string(p.UID)})
	if err != nil || len(sbs) != 1 {
		t.Fatalf("sandboxes of %s: %d, %v", p.Name, len(sbs), err)
	}
	cfg, err := e.rt.SandboxConfig(sbs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The runtime is asked for what the Pod says: command, args, working
// directory, env, ports (host ports on the sandbox), limits, hostname.
func TestSpecAsWritten(t *testing.T) {
	e := newEnv(t, fake.Config{})
	e.run(t)
	p := e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p"}, Spec: api.PodSpec{
		Hostname: "web-0",
		Containers: []api.Container{{
			Name: "main", Image: "app:1", Command: []string{"/app"}, Args: []string{"serve", "--port=8080"}, WorkingDir: "/srv",
			Env: []api.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}},
			Ports: []api.ContainerPort{
				{Name: "http", ContainerPort: 8080},
				{Name: "dns", ContainerPort: 53, HostPort: 5353, HostIP: "127.0.0.1", Protocol: api.ProtocolUDP},
			},
			Resources: api.ResourceRequirements{Limits: api.ResourceList{api.ResourceCPU: api.MustParse("250m"), api.ResourceMemory: api.MustParse("64Mi")}},
		}},
	}})
	e.waitPod(t, "p", "running", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning })
	cfg := e.containerConfig(t, p, "main")
	if !slices.Equal(cfg.Command, []string{"/app"}) || !slices.Equal(cfg.Args, []string{"serve", "--port=8080"}) || cfg.WorkingDir != "/srv" {
		t.Errorf("command %q args %q workingDir %q", cfg.Command, cfg.Args, cfg.WorkingDir)
	}
	if want := []runtime.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "2"}}; !slices.Equal(cfg.Env, want) {
		t.Errorf("env %v, want %v", cfg.Env, want)
	}
	wantPorts := []runtime.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: runtime.ProtocolTCP}, {Name: "dns", ContainerPort: 53, Protocol: runtime.ProtocolUDP}}
	if !slices.Equal(cfg.Ports, wantPorts) {
		t.Errorf("ports %v, want %v", cfg.Ports, wantPorts)
	}
	if cfg.Resources != (runtime.Resources{CPUMillis: 250, MemoryBytes: 64 << 20}) {
		t.Errorf("resources %+v", cfg.Resources)
	}
	sb := e.sandboxConfig(t, p)
	if sb.Hostname != "web-0" {
		t.Errorf("sandbox hostname %q, want web-0", sb.Hostname)
	}
	wantMap := []runtime.PortMapping{{ContainerPort: 53, HostPort: 5353, HostIP: "127.0.0.1", Protocol: runtime.ProtocolUDP}}
	if !slices.Equal(sb.PortMappings, wantMap) {
		t.Errorf("port mappings %v, want %v", sb.PortMappings, wantMap)
	}
}
