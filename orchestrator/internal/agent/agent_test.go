package agent_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/agent"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type env struct {
	reg client.Interface
	rt  *fake.Runtime
}

func newEnv(t *testing.T, fc fake.Config) *env {
	fc.NodeName = "n1"
	rt, err := fake.New(fc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	return &env{reg: testutil.Registry(t), rt: rt}
}

// run starts an agent until the returned stop func is called.
func (e *env) run(t *testing.T) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	a := agent.New(agent.Config{
		NodeName: "n1", Client: e.reg, Runtime: e.rt, Recorder: events.New(e.reg, "agent", "n1", nil),
		Capacity:          api.ResourceList{api.ResourceCPU: api.MustParse("2"), api.ResourceMemory: api.MustParse("4Gi")},
		Addresses:         []api.NodeAddress{{Type: "InternalIP", Address: "192.0.2.10"}, {Type: "Hostname", Address: "n1"}},
		HeartbeatInterval: 20 * time.Millisecond, ResyncInterval: 200 * time.Millisecond, SecretSyncInterval: 50 * time.Millisecond,
		BackoffBase: 10 * time.Millisecond, BackoffMax: 40 * time.Millisecond,
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

func (e *env) pod(t *testing.T, name string, policy api.RestartPolicy, image string) *api.Pod {
	p := &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: api.PodSpec{NodeName: "n1", RestartPolicy: policy, Containers: []api.Container{
			{Name: "main", Image: image, Env: []api.EnvVar{{Name: "GREETING", Value: "hi"}}},
		}},
	}
	if err := e.reg.Create(context.Background(), p, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *env) waitPod(t *testing.T, name, what string, cond func(*api.Pod) bool) *api.Pod {
	t.Helper()
	var got api.Pod
	testutil.Eventually(t, 10*time.Second, what, func() bool {
		return e.reg.Get(context.Background(), "default", name, &got, client.GetOptions{}) == nil && cond(&got)
	})
	return &got
}

func TestRegistersNodeAndRunsPod(t *testing.T) {
	e := newEnv(t, fake.Config{})
	e.run(t)
	testutil.Eventually(t, 10*time.Second, "node registered Ready", func() bool {
		var n api.Node
		return e.reg.Get(context.Background(), "", "n1", &n, client.GetOptions{}) == nil && api.IsNodeReady(&n)
	})
	e.pod(t, "p", api.RestartPolicyAlways, "app:1")
	p := e.waitPod(t, "p", "running and ready", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning && api.IsPodReady(p) })
	if p.Status.PodIP == "" || len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].State.Running == nil {
		t.Fatalf("status %+v", p.Status)
	}
	cs, err := e.rt.ListContainers(context.Background(), &runtime.ContainerFilter{PodUID: string(p.UID)})
	if err != nil || len(cs) != 1 {
		t.Fatalf("containers: %v %d", err, len(cs))
	}
	cfg, err := e.rt.Config(cs[0].ID)
	if err != nil || len(cfg.Env) != 1 || cfg.Env[0].Value != "hi" {
		t.Fatalf("container config %+v %v", cfg, err)
	}
}

func TestRestartPolicies(t *testing.T) {
	e := newEnv(t, fake.Config{ImageBehaviors: map[string]fake.Behavior{
		"ok:1":   {ExitAfter: 20 * time.Millisecond, ExitCode: 0},
		"fail:1": {ExitAfter: 20 * time.Millisecond, ExitCode: 2},
	}})
	e.run(t)
	e.pod(t, "never-ok", api.RestartPolicyNever, "ok:1")
	e.pod(t, "never-fail", api.RestartPolicyNever, "fail:1")
	e.pod(t, "onfailure-ok", api.RestartPolicyOnFailure, "ok:1")
	e.pod(t, "always-fail", api.RestartPolicyAlways, "fail:1")
	e.waitPod(t, "never-ok", "Succeeded", func(p *api.Pod) bool { return p.Status.Phase == api.PodSucceeded })
	p := e.waitPod(t, "never-fail", "Failed", func(p *api.Pod) bool { return p.Status.Phase == api.PodFailed })
	if term := p.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 2 {
		t.Fatalf("never-fail state %+v", p.Status.ContainerStatuses[0].State)
	}
	e.waitPod(t, "onfailure-ok", "Succeeded", func(p *api.Pod) bool { return p.Status.Phase == api.PodSucceeded })
	e.waitPod(t, "always-fail", "restarted at least 3 times", func(p *api.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].RestartCount >= 3 && p.Status.Phase == api.PodRunning
	})
	// Only the current and the previous instance are kept.
	var pod api.Pod
	if err := e.reg.Get(context.Background(), "default", "always-fail", &pod, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "old instances removed", func() bool {
		cs, _ := e.rt.ListContainers(context.Background(), &runtime.ContainerFilter{PodUID: string(pod.UID)})
		return len(cs) <= 2
	})
}

func TestImagePullFailure(t *testing.T) {
	e := newEnv(t, fake.Config{Registry: func(image string) error {
		if image == "missing:1" {
			return errors.New("manifest unknown")
		}
		return nil
	}})
	e.run(t)
	e.pod(t, "p", api.RestartPolicyAlways, "missing:1")
	p := e.waitPod(t, "p", "waiting on image", func(p *api.Pod) bool {
		return len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Waiting.Reason == "ImagePullBackOff"
	})
	if p.Status.Phase != api.PodPending {
		t.Fatalf("phase %s", p.Status.Phase)
	}
}

func TestAdoptsAfterRestartAndStopsDeletedPods(t *testing.T) {
	e := newEnv(t, fake.Config{})
	stop := e.run(t)
	p := e.pod(t, "p", api.RestartPolicyAlways, "app:1")
	e.waitPod(t, "p", "running", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning })
	ctx := context.Background()
	before, _ := e.rt.ListContainers(ctx, &runtime.ContainerFilter{PodUID: string(p.UID)})
	stop()
	// A new agent adopts the running container instead of starting another.
	// It syncs every bound Pod when it starts; a Pod created afterwards
	// running shows it is past that.
	e.run(t)
	e.pod(t, "q", api.RestartPolicyAlways, "app:1")
	e.waitPod(t, "q", "second pod running", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning })
	after, _ := e.rt.ListContainers(ctx, &runtime.ContainerFilter{PodUID: string(p.UID)})
	if len(before) != 1 || len(after) != 1 || before[0].ID != after[0].ID {
		t.Fatalf("containers before %d after %d (not adopted)", len(before), len(after))
	}
	if err := e.reg.Delete(ctx, "default", "p", &api.Pod{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "sandbox removed", func() bool {
		sbs, err := e.rt.ListPodSandboxes(ctx, &runtime.PodSandboxFilter{UID: string(p.UID)})
		return err == nil && len(sbs) == 0
	})
}
