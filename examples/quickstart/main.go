// Command quickstart starts a three-node Flotilla cluster inside this
// process, deploys a Deployment of three replicas on the in-memory fake
// container runtime, shows the Pods, stops a node and shows the cluster
// replacing its Pods elsewhere, then shuts down.
//
//	go run ./examples/quickstart
//
// The fake runtime runs "containers" in memory, so no Docker daemon is
// needed; the Docker runtime becomes the default in a later release.
package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"github.com/flotilla-io/flotilla/raftstore"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	start := time.Now()
	step := func(format string, args ...any) {
		fmt.Printf("[%5.2fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}

	// 1. Three nodes on in-memory networks, each with its own fake runtime.
	raftNet, gossipNet := raftstore.NewInmemNetwork(), membership.NewInmemNetwork()
	names := []string{"node-a", "node-b", "node-c"}
	var servers []orchestrator.BootstrapServer
	for _, n := range names {
		servers = append(servers, orchestrator.BootstrapServer{Name: n, RaftAddr: n})
	}
	var nodes []*orchestrator.Cluster
	var runtimes []*fake.Runtime
	defer func() {
		for _, rt := range runtimes {
			_ = rt.Close()
		}
	}()
	for i, name := range names {
		rt, err := fake.New(fake.Config{NodeName: name, PodCIDR: fmt.Sprintf("10.%d.0.0/16", 10+i)})
		if err != nil {
			return err
		}
		runtimes = append(runtimes, rt)
		cfg := orchestrator.TestConfig(name)
		cfg.Timing = orchestrator.TestTiming()
		cfg.Runtime = rt
		cfg.BootstrapServers = servers
		cfg.RaftNetwork, cfg.GossipNetwork = raftNet, gossipNet
		if i > 0 {
			cfg.Join = []string{nodes[0].GossipAddr()}
		}
		node, err := orchestrator.New(cfg)
		if err != nil {
			return err
		}
		if err := node.Start(ctx); err != nil {
			return err
		}
		nodes = append(nodes, node)
	}
	stopped := map[int]bool{}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer scancel()
		for i, n := range nodes {
			if !stopped[i] {
				_ = n.Shutdown(sctx)
			}
		}
	}()
	step("started 3 nodes: %s", strings.Join(names, ", "))

	client := func() orchestrator.Client {
		for i, n := range nodes {
			if !stopped[i] {
				return n.Client()
			}
		}
		return nil
	}
	if err := waitFor(ctx, "all nodes Ready", func() (bool, error) {
		var list orchestrator.NodeList
		if err := client().List(ctx, &list); err != nil {
			return false, nil // no leader yet
		}
		ready := 0
		for i := range list.Items {
			if orchestrator.IsNodeReady(&list.Items[i]) {
				ready++
			}
		}
		return ready == 3, nil
	}); err != nil {
		return err
	}
	step("all 3 nodes Ready")

	// 2. A Deployment of three replicas, from YAML as with kubectl.
	objs, err := orchestrator.DecodeAll([]byte(manifest))
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := client().Apply(ctx, o); err != nil {
			return err
		}
	}
	step("applied deployment/web (3 replicas)")
	if err := waitRunning(ctx, client, 3, ""); err != nil {
		return err
	}
	step("3/3 pods Running")
	if err := printPods(ctx, client()); err != nil {
		return err
	}

	// 3. Stop the node that runs the most Pods and is not the Raft leader;
	// the cluster notices and replaces its Pods on the other nodes.
	victim := -1
	var pods orchestrator.PodList
	if err := client().List(ctx, &pods, orchestrator.MatchingLabels{"app": "web"}); err != nil {
		return err
	}
	for i, n := range nodes {
		if n.IsLeader() {
			continue
		}
		for _, p := range pods.Items {
			if p.Spec.NodeName == names[i] {
				victim = i
			}
		}
	}
	if victim < 0 {
		victim = 1
		if nodes[1].IsLeader() {
			victim = 2
		}
	}
	step("stopping %s (as if it crashed)", names[victim])
	if err := nodes[victim].Stop(ctx); err != nil {
		return err
	}
	stopped[victim] = true
	if err := waitRunning(ctx, client, 3, names[victim]); err != nil {
		return err
	}
	step("self-healed: 3/3 pods Running on the remaining nodes")
	if err := printPods(ctx, client()); err != nil {
		return err
	}
	step("shutting down")
	return nil
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
      containers:
      - name: web
        image: example/web:1.0
        ports: [{containerPort: 8080}]
        resources:
          requests: {cpu: 100m, memory: 64Mi}
`

func waitFor(ctx context.Context, what string, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitRunning waits for n Running, Ready Pods of app=web, none on avoid.
func waitRunning(ctx context.Context, client func() orchestrator.Client, n int, avoid string) error {
	return waitFor(ctx, fmt.Sprintf("%d running pods", n), func() (bool, error) {
		var pods orchestrator.PodList
		lctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := client().List(lctx, &pods, orchestrator.MatchingLabels{"app": "web"}); err != nil {
			return false, nil // e.g. a new leader is being elected
		}
		running := 0
		for i := range pods.Items {
			p := &pods.Items[i]
			if p.Spec.NodeName == avoid {
				return false, nil
			}
			if p.Status.Phase == orchestrator.PodRunning && orchestrator.IsPodReady(p) {
				running++
			}
		}
		return running == n && len(pods.Items) == n, nil
	})
}

func printPods(ctx context.Context, c orchestrator.Client) error {
	var pods orchestrator.PodList
	if err := c.List(ctx, &pods, orchestrator.MatchingLabels{"app": "web"}); err != nil {
		return err
	}
	sort.Slice(pods.Items, func(i, j int) bool { return pods.Items[i].Name < pods.Items[j].Name })
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 3, ' ', 0)
	fmt.Fprintln(w, "\tNAME\tNODE\tSTATUS\tREADY\tIP")
	for i := range pods.Items {
		p := &pods.Items[i]
		ready := 0
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Ready {
				ready++
			}
		}
		fmt.Fprintf(w, "\t%s\t%s\t%s\t%d/%d\t%s\n", p.Name, p.Spec.NodeName, p.Status.Phase, ready, len(p.Spec.Containers), p.Status.PodIP)
	}
	return w.Flush()
}
