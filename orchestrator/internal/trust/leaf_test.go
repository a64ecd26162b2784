package trust

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIssueClient(t *testing.T) {
	ca := newCA(t, t0, 0)
	key := newKey(t)
	cert, err := ca.IssueClient(ClientRequest{CommonName: "flotilla:admin", Organizations: []string{"system:masters"},
		PublicKey: key.Public(), NotBefore: t0, Validity: 24 * time.Hour})
	if err != nil {
		t.Fatalf("IssueClient: %v", err)
	}
	if cert.Subject.CommonName != "flotilla:admin" || !slices.Equal(cert.Subject.Organization, []string{"system:masters"}) {
		t.Errorf("subject = %v", cert.Subject)
	}
	if !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) {
		t.Errorf("ExtKeyUsage = %v; want client auth only", cert.ExtKeyUsage)
	}
	if !cert.NotAfter.Equal(t0.Add(24*time.Hour).Truncate(time.Second)) || !cert.NotBefore.Equal(t0.Add(-Backdate)) {
		t.Errorf("validity %v..%v", cert.NotBefore, cert.NotAfter)
	}
	pool := NewPool(ca.Cert())
	u, err := pool.VerifyClient([]*x509.Certificate{cert}, t0)
	if err != nil {
		t.Fatalf("VerifyClient: %v", err)
	}
	if u.Name != "flotilla:admin" || !slices.Equal(u.Groups, []string{"system:masters"}) || u.Serial != cert.SerialNumber.Text(16) {
		t.Errorf("user = %+v", u)
	}
	// Not a node: the cluster port's check refuses it.
	_, err = pool.Verify([]*x509.Certificate{cert}, x509.ExtKeyUsageClientAuth, t0)
	wantErr(t, err, ErrNotNodeCertificate)
	// Client only: it cannot serve.
	_, err = pool.Verify([]*x509.Certificate{cert}, x509.ExtKeyUsageServerAuth, t0)
	wantErr(t, err, ErrWrongUsage)
}

func TestIssueClientRefusesBadRequests(t *testing.T) {
	ca := newCA(t, t0, 0)
	pub := newKey(t).Public()
	for _, tc := range []struct {
		name string
		req  ClientRequest
		want string
	}{
		{"no CN", ClientRequest{PublicKey: pub, NotBefore: t0}, "ClientRequest.CommonName: is empty"},
		{"node CN", ClientRequest{CommonName: "system:node:x", PublicKey: pub, NotBefore: t0}, "ClientRequest.CommonName"},
		{"long CN", ClientRequest{CommonName: strings.Repeat("a", 65), PublicKey: pub, NotBefore: t0}, "at most 64"},
		{"control", ClientRequest{CommonName: "a\nb", PublicKey: pub, NotBefore: t0}, "control character"},
		{"empty O", ClientRequest{CommonName: "a", Organizations: []string{"x", ""}, PublicKey: pub, NotBefore: t0}, "Organizations[1]: is empty"},
		{"repeated O", ClientRequest{CommonName: "a", Organizations: []string{"x", "x"}, PublicKey: pub, NotBefore: t0}, "Organizations[1]"},
		{"no key", ClientRequest{CommonName: "a", NotBefore: t0}, "ClientRequest.PublicKey"},
		{"no time", ClientRequest{CommonName: "a", PublicKey: pub}, "ClientRequest.NotBefore: required"},
		{"negative", ClientRequest{CommonName: "a", PublicKey: pub, NotBefore: t0, Validity: -time.Second}, "ClientRequest.Validity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ca.IssueClient(tc.req)
			wantErr(t, err, ErrInvalidArgument, tc.want)
		})
	}
	_, err := ca.IssueClient(ClientRequest{CommonName: "a", PublicKey: pub, NotBefore: t0.Add(20 * 365 * 24 * time.Hour)})
	wantErr(t, err, ErrExpired)
}

func TestIssueServing(t *testing.T) {
	ca := newCA(t, t0, 48*time.Hour)
	key := newKey(t)
	cert, err := ca.IssueServing(ServingRequest{CommonName: "node-0", DNSNames: []string{"node-0", "localhost", "node-0"},
		IPs: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}, PublicKey: key.Public(), NotBefore: t0, Validity: 365 * 24 * time.Hour})
	if err != nil {
		t.Fatalf("IssueServing: %v", err)
	}
	if !slices.Equal(cert.DNSNames, []string{"node-0", "localhost"}) || len(cert.IPAddresses) != 2 {
		t.Errorf("SANs = %v %v", cert.DNSNames, cert.IPAddresses)
	}
	if !cert.NotAfter.Equal(ca.Cert().NotAfter) {
		t.Errorf("NotAfter %v: want cut to the CA's %v", cert.NotAfter, ca.Cert().NotAfter)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert())
	for _, host := range []string{"node-0", "localhost", "127.0.0.1", "::1"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, CurrentTime: t0}); err != nil {
			t.Errorf("verify for %s: %v", host, err)
		}
	}
	_, err = NewPool(ca.Cert()).VerifyClient([]*x509.Certificate{cert}, t0)
	wantErr(t, err, ErrWrongUsage)

	_, err = ca.IssueServing(ServingRequest{CommonName: "x", PublicKey: key.Public(), NotBefore: t0})
	wantErr(t, err, ErrInvalidArgument, "ServingRequest.DNSNames: required")
	_, err = ca.IssueServing(ServingRequest{CommonName: "x", DNSNames: []string{"bad_name"}, PublicKey: key.Public(), NotBefore: t0})
	wantErr(t, err, ErrInvalidArgument, "ServingRequest.DNSNames[0]")
	_, err = ca.IssueServing(ServingRequest{CommonName: "x", IPs: []net.IP{{1, 2}}, PublicKey: key.Public(), NotBefore: t0})
	wantErr(t, err, ErrInvalidArgument, "ServingRequest.IPs[0]")
}

func TestVerifyClient(t *testing.T) {
	ca := newCA(t, t0, 0)
	other := newCA(t, t0, 0)
	_, node := issue(t, ca, "node-1", RoleServer, t0)
	pool := NewPool(ca.Cert())
	u, err := pool.VerifyClient([]*x509.Certificate{node}, t0)
	if err != nil || u.Name != "system:node:node-1" || !slices.Equal(u.Groups, []string{GroupNodes, GroupServers}) {
		t.Fatalf("node certificate: %+v, %v", u, err)
	}
	client := func(ca *CA, at time.Time, validity time.Duration) *x509.Certificate {
		c, err := ca.IssueClient(ClientRequest{CommonName: "alice", PublicKey: newKey(t).Public(), NotBefore: at, Validity: validity})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	_, err = pool.VerifyClient([]*x509.Certificate{client(other, t0, 0)}, t0)
	wantErr(t, err, ErrUnknownAuthority)
	_, err = pool.VerifyClient([]*x509.Certificate{client(ca, t0, time.Hour)}, t0.Add(2*time.Hour))
	wantErr(t, err, ErrExpired)
	_, err = pool.VerifyClient(nil, t0)
	wantErr(t, err, ErrNoCertificate)
	_, err = pool.VerifyClient([]*x509.Certificate{ca.Cert()}, t0)
	wantErr(t, err, ErrNotNodeCertificate)
	alice := client(ca, t0, 0)
	pool.SetRevoked([]*big.Int{alice.SerialNumber})
	_, err = pool.VerifyClient([]*x509.Certificate{alice}, t0)
	wantErr(t, err, ErrRevoked)
	noCN, err := ca.sign(&x509.Certificate{Subject: pkix.Name{Organization: []string{"x"}}, NotBefore: t0.Add(-time.Minute), NotAfter: t0.Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, newKey(t).Public())
	if err != nil {
		t.Fatal(err)
	}
	_, err = pool.VerifyClient([]*x509.Certificate{noCN}, t0)
	wantErr(t, err, ErrInvalidArgument, "no CN")
}

// TestVerifyClientRemembersOnlyWhatStillHolds: a certificate verified once
// is not trusted past its expiry, after its revocation, or once its CA is
// no longer trusted, though its chain is remembered.
func TestVerifyClientRemembersOnlyWhatStillHolds(t *testing.T) {
	ca := newCA(t, t0, 0)
	other := newCA(t, t0, 0)
	pool := NewPool(ca.Cert())
	bob, err := ca.IssueClient(ClientRequest{CommonName: "bob", PublicKey: newKey(t).Public(), NotBefore: t0, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	chain := []*x509.Certificate{bob}
	for range 2 { // the second is answered from the remembered chain
		if u, err := pool.VerifyClient(chain, t0); err != nil || u.Name != "bob" {
			t.Fatalf("bob: %+v, %v", u, err)
		}
	}
	_, err = pool.VerifyClient(chain, t0.Add(2*time.Hour))
	wantErr(t, err, ErrExpired)
	pool.SetRevoked([]*big.Int{bob.SerialNumber})
	_, err = pool.VerifyClient(chain, t0)
	wantErr(t, err, ErrRevoked)
	pool.SetRevoked(nil)
	if _, err := pool.VerifyClient(chain, t0); err != nil {
		t.Fatalf("bob after the revocation is lifted: %v", err)
	}
	pool.SetCAs(other.Cert())
	_, err = pool.VerifyClient(chain, t0)
	wantErr(t, err, ErrUnknownAuthority)
}
