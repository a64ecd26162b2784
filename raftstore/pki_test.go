package raftstore

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"slices"
	"testing"
	"time"
)

// testCA is a certificate authority for one test, ECDSA P-256.
type testCA struct {
	t    testing.TB
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t testing.TB, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serialNumber(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{t: t, cert: cert, key: key, pool: pool}
}

func serialNumber(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// issue mints a certificate for name, usable as server and as client
// certificate on 127.0.0.1 and localhost, with role as its organizational
// unit (what serversOnly checks), valid until notAfter.
func (ca *testCA) issue(name, role string, notAfter time.Time) tls.Certificate {
	ca.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		ca.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serialNumber(ca.t),
		Subject:      pkix.Name{CommonName: name, OrganizationalUnit: []string{role}},
		NotBefore:    time.Now().Add(-2 * time.Hour),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		ca.t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// server mints a valid certificate of role "server".
func (ca *testCA) server(name string) tls.Certificate {
	return ca.issue(name, "server", time.Now().Add(time.Hour))
}

// nodeTLS is a node's Config.TLS: cert, and ca for peers both ways.
func (ca *testCA) nodeTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		RootCAs:      ca.pool,
		ClientCAs:    ca.pool,
		ClientAuth:   tls.VerifyClientCertIfGiven,
	}
}

// clientTLS is what a client outside the cluster uses: it trusts ca for
// the server and presents cert, if any, whatever CAs the server asks for.
func (ca *testCA) clientTLS(cert ...tls.Certificate) *tls.Config {
	c := &tls.Config{RootCAs: ca.pool, ServerName: "127.0.0.1"}
	if len(cert) > 0 {
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert[0], nil }
	}
	return c
}

// serversOnly is an AuthorizePeer that admits certificates of role
// "server", as an orchestrator would.
func serversOnly(cs tls.ConnectionState) error {
	if ou := cs.PeerCertificates[0].Subject.OrganizationalUnit; !slices.Contains(ou, "server") {
		return fmt.Errorf("role %v is not server", ou)
	}
	return nil
}

// withTLS runs the cluster with mutual TLS: each node gets a server
// certificate from ca and admits only servers. Use it with onTCP, after
// any withConfig.
func withTLS(ca *testCA) clusterOpt {
	return func(c *testCluster) {
		prev := c.mutate
		c.mutate = func(cfg *Config) {
			if prev != nil {
				prev(cfg)
			}
			cfg.TLS = ca.nodeTLS(ca.server(cfg.NodeID))
			cfg.AuthorizePeer = serversOnly
		}
	}
}

// dynamicTLS is a node's Config.TLS built as an orchestrator builds it
// for roots that change at run time (see ExampleConfig_dynamicRoots):
// the server side per connection, the client side verifying in
// VerifyConnection. serverSide may change the per-connection config.
func (ca *testCA) dynamicTLS(cert tls.Certificate, serverSide func(*tls.Config)) *tls.Config {
	return &tls.Config{
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			c := &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: ca.pool, ClientAuth: tls.VerifyClientCertIfGiven}
			if serverSide != nil {
				serverSide(c)
			}
			return c, nil
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil },
		InsecureSkipVerify:   true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return fmt.Errorf("no server certificate")
			}
			opts := x509.VerifyOptions{Roots: ca.pool, Intermediates: x509.NewCertPool(),
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		},
	}
}
