package kubeapi_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

var (
	flagWatchers   = flag.Int("watchers", 1000, "BenchmarkWatch1000: watch streams, spread over the 3 servers")
	flagRate       = flag.Int("rate", 500, "BenchmarkWatch1000: ConfigMap writes per second")
	flagWriteFor   = flag.Duration("write-for", 10*time.Second, "BenchmarkWatch1000: how long to write")
	flagTransports = flag.Int("transports", 1, "BenchmarkWatch1000: HTTP transports the watchers share (watcher i uses transport i%n; each holds one HTTP/2 connection per server while its streams fit)")
	flagRaft       = flag.String("raft", "fast", "BenchmarkWatch1000: Raft timings (test, fast, default)")
	flagDrain      = flag.Duration("drain", 30*time.Second, "BenchmarkWatch1000: how long after the last write the watchers may take to read every event")
)

const watchNamespace = "watch"

// BenchmarkWatch1000 runs on the Raft timings -raft names ("fast" by
// default: the test timings' 50 ms lose the leader under this load on a
// small machine). It opens -watchers HTTPS watch streams of the
// ConfigMaps of one namespace, watcher i on server i%3 (one HTTP/2
// transport: one connection per server while its streams fit the
// server's limit), waits until every stream has its response headers,
// then creates ConfigMaps at -rate per second for -write-for, each
// through the in-process Client of server i%3 (the writes are paced by a
// clock; 32 goroutines issue them).
//
// Every watcher must read the ADDED event of every ConfigMap, once: a
// lost or repeated event fails the benchmark. The latency of a delivery
// is from the Create call returning (the write acknowledged) to the
// watcher having read the event's line; an event read before its Create
// returned counts as 0. Reported: delivery p50/p99/max, acknowledged
// write p99, the write rate reached and the connections opened.
func BenchmarkWatch1000(b *testing.B) {
	c := orchestratortest.NewCluster(b, 3, orchestratortest.WithAPI(), orchestratortest.WithLogger(zap.NewNop()),
		orchestratortest.WithConfig(func(_ int, cfg *orchestrator.Config) { cfg.Timing.Raft = *flagRaft }))
	kc := c.Kubeconfig(b)
	hcs := make([]*apiClient, max(*flagTransports, 1))
	for i := range hcs {
		hcs[i] = newAPIClient(b, kc)
	}
	urls := servers(c)
	ctx := context.Background()
	if err := c.Client().Create(ctx, &api.Namespace{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: api.ObjectMeta{Name: watchNamespace}}); err != nil {
		b.Fatal(err)
	}
	round := 0
	for b.Loop() {
		watchRound(b, c, hcs, urls, round)
		round++
	}
}

// watcher is one watch stream's tally.
type watcher struct {
	seen      []uint64 // bitset of the ConfigMap indexes read
	got, dups int
	latency   []int32 // µs, one per event read
	err       error
}

func watchRound(b *testing.B, c *orchestratortest.TestCluster, hcs []*apiClient, urls []string, round int) {
	total := int(int64(*flagRate) * int64(*flagWriteFor) / int64(time.Second))
	nw := *flagWatchers
	prefix := fmt.Sprintf("r%d-", round)
	acked := make([]atomic.Int64, total) // UnixNano when Create returned

	// The watches start at the namespace's current revision, so none
	// misses a write even if its stream is slow to start.
	var list api.ConfigMapList
	if err := c.Client().List(context.Background(), &list, orchestrator.InNamespace(watchNamespace)); err != nil {
		b.Fatal(err)
	}
	rv := list.ResourceVersion
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// One request to each server first: concurrent first requests would
	// each dial a connection before HTTP/2 is negotiated.
	var dials int64
	for _, hc := range hcs {
		dials -= hc.dials.Load()
	}
	for _, hc := range hcs {
		for _, u := range urls {
			resp, err := hc.Get(u + "/api/v1/namespaces/" + watchNamespace + "/configmaps?limit=1")
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
		}
	}
	ws := make([]*watcher, nw)
	var ready, done sync.WaitGroup
	for i := range ws {
		w := &watcher{seen: make([]uint64, (total+63)/64), latency: make([]int32, 0, total)}
		ws[i] = w
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			w.err = w.run(ctx, hcs[i%len(hcs)], urls[i%len(urls)], rv, prefix, acked, total, ready.Done)
		}()
	}
	ready.Wait()
	for i, w := range ws {
		if w.err != nil {
			b.Fatalf("watcher %d: %v", i, w.err)
		}
	}
	for _, hc := range hcs {
		dials += hc.dials.Load()
	}
	conns := dials

	// Paced writes.
	nodes := make([]orchestrator.Client, c.Len())
	for i := range nodes {
		nodes[i] = c.Node(i).Client()
	}
	writeLat := make([]int32, total)
	jobs := make(chan int, total)
	var writers sync.WaitGroup
	var writeErr atomic.Pointer[error]
	var retries atomic.Int64
	for range 32 {
		writers.Go(func() {
			for i := range jobs {
				cm := &api.ConfigMap{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
					ObjectMeta: api.ObjectMeta{Name: prefix + strconv.Itoa(i), Namespace: watchNamespace},
					Data:       map[string]string{"k": "v"}}
				t0 := time.Now()
				n, err := create(context.Background(), cm, nodes, i)
				retries.Add(int64(n))
				if err != nil {
					err = fmt.Errorf("create ConfigMap %d: %w", i, err)
					writeErr.CompareAndSwap(nil, &err)
					continue
				}
				now := time.Now()
				acked[i].Store(now.UnixNano())
				writeLat[i] = int32(now.Sub(t0).Microseconds())
			}
		})
	}
	cpu0 := cpuTime()
	start := time.Now()
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * time.Second / time.Duration(*flagRate))); d > 0 {
			time.Sleep(d) // pacing the load, not synchronisation
		}
		jobs <- i
	}
	close(jobs)
	writers.Wait()
	wrote := time.Since(start)
	if p := writeErr.Load(); p != nil {
		b.Fatal(*p)
	}

	// Wait for every watcher to read every event, or the drain deadline.
	drained := make(chan struct{})
	go func() { done.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(*flagDrain):
		cancel()
		<-drained
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0

	var lost, dups int
	var lat []int32
	for i, w := range ws {
		if w.got < total {
			lost += total - w.got
			if w.err != nil && !errors.Is(w.err, context.Canceled) {
				b.Logf("watcher %d ended early: %v", i, w.err)
			}
		}
		dups += w.dups
		lat = append(lat, w.latency...)
	}
	slices.Sort(lat)
	slices.Sort(writeLat)
	pct := func(s []int32, p float64) float64 {
		if len(s) == 0 {
			return 0
		}
		return float64(s[min(len(s)-1, int(float64(len(s))*p))]) / 1000
	}
	b.ReportMetric(float64(total)/wrote.Seconds(), "writes/s")
	b.ReportMetric(float64(len(lat)), "delivered")
	b.ReportMetric(float64(lost), "lost")
	b.ReportMetric(pct(lat, 0.50), "p50-ms")
	b.ReportMetric(pct(lat, 0.99), "p99-ms")
	b.ReportMetric(pct(lat, 1), "max-ms")
	b.ReportMetric(pct(writeLat, 0.99), "write-p99-ms")
	b.ReportMetric(float64(conns), "conns")
	b.ReportMetric(float64(retries.Load()), "write-retries")
	perDelivery := float64(cpu.Microseconds()) / float64(max(len(lat), 1))
	b.ReportMetric(perDelivery, "cpu-µs/delivery")
	b.Logf("%d watchers × %d events (%d/s for %v): %d delivered, %d not delivered within %v of the last write, %d repeated; "+
		"writes took %v (p99 %.1f ms); delivery p50 %.1f ms, p99 %.1f ms, max %.1f ms; process CPU %v = %.1f µs per delivery; %d connections; %d writes retried after a leadership change",
		nw, total, *flagRate, *flagWriteFor, len(lat), lost, *flagDrain, dups, wrote.Round(time.Millisecond), pct(writeLat, 0.99),
		pct(lat, 0.5), pct(lat, 0.99), pct(lat, 1), cpu.Round(time.Millisecond), perDelivery, conns, retries.Load())
	if lost > 0 || dups > 0 {
		b.Errorf("%d events not delivered within %v of the last write and %d repeated (of %d × %d)", lost, *flagDrain, dups, nw, total)
	}
	b.StartTimer()
}

// run opens the watch, calls ready once its headers arrived (or it
// failed), and reads events until it has every one of total or ctx ends.
func (w *watcher) run(ctx context.Context, hc *apiClient, base, rv, prefix string, acked []atomic.Int64, total int, ready func()) error {
	once := sync.OnceFunc(ready)
	defer once()
	req, err := http.NewRequestWithContext(ctx, "GET",
		base+"/api/v1/namespaces/"+watchNamespace+"/configmaps?watch=1&timeoutSeconds=600&resourceVersion="+rv, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("watch: %s: %s", resp.Status, body)
	}
	once()
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	name := []byte(`"name":"` + prefix)
	for w.got < total {
		line, err := r.ReadSlice('\n')
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("watch ended after %d events: %w", w.got, err)
		}
		now := time.Now().UnixNano()
		if !bytes.HasPrefix(line, []byte(`{"type":"ADDED"`)) {
			return fmt.Errorf("unexpected event: %.200s", line)
		}
		j := bytes.Index(line, name)
		if j < 0 {
			return fmt.Errorf("event of another object: %.200s", line)
		}
		rest := line[j+len(name):]
		k := bytes.IndexByte(rest, '"')
		i, err := strconv.Atoi(string(rest[:max(k, 0)]))
		if err != nil || i < 0 || i >= total {
			return fmt.Errorf("event of an unknown ConfigMap: %.200s", line)
		}
		if w.seen[i/64]&(1<<(i%64)) != 0 {
			w.dups++
			continue
		}
		w.seen[i/64] |= 1 << (i % 64)
		w.got++
		var d int64
		if a := acked[i].Load(); a != 0 && now > a {
			d = (now - a) / 1000
		}
		w.latency = append(w.latency, int32(d))
	}
	return nil
}

// cpuTime is the CPU time (user and system) this process has used: the
// cluster's and the watchers' together.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
