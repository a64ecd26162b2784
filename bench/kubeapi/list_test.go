package kubeapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

var flagPods = flag.Int("pods", 10000, "BenchmarkListPods10000: Pods to create (10 namespaces)")

// parkedNode is the Node the listed Pods are bound to: a Node object no
// agent runs, so no agent starts the Pods and the scheduler leaves them
// alone. The cluster's node grace period is an hour so that the node
// lifecycle controller neither marks it NotReady nor evicts its Pods
// during the benchmark; the Pod garbage collector keeps them because the
// Node exists.
const parkedNode = "parked"

// tableAccept is kubectl's Accept header for `kubectl get`.
const tableAccept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"

// BenchmarkListPods10000 runs `kubectl get pods -A` and LISTs of all Pods
// through the API of node 0 while the cluster holds -pods Pods.
//
// Sub-benchmarks (each op is one whole listing):
//   - kubectl: the kubectl process, from exec to exit, its discovery
//     cache warm (a first run fills it before the timer), kubectl's
//     default chunks of 500;
//   - kubectl-replay: the same against a server that replays recorded
//     responses at no cost (the baseline: kubectl's own time);
//   - kubectl-chunk-size-0, kubectl-replay-chunk-size-0: the same with
//     --chunk-size=0 (one request for all Pods);
//   - kubectl-cold-cache: kubectl with an empty discovery cache;
//   - table-chunked: the requests kubectl makes (Table, limit=500, then
//     continue tokens) from a Go HTTPS client on a warm connection;
//   - table: the Table in one request;
//   - json: the PodList as JSON in one request.
//
// The Go client's times are the server's time plus the transfer over
// loopback TLS and reading the body (not decoding it); their
// process-cpu-ms/op is the CPU of this whole process (server, client and
// the cluster's background work) per listing.
func BenchmarkListPods10000(b *testing.B) {
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		b.Fatalf("kubectl is not on PATH: %v", err)
	}
	c := orchestratortest.NewCluster(b, 3, orchestratortest.WithAPI(), orchestratortest.WithLogger(zap.NewNop()),
		orchestratortest.WithConfig(func(_ int, cfg *orchestrator.Config) {
			cfg.Timing.Raft = "fast" // the test timings' 50 ms lose the leader on a loaded machine
			cfg.Timing.NodeMonitorGracePeriod = time.Hour
			cfg.Timing.PodEvictionTimeout = time.Hour
		}))
	ctx := context.Background()
	cl := c.Client()
	if err := cl.Create(ctx, &api.Node{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Node"}, ObjectMeta: api.ObjectMeta{Name: parkedNode}}); err != nil {
		b.Fatalf("create Node %s: %v", parkedNode, err)
	}
	start := time.Now()
	createPods(b, cl, *flagPods)
	b.Logf("%d Pods created in %v", *flagPods, time.Since(start).Round(time.Millisecond))

	kc := c.Kubeconfig(b)
	hc := newAPIClient(b, kc)
	base := servers(c)[0]

	// kubectl's CPU time (user and system) per run, as a metric of the
	// kubectl sub-benchmarks.
	var kubectlCPU time.Duration
	var kubectlRuns int
	cpuMetric := func(b *testing.B) {
		b.ReportMetric(float64(kubectlCPU.Milliseconds())/float64(max(kubectlRuns, 1)), "kubectl-cpu-ms/op")
		kubectlCPU, kubectlRuns = 0, 0
	}
	runKubectl := func(b *testing.B, cacheDir string, flags ...string) {
		args := append([]string{"--kubeconfig", kc, "--cache-dir", cacheDir}, flags...)
		cmd := exec.Command(kubectl, append(args, "get", "pods", "-A")...)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			b.Fatalf("kubectl get pods -A: %v: %s", err, errOut.String())
		}
		kubectlCPU += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		kubectlRuns++
		if rows := bytes.Count(out.Bytes(), []byte("\n")) - 1; rows != *flagPods {
			b.Fatalf("kubectl get pods -A printed %d rows, want %d", rows, *flagPods)
		}
	}
	// kubectl's REST client allows 5 requests a second after a burst of
	// 10 (client-go's defaults; kubectl -v=6 logs "Waited for ... due to
	// client-side throttling"), so its 20 chunks of 500 take over 2 s
	// whatever the server does; --chunk-size=0 asks for one response.
	for _, chunk := range []string{"500", "0"} {
		suffix := ""
		if chunk != "500" {
			suffix = "-chunk-size-" + chunk
		}
		b.Run("kubectl"+suffix, func(b *testing.B) {
			cache := b.TempDir()
			runKubectl(b, cache, "--chunk-size", chunk) // fills the discovery cache
			kubectlCPU, kubectlRuns = 0, 0
			for b.Loop() {
				runKubectl(b, cache, "--chunk-size", chunk)
			}
			cpuMetric(b)
		})
		b.Run("kubectl-replay"+suffix, func(b *testing.B) {
			// kubectl against a server that answers at no cost: the
			// responses of a first run through a recording proxy,
			// replayed. What kubectl itself takes (process start, TLS,
			// throttling, decoding and printing).
			rp := newReplay(b, hc, base)
			cache := b.TempDir()
			flags := []string{"--chunk-size", chunk, "--server", rp.URL, "--insecure-skip-tls-verify"}
			runKubectl(b, cache, flags...) // records
			rp.replaying.Store(true)
			b.Logf("kubectl made %d distinct requests: %s", len(rp.keys()), strings.Join(rp.keys(), "; "))
			kubectlCPU, kubectlRuns = 0, 0
			for b.Loop() {
				runKubectl(b, cache, flags...)
			}
			cpuMetric(b)
			if n := rp.misses.Load(); n > 0 {
				b.Fatalf("%d requests while replaying were not recorded", n)
			}
		})
	}
	b.Run("kubectl-cold-cache", func(b *testing.B) {
		dir := b.TempDir()
		n := 0
		for b.Loop() {
			n++
			runKubectl(b, filepath.Join(dir, fmt.Sprint(n)))
		}
		cpuMetric(b)
	})
	b.Run("table-chunked", func(b *testing.B) {
		listAll(b, hc, base, tableAccept, 500) // warms the connection
		cpu0 := cpuTime()
		for b.Loop() {
			listAll(b, hc, base, tableAccept, 500)
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "process-cpu-ms/op")
	})
	b.Run("table", func(b *testing.B) {
		listAll(b, hc, base, tableAccept, 0)
		cpu0 := cpuTime()
		for b.Loop() {
			listAll(b, hc, base, tableAccept, 0)
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "process-cpu-ms/op")
	})
	b.Run("json", func(b *testing.B) {
		listAll(b, hc, base, "application/json", 0)
		cpu0 := cpuTime()
		for b.Loop() {
			listAll(b, hc, base, "application/json", 0)
		}
		b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "process-cpu-ms/op")
	})
}

// createPods creates n Pods in 10 namespaces through the in-process
// client, from 32 goroutines.
func createPods(tb testing.TB, cl orchestrator.Client, n int) {
	tb.Helper()
	ctx := context.Background()
	const namespaces, workers = 10, 32
	for i := range namespaces {
		ns := &api.Namespace{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("ns%d", i)}}
		if err := cl.Create(ctx, ns); err != nil {
			tb.Fatalf("create Namespace: %v", err)
		}
	}
	next := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				p := &api.Pod{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Pod"},
					ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("pod-%05d", i), Namespace: fmt.Sprintf("ns%d", i%namespaces), Labels: map[string]string{"app": "bench"}},
					Spec:       api.PodSpec{NodeName: parkedNode, Containers: []api.Container{{Name: "c", Image: "busybox:1.36"}}}}
				if _, err := create(ctx, p, []orchestrator.Client{cl}, 0); err != nil {
					errs <- fmt.Errorf("create Pod %d: %w", i, err)
					for range next {
					}
					return
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
}

// listAll lists every Pod from base with the Accept header accept, in
// chunks of limit (0: one request), reading every body to its end, and
// fails unless it saw -pods Pods.
func listAll(b *testing.B, hc *apiClient, base, accept string, limit int) {
	b.Helper()
	total, size, cont := 0, 0, ""
	for {
		q := url.Values{}
		if limit > 0 {
			q.Set("limit", fmt.Sprint(limit))
		}
		if cont != "" {
			q.Set("continue", cont)
		}
		req, err := http.NewRequest("GET", base+"/api/v1/pods?"+q.Encode(), nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Accept", accept)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			b.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %s: %s", req.URL, resp.Status, body)
		}
		b.StopTimer() // counting is the benchmark's, not the server's
		var page struct {
			Kind     string            `json:"kind"`
			Items    []json.RawMessage `json:"items"`
			Rows     []json.RawMessage `json:"rows"`
			Metadata struct {
				Continue string `json:"continue"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			b.Fatalf("GET %s: %v", req.URL, err)
		}
		size += len(body)
		b.StartTimer()
		total += len(page.Items) + len(page.Rows)
		if cont = page.Metadata.Continue; cont == "" {
			break
		}
	}
	if total != *flagPods {
		b.Fatalf("listed %d Pods, want %d", total, *flagPods)
	}
	b.SetBytes(int64(size))
}

// replay is a TLS server in front of an API server: while recording it
// forwards each request and keeps the response by method, URL and Accept
// header; while replaying it answers from what it kept.
type replay struct {
	*httptest.Server
	replaying atomic.Bool
	misses    atomic.Int64

	mu   sync.Mutex
	kept map[string]recorded
}

type recorded struct {
	code   int
	header http.Header
	body   []byte
}

func newReplay(tb testing.TB, hc *apiClient, base string) *replay {
	r := &replay{kept: map[string]recorded{}}
	r.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		key := req.Method + " " + req.URL.RequestURI() + " " + req.Header.Get("Accept")
		if r.replaying.Load() {
			r.mu.Lock()
			rec, ok := r.kept[key]
			r.mu.Unlock()
			if !ok {
				r.misses.Add(1)
				http.Error(w, "not recorded", http.StatusBadGateway)
				return
			}
			maps.Copy(w.Header(), rec.header)
			w.WriteHeader(rec.code)
			_, _ = w.Write(rec.body)
			return
		}
		out, err := http.NewRequestWithContext(req.Context(), req.Method, base+req.URL.RequestURI(), nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.Header = req.Header.Clone()
		resp, err := hc.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		rec := recorded{code: resp.StatusCode, header: resp.Header.Clone(), body: body}
		rec.header.Del("Content-Length")
		r.mu.Lock()
		r.kept[key] = rec
		r.mu.Unlock()
		maps.Copy(w.Header(), rec.header)
		w.WriteHeader(rec.code)
		_, _ = w.Write(body)
	}))
	r.EnableHTTP2 = true
	r.StartTLS()
	tb.Cleanup(r.Close)
	return r
}

// keys returns the recorded requests, sorted.
func (r *replay) keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.kept))
}
