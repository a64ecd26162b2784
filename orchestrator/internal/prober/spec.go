package prober

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Kind says which of a container's probes a Result is about.
type Kind string

// Probe kinds, in Kubernetes' words (as in "Liveness probe failed: ...").
const (
	Liveness  Kind = "Liveness"
	Readiness Kind = "Readiness"
	Startup   Kind = "Startup"
)

func (k Kind) field() string {
	switch k {
	case Liveness:
		return "livenessProbe"
	case Readiness:
		return "readinessProbe"
	case Startup:
		return "startupProbe"
	}
	return string(k) // a lifecycle hook's field path

}

// handlerKind is the probe's action.
type handlerKind int

const (
	handlerHTTP handlerKind = iota
	handlerTCP
	handlerExec
	handlerGRPC
)

// spec is a validated probe with defaults applied and ports resolved.
type spec struct {
	kind             Kind
	handler          handlerKind
	initialDelay     time.Duration
	period           time.Duration
	timeout          time.Duration
	successThreshold int32
	failureThreshold int32

	// host is "" when the probe targets the Pod IP (and so may go through
	// a NetworkProber); port is resolved to a number.
	host    string
	port    int
	path    string // httpGet path with query, starting with "/"
	https   bool
	headers http.Header
	hostHdr string // a "Host" entry of httpHeaders
	command []string
	service string // grpc
}

// buildSpec validates p (the kind's probe of c) and returns its spec.
// Every problem is returned at once, each naming its field path below the
// container ("livenessProbe.httpGet.port").
func buildSpec(kind Kind, p *api.Probe, c *api.Container) (*spec, error) {
	path := kind.field()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", path, field, fmt.Sprintf(format, args...)))
	}
	s := &spec{kind: kind}

	n := 0
	if h := p.Exec; h != nil {
		n++
		s.handler = handlerExec
		if len(h.Command) == 0 {
			bad("exec.command", "required")
		}
		s.command = h.Command
	}
	if h := p.HTTPGet; h != nil {
		n++
		s.handler = handlerHTTP
		s.port = resolvePort(h.Port, c, "httpGet.port", bad)
		s.host = h.Host
		switch h.Scheme {
		case "", api.URISchemeHTTP:
		case api.URISchemeHTTPS:
			s.https = true
		default:
			bad("httpGet.scheme", "unsupported value %q (want HTTP or HTTPS)", h.Scheme)
		}
		s.path = h.Path
		if s.path == "" {
			s.path = "/"
		}
		if !strings.HasPrefix(s.path, "/") {
			s.path = "/" + s.path
		}
		if _, err := url.ParseRequestURI(s.path); err != nil {
			bad("httpGet.path", "invalid path %q: %v", h.Path, err)
		}
		s.headers = http.Header{}
		for i, hd := range h.HTTPHeaders {
			if hd.Name == "" || strings.ContainsAny(hd.Name, " :\r\n\t") {
				bad(fmt.Sprintf("httpGet.httpHeaders[%d].name", i), "invalid header name %q", hd.Name)
				continue
			}
			if strings.ContainsAny(hd.Value, "\r\n") {
				bad(fmt.Sprintf("httpGet.httpHeaders[%d].value", i), "must not contain line breaks")
				continue
			}
			if strings.EqualFold(hd.Name, "Host") {
				s.hostHdr = hd.Value
				continue
			}
			s.headers.Add(hd.Name, hd.Value)
		}
		if s.headers.Get("User-Agent") == "" {
			s.headers.Set("User-Agent", userAgent)
		}
		if s.headers.Get("Accept") == "" {
			s.headers.Set("Accept", "*/*")
		}
	}
	if h := p.TCPSocket; h != nil {
		n++
		s.handler = handlerTCP
		s.port = resolvePort(h.Port, c, "tcpSocket.port", bad)
		s.host = h.Host
	}
	if h := p.GRPC; h != nil {
		n++
		s.handler = handlerGRPC
		if h.Port < 1 || h.Port > 65535 {
			bad("grpc.port", "must be between 1 and 65535, got %d", h.Port)
		}
		s.port = int(h.Port)
		if h.Service != nil {
			s.service = *h.Service
		}
	}
	switch {
	case n == 0:
		errs = append(errs, fmt.Errorf("%s: must specify a handler type (exec, httpGet, tcpSocket or grpc)", path))
	case n > 1:
		errs = append(errs, fmt.Errorf("%s: may not specify more than 1 handler type", path))
	}

	if p.InitialDelaySeconds < 0 {
		bad("initialDelaySeconds", "must be >= 0, got %d", p.InitialDelaySeconds)
	}
	s.initialDelay = time.Duration(p.InitialDelaySeconds) * time.Second
	switch {
	case p.PeriodMilliseconds < 0:
		bad("periodMilliseconds", "must be >= 0, got %d", p.PeriodMilliseconds)
	case p.PeriodMilliseconds > 0:
		s.period = time.Duration(p.PeriodMilliseconds) * time.Millisecond
	case p.PeriodSeconds < 0:
		bad("periodSeconds", "must be >= 1, got %d", p.PeriodSeconds)
	case p.PeriodSeconds == 0:
		s.period = time.Duration(api.DefaultProbePeriodSeconds) * time.Second
	default:
		s.period = time.Duration(p.PeriodSeconds) * time.Second
	}
	s.timeout = time.Duration(p.TimeoutSeconds) * time.Second
	if p.TimeoutSeconds == 0 {
		s.timeout = time.Duration(api.DefaultProbeTimeoutSeconds) * time.Second
	} else if p.TimeoutSeconds < 0 {
		bad("timeoutSeconds", "must be >= 1, got %d", p.TimeoutSeconds)
	}
	s.successThreshold = p.SuccessThreshold
	if s.successThreshold == 0 {
		s.successThreshold = api.DefaultProbeSuccessThreshold
	} else if s.successThreshold < 0 {
		bad("successThreshold", "must be >= 1, got %d", p.SuccessThreshold)
	} else if kind != Readiness && s.successThreshold != 1 {
		bad("successThreshold", "must be 1 for %s probes, got %d", strings.ToLower(string(kind)), p.SuccessThreshold)
	}
	s.failureThreshold = p.FailureThreshold
	if s.failureThreshold == 0 {
		s.failureThreshold = api.DefaultProbeFailureThreshold
	} else if s.failureThreshold < 0 {
		bad("failureThreshold", "must be >= 1, got %d", p.FailureThreshold)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func resolvePort(p api.IntOrString, c *api.Container, field string, bad func(string, string, ...any)) int {
	if p.Type == api.String {
		if p.StrVal == "" {
			bad(field, "required")
			return 0
		}
	}
	n, ok := api.FindContainerPort(c, p)
	if !ok {
		bad(field, "port name %q is not declared in the container's ports", p.StrVal)
		return 0
	}
	if n < 1 || n > 65535 {
		bad(field, "must be between 1 and 65535, got %d", n)
		return 0
	}
	return int(n)
}

// addr returns host:port for the probe against podIP.
func (s *spec) addr(podIP string) string {
	h := s.host
	if h == "" {
		h = podIP
	}
	return net.JoinHostPort(h, strconv.Itoa(s.port))
}
