// Command server10000 measures the memory of a Flotilla server process
// holding 10,000 Pods, the target of issue 4 ("A server process holding
// 10,000 Pods: RSS <= 200 MB"), in a 3-node cluster of 3 processes:
//
//	go run ./bench/server10000                      # the scenario
//	go run ./bench/server10000 -pods 1000 -v        # smaller, with node logs
//	go run ./bench/server10000 -heapprofile node0.pprof
//
// Why per process: BenchmarkServer10000Pods (orchestrator/orchestratortest)
// runs one node that is Raft server, controllers, scheduler and the agent of
// all 10,000 Pods on the in-memory fake runtime, so its RSS includes the
// agent's per-Pod state and the fake's containers. No deployment runs 10,000
// Pods on one node, and with Docker the containers' state lives in dockerd.
// Here the figure is that of a server whose replicated state, informers,
// controllers and scheduler hold 10,000 Pods while the Pods run on other
// nodes' agents, the way kube-apiserver and etcd memory is quoted.
//
// This process starts 3 node processes (itself, re-executed with -child),
// each running one orchestrator.Cluster with DefaultConfig timings (Raft
// "fast", a 200 ms heartbeat timeout; -raft default selects the 1 s LAN
// timing), a data dir in a temp dir (Raft log and snapshots in bolt files),
// Raft over TCP on 127.0.0.1 and gossip on 127.0.0.1:
//
//	node-0  control-plane-only server (DisableAgent). It founds the cluster
//	        alone (BootstrapExpect 1), so it is the Raft leader and runs the
//	        controllers and the scheduler.
//	node-1, node-2
//	        servers with an agent on the in-memory fake runtime, capacity for
//	        all the Pods each. They join node-0 by gossip (BootstrapExpect 0)
//	        and Autopilot adds them as voters.
//
// Once there are 3 voters and 2 Ready Nodes, node-0 creates one Deployment
// of -pods replicas (one tiny container, no probes) and polls its own store
// every 500 ms until all are Running. Then every node runs
// debug.FreeOSMemory and reports VmRSS, RssAnon (its own memory), RssFile
// (mapped files: the binary and bolt's mmapped files), VmHWM (peak RSS),
// Go's live heap (HeapAlloc) and heap held from the OS (HeapSys -
// HeapReleased), goroutines, its Raft role and the Pods its agent runs.
//
// The table has one row per node; the target is judged on node-0, the
// leader without an agent, in MiB as BenchmarkServer10000Pods reports MB.
// If node-0 is not the leader when measured (under heavy load the 200 ms
// timing can move leadership), the output says so and the target is not
// judged. It exits 1 if the target fails or anything breaks: node-0 not
// leading, fewer than 3 voters, the agents running another number of Pods,
// a node failing or not stopping cleanly. -settle waits before measuring,
// to see the steady state rather than the moment all Pods run.
//
// The nodes and the temp dir are removed on exit, on error and on Ctrl-C
// (-keep-dir keeps the dir). If this process is killed with SIGKILL the
// nodes still end (SIGTERM from the kernel and EOF on their stdin), but the
// temp dir stays.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
)

// nodes is the cluster size: node-0 without an agent, the rest with one.
const nodes = 3

// targetPods and targetRSS are issue 4's target.
const (
	targetPods = 10000
	targetRSS  = 200 << 20
)

var (
	flagPods        = flag.Int("pods", targetPods, "replicas of the Deployment")
	flagVerbose     = flag.Bool("v", false, "nodes log to stderr (info level) and report progress more often")
	flagKeepDir     = flag.Bool("keep-dir", false, "keep the temp dir with the nodes' data dirs (printed at the end)")
	flagTmp         = flag.String("tmpdir", "", "parent of the temp dir (default os.TempDir)")
	flagTimeout     = flag.Duration("timeout", 20*time.Minute, "give up if the Pods are not all Running by then")
	flagSettle      = flag.Duration("settle", 0, "wait this long after all Pods run before measuring")
	flagHeapProfile = flag.String("heapprofile", "", "write node-0's heap profile (after FreeOSMemory) to this file")
	flagRaft        = flag.String("raft", "", "Raft timing of every node: default, fast or test (empty: DefaultConfig's)")
	flagChild       = flag.Int("child", -1, "internal: run node i")
	flagChildDir    = flag.String("child-dir", "", "internal: the node's data dir")
	flagChildJoin   = flag.String("child-join", "", "internal: cluster (Raft) address to join")
)

func main() {
	flag.Parse()
	if *flagChild >= 0 {
		if err := runChild(*flagChild); err != nil {
			fmt.Fprintf(os.Stderr, "node-%d: %v\n", *flagChild, err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ok, err := run(ctx)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(os.Stderr, "interrupted: nodes stopped, temp dir removed")
		os.Exit(130)
	case err != nil:
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	case !ok:
		os.Exit(1)
	}
}

// message is one JSON line a node writes on its stdout.
type message struct {
	Type    string      `json:"type"` // started, progress, running, report
	Gossip  string      `json:"gossip,omitempty"`
	Raft    string      `json:"raft,omitempty"`
	Token   string      `json:"token,omitempty"`   // started (node-0): a server join token
	Text    string      `json:"text,omitempty"`    // progress
	Seconds float64     `json:"seconds,omitempty"` // running: Create to all Running
	Report  *nodeReport `json:"report,omitempty"`
}

// nodeReport is what a node measured.
type nodeReport struct {
	Node       string `json:"node"`
	Agent      bool   `json:"agent"`
	RaftRole   string `json:"raft_role"`
	RaftLeader string `json:"raft_leader"`
	Voters     int    `json:"voters"`
	Term       uint64 `json:"term"`
	Revision   int64  `json:"revision"`
	AgentPods  int    `json:"agent_pods"` // Ready sandboxes in this node's runtime
	VmRSS      int64  `json:"vm_rss"`
	RssAnon    int64  `json:"rss_anon"`
	RssFile    int64  `json:"rss_file"`
	VmHWM      int64  `json:"vm_hwm"`
	HeapAlloc  uint64 `json:"heap_alloc"`
	HeapHeld   uint64 `json:"heap_held"` // HeapSys - HeapReleased
	Goroutines int    `json:"goroutines"`
}

// event is a message from node i, or its exit (exited set, err what
// cmd.Wait returned).
type event struct {
	i      int
	msg    message
	exited bool
	err    error
}

// harness owns the node processes.
type harness struct {
	exe   string
	dir   string
	procs [nodes]*exec.Cmd
	stdin [nodes]io.WriteCloser
	alive [nodes]bool
	// events carries every node's messages and exits; readers stop
	// sending once quit is closed.
	events  chan event
	quit    chan struct{}
	readers sync.WaitGroup
	stash   []event
	start   time.Time
}

func run(ctx context.Context) (ok bool, err error) {
	if *flagPods < 1 {
		return false, fmt.Errorf("-pods %d: want at least 1", *flagPods)
	}
	exe, err := os.Executable()
	if err != nil {
		return false, fmt.Errorf("find own executable: %w", err)
	}
	dir, err := os.MkdirTemp(*flagTmp, "flotilla-server10000-")
	if err != nil {
		return false, fmt.Errorf("temp dir: %w", err)
	}
	h := &harness{exe: exe, dir: dir, events: make(chan event, 16), quit: make(chan struct{}), start: time.Now()}
	defer func() {
		if serr := h.stop(); serr != nil && ctx.Err() == nil {
			err = errors.Join(err, serr)
		}
		if *flagKeepDir {
			fmt.Printf("data dirs kept in %s\n", dir)
		} else if rerr := os.RemoveAll(dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("remove temp dir: %w", rerr))
		}
	}()
	raftTiming := *flagRaft
	if raftTiming == "" {
		raftTiming = orchestrator.DefaultConfig().Timing.Raft
	}
	fmt.Printf("server10000: %d nodes, %d Pods, Raft timing %s, GOMAXPROCS=%d, %s, load average %s, started %s\n",
		nodes, *flagPods, raftTiming, runtime.GOMAXPROCS(0), runtime.Version(), loadAvg(), h.start.UTC().Format(time.RFC3339))

	// node-0 first: the others join through its cluster address with its
	// join token.
	if err := h.spawn(0, "", ""); err != nil {
		return false, err
	}
	m, err := h.next(ctx, 0, "started", 2*time.Minute)
	if err != nil {
		return false, err
	}
	h.logf("node-0 leads a 1-server cluster (raft %s, gossip %s)", m.Raft, m.Gossip)
	for i := 1; i < nodes; i++ {
		if err := h.spawn(i, m.Raft, m.Token); err != nil {
			return false, err
		}
	}
	for i := 1; i < nodes; i++ {
		m, err := h.next(ctx, i, "started", 2*time.Minute)
		if err != nil {
			return false, err
		}
		h.logf("node-%d started (raft %s, gossip %s)", i, m.Raft, m.Gossip)
	}
	m, err = h.next(ctx, 0, "running", *flagTimeout)
	if err != nil {
		return false, err
	}
	allRunning := m.Seconds
	if *flagSettle > 0 {
		h.logf("settling for %v", *flagSettle)
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(*flagSettle):
		}
	}
	load := loadAvg()
	for i := range nodes {
		if _, err := io.WriteString(h.stdin[i], "measure\n"); err != nil {
			return false, fmt.Errorf("ask node-%d to measure: %w", i, err)
		}
	}
	var reps [nodes]*nodeReport
	for i := range nodes {
		m, err := h.next(ctx, i, "report", 2*time.Minute)
		if err != nil {
			return false, err
		}
		reps[i] = m.Report
	}
	return printReport(os.Stdout, reps, allRunning, load), nil
}

// printReport prints the table and the target line and tells whether the
// target was met (or not judged because -pods is not the target's).
func printReport(w io.Writer, reps [nodes]*nodeReport, allRunning float64, load string) bool {
	mib := func(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }
	fmt.Fprintf(w, "\nall %d Pods Running after %.1f s (Deployment create to node-0's store listing them Running); load average at measurement %s\n\n",
		*flagPods, allRunning, load)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "NODE\tWHAT\tRAFT\tAGENT PODS\tRSS MiB\tANON MiB\tFILE MiB\tHEAP MiB\tHEAP HELD MiB\tPEAK RSS MiB\tGOROUTINES\tTERM\tREVISION\t")
	for _, r := range reps {
		what := "server, no agent"
		if r.Agent {
			what = "server + agent"
		}
		pods := "-"
		if r.Agent {
			pods = fmt.Sprint(r.AgentPods)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t\n", r.Node, what, r.RaftRole, pods,
			mib(r.VmRSS), mib(r.RssAnon), mib(r.RssFile), mib(int64(r.HeapAlloc)), mib(int64(r.HeapHeld)), mib(r.VmHWM), r.Goroutines, r.Term, r.Revision)
	}
	_ = tw.Flush()
	fmt.Fprintf(w, `
Each row is one process after debug.FreeOSMemory. RSS = VmRSS; ANON = RssAnon (the
process's own memory); FILE = RssFile (the binary and bolt's mmapped Raft log);
HEAP = Go live heap (HeapAlloc); HEAP HELD = HeapSys - HeapReleased; PEAK RSS =
VmHWM over the whole run; TERM = Raft term (each election adds one); REVISION =
last applied revision of its Raft state.
node-0 holds the %d Pods in its replicated state, informers, controllers and
scheduler and runs none; node-1/2 hold the same replicated state and also run
the Pods' agents on the in-memory fake runtime, whose containers live in their
process.
`, *flagPods)
	n0 := reps[0]
	ok := true
	var problems []string
	if n0.RaftRole != "leader" {
		problems = append(problems, fmt.Sprintf("node-0 is %s, not the leader (leader: %q): its row is not the control-plane leader's", n0.RaftRole, n0.RaftLeader))
	}
	agentPods := 0
	for _, r := range reps {
		agentPods += r.AgentPods
		if r.Voters != nodes {
			problems = append(problems, fmt.Sprintf("%s sees %d voters, want %d", r.Node, r.Voters, nodes))
		}
	}
	if agentPods != *flagPods {
		problems = append(problems, fmt.Sprintf("agents run %d Pods, want %d", agentPods, *flagPods))
	}
	for _, p := range problems {
		fmt.Fprintln(w, "WARNING:", p)
	}
	fig := fmt.Sprintf("node-0 RSS %s MiB (anon %s, file %s, heap %s)", mib(n0.VmRSS), mib(n0.RssAnon), mib(n0.RssFile), mib(int64(n0.HeapAlloc)))
	switch {
	case n0.RaftRole != "leader":
		fmt.Fprintf(w, "\ntarget: server process holding 10,000 Pods: RSS <= 200 MB: NOT JUDGED (node-0 is not the leader); %s\n", fig)
		ok = false
	case *flagPods != targetPods:
		fmt.Fprintf(w, "\ntarget: server process holding 10,000 Pods: RSS <= 200 MB: NOT JUDGED (-pods %d); %s\n", *flagPods, fig)
	default:
		pass := n0.VmRSS <= targetRSS
		res := "PASS"
		if !pass {
			res, ok = "FAIL", false
		}
		fmt.Fprintf(w, "\ntarget: server process holding 10,000 Pods: RSS <= 200 MB (MiB): %s; %s\n", res, fig)
	}
	if len(problems) > 0 {
		ok = false
	}
	return ok
}

// spawn starts node i, joining through the cluster address join with
// token unless it is node-0. The token goes through the environment, not
// the command line, which other users of the host can read.
func (h *harness) spawn(i int, join, token string) error {
	dir := fmt.Sprintf("%s/node-%d", h.dir, i)
	args := []string{"-child", fmt.Sprint(i), "-child-dir", dir, "-child-join", join,
		"-pods", fmt.Sprint(*flagPods), "-timeout", flagTimeout.String()}
	if *flagVerbose {
		args = append(args, "-v")
	}
	if i == 0 && *flagHeapProfile != "" {
		args = append(args, "-heapprofile", *flagHeapProfile)
	}
	if *flagRaft != "" {
		args = append(args, "-raft", *flagRaft)
	}
	cmd := exec.Command(h.exe, args...)
	cmd.Env = append(os.Environ(), joinTokenEnv+"="+token)
	cmd.Stderr = os.Stderr
	// The node ends if this process dies: SIGTERM from the kernel, and EOF
	// on its stdin.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("node-%d stdin: %w", i, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("node-%d stdout: %w", i, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start node-%d: %w", i, err)
	}
	h.procs[i], h.stdin[i], h.alive[i] = cmd, in, true
	h.readers.Add(1)
	go func() {
		defer h.readers.Done()
		send := func(ev event) bool {
			select {
			case h.events <- ev:
				return true
			case <-h.quit:
				return false
			}
		}
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var m message
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = message{Type: "progress", Text: "unparsed output: " + sc.Text()}
			}
			if !send(event{i: i, msg: m}) {
				break
			}
		}
		// Drain so Wait does not block on a full pipe.
		_, _ = io.Copy(io.Discard, out)
		send(event{i: i, exited: true, err: cmd.Wait()})
	}()
	return nil
}

// next returns the next message of type typ from node i. Progress
// messages are printed on the way; any node's exit is an error.
func (h *harness) next(ctx context.Context, i int, typ string, timeout time.Duration) (message, error) {
	for k, ev := range h.stash {
		if ev.i == i && ev.msg.Type == typ {
			h.stash = append(h.stash[:k], h.stash[k+1:]...)
			return ev.msg, nil
		}
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return message{}, ctx.Err()
		case <-t.C:
			return message{}, fmt.Errorf("no %q from node-%d after %v", typ, i, timeout)
		case ev := <-h.events:
			switch {
			case ev.exited:
				h.alive[ev.i] = false
				how := "exited"
				if ev.err != nil {
					how = ev.err.Error()
				}
				return message{}, fmt.Errorf("node-%d ended (%s) while waiting for %q from node-%d", ev.i, how, typ, i)
			case ev.msg.Type == "progress":
				h.logf("node-%d: %s", ev.i, ev.msg.Text)
			case ev.i == i && ev.msg.Type == typ:
				return ev.msg, nil
			default:
				h.stash = append(h.stash, ev)
			}
		}
	}
}

// stop ends every node: EOF on stdin asks it to stop; a node still
// running after 30 s is killed. The error names the nodes that did not
// end cleanly.
func (h *harness) stop() error {
	for i := range nodes {
		if h.stdin[i] != nil {
			_ = h.stdin[i].Close()
		}
	}
	var errs []error
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for h.anyAlive() {
		select {
		case ev := <-h.events:
			if !ev.exited {
				continue
			}
			h.alive[ev.i] = false
			if ev.err != nil {
				errs = append(errs, fmt.Errorf("node-%d ended with %v", ev.i, ev.err))
			}
		case <-deadline.C:
			for i := range nodes {
				if h.alive[i] {
					errs = append(errs, fmt.Errorf("node-%d did not stop in 30 s: killed", i))
					_ = h.procs[i].Process.Kill()
				}
			}
			deadline.Reset(time.Hour) // Kill ends them; the loop sees the exits
		}
	}
	close(h.quit)
	h.readers.Wait()
	return errors.Join(errs...)
}

func (h *harness) anyAlive() bool {
	for _, a := range h.alive {
		if a {
			return true
		}
	}
	return false
}

func (h *harness) logf(format string, args ...any) {
	fmt.Printf("[%6.1fs] %s\n", time.Since(h.start).Seconds(), fmt.Sprintf(format, args...))
}

// loadAvg is /proc/loadavg's 1, 5 and 15 minute load ("?" where unavailable).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
