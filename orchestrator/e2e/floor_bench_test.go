package e2e

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker"
	"github.com/moby/moby/api/types/container"
	dimage "github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// BenchmarkBareDocker is the daemon's own floor: n containers of the
// benchmarks' image created and started straight through the Engine API,
// 24 at a time (3 agents of 8 workers), on a private bridge network, with
// nothing scheduled, watched or reported. No orchestrator on this daemon
// can start n containers faster.
//
//	perPod=1   one container per replica, as Swarm runs a task
//	perPod=2   a sandbox (Flotilla's infra image) on the network plus an
//	           app container in its network namespace, as a Flotilla Pod
//	           without warm sandboxes
//
// go test ./orchestrator/e2e -run '^$' -bench BareDocker -benchtime 5x
func BenchmarkBareDocker(b *testing.B) {
	for _, n := range []int{10, 40} {
		for _, perPod := range []int{1, 2} {
			b.Run(fmt.Sprintf("n=%d/perPod=%d", n, perPod), func(b *testing.B) { benchBareDocker(b, n, perPod) })
		}
	}
}

func benchBareDocker(b *testing.B, n, perPod int) {
	cli := dockerClient(b)
	img := buildBenchImage(b, cli)
	pause := pauseImage(b, cli)
	var id [4]byte
	_, _ = rand.Read(id[:])
	run := hex.EncodeToString(id[:])
	const label = "io.flotilla.bench.bare-run"
	mine := make(client.Filters).Add("label", label+"="+run)
	ctx := context.Background()
	netName := "flotilla-bare-" + run
	if _, err := cli.NetworkCreate(ctx, netName, client.NetworkCreateOptions{Labels: map[string]string{label: run}}); err != nil {
		b.Fatal(err)
	}
	removeAll := func() error {
		cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: mine})
		if err != nil {
			return err
		}
		return parallel(len(cs.Items), 8, func(i int) error {
			_, err := cli.ContainerRemove(ctx, cs.Items[i].ID, client.ContainerRemoveOptions{Force: true})
			return err
		})
	}
	b.Cleanup(func() {
		if err := removeAll(); err != nil {
			b.Error(err)
		}
		dropStaleEndpoints(ctx, cli, mine)
		if _, err := cli.NetworkRemove(ctx, netName, client.NetworkRemoveOptions{}); err != nil {
			b.Logf("network %s: %v", netName, err)
		}
	})
	// start creates and starts one container and returns its ID.
	start := func(name, img string, hc *container.HostConfig, nc *network.NetworkingConfig) (string, error) {
		cfg := &container.Config{Image: img, Labels: map[string]string{label: run}}
		created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: cfg, HostConfig: hc, NetworkingConfig: nc})
		if err != nil {
			return "", err
		}
		_, err = cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{})
		return created.ID, err
	}
	var took []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		err := parallel(n, 24, func(j int) error {
			name := "bare-" + run + "-" + strconv.Itoa(i) + "-" + strconv.Itoa(j)
			netCfg := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{netName: {}}}
			hc := &container.HostConfig{Init: new(true)}
			if perPod == 1 {
				_, err := start(name, img, hc, netCfg)
				return err
			}
			sb, err := start(name+"-sandbox", pause, &container.HostConfig{}, netCfg)
			if err != nil {
				return err
			}
			hc.NetworkMode = container.NetworkMode("container:" + sb)
			_, err = start(name, img, hc, nil)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
		b.StopTimer()
		if err := removeAll(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(p50ms(took), "ms-p50-all-started")
	b.ReportMetric(maxms(took), "ms-max-all-started")
}

// parallel runs f(0) … f(n-1), at most limit at a time, and joins their
// errors.
func parallel(n, limit int, f func(i int) error) error {
	sem := make(chan struct{}, limit)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = f(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// pauseImage returns the reference of Flotilla's infra image, importing it
// through a Docker runtime's Start if the daemon lacks it.
func pauseImage(tb testing.TB, cli *client.Client) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rt, err := docker.New(ctx, docker.Config{ClusterID: "bare", NodeName: "bare", Client: cli, WarmSandboxes: -1})
	if err != nil {
		tb.Fatal(err)
	}
	defer rt.Close()
	if err := rt.Start(ctx); err != nil {
		tb.Fatal(err)
	}
	res, err := cli.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("reference", "flotilla/pause")})
	imgs := slices.DeleteFunc(res.Items, func(i dimage.Summary) bool { return len(i.RepoTags) == 0 })
	if err != nil || len(imgs) == 0 {
		tb.Fatalf("no flotilla/pause image after a runtime started (%v)", err)
	}
	// The newest: the runtime imported it just now, or found it.
	newest := slices.MaxFunc(imgs, func(a, b dimage.Summary) int { return cmp.Compare(a.Created, b.Created) })
	return newest.RepoTags[0]
}
