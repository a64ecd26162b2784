package agent_test

import (
	"context"
	"strings"
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
)

// The agent admits a Pod against its node's capacity before starting it,
// as the kubelet does: a Pod bound beyond the node's cpu, memory or Pod
// count (a scheduler bug, a stale bind) fails with the kubelet's reason
// and never runs, and a finished Pod's share is free again.
func TestAdmissionRefusesWhatDoesNotFit(t *testing.T) {
	e := newEnv(t, fake.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	a := agent.New(agent.Config{
		NodeName: "n1", Client: e.reg, Runtime: e.rt, Recorder: events.New(e.reg, "agent", "n1", nil),
		Capacity:          api.ResourceList{api.ResourceCPU: api.MustParse("2"), api.ResourceMemory: api.MustParse("1Gi"), api.ResourcePods: api.MustParse("3")},
		HeartbeatInterval: 20 * time.Millisecond, ResyncInterval: 200 * time.Millisecond,
		BackoffBase: 10 * time.Millisecond, BackoffMax: 40 * time.Millisecond,
	})
	var wg sync.WaitGroup
	wg.Go(func() { a.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	create := func(name, cpu, mem string) {
		t.Helper()
		req := api.ResourceList{}
		if cpu != "" {
			req[api.ResourceCPU] = api.MustParse(cpu)
		}
		if mem != "" {
			req[api.ResourceMemory] = api.MustParse(mem)
		}
		p := &api.Pod{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"},
			Spec: api.PodSpec{NodeName: "n1", Containers: []api.Container{{Name: "main", Image: "app:1",
				Resources: api.ResourceRequirements{Requests: req}}}}}
		if err := e.reg.Create(ctx, p, client.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	running := func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning }
	rejected := func(reason string) func(p *api.Pod) bool {
		return func(p *api.Pod) bool { return p.Status.Phase == api.PodFailed && p.Status.Reason == reason }
	}

	create("big", "1500m", "")
	e.waitPod(t, "big", "big running", running)
	create("too-much-cpu", "1", "")
	p := e.waitPod(t, "too-much-cpu", "OutOfcpu", rejected("OutOfcpu"))
	if want := "Pod was rejected: Node didn't have enough resource: cpu, requested: 1000, used: 1500, capacity: 2000"; p.Status.Message != want {
		t.Errorf("message %q, want %q", p.Status.Message, want)
	}
	create("too-much-memory", "", "2Gi")
	e.waitPod(t, "too-much-memory", "OutOfmemory", rejected("OutOfmemory"))
	create("small", "400m", "512Mi")
	e.waitPod(t, "small", "small running", running)
	create("third", "", "")
	e.waitPod(t, "third", "third running", running)
	create("fourth", "", "")
	p = e.waitPod(t, "fourth", "OutOfpods", rejected("OutOfpods"))
	if !strings.Contains(p.Status.Message, "pods, requested: 1, used: 3, capacity: 3") {
		t.Errorf("message %q", p.Status.Message)
	}
	for _, name := range []string{"too-much-cpu", "too-much-memory", "fourth"} {
		var got api.Pod
		if err := e.reg.Get(ctx, "default", name, &got, client.GetOptions{}); err != nil {
			t.Fatal(err)
		}
		if sbs, err := e.rt.ListPodSandboxes(ctx, &runtime.PodSandboxFilter{UID: string(got.UID)}); err != nil || len(sbs) != 0 {
			t.Errorf("rejected Pod %s has sandboxes %v (%v)", name, sbs, err)
		}
	}

	// The big Pod goes: its cpu is free for the next.
	var big api.Pod
	if err := e.reg.Get(ctx, "default", "big", &big, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := e.reg.Delete(ctx, "default", "big", &big, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "big gone", func() bool {
		return api.IsNotFound(e.reg.Get(ctx, "default", "big", &api.Pod{}, client.GetOptions{}))
	})
	create("after", "1", "")
	e.waitPod(t, "after", "after running once big is gone", running)
}
