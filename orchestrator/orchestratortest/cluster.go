package orchestratortest

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/inmem"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
)

// Option changes how NewCluster builds its nodes.
type Option func(*options)

type options struct {
	capacity  orchestrator.ResourceList
	labels    func(i int) map[string]string
	timing    *orchestrator.Timing
	dataDirs  bool
	configure func(i int, cfg *orchestrator.Config)
	fakeCfg   func(i int, cfg *fake.Config)
	logger    *zap.Logger
	timeout   time.Duration
	tls       bool
	api       bool
}

// WithCapacity sets every node's capacity (default cpu 4, memory 8Gi,
// pods 500).
func WithCapacity(c orchestrator.ResourceList) Option { return func(o *options) { o.capacity = c } }

// WithNodeLabels sets the labels of node i.
func WithNodeLabels(f func(i int) map[string]string) Option { return func(o *options) { o.labels = f } }

// WithTiming replaces orchestrator.TestTiming.
func WithTiming(t orchestrator.Timing) Option { return func(o *options) { o.timing = &t } }

// WithDataDirs keeps each node's Raft data in a t.TempDir, so RestartNode
// restarts from it.
func WithDataDirs() Option { return func(o *options) { o.dataDirs = true } }

// WithConfig lets the caller change node i's Config last.
func WithConfig(f func(i int, cfg *orchestrator.Config)) Option {
	return func(o *options) { o.configure = f }
}

// WithFakeRuntime lets the caller change node i's fake runtime Config.
func WithFakeRuntime(f func(i int, cfg *fake.Config)) Option {
	return func(o *options) { o.fakeCfg = f }
}

// WithLogger replaces the zaptest logger.
func WithLogger(l *zap.Logger) Option { return func(o *options) { o.logger = l } }

// WithTLS runs the cluster on real loopback sockets with cluster trust,
// and Raft's "fast" timings unless WithTiming is given, as production
// nodes run: node 0 founds the cluster with a new CA, the
// others join with its join token and get certificates; Raft and
// forwarding use mutual TLS, gossip is encrypted and the state encrypted
// at rest. It implies WithDataDirs (credentials survive RestartNode).
// Partition and Heal need the in-memory networks and fail the test with
// it.
func WithTLS() Option { return func(o *options) { o.tls = true } }

// WithAPI makes every node serve the Kubernetes API over HTTPS on a free
// port of 127.0.0.1 (Config.APIAddress "127.0.0.1:0"): APIAddr tells
// where, Kubeconfig writes an admin kubeconfig for kubectl and client-go.
func WithAPI() Option { return func(o *options) { o.api = true } }

// WithReadyTimeout bounds how long NewCluster waits for readiness
// (default 30 s).
func WithReadyTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// TestCluster is an in-process cluster. Its methods are safe for
// concurrent use; they fail the test on errors.
type TestCluster struct {
	tb      testing.TB
	opts    options
	nets    *inmem.Networks
	servers []orchestrator.BootstrapServer

	closeOnce sync.Once
	mu        sync.Mutex
	nodes     []*orchestrator.Cluster
	runtimes  []*fake.Runtime
	cfgs      []orchestrator.Config
	gaddrs    []string // gossip addresses, kept across restarts
	raddrs    []string // Raft (cluster) addresses: what Config.Join takes
	token     string   // WithTLS: node 0's server join token
	stopped   []bool
	dirs      []string
	agents    agentNodes // AddAgent's nodes
}

// NewCluster starts n nodes and returns when a leader is elected and all n
// Nodes are Ready; t.Cleanup shuts everything down. It fails the test if
// the cluster is not ready within the ready timeout.
func NewCluster(tb testing.TB, n int, opts ...Option) *TestCluster {
	tb.Helper()
	if n < 1 {
		tb.Fatalf("orchestratortest: NewCluster needs at least 1 node, got %d", n)
	}
	o := options{timeout: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	muted := new(atomic.Bool)
	if o.logger == nil {
		o.logger = zaptest.NewLogger(tb, zaptest.Level(zap.InfoLevel))
	}
	o.logger = o.logger.WithOptions(zap.WrapCore(func(core zapcore.Core) zapcore.Core { return muteCore{Core: core, muted: muted} }))
	if o.capacity == nil {
		o.capacity = orchestrator.ResourceList{
			api.ResourceCPU: api.MustParse("4"), api.ResourceMemory: api.MustParse("8Gi"), api.ResourcePods: api.MustParse("500"),
		}
	}
	c := &TestCluster{
		tb: tb, opts: o, nets: inmem.New(),
		nodes: make([]*orchestrator.Cluster, n), runtimes: make([]*fake.Runtime, n),
		cfgs: make([]orchestrator.Config, n), gaddrs: make([]string, n), raddrs: make([]string, n), stopped: make([]bool, n), dirs: make([]string, n),
	}
	if o.tls {
		c.nets = nil
	}
	for i := range n {
		c.servers = append(c.servers, orchestrator.BootstrapServer{Name: nodeName(i), RaftAddr: nodeName(i)})
		if o.dataDirs || o.tls {
			c.dirs[i] = filepath.Join(tb.TempDir(), nodeName(i))
		}
	}
	tb.Cleanup(func() { c.Close(); muted.Store(true) })
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	// Start node 0 first so the others can join through it; the rest
	// start in parallel.
	c.startNode(ctx, 0, true)
	var wg sync.WaitGroup
	for i := 1; i < n; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); c.startNode(ctx, i, true) }()
	}
	wg.Wait()
	if tb.Failed() {
		tb.FailNow()
	}
	c.WaitReady(o.timeout)
	return c
}

func nodeName(i int) string { return fmt.Sprintf("node-%d", i) }

func (c *TestCluster) startNode(ctx context.Context, i int, bootstrap bool) {
	name := nodeName(i)
	fc := fake.Config{ClusterID: "test", NodeName: name, PodCIDR: fmt.Sprintf("10.%d.0.0/16", 100+i%150),
		Logger: c.opts.logger.Named(name).Named("runtime")}
	if c.opts.fakeCfg != nil {
		c.opts.fakeCfg(i, &fc)
	}
	c.mu.Lock()
	rt := c.runtimes[i]
	c.mu.Unlock()
	if rt == nil {
		var err error
		rt, err = fake.New(fc)
		if err != nil {
			c.tb.Errorf("orchestratortest: fake runtime for %s: %v", name, err)
			return
		}
	}
	cfg := orchestrator.TestConfig(name)
	if c.opts.timing != nil {
		cfg.Timing = *c.opts.timing
	}
	cfg.Runtime = rt
	cfg.Capacity = c.opts.capacity
	if c.opts.labels != nil {
		cfg.Labels = c.opts.labels(i)
	}
	if c.nets != nil {
		inmem.Attach(&cfg, c.nets)
	}
	cfg.Logger = c.opts.logger.Named(name)
	c.mu.Lock()
	cfg.DataDir = c.dirs[i]
	// Join through the first running node (node 0 while it runs).
	for j, a := range c.raddrs {
		if j != i && !c.stopped[j] && a != "" {
			cfg.Join = []string{a}
			break
		}
	}
	if c.opts.tls {
		// Real sockets with cluster trust: node 0 founds the cluster
		// alone and makes its CA; the others join with its server token.
		// Raft runs on the "fast" timings (200 ms) unless WithTiming says
		// otherwise: 50 ms elections over TLS on a loaded machine flap.
		if c.opts.timing == nil {
			cfg.Timing.Raft = "fast"
		}
		cfg.GossipBindAddr, cfg.GossipPickPort = "127.0.0.1", true
		cfg.RaftBindAddr = "127.0.0.1:0"
		if prev := c.raddrs[i]; prev != "" {
			cfg.RaftBindAddr = prev // peers keep its Raft address
		}
		if i == 0 {
			cfg.BootstrapExpect = 1
		} else if bootstrap {
			cfg.JoinToken = c.token
		}
	} else if bootstrap {
		cfg.BootstrapServers = c.servers
	}
	if prev := c.gaddrs[i]; prev != "" {
		// Come back on the same gossip address: peers accept a restarted
		// node there at once (a new address would be a name conflict
		// until they declare the old one failed).
		if _, port, err := net.SplitHostPort(prev); err == nil {
			cfg.GossipBindPort, _ = strconv.Atoi(port)
		}
	}
	c.mu.Unlock()
	if c.opts.api {
		cfg.APIAddress = "127.0.0.1:0"
	}
	c.agents.configure(i, bootstrap, &cfg)
	if c.opts.configure != nil {
		c.opts.configure(i, &cfg)
	}
	node, err := orchestrator.New(cfg)
	if err != nil {
		c.tb.Errorf("orchestratortest: %s: %v", name, err)
		return
	}
	if err := node.Start(ctx); err != nil {
		c.tb.Errorf("orchestratortest: start %s: %v", name, err)
		return
	}
	c.mu.Lock()
	c.nodes[i], c.runtimes[i], c.cfgs[i], c.gaddrs[i], c.raddrs[i], c.stopped[i] = node, rt, cfg, node.GossipAddr(), node.RaftAddr(), false
	c.mu.Unlock()
	if c.opts.tls && i == 0 && bootstrap {
		c.token = c.founderToken(ctx, node)
	}
}

// Close stops every node and fake runtime now instead of at t.Cleanup
// (benchmarks that start many clusters use it). Safe to call twice.
func (c *TestCluster) Close() {
	c.closeOnce.Do(c.shutdown)
}

func (c *TestCluster) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c.mu.Lock()
	nodes := append([]*orchestrator.Cluster(nil), c.nodes...)
	rts := append([]*fake.Runtime(nil), c.runtimes...)
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, n := range nodes {
		if n != nil {
			wg.Add(1)
			go func() { defer wg.Done(); _ = n.Stop(ctx) }()
		}
	}
	wg.Wait()
	for _, rt := range rts {
		if rt != nil {
			_ = rt.Close()
		}
	}
}

// Len returns the number of nodes (AddNode adds one).
func (c *TestCluster) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.nodes)
}

// AddNode starts one more node, "node-<Len()>", which joins the running
// cluster as a new server (through Config.Join; with WithTLS, with node
// 0's join token), and returns its index once it runs; use WaitReady to
// wait for its Node to be Ready. The options of NewCluster apply to it as
// to the others (WithNodeLabels is called with its index).
func (c *TestCluster) AddNode() int {
	c.tb.Helper()
	c.mu.Lock()
	i := len(c.nodes)
	c.nodes = append(c.nodes, nil)
	c.runtimes = append(c.runtimes, nil)
	c.cfgs = append(c.cfgs, orchestrator.Config{})
	c.gaddrs = append(c.gaddrs, "")
	c.raddrs = append(c.raddrs, "")
	c.stopped = append(c.stopped, true) // not running until started
	dir := ""
	if c.opts.dataDirs || c.opts.tls {
		dir = filepath.Join(c.tb.TempDir(), nodeName(i))
	}
	c.dirs = append(c.dirs, dir)
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.timeout)
	defer cancel()
	// On in-memory networks a new node joins with Join alone; with TLS it
	// needs the founder's token, which startNode gives a bootstrapping
	// node other than node 0.
	c.startNode(ctx, i, c.opts.tls)
	if c.tb.Failed() {
		c.tb.FailNow()
	}
	return i
}

// Node returns node i.
func (c *TestCluster) Node(i int) *orchestrator.Cluster {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i]
}

// NodeName returns the name of node i ("node-<i>").
func (c *TestCluster) NodeName(i int) string { return nodeName(i) }

// Runtime returns node i's fake runtime (it survives RestartNode).
func (c *TestCluster) Runtime(i int) *fake.Runtime {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runtimes[i]
}

// Client returns a Client through a running server (the first one not
// stopped; never an AddAgent node, whose Client has an agent's rights).
func (c *TestCluster) Client() orchestrator.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, n := range c.nodes {
		if !c.stopped[i] && n != nil && !c.agents.is(i) {
			return n.Client()
		}
	}
	c.tb.Fatalf("orchestratortest: no running node")
	return nil
}

// Leader returns the index of the current leader, or -1.
func (c *TestCluster) Leader() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, n := range c.nodes {
		if !c.stopped[i] && n != nil && n.IsLeader() {
			return i
		}
	}
	return -1
}

// Eventually polls cond until it holds, failing the test after timeout.
func (c *TestCluster) Eventually(timeout time.Duration, what string, cond func() bool) {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			c.tb.Fatalf("orchestratortest: timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitReady waits until a leader exists, the system namespaces (default,
// kube-system) exist and the Node of every running node with an agent
// (all but DisableAgent servers) is Ready; with WithAPI, also until every
// running server's API answers /readyz.
func (c *TestCluster) WaitReady(timeout time.Duration) {
	c.tb.Helper()
	// The probe only reads /readyz, which needs no credentials; it checks
	// that the node serves TLS, not whom it serves as.
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // readiness probe only
	defer tr.CloseIdleConnections()
	probe := &http.Client{Transport: tr, Timeout: time.Second}
	c.Eventually(timeout, "a leader, the system namespaces and all Nodes Ready", func() bool {
		if c.Leader() < 0 {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		for _, ns := range api.SystemNamespaces() {
			if err := c.Client().Get(ctx, orchestrator.ObjectKey{Name: ns}, &api.Namespace{}); err != nil {
				return false
			}
		}
		var nodes api.NodeList
		if err := c.Client().List(ctx, &nodes); err != nil {
			return false
		}
		ready := map[string]bool{}
		for i := range nodes.Items {
			ready[nodes.Items[i].Name] = api.IsNodeReady(&nodes.Items[i])
		}
		c.mu.Lock()
		var apis []string
		for i, n := range c.nodes {
			if !c.stopped[i] && !c.cfgs[i].DisableAgent && !ready[nodeName(i)] {
				c.mu.Unlock()
				return false
			}
			if !c.stopped[i] && c.opts.api && n != nil && !c.agents.is(i) {
				apis = append(apis, n.APIAddr())
			}
		}
		c.mu.Unlock()
		for _, addr := range apis {
			resp, err := probe.Get("https://" + addr + "/readyz")
			if err != nil {
				return false
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return false
			}
		}
		return true
	})
}

// StopNode stops node i as a crash looks to its peers (no leave, no
// leadership hand-off). Its Pods keep running in its fake runtime.
func (c *TestCluster) StopNode(i int) {
	c.tb.Helper()
	c.halt(i, "stop", (*orchestrator.Cluster).Stop)
}

// ShutdownNode shuts node i down gracefully (Cluster.Shutdown: leadership
// hand-off, gossip leave, and its Pods stopped if its Config has
// StopPodsOnShutdown). RestartNode can start it again.
func (c *TestCluster) ShutdownNode(i int) {
	c.tb.Helper()
	c.halt(i, "shutdown", (*orchestrator.Cluster).Shutdown)
}

// halt marks node i stopped and stops it with how (Stop or Shutdown),
// logging a failure.
func (c *TestCluster) halt(i int, what string, how func(*orchestrator.Cluster, context.Context) error) {
	c.tb.Helper()
	c.mu.Lock()
	n := c.nodes[i]
	c.stopped[i] = true
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := how(n, ctx); err != nil {
		c.tb.Logf("orchestratortest: %s %s: %v", what, nodeName(i), err)
	}
}

// RestartNode starts a stopped node again with the same name and fake
// runtime (whose containers its agent adopts), from its data dir with
// WithDataDirs. It returns once the node runs; use WaitReady to wait for
// its Node to be Ready again.
func (c *TestCluster) RestartNode(i int) {
	c.tb.Helper()
	c.mu.Lock()
	if !c.stopped[i] {
		c.mu.Unlock()
		c.tb.Fatalf("orchestratortest: RestartNode(%d): node is running", i)
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.timeout)
	defer cancel()
	c.startNode(ctx, i, false)
	if c.tb.Failed() {
		c.tb.FailNow()
	}
}

// Partition cuts the given nodes off from all others (Raft and gossip)
// until Heal.
func (c *TestCluster) Partition(nodes ...int) {
	c.tb.Helper()
	if c.nets == nil {
		c.tb.Fatalf("orchestratortest: Partition needs in-memory networks; the cluster runs WithTLS on real sockets")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, i := range nodes {
		c.nets.Raft.Isolate(nodeName(i))
		c.nets.Gossip.Isolate(c.gaddrs[i])
	}
}

// Heal restores every link cut by Partition.
func (c *TestCluster) Heal() {
	c.tb.Helper()
	if c.nets == nil {
		c.tb.Fatalf("orchestratortest: Heal needs in-memory networks; the cluster runs WithTLS on real sockets")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nets.Raft.Heal()
	for _, a := range c.gaddrs {
		if a != "" {
			c.nets.Gossip.Heal(a)
		}
	}
}

// CrashContainer makes a running container of a Pod exit with exitCode on
// the node it runs on.
func (c *TestCluster) CrashContainer(pod *api.Pod, container string, exitCode int) {
	c.tb.Helper()
	ctx := context.Background()
	for i := range c.Len() {
		rt := c.Runtime(i)
		cs, err := rt.ListContainers(ctx, &runtime.ContainerFilter{PodUID: string(pod.UID), State: runtime.ContainerRunning})
		if err != nil {
			continue
		}
		for _, s := range cs {
			if s.Name == container {
				if err := rt.Crash(s.ID, exitCode); err != nil {
					c.tb.Fatalf("orchestratortest: crash %s/%s: %v", pod.Name, container, err)
				}
				return
			}
		}
	}
	c.tb.Fatalf("orchestratortest: no running container %q of pod %s", container, pod.Name)
}

// founderToken makes a server join token on the founding node (waiting
// for it to lead).
func (c *TestCluster) founderToken(ctx context.Context, node *orchestrator.Cluster) string {
	tok, err := node.CreateJoinToken(ctx, orchestrator.JoinTokenOptions{Description: "orchestratortest"})
	if err != nil {
		c.tb.Errorf("orchestratortest: join token on the founding node: %v", err)
		return ""
	}
	return tok.Token
}

// DataDir returns node i's data dir ("" without WithDataDirs or WithTLS).
func (c *TestCluster) DataDir(i int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.dirs[i]
}

// APIAddr returns the address ("127.0.0.1:<port>") where node i serves the
// Kubernetes API (WithAPI), or "" without WithAPI or while it is stopped.
func (c *TestCluster) APIAddr(i int) string {
	n := c.Node(i)
	if n == nil {
		return ""
	}
	return n.APIAddr()
}

// Kubeconfig writes an admin kubeconfig (Cluster.AdminKubeconfig) of the
// first running node to a file under tb.TempDir and returns its path, for
// kubectl --kubeconfig or client-go's clientcmd. It needs WithAPI; it
// fails the test on errors.
func (c *TestCluster) Kubeconfig(tb testing.TB) string {
	tb.Helper()
	if !c.opts.api {
		tb.Fatalf("orchestratortest: Kubeconfig needs the WithAPI option")
	}
	c.mu.Lock()
	var node *orchestrator.Cluster
	for i, n := range c.nodes {
		if n != nil && !c.stopped[i] {
			node = n
			break
		}
	}
	c.mu.Unlock()
	if node == nil {
		tb.Fatalf("orchestratortest: Kubeconfig: no node is running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.timeout)
	defer cancel()
	var kc []byte
	var err error
	// The cluster CA reaches a node's store shortly after start.
	for {
		if kc, err = node.AdminKubeconfig(ctx); err == nil || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err != nil {
		tb.Fatalf("orchestratortest: Kubeconfig: %v", err)
	}
	path := filepath.Join(tb.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		tb.Fatalf("orchestratortest: Kubeconfig: %v", err)
	}
	return path
}
