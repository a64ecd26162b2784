package raftstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// peerTLS holds the TLS configurations a Store derives from Config.TLS.
// The caller's config is never changed: both sides are clones.
type peerTLS struct {
	server *tls.Config
	client *tls.Config
	// keepServerName: the caller set ServerName, or verifies servers
	// itself (InsecureSkipVerify with VerifyConnection), so a dial leaves
	// ServerName as it is instead of setting it to the dialed host.
	keepServerName bool
}

func newPeerTLS(c *tls.Config) *peerTLS {
	if c == nil {
		return nil
	}
	server := c.Clone()
	hardenServer(server)
	if get := c.GetConfigForClient; get != nil {
		server.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
			cfg, err := get(hello)
			if err != nil || cfg == nil {
				return cfg, err // nil: crypto/tls goes on with server
			}
			if err := checkVerifiesClients(cfg); err != nil {
				return nil, err
			}
			cfg = cfg.Clone()
			hardenServer(cfg)
			return cfg, nil
		}
	}
	client := c.Clone()
	client.MinVersion = tls.VersionTLS13
	return &peerTLS{
		server:         server,
		client:         client,
		keepServerName: c.ServerName != "" || (c.InsecureSkipVerify && c.VerifyConnection != nil),
	}
}

// hardenServer makes a server config TLS 1.3 only and verifies every
// connection in full: a resumed session would skip checking the client's
// certificate against the CAs of the moment.
func hardenServer(c *tls.Config) {
	c.MinVersion = tls.VersionTLS13
	c.SessionTicketsDisabled = true
}

// checkVerifiesClients refuses a server config that would let a client
// certificate through unverified (RequestClientCert, RequireAnyClientCert)
// or verify it against the system roots (nil ClientCAs).
func checkVerifiesClients(c *tls.Config) error {
	if c.ClientAuth < tls.VerifyClientCertIfGiven {
		return fmt.Errorf("raftstore: TLS config for this client has ClientAuth %v, want VerifyClientCertIfGiven or RequireAndVerifyClientCert", c.ClientAuth)
	}
	if c.ClientCAs == nil {
		return errors.New("raftstore: TLS config for this client has no ClientCAs")
	}
	return nil
}

// clientFor returns the config to dial addr with.
func (p *peerTLS) clientFor(addr string) *tls.Config {
	if p.keepServerName {
		return p.client
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	c := p.client.Clone()
	c.ServerName = host
	return c
}

// verifiedPeer reports why cs does not authenticate a peer server, or nil:
// Raft and forwarding need a client certificate that verified against
// ClientCAs. (With VerifyClientCertIfGiven a client may present none; a
// certificate with no verified chain cannot occur with the ClientAuth
// values allowed, and is refused all the same.)
func verifiedPeer(cs tls.ConnectionState) error {
	switch {
	case len(cs.PeerCertificates) == 0:
		return errors.New("no client certificate")
	case len(cs.VerifiedChains) == 0:
		return errors.New("client certificate not verified")
	}
	return nil
}

// validateTransport checks the fields of the transport block: TLS,
// AuthorizePeer, Services and the connection limits. c has its defaults.
func (c Config) validateTransport(bad func(field, format string, args ...any)) {
	if t := c.TLS; t != nil {
		if c.Network != nil {
			bad("TLS", "not allowed with Network: the in-memory network carries no TLS")
		}
		if len(t.Certificates) == 0 && t.GetCertificate == nil && t.GetConfigForClient == nil {
			bad("TLS.Certificates", "no server certificate: set Certificates, GetCertificate or GetConfigForClient")
		}
		if len(t.Certificates) == 0 && t.GetClientCertificate == nil {
			bad("TLS.Certificates", "no client certificate: set Certificates or GetClientCertificate (peers accept Raft and forwarding only from a verified client certificate)")
		}
		if t.GetConfigForClient == nil {
			if err := checkVerifiesClients(t); err != nil {
				if t.ClientAuth < tls.VerifyClientCertIfGiven {
					bad("TLS.ClientAuth", "%v does not verify client certificates: use VerifyClientCertIfGiven or RequireAndVerifyClientCert", t.ClientAuth)
				}
				if t.ClientCAs == nil {
					bad("TLS.ClientCAs", "required: the CAs that sign peers' client certificates (nil would trust the system roots)")
				}
			}
		}
		switch {
		case t.InsecureSkipVerify && t.VerifyConnection == nil && t.VerifyPeerCertificate == nil:
			bad("TLS.InsecureSkipVerify", "set without VerifyConnection or VerifyPeerCertificate: servers would go unverified")
		case !t.InsecureSkipVerify && t.RootCAs == nil:
			bad("TLS.RootCAs", "required: the CAs that sign peers' server certificates (nil would trust the system roots)")
		}
		if t.MaxVersion != 0 && t.MaxVersion < tls.VersionTLS13 {
			bad("TLS.MaxVersion", "%s is below TLS 1.3, which the Store requires", tls.VersionName(t.MaxVersion))
		}
	}
	if c.AuthorizePeer != nil && c.TLS == nil {
		bad("AuthorizePeer", "requires TLS: without it peers present no certificate")
	}
	for b, h := range c.Services {
		field := fmt.Sprintf("Services[%q]", b)
		switch {
		case b == 0 || b == muxRaft || b == muxRPC:
			bad(field, "reserved: 0, 'R' (Raft) and 'F' (forwarding) cannot be services")
		case h == nil:
			bad(field, "nil handler")
		}
	}
	if c.MaxConns < 0 {
		bad("MaxConns", "%d is negative", c.MaxConns)
	}
	if c.MaxConnsPerHost < 0 {
		bad("MaxConnsPerHost", "%d is negative", c.MaxConnsPerHost)
	}
	if c.HandshakeTimeout < 10*time.Millisecond {
		bad("HandshakeTimeout", "%v is below 10ms", c.HandshakeTimeout)
	}
	if c.IdleTimeout < 100*time.Millisecond {
		bad("IdleTimeout", "%v is below 100ms", c.IdleTimeout)
	}
}
