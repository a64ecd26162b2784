// Command quickstart starts a three-node Flotilla cluster inside this
// process on the local Docker daemon, builds a small Go web app (./app) into
// a FROM scratch image with no registry, deploys three replicas of it, shows
// the Pods, kills one container with the Docker API and shows it restarted,
// scales to five, then removes every container, volume and network it
// created (the image stays as a build cache). Run it from the repository
// root:
//
//	go run ./examples/quickstart
//
// Ctrl-C cleans up too. Without a reachable Docker daemon it says so in one
// line and runs the same flow on the in-memory fake runtime.
//
// Every node serves the Kubernetes API on a free port of 127.0.0.1; the
// run writes an admin kubeconfig and, when kubectl is on PATH, shows
// `kubectl get pods -o wide` through it. With -keep the cluster stays up
// after the last step, until Ctrl-C, for kubectl:
//
//	go run ./examples/quickstart -keep
//	kubectl --kubeconfig <the printed path> get deployments,pods -o wide
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker/dockerimage"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"github.com/moby/moby/client"
)

// image is the quickstart app's image, built locally and cached by content.
const image = "flotilla-quickstart/web:dev"

func main() {
	keep := flag.Bool("keep", false, "keep the cluster running after the last step, until Ctrl-C, for kubectl")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if !*keep {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
	}
	if err := run(ctx, os.Stdout, options{keep: *keep}); err != nil {
		if errors.Is(err, context.Canceled) {
			// Ctrl-C: run has removed what it created.
			fmt.Fprintln(os.Stderr, "quickstart: interrupted, cleaned up")
			return
		}
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// options are what tests change.
type options struct {
	// appDir is the app's package directory; empty finds ./examples/quickstart/app
	// (from the repository root) or ./app (from this directory).
	appDir string
	// requireDocker makes an unreachable daemon an error instead of a fallback.
	requireDocker bool
	// clusterID is the run's cluster ID; empty means a random one.
	clusterID string
	// keep waits for Ctrl-C after the last step, without the time limit.
	keep bool
}

// backend is the container runtime the nodes run on: Docker or the fake.
type backend struct {
	name     string
	runtimes []runtime.Runtime
	// kill ends a container the way a crash or `docker kill` would.
	kill func(ctx context.Context, id string) error
	// close closes the runtimes and removes what they created.
	close func() error
}

func run(ctx context.Context, out io.Writer, opt options) (err error) {
	start := time.Now()
	step := func(format string, args ...any) {
		fmt.Fprintf(out, "[%5.2fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	names := []string{"node-a", "node-b", "node-c"}
	clusterID := opt.clusterID
	if clusterID == "" {
		var b [3]byte
		_, _ = rand.Read(b[:])
		clusterID = "quickstart-" + hex.EncodeToString(b[:])
	}

	be, err := dockerBackend(ctx, step, names, clusterID, opt.appDir)
	if err != nil {
		if opt.requireDocker || !errors.Is(err, runtime.ErrUnavailable) {
			return err
		}
		fmt.Fprintf(out, "Docker daemon unreachable (%v): running on the in-memory fake runtime instead\n", err)
		if be, err = fakeBackend(names); err != nil {
			return err
		}
	}
	defer func() {
		if cerr := be.close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
	}()

	// 1. Three nodes on loopback (Raft and gossip on free ports of
	// 127.0.0.1), each with its own runtime, secured as on real hosts:
	// node-a founds the cluster, making its CA and a join token; node-b
	// and node-c join through node-a's cluster address with that token,
	// which names the CA, so they check node-a before they send its
	// secret, and receive certificates. Raft runs over mutual TLS, gossip
	// is encrypted and the state is encrypted at rest.
	var nodes []*orchestrator.Cluster
	defer func() {
		// Stop the agents before the runtimes are purged, so nothing is
		// restarted while it is being removed.
		sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer scancel()
		for _, n := range nodes {
			_ = n.Shutdown(sctx)
		}
	}()
	var token string
	for i, name := range names {
		cfg := orchestrator.TestConfig(name)
		cfg.Runtime = be.runtimes[i]
		cfg.APIAddress = "127.0.0.1:0" // the Kubernetes API, for kubectl
		if i == 0 {
			cfg.BootstrapExpect = 1
		} else {
			cfg.Join, cfg.JoinToken = []string{nodes[0].RaftAddr()}, token
		}
		node, err := orchestrator.New(cfg)
		if err != nil {
			return err
		}
		if err := node.Start(ctx); err != nil {
			return err
		}
		nodes = append(nodes, node)
		if i == 0 {
			tok, err := node.CreateJoinToken(ctx, orchestrator.JoinTokenOptions{TTL: time.Hour, Description: "quickstart"})
			if err != nil {
				return err
			}
			token = tok.Token
			step("%s founded the cluster (CA %s…); join token for servers:\n          %s", name, node.CAFingerprint()[:19], token)
		}
	}
	client := nodes[0].Client()
	if err := waitFor(ctx, "all nodes Ready", func() bool {
		var list orchestrator.NodeList
		if err := client.List(ctx, &list); err != nil {
			return false // no leader yet
		}
		ready := 0
		for i := range list.Items {
			if orchestrator.IsNodeReady(&list.Items[i]) {
				ready++
			}
		}
		return ready == len(names)
	}); err != nil {
		return err
	}
	step("3 nodes Ready (%s) on the %s runtime", strings.Join(names, ", "), be.name)

	// The Kubernetes API: an admin kubeconfig (a client certificate of the
	// cluster CA, in system:masters) for kubectl or client-go.
	kubeconfig, err := writeKubeconfig(ctx, nodes[0])
	if err != nil {
		return err
	}
	defer os.RemoveAll(filepath.Dir(kubeconfig))
	step("Kubernetes API on https://%s (and every node); admin kubeconfig:\n          kubectl --kubeconfig %s get pods -o wide", nodes[0].APIAddr(), kubeconfig)

	// 2. A Deployment of three replicas, from YAML as with kubectl.
	objs, err := orchestrator.DecodeAll([]byte(manifest))
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := client.Apply(ctx, o); err != nil {
			return err
		}
	}
	step("applied deployment/web: 3 replicas of %s, readiness and liveness probes HTTP GET :8080/healthz", image)
	if err := waitRunning(ctx, client, 3); err != nil {
		return err
	}
	step("3/3 Pods Running")
	pods, err := printPods(ctx, out, client)
	if err != nil {
		return err
	}
	if be.name == "docker" {
		// Pod IPs are on the run's private bridge network, reachable from
		// this host.
		p := pods[0]
		body, err := get(ctx, "http://"+p.Status.PodIP+":8080/")
		if err != nil {
			step("GET http://%s:8080/ failed: %v", p.Status.PodIP, err)
		} else {
			step("GET http://%s:8080/ -> %s", p.Status.PodIP, strings.TrimSpace(body))
		}
	}

	// 3. Kill one container as a crash would; the node's agent sees the
	// exit and starts the container again in the same Pod.
	victim := pods[0]
	if len(victim.Status.ContainerStatuses) == 0 {
		return fmt.Errorf("pod %s has no container status", victim.Name)
	}
	id := strings.TrimPrefix(victim.Status.ContainerStatuses[0].ContainerID, "flotilla://")
	killed := time.Now()
	if err := be.kill(ctx, id); err != nil {
		return fmt.Errorf("kill container of %s: %w", victim.Name, err)
	}
	step("killed the container of Pod %s (%.12s) with SIGKILL", victim.Name, id)
	if err := waitFor(ctx, "the killed container to be restarted", func() bool {
		var p orchestrator.Pod
		if err := client.Get(ctx, orchestrator.KeyFor(victim), &p); err != nil {
			return false
		}
		if len(p.Status.ContainerStatuses) == 0 {
			return false
		}
		cs := p.Status.ContainerStatuses[0]
		return cs.RestartCount > 0 && cs.Ready && cs.ContainerID != victim.Status.ContainerStatuses[0].ContainerID
	}); err != nil {
		return err
	}
	step("Pod %s restarted its container and is Ready again (readiness probe passed) after %v", victim.Name, time.Since(killed).Round(time.Millisecond))
	if err := waitRunning(ctx, client, 3); err != nil {
		return err
	}
	if _, err := printPods(ctx, out, client); err != nil {
		return err
	}

	// 4. Scale to five replicas.
	patch := []byte(`{"spec":{"replicas":5}}`)
	if err := client.Patch(ctx, &orchestrator.Deployment{ObjectMeta: orchestrator.ObjectMeta{Name: "web", Namespace: orchestrator.DefaultNamespace}}, orchestrator.RawPatch(orchestrator.MergePatchType, patch)); err != nil {
		return fmt.Errorf("scale: %w", err)
	}
	step("scaled deployment/web to 5 replicas")
	if err := waitRunning(ctx, client, 5); err != nil {
		return err
	}
	step("5/5 Pods Running")
	if _, err := printPods(ctx, out, client); err != nil {
		return err
	}
	if path, err := exec.LookPath("kubectl"); err == nil {
		step("kubectl --kubeconfig %s get pods -o wide", kubeconfig)
		cmd := exec.CommandContext(ctx, path, "--kubeconfig", kubeconfig, "get", "pods", "-o", "wide")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("kubectl get pods: %w", err)
		}
	}
	if opt.keep {
		step("the cluster keeps running for kubectl (as above); Ctrl-C ends it and cleans up")
		<-ctx.Done()
		return ctx.Err()
	}
	step("cleaning up")
	return nil
}

// writeKubeconfig writes node's admin kubeconfig into a new private
// directory and returns the file's path.
func writeKubeconfig(ctx context.Context, node *orchestrator.Cluster) (string, error) {
	kc, err := node.AdminKubeconfig(ctx)
	if err != nil {
		return "", fmt.Errorf("admin kubeconfig: %w", err)
	}
	dir, err := os.MkdirTemp("", "flotilla-quickstart-")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return path, nil
}

const manifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: web
        image: ` + image + `
        imagePullPolicy: IfNotPresent
        ports: [{containerPort: 8080}]
        resources:
          requests: {cpu: 100m, memory: 32Mi}
          limits: {cpu: 500m, memory: 64Mi}
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
        livenessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 5
`

// dockerBackend builds the app image and starts one Docker runtime per node,
// all in one cluster ID on one network of their own. Its error wraps
// runtime.ErrUnavailable when there is no daemon.
func dockerBackend(ctx context.Context, step func(string, ...any), names []string, clusterID, appDir string) (*backend, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", runtime.ErrUnavailable, err)
	}
	pctx, pcancel := context.WithTimeout(ctx, 3*time.Second)
	_, err = cli.Ping(pctx, client.PingOptions{NegotiateAPIVersion: true})
	pcancel()
	if err != nil {
		cli.Close()
		return nil, fmt.Errorf("%w: %v", runtime.ErrUnavailable, err)
	}
	if appDir == "" {
		appDir = "./examples/quickstart/app"
		if _, err := os.Stat(appDir); err != nil {
			appDir = "./app"
		}
	}
	if err := dockerimage.BuildGo(ctx, cli, appDir, image); err != nil {
		cli.Close()
		return nil, fmt.Errorf("build %s from %s (run from the repository root): %w", image, appDir, err)
	}
	step("built image %s from %s (FROM scratch, cached by content)", image, appDir)

	netName := "flotilla-" + clusterID
	be := &backend{name: "docker"}
	var rts []*docker.Runtime
	be.close = func() error {
		for _, rt := range rts {
			_ = rt.Close()
		}
		// A fresh context: cleanup must run after Ctrl-C too.
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// Removals the stopped agents started may still be in progress in
		// the daemon: purge until nothing is left.
		var err error
		for {
			if err = docker.Purge(cctx, cli, clusterID, ""); err == nil {
				if err = checkGone(cctx, cli, clusterID); err == nil {
					break
				}
			}
			select {
			case <-cctx.Done():
			case <-time.After(100 * time.Millisecond):
				continue
			}
			break
		}
		if err == nil {
			step("removed every container, volume and network labelled %s=%s (image %s kept as a cache)", runtime.LabelClusterID, clusterID, image)
		}
		cli.Close()
		return err
	}
	for _, name := range names {
		rt, err := docker.New(ctx, docker.Config{ClusterID: clusterID, NodeName: name, Network: netName, CreateNetwork: true, Client: cli})
		if err == nil {
			err = rt.Start(ctx)
			rts = append(rts, rt)
		}
		if err != nil {
			return nil, errors.Join(err, be.close())
		}
		be.runtimes = append(be.runtimes, rt)
	}
	step("3 Docker runtimes started: cluster ID %s, network %s", clusterID, netName)
	be.kill = func(ctx context.Context, id string) error {
		_, err := cli.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: "SIGKILL"})
		return err
	}
	return be, nil
}

// checkGone verifies nothing labelled with the cluster ID is left.
func checkGone(ctx context.Context, cli *client.Client, clusterID string) error {
	f := make(client.Filters).Add("label", runtime.LabelClusterID+"="+clusterID)
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return err
	}
	vs, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return err
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return err
	}
	if len(cs.Items)+len(vs.Items)+len(ns.Items) > 0 {
		return fmt.Errorf("left behind: %d containers, %d volumes, %d networks", len(cs.Items), len(vs.Items), len(ns.Items))
	}
	return nil
}

func fakeBackend(names []string) (*backend, error) {
	be := &backend{name: "in-memory fake"}
	var rts []*fake.Runtime
	be.close = func() error {
		for _, rt := range rts {
			_ = rt.Close()
		}
		return nil
	}
	for i, name := range names {
		rt, err := fake.New(fake.Config{NodeName: name, PodCIDR: fmt.Sprintf("10.%d.0.0/16", 10+i)})
		if err != nil {
			return nil, errors.Join(err, be.close())
		}
		rts = append(rts, rt)
		be.runtimes = append(be.runtimes, rt)
	}
	be.kill = func(_ context.Context, id string) error {
		for _, rt := range rts {
			if err := rt.Crash(id, 137); err == nil {
				return nil
			}
		}
		return fmt.Errorf("no container %s", id)
	}
	return be, nil
}

func get(ctx context.Context, url string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return string(b), err
}

// waitFor polls cond every 20 ms until it holds or ctx ends.
func waitFor(ctx context.Context, what string, cond func() bool) error {
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// waitRunning waits for exactly n Pods of app=web, all Running and Ready.
func waitRunning(ctx context.Context, c orchestrator.Client, n int) error {
	return waitFor(ctx, fmt.Sprintf("%d running pods", n), func() bool {
		var pods orchestrator.PodList
		if err := c.List(ctx, &pods, orchestrator.MatchingLabels{"app": "web"}); err != nil {
			return false
		}
		running := 0
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.Status.Phase == orchestrator.PodRunning && orchestrator.IsPodReady(p) {
				running++
			}
		}
		return running == n && len(pods.Items) == n
	})
}

// printPods prints a kubectl-get-style table of the app's Pods and returns
// them sorted by name.
func printPods(ctx context.Context, out io.Writer, c orchestrator.Client) ([]*orchestrator.Pod, error) {
	var list orchestrator.PodList
	if err := c.List(ctx, &list, orchestrator.MatchingLabels{"app": "web"}); err != nil {
		return nil, err
	}
	pods := make([]*orchestrator.Pod, len(list.Items))
	for i := range list.Items {
		pods[i] = &list.Items[i]
	}
	sort.Slice(pods, func(i, j int) bool { return pods[i].Name < pods[j].Name })
	w := tabwriter.NewWriter(out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "\tNAME\tNODE\tSTATUS\tREADY\tRESTARTS\tIP")
	for _, p := range pods {
		ready, restarts := 0, int32(0)
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Ready {
				ready++
			}
			restarts += cs.RestartCount
		}
		fmt.Fprintf(w, "\t%s\t%s\t%s\t%d/%d\t%d\t%s\n", p.Name, p.Spec.NodeName, p.Status.Phase, ready, len(p.Spec.Containers), restarts, p.Status.PodIP)
	}
	return pods, w.Flush()
}
