// Command apirss measures the memory the Kubernetes API adds to an idle
// Flotilla server, the target of issue 15 ("an idle server's API adds
// <= 10 MB RSS"):
//
//	go run ./bench/apirss              # 5 runs of each mode, medians
//	go run ./bench/apirss -runs 3 -settle 5s
//
// Each run is a separate process (this program re-executed with -child)
// that starts a single-node cluster: orchestrator.DefaultConfig, a data
// dir in a temp dir, Raft and gossip on 127.0.0.1, cluster trust on (the
// default), an agent on the in-memory fake runtime. The modes:
//
//	off   Config.APIAddress empty: no Kubernetes API.
//	on    APIAddress 127.0.0.1:0; measured once the listener presents its
//	      serving certificate (a TLS handshake succeeds), before any
//	      request: the API as a server that nobody uses carries it.
//	used  as on, then `kubectl get pods -A` and `kubectl api-resources`
//	      through an admin kubeconfig (discovery, a Table LIST; the
//	      client certificate issued and recorded), then idle again.
//	openapi
//	      as used, then `kubectl explain pods`: the OpenAPI documents,
//	      built at the first request for them, are served and kept.
//
// When the node leads and its Node is Ready (and, with the API, the mode's
// requests are done), the child waits -settle, runs debug.FreeOSMemory and
// reports VmRSS and RssAnon from /proc/self/status, Go's live heap
// (HeapAlloc), the heap held from the OS (HeapSys - HeapReleased) and the
// goroutines. The runs alternate off, on, used, openapi so that the machine's load
// drifts over all modes alike. The verdict compares the medians of VmRSS:
// each mode's minus off's against 10 MB (10^6 bytes). It exits 1 if a
// run fails or the target is missed.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// targetBytes is issue 15's bound on the memory the API adds.
const targetBytes = 10_000_000

var (
	flagRuns   = flag.Int("runs", 5, "runs of each mode")
	flagSettle = flag.Duration("settle", 5*time.Second, "idle time before measuring")
	flagChild  = flag.String("child", "", "internal: run one node in this mode (off, on, used, openapi) and report")
)

var modes = []string{"off", "on", "used", "openapi"}

// report is what a child prints, as one JSON line.
type report struct {
	Mode       string `json:"mode"`
	VmRSS      int64  `json:"vmRSS"`   // bytes
	RssAnon    int64  `json:"rssAnon"` // bytes
	HeapAlloc  uint64 `json:"heapAlloc"`
	HeapHeld   uint64 `json:"heapHeld"`
	Goroutines int    `json:"goroutines"`
	Ready      string `json:"ready"` // time from Start to measurable
}

func main() {
	flag.Parse()
	if *flagChild != "" {
		r, err := child(*flagChild)
		if err != nil {
			fmt.Fprintf(os.Stderr, "apirss child %s: %v\n", *flagChild, err)
			os.Exit(1)
		}
		_ = json.NewEncoder(os.Stdout).Encode(r)
		return
	}
	if err := parent(); err != nil {
		fmt.Fprintln(os.Stderr, "apirss:", err)
		os.Exit(1)
	}
}

func parent() error {
	if *flagRuns < 1 {
		return fmt.Errorf("-runs must be at least 1, got %d", *flagRuns)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	byMode := map[string][]report{}
	// Rows are printed as each run ends, so fixed widths.
	fmt.Printf("%3s  %-7s  %8s  %10s  %7s  %12s  %10s  %8s\n", "run", "mode", "VmRSS MB", "RssAnon MB", "heap MB", "heap held MB", "goroutines", "ready")
	for run := range *flagRuns {
		for _, m := range modes {
			cmd := exec.Command(self, "-child", m, "-settle", flagSettle.String())
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("run %d, mode %s: %w", run, m, err)
			}
			var r report
			if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
				return fmt.Errorf("run %d, mode %s: bad report %q: %w", run, m, out, err)
			}
			byMode[m] = append(byMode[m], r)
			fmt.Printf("%3d  %-7s  %8.1f  %10.1f  %7.1f  %12.1f  %10d  %8s\n", run, m, mb(r.VmRSS), mb(r.RssAnon),
				mb(int64(r.HeapAlloc)), mb(int64(r.HeapHeld)), r.Goroutines, r.Ready)
		}
	}
	med := func(m string, f func(report) int64) int64 {
		v := make([]int64, 0, len(byMode[m]))
		for _, r := range byMode[m] {
			v = append(v, f(r))
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	rss := func(r report) int64 { return r.VmRSS }
	anon := func(r report) int64 { return r.RssAnon }
	heap := func(r report) int64 { return int64(r.HeapAlloc) }
	fmt.Println()
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "median\tVmRSS MB\tRssAnon MB\theap MB\tVmRSS - off MB\ttarget\tverdict\t")
	failed := false
	for _, m := range modes {
		d := med(m, rss) - med("off", rss)
		verdict := ""
		if m != "off" {
			verdict = "pass"
			if d > targetBytes {
				verdict, failed = "FAIL", true
			}
		}
		target := ""
		if m != "off" {
			target = "<= 10 MB"
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%+.1f\t%s\t%s\t\n", m, mb(med(m, rss)), mb(med(m, anon)), mb(med(m, heap)), mb(d), target, verdict)
	}
	_ = tw.Flush()
	if failed {
		return errors.New("the target is missed")
	}
	return nil
}

func mb(b int64) float64 { return float64(b) / 1e6 }

// child runs one node in mode and measures it.
func child(mode string) (report, error) {
	if !slices.Contains(modes, mode) {
		return report{}, fmt.Errorf("unknown mode %q", mode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "apirss-")
	if err != nil {
		return report{}, err
	}
	defer os.RemoveAll(dir)
	fr, err := fake.New(fake.Config{ClusterID: "apirss", NodeName: "node-0", PodCIDR: "10.10.0.0/16"})
	if err != nil {
		return report{}, err
	}
	defer fr.Close()
	cfg := orchestrator.DefaultConfig()
	cfg.NodeName = "node-0"
	cfg.DataDir = filepath.Join(dir, "node-0")
	cfg.RaftBindAddr = "127.0.0.1:0"
	cfg.GossipBindAddr, cfg.GossipPickPort = "127.0.0.1", true
	cfg.BootstrapExpect = 1
	cfg.Runtime = fr
	cfg.APIAddress = ""
	// The figure is the API's: no cluster DNS (DefaultConfig's
	// 127.0.0.1:1053 may also be taken by another node on this host).
	cfg.DNSAddress = ""
	if mode != "off" {
		cfg.APIAddress = "127.0.0.1:0"
	}
	node, err := orchestrator.New(cfg)
	if err != nil {
		return report{}, err
	}
	start := time.Now()
	if err := node.Start(ctx); err != nil {
		return report{}, fmt.Errorf("start: %w", err)
	}
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer scancel()
		_ = node.Stop(sctx)
	}()
	cl := node.Client()
	if err := poll(ctx, "the node to lead with its Node Ready", func() bool {
		if !node.IsLeader() {
			return false
		}
		var n api.Node
		if cl.Get(ctx, orchestrator.ObjectKey{Name: "node-0"}, &n) != nil {
			return false
		}
		for _, c := range n.Status.Conditions {
			if c.Type == api.NodeReady && c.Status == api.ConditionTrue {
				return true
			}
		}
		return false
	}); err != nil {
		return report{}, err
	}
	if mode != "off" {
		if err := poll(ctx, "the API's serving certificate", func() bool {
			d := tls.Dialer{Config: &tls.Config{InsecureSkipVerify: true}} // only: is a certificate served yet
			c, err := d.DialContext(ctx, "tcp", node.APIAddr())
			if err != nil {
				return false
			}
			_ = c.Close()
			return true
		}); err != nil {
			return report{}, err
		}
	}
	if mode == "used" || mode == "openapi" {
		if err := useAPI(ctx, node, dir, mode == "openapi"); err != nil {
			return report{}, err
		}
	}
	ready := time.Since(start)
	select {
	case <-time.After(*flagSettle): // the idle time being measured
	case <-ctx.Done():
		return report{}, ctx.Err()
	}
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r := report{Mode: mode, HeapAlloc: ms.HeapAlloc, HeapHeld: ms.HeapSys - ms.HeapReleased,
		Goroutines: runtime.NumGoroutine(), Ready: ready.Round(time.Millisecond).String()}
	if r.VmRSS, r.RssAnon, err = procStatus(); err != nil {
		return report{}, err
	}
	return r, nil
}

// useAPI runs kubectl through an admin kubeconfig of node; with openapi,
// also a command that reads the OpenAPI documents.
func useAPI(ctx context.Context, node *orchestrator.Cluster, dir string, openapi bool) error {
	kc, err := node.AdminKubeconfig(ctx)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		return err
	}
	cmds := [][]string{{"get", "pods", "-A"}, {"api-resources"}}
	if openapi {
		cmds = append(cmds, []string{"explain", "pods"})
	}
	for _, args := range cmds {
		args = append([]string{"--kubeconfig", path, "--cache-dir", filepath.Join(dir, "kubecache")}, args...)
		out, err := exec.CommandContext(ctx, "kubectl", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("kubectl %s: %w: %s", strings.Join(args[4:], " "), err, out)
		}
	}
	return nil
}

// procStatus reads VmRSS and RssAnon (bytes) from /proc/self/status.
func procStatus() (rss, anon int64, err error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "RssAnon") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/self/status %s: %w", k, err)
		}
		if k == "VmRSS" {
			rss = kb << 10
		} else {
			anon = kb << 10
		}
	}
	if rss == 0 {
		return 0, 0, errors.New("/proc/self/status: no VmRSS")
	}
	return rss, anon, sc.Err()
}

// poll checks cond every 50 ms until it holds or ctx ends.
func poll(ctx context.Context, what string, cond func() bool) error {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}
