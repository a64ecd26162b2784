package agent_test

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// instances returns the Pod's containers named name, newest first.
func (e *env) instances(t *testing.T, p *api.Pod, name string) []*runtime.ContainerStatus {
	t.Helper()
	cs, err := e.rt.ListContainers(context.Background(), &runtime.ContainerFilter{PodUID: string(p.UID)})
	if err != nil {
		t.Fatal(err)
	}
	var out []*runtime.ContainerStatus
	for _, c := range cs {
		if c.Name == name {
			full, err := e.rt.ContainerStatus(context.Background(), c.ID)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, full)
		}
	}
	slices.SortFunc(out, func(x, y *runtime.ContainerStatus) int { return y.RestartCount - x.RestartCount })
	return out
}

func condition(p *api.Pod, t api.PodConditionType) *api.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func initStatus(p *api.Pod, name string) *api.ContainerStatus {
	for i := range p.Status.InitContainerStatuses {
		if p.Status.InitContainerStatuses[i].Name == name {
			return &p.Status.InitContainerStatuses[i]
		}
	}
	return nil
}

// Init containers run in order, each to success before the next; until
// they are done the Pod is Pending, not Initialized, and its app
// containers wait (PodInitializing) without being created.
func TestInitContainersRunInOrder(t *testing.T) {
	e := newEnv(t, fake.Config{})
	if err := e.rt.SetContainerBehavior("first", fake.Behavior{ExitAfter: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	e.run(t)
	p := e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p"}, Spec: api.PodSpec{
		InitContainers: []api.Container{{Name: "first", Image: "init:1"}, {Name: "second", Image: "init:1"}},
		Containers:     []api.Container{{Name: "main", Image: "app:1"}},
	}})
	// "second" runs until the test ends it.
	p = e.waitPod(t, "p", "second running", func(p *api.Pod) bool {
		s := initStatus(p, "second")
		return s != nil && s.State.Running != nil
	})
	if p.Status.Phase != api.PodPending {
		t.Errorf("phase while initializing: %s", p.Status.Phase)
	}
	if c := condition(p, api.PodInitialized); c == nil || c.Status != api.ConditionFalse || c.Reason != "ContainersNotInitialized" ||
		c.Message != "containers with incomplete status: [second]" {
		t.Errorf("Initialized while initializing: %+v", c)
	}
	if s := initStatus(p, "first"); s == nil || s.State.Terminated == nil || s.State.Terminated.ExitCode != 0 || !s.Ready {
		t.Errorf("first: %+v", s)
	}
	if cs := p.Status.ContainerStatuses; len(cs) != 1 || cs[0].State.Waiting == nil || cs[0].State.Waiting.Reason != "PodInitializing" {
		t.Errorf("app container while initializing: %+v", cs)
	}
	if n := len(e.instances(t, p, "main")); n != 0 {
		t.Fatalf("app container created before the init containers finished (%d)", n)
	}
	second := e.instances(t, p, "second")[0]
	if err := e.rt.Crash(second.ID, 0); err != nil {
		t.Fatal(err)
	}
	p = e.waitPod(t, "p", "running and initialized", func(p *api.Pod) bool {
		c := condition(p, api.PodInitialized)
		return p.Status.Phase == api.PodRunning && c != nil && c.Status == api.ConditionTrue && api.IsPodReady(p)
	})
	first, main := e.instances(t, p, "first")[0], e.instances(t, p, "main")[0]
	second = e.instances(t, p, "second")[0]
	if second.StartedAt.Before(first.FinishedAt) || main.StartedAt.Before(second.FinishedAt) {
		t.Errorf("order: first %v-%v, second %v-%v, main from %v", first.StartedAt, first.FinishedAt, second.StartedAt, second.FinishedAt, main.StartedAt)
	}
	if len(p.Status.InitContainerStatuses) != 2 || !initStatus(p, "second").Ready {
		t.Errorf("init statuses: %+v", p.Status.InitContainerStatuses)
	}
}

// A failed init container fails a Pod whose restartPolicy is Never; with
// OnFailure or Always it is restarted (with back-off) until it succeeds.
func TestInitContainerFailure(t *testing.T) {
	e := newEnv(t, fake.Config{ImageBehaviors: map[string]fake.Behavior{"fail:1": {ExitAfter: 10 * time.Millisecond, ExitCode: 3}}})
	e.run(t)
	never := e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "never"}, Spec: api.PodSpec{RestartPolicy: api.RestartPolicyNever,
		InitContainers: []api.Container{{Name: "setup", Image: "fail:1"}}, Containers: []api.Container{{Name: "main", Image: "app:1"}}}})
	e.waitPod(t, "never", "Failed", func(p *api.Pod) bool { return p.Status.Phase == api.PodFailed })
	if n := len(e.instances(t, never, "main")); n != 0 || len(e.instances(t, never, "setup")) != 1 {
		t.Errorf("never: %d app containers, %d setup instances", n, len(e.instances(t, never, "setup")))
	}

	if err := e.rt.SetContainerBehavior("flaky", fake.Behavior{ExitAfter: 10 * time.Millisecond, ExitCode: 1}); err != nil {
		t.Fatal(err)
	}
	for name, policy := range map[string]api.RestartPolicy{"retry-onfailure": api.RestartPolicyOnFailure, "retry-always": api.RestartPolicyAlways} {
		e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.PodSpec{RestartPolicy: policy,
			InitContainers: []api.Container{{Name: "flaky", Image: "init:1"}}, Containers: []api.Container{{Name: "main", Image: "app:1"}}}})
	}
	for _, name := range []string{"retry-onfailure", "retry-always"} {
		p := e.waitPod(t, name, "init restarted twice", func(p *api.Pod) bool {
			s := initStatus(p, "flaky")
			return s != nil && s.RestartCount >= 2
		})
		if p.Status.Phase != api.PodPending {
			t.Errorf("%s: phase %s while its init container fails", name, p.Status.Phase)
		}
		if n := len(e.instances(t, p, "main")); n != 0 {
			t.Errorf("%s: app container created while its init container fails", name)
		}
	}
	if err := e.rt.SetContainerBehavior("flaky", fake.Behavior{ExitAfter: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"retry-onfailure", "retry-always"} {
		e.waitPod(t, name, "running once the init container succeeds", func(p *api.Pod) bool {
			return p.Status.Phase == api.PodRunning && api.IsPodReady(p)
		})
	}
}

// A sidecar (restartPolicy Always) starts in its turn, and the next init
// container waits until it is started (past its startup probe); it keeps
// running beside the app, is restarted when it exits even in a Pod that
// never restarts, counts for readiness, and is stopped once the app
// containers are done.
func TestSidecar(t *testing.T) {
	var up atomic.Bool
	e := newEnv(t, fake.Config{})
	if err := e.rt.SetContainerBehavior("proxy", fake.Behavior{Exec: func([]string) runtime.ExecResult {
		if up.Load() {
			return runtime.ExecResult{}
		}
		return runtime.ExecResult{ExitCode: 1}
	}}); err != nil {
		t.Fatal(err)
	}
	if err := e.rt.SetContainerBehavior("setup", fake.Behavior{ExitAfter: 10 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	e.run(t)
	always := string(api.RestartPolicyAlways)
	probe := &api.Probe{ProbeHandler: api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"ready"}}}, PeriodMilliseconds: 20, FailureThreshold: 1000}
	p := e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p"}, Spec: api.PodSpec{
		RestartPolicy: api.RestartPolicyNever,
		InitContainers: []api.Container{
			{Name: "proxy", Image: "proxy:1", RestartPolicy: &always, StartupProbe: probe},
			{Name: "setup", Image: "init:1"},
		},
		Containers: []api.Container{{Name: "main", Image: "app:1"}},
	}})
	e.waitPod(t, "p", "the sidecar's startup probe failed twice", func(p *api.Pod) bool {
		s := initStatus(p, "proxy")
		return s != nil && len(s.Probes) == 1 && s.Probes[0].Failures >= 2
	})
	if n := len(e.instances(t, p, "setup")); n != 0 {
		t.Fatalf("the next init container was created before the sidecar started (%d)", n)
	}
	up.Store(true)
	p = e.waitPod(t, "p", "running and ready", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning && api.IsPodReady(p) })
	if s := initStatus(p, "proxy"); s.State.Running == nil || !s.Ready || s.Started == nil || !*s.Started {
		t.Errorf("sidecar: %+v", s)
	}

	proxy := e.instances(t, p, "proxy")[0]
	if err := e.rt.Crash(proxy.ID, 1); err != nil {
		t.Fatal(err)
	}
	e.waitPod(t, "p", "sidecar restarted", func(p *api.Pod) bool {
		s := initStatus(p, "proxy")
		return s.RestartCount == 1 && s.State.Running != nil
	})
	if n := len(e.instances(t, p, "setup")); n != 1 {
		t.Errorf("setup ran %d times; init containers run once per sandbox", n)
	}

	main := e.instances(t, p, "main")[0]
	if err := e.rt.Crash(main.ID, 0); err != nil {
		t.Fatal(err)
	}
	e.waitPod(t, "p", "Succeeded with the sidecar stopped", func(p *api.Pod) bool {
		s := initStatus(p, "proxy")
		return p.Status.Phase == api.PodSucceeded && s != nil && s.State.Terminated != nil
	})
	if st := e.instances(t, p, "proxy")[0]; st.State != runtime.ContainerExited {
		t.Errorf("sidecar %s after the Pod succeeded", st.State)
	}
}

// Deleting a Pod stops its app containers before its sidecars.
func TestSidecarStopsAfterApp(t *testing.T) {
	e := newEnv(t, fake.Config{})
	if err := e.rt.SetContainerBehavior("main", fake.Behavior{StopDelay: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	e.run(t)
	always := string(api.RestartPolicyAlways)
	p := e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p"}, Spec: api.PodSpec{
		TerminationGracePeriodSeconds: api.Ptr(int64(5)),
		InitContainers:                []api.Container{{Name: "proxy", Image: "proxy:1", RestartPolicy: &always}},
		Containers:                    []api.Container{{Name: "main", Image: "app:1"}},
	}})
	e.waitPod(t, "p", "running", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning && api.IsPodReady(p) })
	proxyID, mainID := e.instances(t, p, "proxy")[0].ID, e.instances(t, p, "main")[0].ID
	var mu sync.Mutex
	var order []string
	var mainWhenProxyStopped runtime.ContainerState
	e.rt.SetHook(func(ctx context.Context, c fake.Call) error {
		if c.Op != fake.OpStopContainer {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		switch c.ID {
		case mainID:
			order = append(order, "main")
		case proxyID:
			order = append(order, "proxy")
			if st, err := e.rt.ContainerStatus(ctx, mainID); err == nil {
				mainWhenProxyStopped = st.State
			}
		}
		return nil
	})
	if err := e.reg.Delete(context.Background(), "default", "p", &api.Pod{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "sandbox removed", func() bool {
		sbs, err := e.rt.ListPodSandboxes(context.Background(), &runtime.PodSandboxFilter{UID: string(p.UID)})
		return err == nil && len(sbs) == 0
	})
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(order, []string{"main", "proxy"}) || mainWhenProxyStopped != runtime.ContainerExited {
		t.Errorf("stop order %v; main was %s when the sidecar's stop began", order, mainWhenProxyStopped)
	}
}
