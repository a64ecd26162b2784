package prober

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

const waitLong = 10 * time.Second

func TestReadinessHTTPFlips(t *testing.T) {
	srv := newFlipServer(t, http.StatusServiceUnavailable)
	ip, port := hostPort(t, srv.Listener.Addr().String())
	m, c := newManager(t, Config{})
	p := fast(httpGet(port, "/healthz"))
	p.SuccessThreshold, p.FailureThreshold = 2, 3
	err := m.AddContainer(Container{PodUID: "u1", ContainerID: "c1", PodIP: ip,
		Spec: api.Container{Name: "web", ReadinessProbe: p}})
	if err != nil {
		t.Fatal(err)
	}
	// Failing from the start: not ready, failures reported with the status.
	r := c.wait(t, waitLong, "a failed attempt", func(r Result) bool { return !r.Succeeded })
	if r.Kind != Readiness || r.Passing || r.ContainerID != "c1" || r.Message != "HTTP probe failed with statuscode: 503" {
		t.Fatalf("first failure: %+v", r)
	}
	if m.Ready("u1", "web") {
		t.Fatal("ready before any success")
	}
	srv.status.Store(http.StatusOK)
	r = c.wait(t, waitLong, "ready", func(r Result) bool { return r.Changed && r.Passing })
	if r.ConsecutiveSuccesses != 2 || r.LastFailure != "HTTP probe failed with statuscode: 503" {
		t.Fatalf("became ready with %+v, want 2 successes (successThreshold) and the last failure kept", r)
	}
	if !m.Ready("u1", "web") {
		t.Fatal("Ready() false after the Changed result")
	}
	if got := srv.last.Load(); got.URL.Path != "/healthz" || got.Header.Get("User-Agent") != userAgent {
		t.Fatalf("request %s %v", got.URL, got.Header)
	}
	// Three failures in a row take it out of Ready, without a restart.
	srv.status.Store(http.StatusInternalServerError)
	r = c.wait(t, waitLong, "unready", func(r Result) bool { return r.Changed && !r.Passing })
	if r.ConsecutiveFailures != 3 || r.Restart {
		t.Fatalf("unready with %+v, want 3 failures and no restart", r)
	}
	if m.Ready("u1", "web") {
		t.Fatal("still ready")
	}
	// Readiness keeps probing after failing.
	n := srv.hits.Load()
	eventually(t, waitLong, "more attempts", func() bool { return srv.hits.Load() > n+2 })
}

func TestHTTPDetails(t *testing.T) {
	other := newFlipServer(t, http.StatusOK)
	seen := make(chan *http.Request, 100)
	mux := http.NewServeMux()
	mux.HandleFunc("/hdr", func(w http.ResponseWriter, r *http.Request) {
		seen <- r
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/redirect-ok", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/hdr", http.StatusFound) })
	mux.HandleFunc("/redirect-bad", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/500", http.StatusFound) })
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	mux.HandleFunc("/redirect-away", func(w http.ResponseWriter, r *http.Request) {
		// Another host (localhost vs 127.0.0.1): not followed, 302 counts as success.
		_, port := hostPort(t, other.Listener.Addr().String())
		http.Redirect(w, r, "http://localhost:"+itoa(port)+"/", http.StatusFound)
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(make([]byte, 1<<20))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tls := httptest.NewTLSServer(mux)
	defer tls.Close()
	ip, port := hostPort(t, srv.Listener.Addr().String())
	_, tlsPort := hostPort(t, tls.Listener.Addr().String())

	tests := []struct {
		name    string
		probe   api.ProbeHandler
		ok      bool
		message string
	}{
		{"headers and host", api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Port: api.FromString("http"), Path: "/hdr?x=1",
			HTTPHeaders: []api.HTTPHeader{{Name: "X-Probe", Value: "yes"}, {Name: "Host", Value: "example.test"}, {Name: "User-Agent", Value: "mine"}}}}, true, ""},
		{"same-host redirect followed to success", httpGet(port, "/redirect-ok"), true, ""},
		{"same-host redirect followed to failure", httpGet(port, "/redirect-bad"), false, "statuscode: 500"},
		{"redirect to another host not followed", httpGet(port, "/redirect-away"), true, ""},
		{"large body is cut off", httpGet(port, "/big"), true, ""},
		{"404", httpGet(port, "/nope"), false, "statuscode: 404"},
		{"https without verification", api.ProbeHandler{HTTPGet: &api.HTTPGetAction{Port: api.FromInt(tlsPort), Path: "/hdr", Scheme: api.URISchemeHTTPS}}, true, ""},
		{"http to a closed port", httpGet(closedPort(t), "/"), false, "connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, c := newManager(t, Config{})
			p := fast(tc.probe)
			p.FailureThreshold = 1
			err := m.AddContainer(Container{PodUID: "u", ContainerID: "c", PodIP: ip, Spec: api.Container{
				Name: "web", Ports: []api.ContainerPort{{Name: "http", ContainerPort: port}}, ReadinessProbe: p}})
			if err != nil {
				t.Fatal(err)
			}
			r := c.wait(t, waitLong, "a result", func(Result) bool { return true })
			if r.Succeeded != tc.ok || !strings.Contains(r.Message, tc.message) {
				t.Fatalf("got %+v, want ok=%v message containing %q", r, tc.ok, tc.message)
			}
		})
	}
	select {
	case r := <-seen:
		if r.Header.Get("X-Probe") != "yes" || r.Host != "example.test" || r.Header.Get("User-Agent") != "mine" || r.URL.RawQuery != "x=1" {
			t.Fatalf("request %s host %q headers %v", r.URL, r.Host, r.Header)
		}
	default:
		t.Fatal("no request reached /hdr")
	}
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int32 {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, p := hostPort(t, l.Addr().String())
	_ = l.Close()
	return p
}

// A tcpSocket probe with a host dials that host, not the Pod IP.
func TestTCPSocketHost(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	host, port := hostPort(t, l.Addr().String())
	m, c := newManager(t, Config{})
	p := fast(api.ProbeHandler{TCPSocket: &api.TCPSocketAction{Port: api.FromInt(port), Host: host}})
	// 192.0.2.1 (TEST-NET-1) answers nothing: only the host can pass.
	err = m.AddContainer(Container{PodUID: "u", ContainerID: "c", PodIP: "192.0.2.1", Spec: api.Container{Name: "db", ReadinessProbe: p}})
	if err != nil {
		t.Fatal(err)
	}
	c.wait(t, waitLong, "ready through the host", func(r Result) bool { return r.Kind == Readiness && r.Passing })
}

func TestTCPSocket(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ip, port := hostPort(t, l.Addr().String())
	m, c := newManager(t, Config{})
	p := fast(api.ProbeHandler{TCPSocket: &api.TCPSocketAction{Port: api.FromString("db")}})
	p.FailureThreshold = 2
	err = m.AddContainer(Container{PodUID: "u", ContainerID: "c", PodIP: ip, Spec: api.Container{
		Name: "db", Ports: []api.ContainerPort{{Name: "db", ContainerPort: port}}, LivenessProbe: p}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, waitLong, "two successful attempts", func() bool {
		return status(t, m, "u", "db", Liveness).Attempts >= 2
	})
	if st := status(t, m, "u", "db", Liveness); !st.Passing || st.ConsecutiveFailures != 0 {
		t.Fatalf("liveness %+v", st)
	}
	// Only the first success is delivered, because it is reported (see
	// Manager.Reported); later ones change nothing.
	if got := c.all(); len(got) != 1 || !got[0].Reported || !got[0].Succeeded {
		t.Fatalf("successes of a passing liveness probe were delivered: %+v", got)
	}
	_ = l.Close()
	r := c.wait(t, waitLong, "restart", func(r Result) bool { return r.Restart })
	if r.Kind != Liveness || r.ConsecutiveFailures != 2 || r.Passing || !r.Changed || !strings.Contains(r.Message, "refused") {
		t.Fatalf("restart result %+v", r)
	}
	if st := status(t, m, "u", "db", Liveness); !st.RestartRequested || st.Passing {
		t.Fatalf("status after restart request: %+v", st)
	}
	// The liveness worker holds after asking for a restart.
	attempts := status(t, m, "u", "db", Liveness).Attempts
	time.Sleep(100 * time.Millisecond) // five periods: proves absence of probing
	if got := status(t, m, "u", "db", Liveness).Attempts; got != attempts {
		t.Fatalf("liveness kept probing after restart was requested: %d -> %d", attempts, got)
	}
}

// A target that hangs fails by timeout and does not slow other probes.
func TestHangingTargetTimesOutAndStallsNothing(t *testing.T) {
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	ok := newFlipServer(t, http.StatusOK)
	hip, hport := hostPort(t, hang.Listener.Addr().String())
	oip, oport := hostPort(t, ok.Listener.Addr().String())

	m, c := newManager(t, Config{})
	hp := fast(httpGet(hport, "/"))
	hp.PeriodMilliseconds = 10
	if err := m.AddContainer(Container{PodUID: "hang", ContainerID: "h", PodIP: hip, Spec: api.Container{Name: "c", LivenessProbe: hp}}); err != nil {
		t.Fatal(err)
	}
	if err := m.AddContainer(Container{PodUID: "ok", ContainerID: "o", PodIP: oip, Spec: api.Container{Name: "c", ReadinessProbe: fast(httpGet(oport, "/"))}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	// While the hanging probe waits out its 1 s timeout, the other probe
	// keeps its 20 ms period.
	eventually(t, waitLong, "30 attempts of the healthy probe", func() bool { return ok.hits.Load() >= 30 })
	if st := status(t, m, "hang", "c", Liveness); st.Attempts != 0 && time.Since(start) < 900*time.Millisecond {
		t.Fatalf("hanging attempt finished early: %+v", st)
	}
	r := c.wait(t, waitLong, "timeout failure", func(r Result) bool { return r.PodUID == "hang" })
	if r.Succeeded || !strings.Contains(r.Message, "timeout after 1s") || r.Duration < time.Second || r.Duration > 3*time.Second {
		t.Fatalf("hanging probe: %+v", r)
	}
	// Removing the container with an attempt in flight returns promptly.
	begin := time.Now()
	m.RemovePod("hang")
	if d := time.Since(begin); d > 2*time.Second {
		t.Fatalf("RemovePod took %v", d)
	}
}

func TestStartupGatesOthers(t *testing.T) {
	startup := newFlipServer(t, http.StatusServiceUnavailable)
	app := newFlipServer(t, http.StatusOK)
	ip, sport := hostPort(t, startup.Listener.Addr().String())
	_, aport := hostPort(t, app.Listener.Addr().String())
	m, c := newManager(t, Config{})
	sp := fast(httpGet(sport, "/started"))
	sp.FailureThreshold = 1000
	err := m.AddContainer(Container{PodUID: "u", ContainerID: "c", PodIP: ip, Spec: api.Container{Name: "app",
		StartupProbe: sp, LivenessProbe: fast(httpGet(aport, "/live")), ReadinessProbe: fast(httpGet(aport, "/ready"))}})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, waitLong, "5 startup attempts", func() bool { return startup.hits.Load() >= 5 })
	if app.hits.Load() != 0 || m.Started("u", "app") || m.Ready("u", "app") {
		t.Fatalf("liveness/readiness ran before startup passed (%d hits), started %v", app.hits.Load(), m.Started("u", "app"))
	}
	if st := status(t, m, "u", "app", Readiness); st.Attempts != 0 {
		t.Fatalf("readiness attempts before startup: %+v", st)
	}
	startup.status.Store(http.StatusOK)
	r := c.wait(t, waitLong, "started", func(r Result) bool { return r.Kind == Startup && r.Passing })
	if !r.Changed {
		t.Fatalf("startup result %+v", r)
	}
	eventually(t, waitLong, "ready", func() bool { return m.Ready("u", "app") })
	if !m.Started("u", "app") {
		t.Fatal("not started")
	}
	// The startup probe stops once passed.
	n := startup.hits.Load()
	eventually(t, waitLong, "liveness attempts", func() bool { return status(t, m, "u", "app", Liveness).Attempts >= 5 })
	if startup.hits.Load() != n {
		t.Fatalf("startup probe kept running: %d -> %d", n, startup.hits.Load())
	}
}

func TestStartupFailureRestarts(t *testing.T) {
	srv := newFlipServer(t, http.StatusInternalServerError)
	ip, port := hostPort(t, srv.Listener.Addr().String())
	m, c := newManager(t, Config{})
	sp := fast(httpGet(port, "/"))
	sp.FailureThreshold = 3
	err := m.AddContainer(Container{PodUID: "u", ContainerID: "c", PodIP: ip, Spec: api.Container{Name: "app",
		StartupProbe: sp, ReadinessProbe: fast(httpGet(port, "/"))}})
	if err != nil {
		t.Fatal(err)
	}
	r := c.wait(t, waitLong, "restart", func(r Result) bool { return r.Restart })
	if r.Kind != Startup || r.ConsecutiveFailures != 3 || r.Passing {
		t.Fatalf("startup restart %+v", r)
	}
	// A new instance of the container starts from scratch.
	srv.status.Store(http.StatusOK)
	err = m.AddContainer(Container{PodUID: "u", ContainerID: "c2", PodIP: ip, Spec: api.Container{Name: "app",
		StartupProbe: sp, ReadinessProbe: fast(httpGet(port, "/"))}})
	if err != nil {
		t.Fatal(err)
	}
	r = c.wait(t, waitLong, "ready on the new instance", func(r Result) bool { return r.ContainerID == "c2" && r.Kind == Readiness && r.Passing })
	if st := status(t, m, "u", "app", Startup); st.ConsecutiveFailures != 0 || st.LastFailure != "" {
		t.Fatalf("state not reset for the new instance: %+v", st)
	}
}

func TestInitialDelay(t *testing.T) {
	srv := newFlipServer(t, http.StatusOK)
	ip, port := hostPort(t, srv.Listener.Addr().String())
	m, c := newManager(t, Config{})
	p := fast(httpGet(port, "/"))
	p.InitialDelaySeconds = 1
	started := time.Now()
	if err := m.AddContainer(Container{PodUID: "u", ContainerID: "c", PodIP: ip, StartedAt: started,
		Spec: api.Container{Name: "a", ReadinessProbe: p}}); err != nil {
		t.Fatal(err)
	}
	// A container that started long ago is past its delay: probed at once
	// (within a period of jitter, since it predates the Manager).
	if err := m.AddContainer(Container{PodUID: "u", ContainerID: "c", PodIP: ip, StartedAt: started.Add(-time.Hour),
		Spec: api.Container{Name: "b", ReadinessProbe: p}}); err != nil {
		t.Fatal(err)
	}
	rb := c.wait(t, waitLong, "b ready", func(r Result) bool { return r.ContainerName == "b" && r.Passing })
	ra := c.wait(t, waitLong, "a ready", func(r Result) bool { return r.ContainerName == "a" && r.Passing })
	if ra.Time.Before(started.Add(time.Second)) {
		t.Fatalf("first attempt at %v, before the 1 s initial delay ended (%v)", ra.Time, started.Add(time.Second))
	}
	if !rb.Time.Before(ra.Time) {
		t.Fatalf("container past its delay was probed after the delayed one")
	}
}

func TestReplaceRemoveClose(t *testing.T) {
	srv := newFlipServer(t, http.StatusOK)
	ip, port := hostPort(t, srv.Listener.Addr().String())
	m, _ := newManager(t, Config{})
	spec := api.Container{Name: "a", ReadinessProbe: fast(httpGet(port, "/"))}
	for _, n := range []string{"a", "b"} {
		s := spec
		s.Name = n
		if err := m.AddContainer(Container{PodUID: "p1", ContainerID: "c-" + n, PodIP: ip, Spec: s}); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.AddContainer(Container{PodUID: "p2", ContainerID: "x", PodIP: ip, Spec: spec}); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitLong, "ready", func() bool { return m.Ready("p1", "a") && m.Ready("p2", "a") })
	// Same ID again: nothing changes (state kept).
	before := status(t, m, "p1", "a", Readiness).Attempts
	if err := m.AddContainer(Container{PodUID: "p1", ContainerID: "c-a", PodIP: ip, Spec: spec}); err != nil {
		t.Fatal(err)
	}
	if !m.Ready("p1", "a") || status(t, m, "p1", "a", Readiness).Attempts < before {
		t.Fatal("re-adding the same container reset it")
	}
	m.RemoveContainer("p1", "a")
	if _, ok := m.Status("p1", "a"); ok || m.Ready("p1", "a") {
		t.Fatal("removed container still known")
	}
	m.RemovePod("p1")
	if _, ok := m.Status("p1", "b"); ok {
		t.Fatal("RemovePod left a container")
	}
	m.RemoveContainer("nope", "nope")
	m.Close()
	m.Close()
	if err := m.AddContainer(Container{PodUID: "p3", ContainerID: "x", PodIP: ip, Spec: spec}); !errors.Is(err, ErrClosed) {
		t.Fatalf("AddContainer after Close: %v", err)
	}
	if _, ok := m.Status("p2", "a"); ok {
		t.Fatal("Close left a container")
	}
}

func TestNoProbes(t *testing.T) {
	m, _ := newManager(t, Config{})
	if err := m.AddContainer(Container{PodUID: "u", Spec: api.Container{Name: "plain"}}); err != nil {
		t.Fatal(err)
	}
	if !m.Started("u", "plain") || !m.Ready("u", "plain") {
		t.Fatal("a container without probes must be started and ready")
	}
	if m.Ready("u", "other") || m.Started("u", "other") {
		t.Fatal("unknown container reported ready")
	}
}

func TestValidation(t *testing.T) {
	h := httpGet(80, "/")
	tests := []struct {
		name  string
		c     Container
		wants []string
	}{
		{"no handler", Container{PodUID: "u", PodIP: "10.0.0.1", Spec: api.Container{Name: "c", LivenessProbe: &api.Probe{}}},
			[]string{`container "c"`, "livenessProbe: must specify a handler"}},
		{"two handlers", Container{PodUID: "u", PodIP: "10.0.0.1", Spec: api.Container{Name: "c", ReadinessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{
			HTTPGet: h.HTTPGet, TCPSocket: &api.TCPSocketAction{Port: api.FromInt(1)}}}}},
			[]string{"readinessProbe: may not specify more than 1 handler"}},
		{"undeclared port name", Container{PodUID: "u", PodIP: "10.0.0.1", Spec: api.Container{Name: "c", Ports: []api.ContainerPort{{Name: "web", ContainerPort: 8080}},
			StartupProbe: &api.Probe{ProbeHandler: api.ProbeHandler{TCPSocket: &api.TCPSocketAction{Port: api.FromString("http")}}}}},
			[]string{`startupProbe.tcpSocket.port: port name "http" is not declared`}},
		{"port out of range", Container{PodUID: "u", PodIP: "10.0.0.1", Spec: api.Container{Name: "c", LivenessProbe: &api.Probe{ProbeHandler: httpGet(70000, "/")}}},
			[]string{"livenessProbe.httpGet.port: must be between 1 and 65535"}},
		{"negative numbers", Container{PodUID: "u", PodIP: "10.0.0.1", Spec: api.Container{Name: "c", ReadinessProbe: &api.Probe{ProbeHandler: h,
			InitialDelaySeconds: -1, PeriodSeconds: -1, TimeoutSeconds: -1, SuccessThreshold: -1, FailureThreshold: -1}}},
			[]string{"readinessProbe.initialDelaySeconds", "readinessProbe.periodSeconds", "readinessProbe.timeoutSeconds", "readinessProbe.successThreshold", "readinessProbe.failureThreshold"}},
		{"negative periodMilliseconds", Container{PodUID: "u", PodIP: "10.0.0.1", Spec: api.Container{Name: "c", ReadinessProbe: &api.Probe{ProbeHandler: h, PeriodMilliseconds: -5}}},
			[]string{"readinessProbe.periodMilliseconds"}},
		{"liveness successThreshold", Container{PodUID: "u", PodIP: "10.0.0.1", Spec: api.Container{Name: "c", LivenessProbe: &api.Probe{ProbeHandler: h, SuccessThreshold: 2}}},
			[]string{"livenessProbe.successThreshold: must be 1 for liveness probes"}},
		{"startup successThreshold", Container{PodUID: "u", PodIP: "10.0.0.1", Spec: api.Container{Name: "c", StartupProbe: &api.Probe{ProbeHandler: h, SuccessThreshold: 3}}},
			[]string{"startupProbe.successThreshold: must be 1"}},
		{"empty exec", Container{PodUID: "u", ContainerID: "x", Spec: api.Container{Name: "c", LivenessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{Exec: &api.ExecAction{}}}}},
			[]string{"livenessProbe.exec.command: required"}},
		{"exec without container ID", Container{PodUID: "u", Spec: api.Container{Name: "c", LivenessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{Exec: &api.ExecAction{Command: []string{"true"}}}}}},
			[]string{"ContainerID: required by livenessProbe.exec"}},
		{"bad scheme", Container{PodUID: "u", PodIP: "10.0.0.1", Spec: api.Container{Name: "c", LivenessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{
			HTTPGet: &api.HTTPGetAction{Port: api.FromInt(80), Scheme: "FTP"}}}}}, []string{"livenessProbe.httpGet.scheme"}},
		{"bad header", Container{PodUID: "u", PodIP: "10.0.0.1", Spec: api.Container{Name: "c", LivenessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{
			HTTPGet: &api.HTTPGetAction{Port: api.FromInt(80), HTTPHeaders: []api.HTTPHeader{{Name: "a b", Value: "x"}, {Name: "ok", Value: "x\ny"}}}}}}},
			[]string{"httpHeaders[0].name", "httpHeaders[1].value"}},
		{"missing pod IP", Container{PodUID: "u", Spec: api.Container{Name: "c", ReadinessProbe: &api.Probe{ProbeHandler: h}}},
			[]string{"PodIP", "readinessProbe needs it"}},
		{"grpc port", Container{PodUID: "u", PodIP: "10.0.0.1", Spec: api.Container{Name: "c", ReadinessProbe: &api.Probe{ProbeHandler: api.ProbeHandler{GRPC: &api.GRPCAction{}}}}},
			[]string{"readinessProbe.grpc.port"}},
		{"missing names", Container{}, []string{"PodUID: required", "Spec.Name: required"}},
	}
	m, _ := newManager(t, Config{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := m.AddContainer(tc.c)
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("err %v, want ErrInvalid", err)
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if _, ok := m.Status(tc.c.PodUID, tc.c.Spec.Name); ok {
				t.Fatal("invalid container was stored")
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	s, err := buildSpec(Readiness, &api.Probe{ProbeHandler: httpGet(80, "")}, &api.Container{})
	if err != nil {
		t.Fatal(err)
	}
	if s.period != 10*time.Second || s.timeout != time.Second || s.successThreshold != 1 || s.failureThreshold != 3 || s.initialDelay != 0 || s.path != "/" {
		t.Fatalf("defaults: %+v", s)
	}
	s, _ = buildSpec(Readiness, &api.Probe{ProbeHandler: httpGet(80, "x"), PeriodSeconds: 5, PeriodMilliseconds: 250}, &api.Container{})
	if s.period != 250*time.Millisecond || s.path != "/x" {
		t.Fatalf("periodMilliseconds did not win: %+v", s)
	}
}

// Close racing with AddContainer leaves no worker behind (goleak checks
// at the end of the package) and delivers nothing afterwards.
func TestCloseRacesAdd(t *testing.T) {
	srv := newFlipServer(t, http.StatusInternalServerError)
	ip, port := hostPort(t, srv.Listener.Addr().String())
	for round := range 20 {
		var delivered atomic.Int64
		var closed atomic.Bool
		m := New(Config{OnResult: func(Result) {
			if closed.Load() {
				delivered.Add(1)
			}
		}})
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_ = m.AddContainer(Container{PodUID: fmt.Sprintf("p%d-%d", round, i), ContainerID: "c", PodIP: ip,
					Spec: api.Container{Name: "a", ReadinessProbe: fast(httpGet(port, "/"))}})
			}()
		}
		m.Close()
		closed.Store(true)
		wg.Wait()
		time.Sleep(30 * time.Millisecond) // a period and a half: would show a stray worker
		if n := delivered.Load(); n != 0 {
			t.Fatalf("round %d: %d results after Close", round, n)
		}
	}
}

// A callback that blocks holds back only its own probe.
func TestBlockingCallbackStallsOnlyItsProbe(t *testing.T) {
	srv := newFlipServer(t, http.StatusInternalServerError)
	ip, port := hostPort(t, srv.Listener.Addr().String())
	release := make(chan struct{})
	var others atomic.Int64
	m := New(Config{OnResult: func(r Result) {
		if r.PodUID == "stuck" {
			<-release
			return
		}
		others.Add(1)
	}})
	defer m.Close()
	defer close(release)
	for _, pod := range []string{"stuck", "free"} {
		if err := m.AddContainer(Container{PodUID: pod, ContainerID: "c", PodIP: ip,
			Spec: api.Container{Name: "a", ReadinessProbe: fast(httpGet(port, "/"))}}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, waitLong, "results of the free probe", func() bool { return others.Load() >= 10 })
	if st := status(t, m, "stuck", "a", Readiness); st.Attempts != 1 {
		t.Fatalf("stuck probe made %d attempts while its callback blocked", st.Attempts)
	}
}

// An adopted container (running before the agent restarted) keeps what its
// status said: no startup probe again, and ready until its readiness probe
// fails failureThreshold times.
func TestAdoptedContainerKeepsStartedAndReady(t *testing.T) {
	srv := newFlipServer(t, http.StatusServiceUnavailable)
	ip, port := hostPort(t, srv.Listener.Addr().String())
	m, c := newManager(t, Config{})
	sp := fast(httpGet(port, "/started"))
	rp := fast(httpGet(port, "/ready"))
	rp.FailureThreshold = 3
	err := m.AddContainer(Container{PodUID: "u", ContainerID: "c", PodIP: ip, StartedAt: time.Now().Add(-time.Hour),
		WasStarted: true, WasReady: true, Spec: api.Container{Name: "app", StartupProbe: sp, ReadinessProbe: rp}})
	if err != nil {
		t.Fatal(err)
	}
	if !m.Started("u", "app") || !m.Ready("u", "app") {
		t.Fatalf("adopted container: started %v, ready %v; want both", m.Started("u", "app"), m.Ready("u", "app"))
	}
	r := c.wait(t, waitLong, "unready after failures", func(r Result) bool { return r.Kind == Readiness && r.Changed && !r.Passing })
	if r.ConsecutiveFailures != 3 {
		t.Fatalf("unready after %d failures, want 3", r.ConsecutiveFailures)
	}
	if st := status(t, m, "u", "app", Startup); st.Attempts != 0 || !st.Passing {
		t.Fatalf("startup probe of a started container: %+v", st)
	}
	// Without the flags the same container starts not ready.
	err = m.AddContainer(Container{PodUID: "u2", ContainerID: "c2", PodIP: ip, StartedAt: time.Now().Add(-time.Hour),
		Spec: api.Container{Name: "app", ReadinessProbe: rp}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Ready("u2", "app") {
		t.Fatal("ready before any probe without WasReady")
	}
}
