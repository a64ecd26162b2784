package agent_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/agent"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// createdRuntime makes the fake behave like Docker while the first sandbox
// is made: RunPodSandbox creates, then starts, and an inspect made between
// the two reads the sandbox NotReady ("created"). That inspect (the agent's
// refresh after the sandbox's event) is held and answers only once the
// agent has created the Pod's first container, that is after the agent
// stored its own, newer Ready observation of the sandbox.
type createdRuntime struct {
	*fake.Runtime

	mu         sync.Mutex
	creating   bool          // the first RunPodSandbox is between create and start
	held       bool          // the stale inspect was taken
	taken      chan struct{} // closed when the stale inspect read the sandbox
	release    chan struct{} // closed on the first CreateContainer
	answered   chan struct{} // closed when the stale inspect returned
	maxAttempt int
	removed    int
}

func newCreatedRuntime(rt *fake.Runtime) *createdRuntime {
	return &createdRuntime{Runtime: rt, creating: true, taken: make(chan struct{}),
		release: make(chan struct{}), answered: make(chan struct{})}
}

func (r *createdRuntime) RunPodSandbox(ctx context.Context, cfg *runtime.PodSandboxConfig) (string, error) {
	r.mu.Lock()
	r.maxAttempt = max(r.maxAttempt, cfg.Attempt)
	first := r.creating
	r.mu.Unlock()
	id, err := r.Runtime.RunPodSandbox(ctx, cfg) // publishes the sandbox's event
	if !first || err != nil {
		return id, err
	}
	select { // "start" only after the event's inspect saw it created
	case <-r.taken:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	r.mu.Lock()
	r.creating = false
	r.mu.Unlock()
	return id, nil
}

func (r *createdRuntime) PodSandboxStatus(ctx context.Context, id string) (*runtime.PodSandboxStatus, error) {
	s, err := r.Runtime.PodSandboxStatus(ctx, id)
	r.mu.Lock()
	stale := err == nil && r.creating && !r.held
	if stale {
		r.held = true
		s.State, s.IP = runtime.SandboxNotReady, ""
	}
	r.mu.Unlock()
	if !stale {
		return s, err
	}
	close(r.taken)
	select {
	case <-r.release:
	case <-ctx.Done():
	}
	close(r.answered)
	return s, nil
}

func (r *createdRuntime) CreateContainer(ctx context.Context, sandboxID string, cfg *runtime.ContainerConfig) (string, error) {
	r.mu.Lock()
	if r.held {
		select {
		case <-r.release:
		default:
			close(r.release)
		}
	}
	r.mu.Unlock()
	return r.Runtime.CreateContainer(ctx, sandboxID, cfg)
}

func (r *createdRuntime) RemovePodSandbox(ctx context.Context, id string) error {
	r.mu.Lock()
	r.removed++
	r.mu.Unlock()
	return r.Runtime.RemovePodSandbox(ctx, id)
}

// TestStaleSandboxInspectDoesNotKillSandbox: an inspect that read the
// sandbox "created" and returns after the agent stored it Ready must not
// make the agent kill the sandbox and start attempt 1.
func TestStaleSandboxInspectDoesNotKillSandbox(t *testing.T) {
	e := newEnv(t, fake.Config{})
	rt := newCreatedRuntime(e.rt)
	ctx, cancel := context.WithCancel(context.Background())
	a := agent.New(agent.Config{
		NodeName: "n1", Client: e.reg, Runtime: rt,
		Capacity:          api.ResourceList{api.ResourceCPU: api.MustParse("2")},
		HeartbeatInterval: 20 * time.Millisecond, ResyncInterval: time.Hour,
		BackoffBase: 10 * time.Millisecond, BackoffMax: 40 * time.Millisecond,
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })

	e.pod(t, "p", api.RestartPolicyAlways, "app:1")
	select {
	case <-rt.answered:
	case <-time.After(10 * time.Second):
		t.Fatal("the stale inspect never ran")
	}
	p := e.waitPod(t, "p", "running", func(p *api.Pod) bool {
		return p.Status.Phase == api.PodRunning && len(p.Status.ContainerStatuses) == 1 &&
			p.Status.ContainerStatuses[0].State.Running != nil
	})
	// Crash the container: its exit event is handled after the stale
	// inspect's result (events are handled in order), and the restart
	// that follows is a sync of the Pod that saw that result.
	cs, err := e.rt.ListContainers(context.Background(), &runtime.ContainerFilter{PodUID: string(p.UID), State: runtime.ContainerRunning})
	if err != nil || len(cs) == 0 {
		t.Fatalf("containers: %v %d", err, len(cs))
	}
	if err := e.rt.Crash(cs[0].ID, 1); err != nil {
		t.Fatal(err)
	}
	e.waitPod(t, "p", "restarted once and running", func(p *api.Pod) bool {
		if rt.attempts() > 0 {
			return true // fails below
		}
		return p.Status.Phase == api.PodRunning && len(p.Status.ContainerStatuses) == 1 &&
			p.Status.ContainerStatuses[0].RestartCount >= 1 && p.Status.ContainerStatuses[0].State.Running != nil
	})
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.maxAttempt != 0 || rt.removed != 0 {
		t.Fatalf("the agent replaced a live sandbox after a stale inspect: sandbox attempt %d, %d sandboxes removed", rt.maxAttempt, rt.removed)
	}
	sbs, err := e.rt.ListPodSandboxes(context.Background(), &runtime.PodSandboxFilter{UID: string(p.UID)})
	if err != nil || len(sbs) != 1 || sbs[0].State != runtime.SandboxReady {
		t.Fatalf("sandboxes: %v %+v", err, sbs)
	}
}

func (r *createdRuntime) attempts() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxAttempt + r.removed
}
