package orchestrator

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/authn"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
	"golang.org/x/net/http2"
)

// The Kubernetes API listener of a server node: what this file does.
//
// Start binds Config.APIAddress before gossip starts, so that the node's
// gossip record carries the API address (membership.Record.APIAddr) and
// every node learns where each server serves the API. Once the node runs,
// keepAPI follows the cluster CA and the revoked serials in the store and
// keeps a serving certificate of the CA for this node (new when the CA
// changes, renewed once two thirds of it have passed); handshakes before
// the first one fail. The http.Server's requests run under the node's run
// context, so Shutdown ends watches and followed logs and waits for them.
//
// On in-memory test networks there is no cluster trust, but the API is
// still served over TLS with client certificates: keepAPI makes a cluster
// CA (create-if-absent, so the servers agree on the first one stored) and
// keeps it in the store under the same key as with trust, and the node
// follows it in a Pool of its own.

// API listener limits.
const (
	apiReadHeaderTimeout = 10 * time.Second
	apiIdleTimeout       = 2 * time.Minute
	apiMaxHeaderBytes    = 1 << 20
	// apiMaxConcurrentStreams is how many requests one HTTP/2 connection
	// may have open at once: kube-apiserver's 1,000 rather than Go's 250,
	// so that a client multiplexing its watches over one connection per
	// server (as client-go does) is not made to open more.
	apiMaxConcurrentStreams = 1000
	// apiDrainTime is how long requests in flight at Shutdown may go on
	// before their contexts end (which ends watches and followed logs).
	apiDrainTime = time.Second
	// apiShutdownGrace bounds how long Shutdown waits for requests to end
	// before it closes their connections.
	apiShutdownGrace = 5 * time.Second
)

// apiState is a server node's API listener and what it needs at run time.
type apiState struct {
	// pool verifies client certificates: the node's trust Pool, or (trust
	// off) one that keepAPI follows.
	pool    *trust.Pool
	ownPool bool
	tokens  *authn.Tokens

	ln       net.Listener
	addr     string // the bound address, after listenAPI
	serving  atomic.Pointer[tls.Certificate]
	servedBy string // fingerprint of the CA that signed serving (keepAPI only)

	mu  sync.Mutex
	srv *http.Server
}

func newAPIState(c *Cluster) *apiState {
	a := &apiState{}
	if c.trust != nil {
		a.pool = c.trust.pool
	} else {
		a.pool, a.ownPool = trust.NewPool(), true
	}
	return a
}

// listenAPI reads the token file and binds the API address.
func (c *Cluster) listenAPI() error {
	a := c.api
	if c.cfg.APITokenFile != "" {
		tokens, err := authn.ReadTokenFile(c.cfg.APITokenFile)
		if err != nil {
			return fmt.Errorf("orchestrator: Config.APITokenFile: %w", err)
		}
		a.tokens = tokens
	}
	ln, err := net.Listen("tcp", c.cfg.APIAddress)
	if err != nil {
		return fmt.Errorf("orchestrator: Config.APIAddress: %w", err)
	}
	a.ln, a.addr = ln, ln.Addr().String()
	return nil
}

// APIAddr returns the address the Kubernetes API listens on (host:port;
// the host as bound, so "[::]:6443" for ":6443"), or "" before Start or
// when Config.APIAddress is empty.
func (c *Cluster) APIAddr() string {
	if c.api == nil {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.api.addr
}

// apiRecordAddr is the API address this node puts in its gossip record
// before gossip starts (see recordAddr).
func (c *Cluster) apiRecordAddr() string { return recordAddr(c.api.addr) }

// advertiseAPI puts the API address in the gossip record when the API is
// bound to all interfaces (see advertise).
func (c *Cluster) advertiseAPI(ctx context.Context) error {
	if c.api == nil {
		return nil
	}
	return c.advertise(ctx, "the API address", c.api.addr, func(r *membership.Record, addr string) { r.APIAddr = addr })
}

// recordAddr is a bound address as a gossip record may carry it before
// gossip starts: as is, or "" when it is bound to all interfaces
// (":6443"), which advertise fills in once gossip knows the host it
// advertises (a record's addresses must name a host).
func recordAddr(bound string) string {
	host, _, err := net.SplitHostPort(bound)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return ""
	}
	return bound
}

// advertise sets a record address with set when bound is bound to all
// interfaces: the host is the one gossip advertises. what names the
// address in the error.
func (c *Cluster) advertise(ctx context.Context, what, bound string, set func(r *membership.Record, addr string)) error {
	if recordAddr(bound) != "" {
		return nil
	}
	_, port, _ := net.SplitHostPort(bound)
	host, _, err := net.SplitHostPort(c.gosp.Addr())
	if err != nil {
		return fmt.Errorf("orchestrator: gossip address %q: %w", c.gosp.Addr(), err)
	}
	addr := net.JoinHostPort(host, port)
	if err := c.gosp.UpdateRecord(ctx, func(r *membership.Record) { set(r, addr) }); err != nil {
		return fmt.Errorf("orchestrator: gossip: advertising %s: %w", what, err)
	}
	return nil
}

// serveAPI starts serving h on the bound listener while ctx (the node's
// run context) lasts. When ctx ends the server stops accepting, lets the
// requests in flight go on for apiDrainTime, then cancels their contexts
// (watches and followed logs end) and closes what is left after
// apiShutdownGrace.
func (c *Cluster) serveAPI(ctx context.Context, h http.Handler) {
	a := c.api
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	tlsCfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// Any client certificate is taken at the handshake and verified
		// by the authenticator, so that a stranger's, an expired or a
		// revoked one gets a 401 the client can read (as kube-apiserver
		// does) and token clients need none.
		ClientAuth: tls.RequestClientCert,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if cert := a.serving.Load(); cert != nil {
				return cert, nil
			}
			return nil, errors.New("orchestrator: the API serving certificate is not made yet (the cluster CA has not reached this node's store)")
		},
	}
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         tlsCfg,
		ReadHeaderTimeout: apiReadHeaderTimeout,
		IdleTimeout:       apiIdleTimeout,
		MaxHeaderBytes:    apiMaxHeaderBytes,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: apiMaxConcurrentStreams},
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	// HTTP/2 from golang.org/x/net rather than net/http's bundled copy,
	// for its write scheduler: the bundled server's round-robin one walks
	// every open stream of the connection, idle or not, on every frame it
	// sends (a connection carrying hundreds of watches spends more time
	// there than writing), while the random one keeps only the streams
	// with frames queued. Watch streams carry no priorities to respect.
	// x/net marks user-provided schedulers deprecated: from Go 1.27 its
	// http2 wraps net/http's server and ignores this one (nothing breaks;
	// the bundled scheduler serves), so drop this when moving to 1.27.
	if err := http2.ConfigureServer(srv, &http2.Server{
		MaxConcurrentStreams: apiMaxConcurrentStreams,
		NewWriteScheduler:    func() http2.WriteScheduler { return http2.NewRandomWriteScheduler() },
	}); err != nil {
		c.log.Error("the API server's HTTP/2 is not configured; serving the bundled one", zap.Error(err))
	}
	// Handshake failures of port scanners and plain-HTTP clients are the
	// clients' problem: Debug.
	if l, err := zap.NewStdLogAt(c.log.Named("apiserver"), zap.DebugLevel); err == nil {
		srv.ErrorLog = l
	}
	a.mu.Lock()
	a.srv = srv
	a.mu.Unlock()
	c.wg.Go(func() {
		if err := srv.ServeTLS(a.ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			c.log.Error("the API server stopped", zap.Error(err))
		}
	})
	stopped := make(chan struct{})
	c.wg.Go(func() {
		defer close(stopped)
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), apiShutdownGrace)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil {
			_ = srv.Close()
		}
	})
	c.wg.Go(func() {
		defer cancelRequests()
		<-ctx.Done()
		drain := time.NewTimer(apiDrainTime)
		defer drain.Stop()
		select {
		case <-drain.C:
		case <-stopped:
		}
	})
	c.wg.Go(func() { c.keepAPI(ctx) })
	c.log.Info("serving the Kubernetes API", zap.String("addr", a.addr))
}

// closeAPI closes a listener that never served (Start failed before).
func (c *Cluster) closeAPI() {
	a := c.api
	if a == nil || a.ln == nil {
		return
	}
	a.mu.Lock()
	served := a.srv != nil
	a.mu.Unlock()
	if !served {
		_ = a.ln.Close()
	}
}

// keepAPI runs while the node runs: (trust off) it makes sure the store
// holds a cluster CA; it follows the CA and the revoked serials in the
// store and keeps this node's serving certificate current.
func (c *Cluster) keepAPI(ctx context.Context) {
	if c.trust == nil {
		c.retry(ctx, "storing the API's cluster CA", c.ensureAPICA)
	}
	tick := time.NewTicker(c.renewCheckInterval())
	defer tick.Stop()
	c.followStore(ctx, prefixPKI, 100*time.Millisecond, tick.C, followFuncs{listed: c.refreshAPI, changed: c.refreshAPI, tick: c.refreshAPI})
}

// prefixPKI holds the CA, issued and revoked certificate records.
const prefixPKI = "/flotilla/pki/"

// ensureAPICA (trust off) stores a new cluster CA unless the store holds
// one; several servers may race, the first stored wins.
func (c *Cluster) ensureAPICA(ctx context.Context) error {
	if _, err := c.store.Get(ctx, keyCA, raftstore.Linearizable()); err == nil {
		return nil
	} else if !raftstore.IsNotFound(err) {
		return err
	}
	ca, err := trust.NewCA(time.Now(), 0)
	if err != nil {
		return err
	}
	key, err := ca.KeyPEM()
	if err != nil {
		return err
	}
	rec, err := json.Marshal(caRecord{Certs: ca.CertPEM(), Key: key})
	if err != nil {
		return err
	}
	if _, err := c.store.Create(ctx, keyCA, rec); err != nil && !errors.Is(err, raftstore.ErrAlreadyExists) {
		return err
	}
	return nil
}

// refreshAPI applies the store's CA and revoked serials to the API's Pool
// (trust off; with trust, keepTrust does) and renews the serving
// certificate when the CA changed or two thirds of it have passed.
func (c *Cluster) refreshAPI(ctx context.Context) {
	a := c.api
	ca, cas, err := c.storedCA(ctx)
	if err != nil {
		c.log.Debug("API: no cluster CA yet", zap.Error(err))
		return
	}
	if a.ownPool {
		a.pool.SetCAs(cas...)
		if kvs, _, err := c.store.List(ctx, prefixRevoked); err == nil {
			serials := make([]*big.Int, 0, len(kvs))
			for _, kv := range kvs {
				if n, ok := new(big.Int).SetString(strings.TrimPrefix(kv.Key, prefixRevoked), 16); ok {
					serials = append(serials, n)
				}
			}
			a.pool.SetRevoked(serials)
		} else {
			c.log.Warn("reading revoked certificates failed", zap.Error(err))
		}
	}
	now := time.Now()
	if cur := a.serving.Load(); cur != nil && a.servedBy == ca.Fingerprint() {
		leaf := cur.Leaf
		if now.Before(leaf.NotBefore.Add(leaf.NotAfter.Sub(leaf.NotBefore) * 2 / 3)) {
			return
		}
	}
	cert, err := c.issueAPIServing(ca, now)
	if err != nil {
		c.log.Error("API: issuing the serving certificate failed", zap.Error(err))
		return
	}
	a.serving.Store(cert)
	a.servedBy = ca.Fingerprint()
	c.log.Info("API serving certificate issued", zap.String("serial", serialHex(cert.Leaf)), zap.Strings("dns", cert.Leaf.DNSNames),
		zap.Int("ips", len(cert.Leaf.IPAddresses)), zap.Time("notAfter", cert.Leaf.NotAfter))
}

// apiSANs are the names the API serving certificate carries.
func (c *Cluster) apiSANs() ([]string, []net.IP) {
	dns := []string{c.cfg.NodeName, "localhost"}
	ips := []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
	addHost := func(hostport string) {
		host, _, err := net.SplitHostPort(hostport)
		if err != nil {
			return
		}
		if ip := net.ParseIP(host); ip != nil {
			if !ip.IsUnspecified() {
				ips = append(ips, ip)
			}
		} else if host != "" {
			dns = append(dns, host)
		}
	}
	addHost(c.api.addr)
	addHost(c.cfg.RaftBindAddr)
	addHost(c.GossipAddr())
	for _, san := range c.cfg.APISANs {
		if ip := net.ParseIP(san); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, san)
		}
	}
	return dns, ips
}

// issueAPIServing makes a new key and serving certificate for this node.
func (c *Cluster) issueAPIServing(ca *trust.CA, now time.Time) (*tls.Certificate, error) {
	key, err := trust.NewKey()
	if err != nil {
		return nil, err
	}
	dns, ips := c.apiSANs()
	leaf, err := ca.IssueServing(trust.ServingRequest{CommonName: c.cfg.NodeName, DNSNames: dns, IPs: ips,
		PublicKey: key.Public(), NotBefore: now, Validity: c.cfg.CertificateValidity})
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{leaf.Raw, ca.Cert().Raw}, PrivateKey: key, Leaf: leaf}, nil
}

// apiReady is /readyz's check: a leader is known, this node has applied
// everything it knows to be committed, and the cluster CA is stored.
func (c *Cluster) apiReady(ctx context.Context) error {
	st := c.store.State()
	switch {
	case st.Role == "shutdown":
		return errors.New("the node is shut down")
	case st.LeaderID == "":
		return errors.New("no Raft leader is known")
	case st.AppliedIndex < st.CommitIndex:
		return fmt.Errorf("the local store has applied index %d of %d committed", st.AppliedIndex, st.CommitIndex)
	}
	// Client certificates (AdminKubeconfig) are issued by the stored CA,
	// which the first leader stores just after it is elected.
	if _, err := c.store.Get(ctx, keyCA); err != nil {
		return fmt.Errorf("the cluster CA is not stored yet: %v", err)
	}
	return nil
}
