package prober

import (
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap/zaptest"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func TestMain(m *testing.M) {
	if os.Getenv(benchServerEnv) != "" {
		runBenchServer() // the benchmark's target, in its own process
		return
	}
	goleak.VerifyTestMain(m)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// collector records every Result delivered to OnResult.
type collector struct {
	mu      sync.Mutex
	results []Result
}

func (c *collector) add(r Result) {
	c.mu.Lock()
	c.results = append(c.results, r)
	c.mu.Unlock()
}

func (c *collector) all() []Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Result(nil), c.results...)
}

// wait returns the first result matching pred, waiting up to timeout.
func (c *collector) wait(tb testing.TB, timeout time.Duration, what string, pred func(Result) bool) Result {
	tb.Helper()
	var found Result
	eventually(tb, timeout, what, func() bool {
		for _, r := range c.all() {
			if pred(r) {
				found = r
				return true
			}
		}
		return false
	})
	return found
}

// newManager returns a Manager with a collector, closed by t.Cleanup.
func newManager(tb testing.TB, cfg Config) (*Manager, *collector) {
	tb.Helper()
	c := &collector{}
	cfg.OnResult = c.add
	if cfg.Logger == nil {
		cfg.Logger = zaptest.NewLogger(tb)
	}
	m := New(cfg)
	tb.Cleanup(m.Close)
	return m, c
}

// flipServer is an HTTP server whose status can be changed.
type flipServer struct {
	*httptest.Server
	status atomic.Int32
	hits   atomic.Int64
	last   atomic.Pointer[http.Request]
}

func newFlipServer(tb testing.TB, status int) *flipServer {
	tb.Helper()
	s := &flipServer{}
	s.status.Store(int32(status))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.last.Store(r)
		w.WriteHeader(int(s.status.Load()))
		_, _ = w.Write([]byte("body that the probe discards"))
	}))
	tb.Cleanup(s.Close)
	return s
}

// hostPort splits a listener address.
func hostPort(tb testing.TB, addr string) (string, int32) {
	tb.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		tb.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, int32(n)
}

// fast returns a probe with a 20 ms period and the given handler.
func fast(h api.ProbeHandler) *api.Probe {
	return &api.Probe{ProbeHandler: h, PeriodMilliseconds: 20, TimeoutSeconds: 1, SuccessThreshold: 1, FailureThreshold: 1}
}

func httpGet(port int32, path string) api.ProbeHandler {
	return api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Port: api.FromInt(port), Path: path}}
}

func status(tb testing.TB, m *Manager, pod, name string, k Kind) ProbeStatus {
	tb.Helper()
	st, ok := m.Status(pod, name)
	if !ok {
		tb.Fatalf("no status for %s/%s", pod, name)
	}
	for _, s := range st {
		if s.Kind == k {
			return s
		}
	}
	tb.Fatalf("no %s probe on %s/%s", k, pod, name)
	return ProbeStatus{}
}
