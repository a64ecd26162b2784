package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/moby/moby/client"
)

// TestDeploymentOnDocker runs a Deployment end to end on real containers:
// three in-process nodes, Pods Running and serving HTTP on the private
// network, a killed container restarted by its agent, a scale-up, and a
// cleanup that leaves nothing with the run's labels.
func TestDeploymentOnDocker(t *testing.T) {
	dc := newDockerCluster(t, 3, false)
	c := dc.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()

	if err := c.Create(ctx, deployment("web", 3)); err != nil {
		t.Fatal(err)
	}
	pods := waitRunning(t, c, "web", 3, 20*time.Second)
	nodes := map[string]bool{}
	for i := range pods {
		nodes[pods[i].Spec.NodeName] = true
	}
	t.Logf("3 Pods Running on nodes %v", nodes)
	// Each Pod's real container serves on the private network.
	for i := range pods {
		p := &pods[i]
		dc.Eventually(10*time.Second, "pod "+p.Name+" serves /healthz from a running container", func() bool {
			var cur orchestrator.Pod
			if err := c.Get(ctx, orchestrator.KeyFor(p), &cur); err != nil {
				return false
			}
			res, err := dc.cli.ContainerInspect(ctx, containerID(&cur), client.ContainerInspectOptions{})
			if err != nil || !res.Container.State.Running || res.Container.Config.Image != image {
				return false
			}
			body, err := get(ctx, "http://"+cur.Status.PodIP+":8080/healthz")
			return err == nil && strings.TrimSpace(body) == "ok"
		})
	}
	if n, err := dc.runningContainers(ctx); err != nil || n != 3 {
		t.Errorf("daemon runs %d application containers of the cluster (err %v), want 3", n, err)
	}

	// A killed container is restarted in the same Pod, as a new container.
	var victim orchestrator.Pod
	if err := c.Get(ctx, orchestrator.KeyFor(&pods[0]), &victim); err != nil {
		t.Fatal(err)
	}
	old := containerID(&victim)
	if _, err := dc.cli.ContainerKill(ctx, old, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		t.Fatal(err)
	}
	dc.Eventually(20*time.Second, "killed container restarted", func() bool {
		var p orchestrator.Pod
		if err := c.Get(ctx, orchestrator.KeyFor(&victim), &p); err != nil || len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		cs := p.Status.ContainerStatuses[0]
		if cs.RestartCount < 1 || !cs.Ready || containerID(&p) == old {
			return false
		}
		res, err := dc.cli.ContainerInspect(ctx, containerID(&p), client.ContainerInspectOptions{})
		return err == nil && res.Container.State.Running
	})
	waitRunning(t, c, "web", 3, 20*time.Second)

	// Scale up.
	if err := c.Patch(ctx, &orchestrator.Deployment{ObjectMeta: orchestrator.ObjectMeta{Name: "web", Namespace: orchestrator.DefaultNamespace}}, orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"spec":{"replicas":5}}`))); err != nil {
		t.Fatal(err)
	}
	waitRunning(t, c, "web", 5, 20*time.Second)
	dc.Eventually(10*time.Second, "5 application containers running in the daemon", func() bool {
		n, err := dc.runningContainers(ctx)
		return err == nil && n == 5
	})

	// Cleanup is also registered; run it here to check its result.
	if err := dc.close(); err != nil {
		t.Fatal(err)
	}
}

func get(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return string(b), err
}
