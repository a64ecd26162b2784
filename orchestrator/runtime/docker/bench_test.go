package docker_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"go.uber.org/zap"
)

// Benchmarks on the real daemon. Run them with, for example:
//
//	go test -run '^$' -bench . -benchtime 20x ./orchestrator/runtime/docker/
//
// Each reports percentiles as custom metrics (p50-ms, p90-ms); ns/op is the
// mean including untimed setup excluded by StopTimer.

func percentile(ds []time.Duration, p float64) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p)
	return float64(s[i].Microseconds()) / 1000
}

// quietRuntime is e.runtime without test logging (benchmarks log nothing).
func quietRuntime(b *testing.B, e *env, node string) *docker.Runtime {
	r, err := docker.New(ctx, docker.Config{ClusterID: e.cluster, NodeName: node, Network: e.network, CreateNetwork: true, Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	if err := r.Start(ctx); err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkPodCreateToRunning measures, alternately in the same run, (a)
// one Pod — sandbox + one application container — from RunPodSandbox to
// the container running, and (b) a bare `docker run -d` equivalent
// (ContainerCreate + ContainerStart of the same image on the same network).
// Metrics: pod-p50-ms, bare-p50-ms and their ratio.
func BenchmarkPodCreateToRunning(b *testing.B) {
	e := newEnv(b)
	r := quietRuntime(b, e, "bench")
	defer r.Close()
	var pod, bare []time.Duration
	i := 0
	for b.Loop() {
		i++
		t0 := time.Now()
		sb, err := r.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: "bench", Namespace: "default", UID: fmt.Sprintf("u%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		id, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "app", Image: testImage})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.StartContainer(ctx, id); err != nil {
			b.Fatal(err)
		}
		pod = append(pod, time.Since(t0))

		t1 := time.Now()
		resp, err := e.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
			Config:     &container.Config{Image: testImage, Labels: map[string]string{runtime.LabelClusterID: e.cluster}},
			HostConfig: &container.HostConfig{NetworkMode: container.NetworkMode(e.network)}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.cli.ContainerStart(ctx, resp.ID, client.ContainerStartOptions{}); err != nil {
			b.Fatal(err)
		}
		bare = append(bare, time.Since(t1))

		b.StopTimer()
		if err := r.RemovePodSandbox(ctx, sb); err != nil {
			b.Fatal(err)
		}
		if _, err := e.cli.ContainerRemove(ctx, resp.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(percentile(pod, 0.5), "pod-p50-ms")
	b.ReportMetric(percentile(pod, 0.9), "pod-p90-ms")
	b.ReportMetric(percentile(bare, 0.5), "bare-p50-ms")
	b.ReportMetric(percentile(pod, 0.5)/percentile(bare, 0.5), "pod/bare")
}

// BenchmarkKillToEvent measures a container killed from outside (docker
// kill, SIGKILL) until the runtime's subscriber has its ContainerExited
// event (p50-ms), and until the agent-style restart — a new container with
// the next restart count in the same sandbox — is running (restart-p50-ms).
func BenchmarkKillToEvent(b *testing.B) {
	e := newEnv(b)
	r := quietRuntime(b, e, "bench")
	defer r.Close()
	ev := subscribe(b, r)
	sb, err := r.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: "victim", Namespace: "default", UID: "victim"})
	if err != nil {
		b.Fatal(err)
	}
	var seen, restarted []time.Duration
	n := 0
	id, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "app", Image: testImage})
	if err == nil {
		err = r.StartContainer(ctx, id)
	}
	if err != nil {
		b.Fatal(err)
	}
	ev.want(runtime.EventContainerStarted, id)
	for b.Loop() {
		t0 := time.Now()
		if _, err := e.cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
			b.Fatal(err)
		}
		ev.want(runtime.EventContainerExited, id)
		seen = append(seen, time.Since(t0))
		n++
		next, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "app", Image: testImage, RestartCount: n})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.StartContainer(ctx, next); err != nil {
			b.Fatal(err)
		}
		restarted = append(restarted, time.Since(t0))
		b.StopTimer()
		ev.want(runtime.EventContainerStarted, next)
		_ = r.RemoveContainer(ctx, id)
		id = next
		b.StartTimer()
	}
	b.ReportMetric(percentile(seen, 0.5), "p50-ms")
	b.ReportMetric(percentile(seen, 0.9), "p90-ms")
	b.ReportMetric(percentile(restarted, 0.5), "restart-p50-ms")
}

// BenchmarkAdopt30 measures an agent restart with 30 running Pods (30
// sandboxes + 30 containers): New + Start (infra image check, network
// check, list) + ListPodSandboxes + ListContainers, i.e. everything the
// agent needs to adopt them. Nothing is restarted (checked).
func BenchmarkAdopt30(b *testing.B) {
	e := newEnv(b)
	r := quietRuntime(b, e, "bench")
	for i := range 30 {
		sb, err := r.RunPodSandbox(ctx, &runtime.PodSandboxConfig{Name: fmt.Sprintf("p%d", i), Namespace: "default", UID: fmt.Sprintf("u%d", i)})
		if err != nil {
			b.Fatal(err)
		}
		id, err := r.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "app", Image: testImage})
		if err != nil {
			b.Fatal(err)
		}
		if err := r.StartContainer(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
	_ = r.Close()
	var lat []time.Duration
	for b.Loop() {
		t0 := time.Now()
		r2 := quietRuntime(b, e, "bench")
		sbs, err := r2.ListPodSandboxes(ctx, &runtime.PodSandboxFilter{State: runtime.SandboxReady})
		if err != nil {
			b.Fatal(err)
		}
		cs, err := r2.ListContainers(ctx, &runtime.ContainerFilter{State: runtime.ContainerRunning})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		if len(sbs) != 30 || len(cs) != 30 {
			b.Fatalf("adopted %d sandboxes and %d containers, want 30 and 30", len(sbs), len(cs))
		}
		_ = r2.Close()
	}
	b.ReportMetric(percentile(lat, 0.5), "p50-ms")
}
