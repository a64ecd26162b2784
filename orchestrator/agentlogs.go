package orchestrator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
	"go.uber.org/zap"
)

// Pod logs of agent-only nodes: what this file does.
//
// A server reads the log of a Pod on another server through that server's
// cluster port (podlogs.go). An agent-only node has no cluster port: it
// listens on Config.LogAddress (TLS 1.3, the handshake verifying a client
// certificate of the cluster CA), advertises that address as the RPC
// address of its gossip record, and answers there the same log request
// frame as the svcLogs service, to servers only. A server dials it with
// its node certificate and checks that the certificate it meets names that
// agent.

// maxLogConns bounds the log connections an agent-only node serves at once;
// more are closed at once.
const maxLogConns = 64

// listenLogs binds the agent-only node's log listener.
func (c *Cluster) listenLogs() error {
	addr := c.cfg.LogAddress
	if addr == "" {
		addr = net.JoinHostPort(c.cfg.GossipBindAddr, "0")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("orchestrator: Config.LogAddress: %w", err)
	}
	c.mu.Lock()
	c.agentOnly.logLn = ln
	c.mu.Unlock()
	return nil
}

// logRecordAddr is the log listener's address for the gossip record, or
// "" when it is bound to all interfaces (see advertiseLogs).
func (c *Cluster) logRecordAddr() string {
	host, _, err := net.SplitHostPort(c.agentOnly.logLn.Addr().String())
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return ""
	}
	return c.agentOnly.logLn.Addr().String()
}

// advertiseLogs puts the log listener's address in the gossip record when
// it is bound to all interfaces: the host is the one gossip advertises.
func (c *Cluster) advertiseLogs(ctx context.Context) error {
	if c.logRecordAddr() != "" {
		return nil
	}
	_, port, _ := net.SplitHostPort(c.agentOnly.logLn.Addr().String())
	host, _, err := net.SplitHostPort(c.gosp.Addr())
	if err != nil {
		return fmt.Errorf("orchestrator: gossip address %q: %w", c.gosp.Addr(), err)
	}
	addr := net.JoinHostPort(host, port)
	if err := c.gosp.UpdateRecord(ctx, func(r *membership.Record) { r.RPCAddr = addr }); err != nil {
		return fmt.Errorf("orchestrator: gossip: advertising the log address: %w", err)
	}
	return nil
}

// serveAgentLogs answers log requests on the listener until ctx ends; it
// returns when every connection it served has closed.
func (c *Cluster) serveAgentLogs(ctx context.Context) {
	c.mu.Lock()
	ln := c.agentOnly.logLn
	c.mu.Unlock()
	cfg := trust.ServerConfig(c.trust.creds, c.trust.pool, time.Now)
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { _ = ln.Close() })
	defer stop()
	slots := make(chan struct{}, maxLogConns)
	for backoff := 5 * time.Millisecond; ; {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			c.agentOnly.warn.Warn("log-accept", "accepting a log connection failed; retrying", zap.Error(err))
			if !c.sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		select {
		case slots <- struct{}{}:
		default:
			c.agentOnly.warn.Warn("log-conns", "too many log connections; closing one", zap.Int("max", maxLogConns))
			_ = conn.Close()
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			tc := tls.Server(conn, cfg)
			hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := tc.HandshakeContext(hctx)
			cancel()
			if err != nil {
				_ = conn.Close()
				c.log.Debug("log connection handshake failed", zap.Stringer("remote", conn.RemoteAddr()), zap.Error(err))
				return
			}
			c.serveLogs(ctx, tc) // refuses anybody but a server
		})
	}
}

// dialAgentLogs opens a log connection to the agent-only node named node
// at addr, with this server's certificate, checking that the peer's
// certificate names that agent.
func (c *Cluster) dialAgentLogs(ctx context.Context, node, addr string) (net.Conn, error) {
	if c.trust == nil {
		return nil, errors.New("agent-only nodes need cluster trust")
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	creds, pool := c.trust.creds, c.trust.pool
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // VerifyConnection checks the chain against the cluster's pool
		VerifyConnection: func(cs tls.ConnectionState) error {
			id, err := pool.Verify(cs.PeerCertificates, x509.ExtKeyUsageServerAuth, time.Now())
			if err != nil {
				return err
			}
			if id.NodeName != node || id.Role != trust.RoleAgent {
				return fmt.Errorf("the certificate at %s names %s %q, not agent %q", addr, id.Role, id.NodeName, node)
			}
			return nil
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return creds.TLSCertificate(), nil },
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = raw.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}
