package docker_test

import (
	"context"
	"fmt"
	"log"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker/dockerimage"
)

// Run one Pod with one container on the local daemon, with an image built
// from a Go package (no registry), then remove everything. (Not run by go
// test: it needs a Docker daemon.)
func Example() {
	ctx := context.Background()
	rt, err := docker.New(ctx, docker.Config{ClusterID: "demo", NodeName: "node-1", Network: "flotilla-demo", CreateNetwork: true})
	if err != nil {
		log.Fatal(err) // e.g. "cannot reach the Docker daemon at unix:///var/run/docker.sock ..."
	}
	defer rt.Close()
	defer docker.Purge(ctx, rt.Client(), "demo", "")
	if err := rt.Start(ctx); err != nil {
		log.Fatal(err)
	}
	if err := dockerimage.BuildGo(ctx, rt.Client(), "./internal/testapp", "demo/web:dev"); err != nil {
		log.Fatal(err)
	}
	sb, err := rt.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: "web", Namespace: "default", UID: "7f3c",
		PortMappings: []runtime.PortMapping{{ContainerPort: 8080, HostPort: 18080, HostIP: "127.0.0.1"}}})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := rt.EnsureImage(ctx, "demo/web:dev", runtime.PullNever); err != nil {
		log.Fatal(err)
	}
	id, err := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "web", Image: "demo/web:dev",
		Resources: runtime.Resources{CPUMillis: 500, MemoryBytes: 64 << 20}})
	if err != nil {
		log.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		log.Fatal(err)
	}
	st, _ := rt.PodSandboxStatus(ctx, sb)
	fmt.Println("Pod IP:", st.IP)
}
