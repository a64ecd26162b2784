package raftstore_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"sync/atomic"
	"time"

	"github.com/flotilla-io/flotilla/raftstore"
)

// A node with mutual TLS: its certificate serves as server and client
// certificate, one CA signs every node's, AuthorizePeer admits only
// servers to Raft and forwarding, and a service on the same port answers
// clients with or without a certificate.
func Example_mutualTLS() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	ca, caKey := newCA()
	cert := issue(ca, caKey, "node-1", "server")
	pool := x509.NewCertPool()
	pool.AddCert(ca)

	cfg := raftstore.FastConfig()
	cfg.NodeID = "node-1"
	cfg.BindAddr = "127.0.0.1:0"
	cfg.TLS = &tls.Config{
		Certificates: []tls.Certificate{cert}, // both directions: serverAuth and clientAuth usages
		ClientCAs:    pool,                    // verifies peers' client certificates...
		ClientAuth:   tls.VerifyClientCertIfGiven,
		RootCAs:      pool, // ...and their server certificates
	}
	cfg.AuthorizePeer = func(cs tls.ConnectionState) error {
		if !slices.Contains(cs.PeerCertificates[0].Subject.OrganizationalUnit, "server") {
			return errors.New("not a server")
		}
		return nil
	}
	cfg.Services = map[byte]func(context.Context, net.Conn){
		'H': func(ctx context.Context, conn net.Conn) {
			n := len(conn.(*tls.Conn).ConnectionState().PeerCertificates)
			fmt.Fprintf(conn, "hello, client with %d certificate(s)\n", n)
		},
	}
	s, err := raftstore.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer s.Shutdown(context.Background())
	if err := s.Bootstrap(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := s.Put(ctx, "greeting", []byte("hi")); err != nil {
		fmt.Println(err)
		return
	}

	// A node reaches another's service with Dial, presenting its own
	// certificate.
	conn, err := s.Dial(ctx, s.Addr(), 'H')
	if err != nil {
		fmt.Println(err)
		return
	}
	line, _ := bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	fmt.Print(line)
	// Output:
	// hello, client with 1 certificate(s)
}

// Roots and certificates that change at run time (CA rotation, renewal):
// the server side builds its config per connection from the current ones,
// the client side verifies the server in VerifyConnection against the
// current roots. Identity (the role) is left to AuthorizePeer.
func ExampleConfig_dynamicRoots() {
	var roots atomic.Pointer[x509.CertPool]  // swapped on rotation
	var cert atomic.Pointer[tls.Certificate] // swapped on renewal

	cfg := raftstore.FastConfig()
	cfg.TLS = &tls.Config{
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return &tls.Config{
				Certificates: []tls.Certificate{*cert.Load()},
				ClientCAs:    roots.Load(),
				ClientAuth:   tls.VerifyClientCertIfGiven,
			}, nil
		},
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return cert.Load(), nil
		},
		InsecureSkipVerify: true, // the check is VerifyConnection's, below
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("no server certificate")
			}
			opts := x509.VerifyOptions{Roots: roots.Load(), Intermediates: x509.NewCertPool(),
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(opts)
			return err
		},
	}
	_ = cfg
}

// newCA and issue mint an ECDSA P-256 CA and certificates for the
// example; a real cluster gets them from its orchestrator.
func newCA() (*x509.Certificate, *ecdsa.PrivateKey) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "example CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	ca, _ := x509.ParseCertificate(der)
	return ca, key
}

func issue(ca *x509.Certificate, caKey *ecdsa.PrivateKey, name, role string) tls.Certificate {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name, OrganizationalUnit: []string{role}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}} // the address peers dial
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
