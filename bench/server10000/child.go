package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	rt "github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// image is the Pods' image; the fake runtimes have it from the start.
const image = "web:1"

// out writes this node's messages to the parent, one JSON line each.
var out = struct {
	sync.Mutex
	enc *json.Encoder
}{enc: json.NewEncoder(os.Stdout)}

// joinTokenEnv carries node-0's join token to the other nodes.
const joinTokenEnv = "FLOTILLA_BENCH_JOIN_TOKEN"

func send(m message) {
	out.Lock()
	defer out.Unlock()
	_ = out.enc.Encode(m)
}

func progress(format string, args ...any) {
	send(message{Type: "progress", Text: fmt.Sprintf(format, args...)})
}

// errStdinClosed is how the parent asks a node to end.
var errStdinClosed = errors.New("stdin closed")

// runChild runs node i until its stdin ends (the parent is done or gone)
// or a signal arrives, answering "measure" lines with a report.
func runChild(i int) (err error) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The reader ends at EOF, which is also how this process is asked to
	// end; after a signal it ends with the process.
	cmds := make(chan string)
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			select {
			case cmds <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		cancel(errStdinClosed)
	}()

	name := fmt.Sprintf("node-%d", i)
	logger := zap.NewNop()
	if *flagVerbose {
		zc := zap.NewDevelopmentConfig()
		zc.Level = zap.NewAtomicLevelAt(zapcore.InfoLevel)
		if logger, err = zc.Build(); err != nil {
			return fmt.Errorf("logger: %w", err)
		}
		defer func() { _ = logger.Sync() }()
	}
	cfg := orchestrator.DefaultConfig()
	cfg.NodeName = name
	cfg.DataDir = *flagChildDir
	cfg.RaftBindAddr = "127.0.0.1:0"
	cfg.GossipBindAddr = "127.0.0.1"
	cfg.GossipPickPort = true
	cfg.Logger = logger
	// DefaultConfig serves the Kubernetes API on :6443; three processes on
	// one host cannot share that port, and issue 4's figure is without it.
	cfg.APIAddress = ""
	// Nor can they share DefaultConfig's cluster DNS port (127.0.0.1:1053).
	cfg.DNSAddress = ""
	if *flagRaft != "" {
		cfg.Timing.Raft = *flagRaft
	}
	var fr *fake.Runtime
	if i == 0 {
		// The control plane alone: it founds the cluster, so it leads.
		cfg.DisableAgent = true
		cfg.BootstrapExpect = 1
	} else {
		if *flagChildJoin == "" {
			return errors.New("no cluster address to join")
		}
		cfg.Join, cfg.JoinToken = []string{*flagChildJoin}, os.Getenv(joinTokenEnv)
		cfg.BootstrapExpect = 0 // join only; Autopilot on the leader adds us
		fr, err = fake.New(fake.Config{ClusterID: "server10000", NodeName: name,
			PodCIDR: fmt.Sprintf("10.%d.0.0/16", 10+i), Images: []string{image}, Logger: logger.Named("runtime")})
		if err != nil {
			return fmt.Errorf("fake runtime: %w", err)
		}
		defer fr.Close()
		cfg.Runtime = fr
		// Room for every Pod on either node: the scheduler's spread, not
		// capacity, decides where they go.
		pods := strconv.Itoa(max(*flagPods, 110))
		cfg.Capacity = orchestrator.ResourceList{
			api.ResourceCPU: api.MustParse("1000"), api.ResourceMemory: api.MustParse("4Ti"), api.ResourcePods: api.MustParse(pods),
		}
	}
	node, err := orchestrator.New(cfg)
	if err != nil {
		return err
	}
	sctx, scancel := context.WithTimeout(ctx, time.Minute)
	err = node.Start(sctx)
	scancel()
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	defer func() {
		// Stop, not Shutdown: the parent ends all three nodes at once and
		// discards the cluster. Shutdown would hand leadership to a node
		// that is itself going and leave gossip, and one of the three then
		// waits out its deadline.
		dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer dcancel()
		if serr := node.Stop(dctx); serr != nil {
			err = errors.Join(err, fmt.Errorf("stop: %w", serr))
		}
	}()
	if i == 0 {
		if err := poll(ctx, time.Minute, 100*time.Millisecond, "node-0 to lead", func() (bool, error) { return node.IsLeader(), nil }); err != nil {
			return err
		}
	}
	started := message{Type: "started", Raft: node.RaftAddr(), Gossip: node.GossipAddr()}
	if i == 0 {
		tok, err := node.CreateJoinToken(ctx, orchestrator.JoinTokenOptions{TTL: time.Hour, Description: "server10000"})
		if err != nil {
			return fmt.Errorf("join token: %w", err)
		}
		started.Token = tok.Token
	}
	send(started)

	if i == 0 {
		secs, err := deploy(ctx, node)
		if err != nil {
			return err
		}
		send(message{Type: "running", Seconds: secs})
	}
	for {
		select {
		case <-ctx.Done():
			if errors.Is(context.Cause(ctx), errStdinClosed) {
				return nil
			}
			return ctx.Err()
		case cmd := <-cmds:
			if cmd != "measure" {
				return fmt.Errorf("unknown command %q", cmd)
			}
			r, err := measure(ctx, node, fr)
			if err != nil {
				return err
			}
			if i == 0 && *flagHeapProfile != "" {
				if err := writeHeapProfile(*flagHeapProfile); err != nil {
					return err
				}
			}
			send(message{Type: "report", Report: r})
		}
	}
}

// deploy waits for the whole cluster (3 voters, 2 Ready Nodes), creates
// the Deployment and waits until node-0's store lists every Pod Running.
// It returns the seconds from Create to all Running.
func deploy(ctx context.Context, node *orchestrator.Cluster) (float64, error) {
	cl := node.Client()
	t0 := time.Now()
	err := poll(ctx, 3*time.Minute, 500*time.Millisecond, fmt.Sprintf("%d voters and %d Ready Nodes", nodes, nodes-1), func() (bool, error) {
		if voters(node.RaftState()) != nodes {
			return false, nil
		}
		var list orchestrator.NodeList
		if err := cl.List(ctx, &list); err != nil {
			return false, nil // no leader yet
		}
		ready := 0
		for k := range list.Items {
			if orchestrator.IsNodeReady(&list.Items[k]) {
				ready++
			}
		}
		return ready == nodes-1, nil
	})
	if err != nil {
		return 0, err
	}
	progress("%d voters, %d Nodes Ready after %.1f s; creating a Deployment of %d replicas", nodes, nodes-1, time.Since(t0).Seconds(), *flagPods)

	start := time.Now()
	if err := cl.Create(ctx, web(int32(*flagPods))); err != nil {
		return 0, fmt.Errorf("create Deployment: %w", err)
	}
	every := 10 * time.Second
	if *flagVerbose {
		every = 2 * time.Second
	}
	last := time.Now()
	// Poll gently: listing 10,000 Pods is itself costly.
	err = poll(ctx, *flagTimeout, 500*time.Millisecond, fmt.Sprintf("%d Pods Running", *flagPods), func() (bool, error) {
		var pods orchestrator.PodList
		if err := cl.List(ctx, &pods, orchestrator.MatchingFields{"status.phase": "Running"}); err != nil {
			return false, nil
		}
		n := 0
		for k := range pods.Items {
			if pods.Items[k].DeletionTimestamp == nil {
				n++
			}
		}
		if time.Since(last) >= every {
			progress("%d/%d Pods Running after %.0f s", n, *flagPods, time.Since(start).Seconds())
			last = time.Now()
		}
		return n == *flagPods, nil
	})
	if err != nil {
		return 0, err
	}
	return time.Since(start).Seconds(), nil
}

// web is BenchmarkServer10000Pods' Deployment: one tiny container, no
// probes.
func web(replicas int32) *orchestrator.Deployment {
	labels := map[string]string{"app": "web"}
	return &orchestrator.Deployment{
		ObjectMeta: orchestrator.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: orchestrator.DeploymentSpec{
			Replicas: orchestrator.Ptr(replicas),
			Selector: &orchestrator.LabelSelector{MatchLabels: labels},
			Template: orchestrator.PodTemplateSpec{
				ObjectMeta: orchestrator.ObjectMeta{Labels: labels},
				Spec:       orchestrator.PodSpec{Containers: []orchestrator.Container{{Name: "app", Image: image}}},
			},
		},
	}
}

func voters(st raftstore.State) int {
	n := 0
	for _, s := range st.Servers {
		if s.Suffrage == raftstore.Voter {
			n++
		}
	}
	return n
}

// poll calls cond every interval until it holds, fails, or timeout or ctx
// ends.
func poll(ctx context.Context, timeout, interval time.Duration, what string, cond func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ok, err := cond()
		if err != nil {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
}

// measure counts what this node holds, then returns memory to the OS and
// reads the process's memory figures.
func measure(ctx context.Context, node *orchestrator.Cluster, fr *fake.Runtime) (*nodeReport, error) {
	st := node.RaftState()
	r := &nodeReport{Node: node.NodeName(), Agent: fr != nil, RaftRole: st.Role, RaftLeader: st.LeaderID,
		Voters: voters(st), Term: st.Term, Revision: st.Revision}
	if fr != nil {
		sbs, err := fr.ListPodSandboxes(ctx, &rt.PodSandboxFilter{State: rt.SandboxReady})
		if err != nil {
			return nil, fmt.Errorf("list sandboxes: %w", err)
		}
		r.AgentPods = len(sbs)
	}
	// Return what the polling and the counting above allocated.
	debug.FreeOSMemory()
	status, err := procStatus()
	if err != nil {
		return nil, err
	}
	r.VmRSS, r.RssAnon, r.RssFile, r.VmHWM = status["VmRSS"], status["RssAnon"], status["RssFile"], status["VmHWM"]
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.HeapAlloc, r.HeapHeld = ms.HeapAlloc, ms.HeapSys-ms.HeapReleased
	r.Goroutines = runtime.NumGoroutine()
	return r, nil
}

// procStatus reads the sizes in /proc/self/status, in bytes.
func procStatus() (map[string]int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil, fmt.Errorf("read /proc/self/status: %w", err)
	}
	m := map[string]int64{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v, isKB := strings.CutSuffix(strings.TrimSpace(v), " kB")
		if !isKB {
			continue
		}
		kb, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("/proc/self/status %s: %w", k, err)
		}
		m[k] = kb << 10
	}
	for _, k := range []string{"VmRSS", "RssAnon", "RssFile", "VmHWM"} {
		if _, ok := m[k]; !ok {
			return nil, fmt.Errorf("/proc/self/status has no %s", k)
		}
	}
	return m, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("heap profile: %w", err)
	}
	return f.Close()
}
