package prober

import (
	"encoding/binary"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// healthServer speaks grpc.health.v1.Health/Check over cleartext HTTP/2
// as the gRPC wire protocol specifies (length-prefixed messages, status
// in trailers), written against the spec rather than with grpc-go, which
// this module does not depend on.
type healthServer struct {
	*httptest.Server
	statuses    map[string]*atomic.Uint64 // service -> ServingStatus
	unimplement bool
	lastCT      atomic.Value
}

func newHealthServer(t *testing.T, statuses map[string]uint64, unimplement bool) *healthServer {
	t.Helper()
	s := &healthServer{statuses: map[string]*atomic.Uint64{}, unimplement: unimplement}
	for k, v := range statuses {
		s.statuses[k] = new(atomic.Uint64)
		s.statuses[k].Store(v)
	}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	s.Config.Protocols = &p
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *healthServer) serve(w http.ResponseWriter, r *http.Request) {
	s.lastCT.Store(r.Header.Get("Content-Type") + " " + r.Proto)
	if s.unimplement || r.URL.Path != grpcHealthPath {
		// Trailers-only response, as gRPC servers send for an unknown method.
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Grpc-Status", "12")
		w.Header().Set("Grpc-Message", "unknown service grpc.health.v1.Health")
		w.WriteHeader(http.StatusOK)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var service string
	if len(body) >= 5 {
		msg := body[5:]
		if len(msg) > 2 && msg[0] == 0x0a {
			l, n := binary.Uvarint(msg[1:])
			service = string(msg[1+n : 1+n+int(l)])
		}
	}
	w.Header().Set("Content-Type", "application/grpc")
	w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
	w.WriteHeader(http.StatusOK)
	st, ok := s.statuses[service]
	if !ok {
		w.Header().Set("Grpc-Status", "5")
		w.Header().Set("Grpc-Message", "unknown service")
		return
	}
	// HealthCheckResponse{status}, with an unknown field 7 first to check
	// that the client skips what it does not know.
	msg := []byte{7<<3 | 2, 2, 'h', 'i', 0x08}
	msg = binary.AppendUvarint(msg, st.Load())
	frame := make([]byte, 5)
	binary.BigEndian.PutUint32(frame[1:], uint32(len(msg)))
	_, _ = w.Write(append(frame, msg...))
	w.Header().Set("Grpc-Status", "0")
}

func grpcProbe(port int32, service *string) *api.Probe {
	return fast(api.ProbeHandler{GRPC: &api.GRPCAction{Port: port, Service: service}})
}

func TestGRPC(t *testing.T) {
	srv := newHealthServer(t, map[string]uint64{"": 1, "db": 2, "odd": 9}, false)
	ip, port := hostPort(t, srv.Listener.Addr().String())
	db, odd, missing := "db", "odd", "missing"
	tests := []struct {
		name    string
		probe   *api.Probe
		ok      bool
		message string
	}{
		{"overall SERVING", grpcProbe(port, nil), true, ""},
		{"service NOT_SERVING", grpcProbe(port, &db), false, `service unhealthy (responded with "NOT_SERVING")`},
		{"unknown enum value", grpcProbe(port, &odd), false, `responded with "9"`},
		{"unknown service", grpcProbe(port, &missing), false, "status 5: unknown service"},
		{"nothing listening", grpcProbe(closedPort(t), nil), false, "failed to connect service"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, c := newManager(t, Config{})
			if err := m.AddContainer(Container{PodUID: "u", ContainerID: "c", PodIP: ip,
				Spec: api.Container{Name: "g", ReadinessProbe: tc.probe}}); err != nil {
				t.Fatal(err)
			}
			r := c.wait(t, waitLong, "result", func(Result) bool { return true })
			if r.Succeeded != tc.ok || !strings.Contains(r.Message, tc.message) {
				t.Fatalf("got %+v, want ok=%v message with %q", r, tc.ok, tc.message)
			}
		})
	}
	if got, _ := srv.lastCT.Load().(string); got != "application/grpc HTTP/2.0" {
		t.Fatalf("request was %q, want gRPC over HTTP/2", got)
	}
	// Flip the overall status: the probe follows.
	m, c := newManager(t, Config{})
	if err := m.AddContainer(Container{PodUID: "u", ContainerID: "c", PodIP: ip,
		Spec: api.Container{Name: "g", ReadinessProbe: grpcProbe(port, nil)}}); err != nil {
		t.Fatal(err)
	}
	c.wait(t, waitLong, "ready", func(r Result) bool { return r.Passing })
	srv.statuses[""].Store(2)
	c.wait(t, waitLong, "unready", func(r Result) bool { return r.Changed && !r.Passing })
}

func TestGRPCUnimplemented(t *testing.T) {
	srv := newHealthServer(t, nil, true)
	ip, port := hostPort(t, srv.Listener.Addr().String())
	m, c := newManager(t, Config{})
	if err := m.AddContainer(Container{PodUID: "u", ContainerID: "c", PodIP: ip,
		Spec: api.Container{Name: "g", LivenessProbe: grpcProbe(port, nil)}}); err != nil {
		t.Fatal(err)
	}
	r := c.wait(t, waitLong, "result", func(Result) bool { return true })
	if r.Succeeded || !strings.Contains(r.Message, "does not implement the grpc health protocol") {
		t.Fatalf("%+v", r)
	}
}

func TestGRPCWire(t *testing.T) {
	if got := grpcRequest(""); string(got) != "\x00\x00\x00\x00\x00" {
		t.Fatalf("empty request %q", got)
	}
	if got := grpcRequest("db"); string(got) != "\x00\x00\x00\x00\x04\x0a\x02db" {
		t.Fatalf("request %q", got)
	}
	for _, bad := range [][]byte{{0x08}, {0x0a, 5, 'a'}, {0x0b}, {0x09, 1, 2}} {
		if _, err := parseHealthResponse(bad); err == nil {
			t.Errorf("parseHealthResponse(%x) accepted malformed input", bad)
		}
	}
	if st, err := parseHealthResponse([]byte{0x0d, 1, 2, 3, 4, 0x08, 1}); err != nil || st != 1 {
		t.Fatalf("fixed32 skip: %d %v", st, err)
	}
}
