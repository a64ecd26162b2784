package fake_test

import (
	"context"
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// A container programmed to crash with exit code 3 shortly after start; the
// event stream tells the agent.
func Example() {
	rt, err := fake.New(fake.Config{NodeName: "node-1", ImageBehaviors: map[string]fake.Behavior{
		"batch:v1": {ExitAfter: 10 * time.Millisecond, ExitCode: 3},
	}})
	if err != nil {
		panic(err)
	}
	defer rt.Close()
	ctx := context.Background()
	events, _ := rt.Events(ctx)

	sb, _ := rt.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: "job", Namespace: "default", UID: "1234"})
	_, _ = rt.EnsureImage(ctx, "batch:v1", runtime.PullIfNotPresent)
	id, _ := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "main", Image: "batch:v1"})
	_ = rt.StartContainer(ctx, id)

	for ev := range events {
		if ev.Type == runtime.EventContainerExited {
			st, _ := rt.ContainerStatus(ctx, ev.ContainerID)
			fmt.Println(ev.Name, st.State, st.ExitCode, st.Reason)
			break
		}
	}
	// Output: main Exited 3 Error
}

// Fault injection: make every StartContainer fail, as a broken daemon would.
func ExampleFailOn() {
	rt, _ := fake.New(fake.Config{Hook: fake.FailOn(fake.OpStartContainer, fmt.Errorf("daemon busy"))})
	defer rt.Close()
	ctx := context.Background()
	sb, _ := rt.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: "web", Namespace: "default", UID: "u1"})
	_, _ = rt.EnsureImage(ctx, "web:v1", "")
	id, _ := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "web", Image: "web:v1"})
	fmt.Println(rt.StartContainer(ctx, id))
	// Output: daemon busy
}
