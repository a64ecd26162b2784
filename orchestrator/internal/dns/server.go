package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	mdns "github.com/miekg/dns"
	"go.uber.org/zap"
)

// DefaultDomain is the cluster domain when Config.Domain is empty.
const DefaultDomain = "cluster.local"

// TTL is the time to live of every record and of negative answers, in
// seconds: CoreDNS's kubernetes plugin default.
const TTL = 5

// Config configures a Server.
type Config struct {
	// Client reads Services and EndpointSlices (list and watch, all
	// namespaces). Required.
	Client client.Interface
	// Domain is the cluster domain, a DNS name without the trailing dot.
	// Empty means DefaultDomain.
	Domain string
	// Address is the host:port served over UDP and TCP (one port for
	// both). Port 0 picks a free port, the same for both protocols.
	// Required.
	Address string
	// Logger receives the server's logs; nil means none.
	Logger *zap.Logger
}

// Validate returns every problem of c at once, each naming its field.
func (c Config) Validate() error {
	var errs []error
	if c.Client == nil {
		errs = append(errs, errors.New("dns: Config.Client: required"))
	}
	if c.Domain != "" {
		if err := ValidateDomain(c.Domain); err != nil {
			errs = append(errs, fmt.Errorf("dns: Config.Domain: %w", err))
		}
	}
	if _, port, err := net.SplitHostPort(c.Address); err != nil {
		errs = append(errs, fmt.Errorf("dns: Config.Address: %q: want host:port: %v", c.Address, err))
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		errs = append(errs, fmt.Errorf("dns: Config.Address: %q: port %q is not a number from 0 to 65535", c.Address, port))
	}
	return errors.Join(errs...)
}

// ValidateDomain returns an error unless domain is a lower-case DNS name
// of RFC 1123 labels, without a leading or trailing dot.
func ValidateDomain(domain string) error {
	if len(domain) > 253 {
		return fmt.Errorf("%q: longer than 253 characters", domain)
	}
	for _, l := range strings.Split(domain, ".") {
		if errs := api.IsDNS1123Label(l); len(errs) > 0 {
			return fmt.Errorf("%q: label %q: %s", domain, l, strings.Join(errs, "; "))
		}
	}
	return nil
}

// Server is a cluster DNS server. Create with New, then Start; Close
// stops it.
type Server struct {
	cfg    Config
	log    *zap.Logger
	zone   string // "cluster.local."
	soa    *mdns.SOA
	svcs   *informer.Informer
	slices *informer.Informer

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	udp     *mdns.Server
	tcp     *mdns.Server
	addr    string
	wg      sync.WaitGroup
}

// sliceIndex indexes EndpointSlices by "<ns>/<service name>".
const sliceIndex = "service"

// New returns an unstarted Server. Errors: Config.Validate's.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Domain == "" {
		cfg.Domain = DefaultDomain
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	log := cfg.Logger.Named("dns")
	zone := mdns.Fqdn(cfg.Domain)
	s := &Server{cfg: cfg, log: log, zone: zone}
	s.soa = &mdns.SOA{
		Hdr:     mdns.RR_Header{Name: zone, Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: TTL},
		Ns:      "ns.dns." + zone,
		Mbox:    "hostmaster." + zone,
		Serial:  1,
		Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: TTL,
	}
	s.svcs = informer.New(cfg.Client, &api.Service{}, client.ListOptions{}, log)
	s.svcs.AddIndex("namespace", informer.NamespaceIndex)
	s.slices = informer.New(cfg.Client, &api.EndpointSlice{}, client.ListOptions{}, log)
	s.slices.AddIndex(sliceIndex, func(o api.Object) []string {
		name := o.GetLabels()[api.LabelServiceName]
		if name == "" {
			return nil
		}
		return []string{api.Key(o.GetNamespace(), name)}
	})
	return s, nil
}

// Start binds the UDP and TCP sockets, starts the informers and serves
// until Close. It returns once both sockets answer. Errors: the
// sockets' (address in use, permission), or "dns: already started".
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closed {
		return errors.New("dns: already started")
	}
	pc, ln, err := listen(s.cfg.Address)
	if err != nil {
		return err
	}
	s.started = true
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Go(func() { s.svcs.Run(runCtx) })
	s.wg.Go(func() { s.slices.Run(runCtx) })
	h := mdns.HandlerFunc(s.serveDNS)
	s.udp = &mdns.Server{PacketConn: pc, Handler: h}
	s.tcp = &mdns.Server{Listener: ln, Handler: h, ReadTimeout: 5 * time.Second, IdleTimeout: func() time.Duration { return 10 * time.Second }}
	for _, srv := range []*mdns.Server{s.udp, s.tcp} {
		up := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(up) }
		s.wg.Go(func() {
			if err := srv.ActivateAndServe(); err != nil {
				s.log.Error("dns server stopped", zap.Error(err))
			}
		})
		// Shutdown before the server has started would fail and leave
		// it running: wait until it is up.
		<-up
	}
	s.addr = pc.LocalAddr().String()
	s.log.Info("cluster DNS serving", zap.String("address", s.addr), zap.String("domain", s.cfg.Domain))
	return nil
}

// listen binds UDP and TCP on one port; for port 0 it retries a few free
// UDP ports until TCP can bind the same one.
func listen(addr string) (net.PacketConn, net.Listener, error) {
	host, port, _ := net.SplitHostPort(addr)
	for range 10 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dns: listen udp %s: %w", addr, err)
		}
		_, p, _ := net.SplitHostPort(pc.LocalAddr().String())
		ln, err := net.Listen("tcp", net.JoinHostPort(host, p))
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		if port != "0" {
			return nil, nil, fmt.Errorf("dns: listen tcp %s: %w", addr, err)
		}
	}
	return nil, nil, fmt.Errorf("dns: listen %s: no free port for both UDP and TCP", addr)
}

// Addr is the address served (UDP and TCP), after Start; "" before.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// WaitSynced blocks until both informers have listed once, or ctx ends
// (its error then).
func (s *Server) WaitSynced(ctx context.Context) error {
	if err := s.svcs.WaitSynced(ctx); err != nil {
		return err
	}
	return s.slices.WaitSynced(ctx)
}

// Close stops serving and waits for every goroutine the Server started.
// It may be called more than once, and before Start. It returns no error
// but ctx's when the servers do not stop in time.
func (s *Server) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	started := s.started
	s.mu.Unlock()
	if !started {
		return nil
	}
	var errs []error
	for _, srv := range []*mdns.Server{s.udp, s.tcp} {
		if err := srv.ShutdownContext(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, ctx.Err())
	}
	return errors.Join(errs...)
}
