package trust

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// ServerConfig is the TLS configuration of a node's listening side: TLS 1.3
// only, presenting creds followed by the trusted CA certificates that
// signed them (a joining node checks the CA against its token). A client
// certificate is optional (a joining node has none yet), but one that is
// given must pass pool.Verify for client authentication or the handshake
// fails: crypto/tls first checks the chain against the Pool's CAs (its
// error for a stranger: "x509: certificate signed by unknown authority"),
// then Verify's sentinel errors cover expiry by the injected clock,
// revocation and the node subject. Read who connected with PeerIdentity. creds and
// pool are read at every handshake, so Credentials.Set, Pool.SetCAs and
// Pool.SetRevoked apply to the next connection. Session tickets are off,
// so every connection is verified in full. now is the clock (time.Now if
// nil).
//
// With nil (or never-Set) creds every handshake fails; a nil Pool trusts
// nothing. The caller may set more fields on the returned config
// (NextProtos, for one) before using it; each handshake runs on a clone
// of it.
func ServerConfig(creds *Credentials, pool *Pool, now func() time.Time) *tls.Config {
	if now == nil {
		now = time.Now
	}
	s := &servingCerts{creds: creds}
	cfg := &tls.Config{
		MinVersion:             tls.VersionTLS13,
		ClientAuth:             tls.VerifyClientCertIfGiven,
		SessionTicketsDisabled: true,
		Time:                   now,
	}
	cfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		st := pool.load()
		c := cfg.Clone()
		c.GetConfigForClient = nil
		c.ClientCAs = st.roots
		c.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return s.get(st) }
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return nil
			}
			_, err := st.verify(cs.PeerCertificates, x509.ExtKeyUsageClientAuth, now())
			return err
		}
		return c, nil
	}
	return cfg
}

// servingCerts caches the chain a server presents for one pair of
// Credentials and Pool states, so a handshake checks signatures only after
// either changed.
type servingCerts struct {
	creds *Credentials
	last  atomic.Pointer[servingCert]
}

type servingCert struct {
	creds *credState
	pool  *poolState
	cert  *tls.Certificate
}

func (s *servingCerts) get(st *poolState) (*tls.Certificate, error) {
	cs := s.creds.load()
	if cs.cert == nil {
		return nil, errors.New("trust: server has no credentials")
	}
	if last := s.last.Load(); last != nil && last.creds == cs && last.pool == st {
		return last.cert, nil
	}
	c := &tls.Certificate{Certificate: st.servingChain(cs.cert), PrivateKey: cs.key, Leaf: cs.cert}
	s.last.Store(&servingCert{creds: cs, pool: st, cert: c})
	return c, nil
}

// ClientConfig is the TLS configuration of a node dialling another node:
// TLS 1.3 only, presenting creds (none if creds is nil or never Set) when
// the server asks; a nil Pool trusts nothing. The server's certificate must pass pool.Verify for server
// authentication and name a RoleServer node, and, when expectName is not
// empty, the node expectName; otherwise the handshake fails with an error
// wrapping the Verify sentinel or ErrUnexpectedPeer. No host name is
// checked: a node is known by the name in its certificate, not by its
// address. crypto/tls's own verification is off (InsecureSkipVerify)
// because its roots are fixed at construction; the Pool, read at every
// handshake, replaces it. now is the clock (time.Now if nil).
func ClientConfig(creds *Credentials, pool *Pool, expectName string, now func() time.Time) *tls.Config {
	if now == nil {
		now = time.Now
	}
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS13,
		InsecureSkipVerify: true, // VerifyConnection checks against the Pool
		Time:               now,
		VerifyConnection: func(cs tls.ConnectionState) error {
			id, err := pool.Verify(cs.PeerCertificates, x509.ExtKeyUsageServerAuth, now())
			if err != nil {
				return err
			}
			if id.Role != RoleServer {
				return fmt.Errorf("%w: %q has the %s role; want a server", ErrUnexpectedPeer, id.NodeName, id.Role)
			}
			if expectName != "" && id.NodeName != expectName {
				return fmt.Errorf("%w: the certificate names node %q; want %q", ErrUnexpectedPeer, id.NodeName, expectName)
			}
			return nil
		},
	}
	if creds != nil {
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return creds.TLSCertificate(), nil
		}
	}
	return cfg
}

// PeerIdentity verifies the certificate the peer of an established
// connection presented and returns whom it names: for the accepting side
// (raftstore's AuthorizePeer hook), so the certificate is checked for
// client authentication (node certificates carry both uses). It re-checks
// against pool as it is now, so a certificate revoked since the handshake
// is refused. The error wraps ErrNoCertificate when the peer presented
// none, or a sentinel of Pool.Verify.
func PeerIdentity(cs tls.ConnectionState, pool *Pool, now time.Time) (Identity, error) {
	if len(cs.PeerCertificates) == 0 {
		return Identity{}, fmt.Errorf("%w: the peer presented none", ErrNoCertificate)
	}
	return pool.Verify(cs.PeerCertificates, x509.ExtKeyUsageClientAuth, now)
}
