package trust

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestNewCA(t *testing.T) {
	ca := newCA(t, t0, 0)
	c := ca.Cert()
	if c.Subject.CommonName != CACommonName || !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Fatalf("CA certificate: CN %q IsCA %v MaxPathLen %d zero %v", c.Subject.CommonName, c.IsCA, c.MaxPathLen, c.MaxPathLenZero)
	}
	if len(c.SubjectKeyId) == 0 || c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatalf("CA certificate: SubjectKeyId %x, KeyUsage %v", c.SubjectKeyId, c.KeyUsage)
	}
	if !c.NotBefore.Equal(t0.Add(-Backdate)) || !c.NotAfter.Equal(t0.Add(DefaultCAValidity)) {
		t.Fatalf("validity %v..%v; want %v..%v", c.NotBefore, c.NotAfter, t0.Add(-Backdate), t0.Add(DefaultCAValidity))
	}
	if k, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Fatalf("CA key %T; want ECDSA P-256", c.PublicKey)
	}
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(ca.Fingerprint()) {
		t.Fatalf("Fingerprint %q", ca.Fingerprint())
	}
	if other := newCA(t, t0, 0); other.Fingerprint() == ca.Fingerprint() || other.Cert().SerialNumber.Cmp(c.SerialNumber) == 0 {
		t.Fatal("two CAs share a fingerprint or serial")
	}
	if Fingerprint(nil) != "" {
		t.Fatal("Fingerprint(nil) is not empty")
	}
	if _, err := NewCA(t0, -time.Hour); err == nil {
		t.Fatal("NewCA accepted a negative validity")
	}
}

func TestIssueAndVerify(t *testing.T) {
	ca := newCA(t, t0, 0)
	key := newKey(t)
	cert, err := ca.Issue(IssueRequest{
		Identity:  Identity{NodeName: "node-1.example", Role: RoleServer},
		PublicKey: key.Public(),
		DNSNames:  []string{"node-1.example", "Raft.Internal"},
		IPs:       []net.IP{net.ParseIP("10.0.0.1"), net.ParseIP("10.0.0.1"), net.ParseIP("fd00::1")},
		NotBefore: t0,
	})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if cert.Subject.CommonName != "system:node:node-1.example" || !slices.Equal(cert.Subject.Organization, []string{"system:nodes", "flotilla:servers"}) {
		t.Fatalf("subject %v", cert.Subject)
	}
	if !slices.Equal(cert.DNSNames, []string{"node-1.example", "Raft.Internal"}) || len(cert.IPAddresses) != 2 {
		t.Fatalf("SANs %v %v", cert.DNSNames, cert.IPAddresses)
	}
	if !cert.NotBefore.Equal(t0.Add(-Backdate)) || !cert.NotAfter.Equal(t0.Add(DefaultCertValidity)) {
		t.Fatalf("validity %v..%v", cert.NotBefore, cert.NotAfter)
	}
	if cert.IsCA || !bytes.Equal(cert.AuthorityKeyId, ca.Cert().SubjectKeyId) {
		t.Fatalf("IsCA %v, AuthorityKeyId %x; CA SubjectKeyId %x", cert.IsCA, cert.AuthorityKeyId, ca.Cert().SubjectKeyId)
	}
	pool := NewPool(ca.Cert())
	for _, usage := range []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth} {
		id, err := pool.Verify([]*x509.Certificate{cert}, usage, t0.Add(time.Hour))
		if err != nil {
			t.Fatalf("Verify %s: %v", usageName(usage), err)
		}
		if id != (Identity{NodeName: "node-1.example", Role: RoleServer}) {
			t.Fatalf("identity %+v", id)
		}
		if id.UserName() != cert.Subject.CommonName || !slices.Equal(id.Groups(), cert.Subject.Organization) {
			t.Fatalf("UserName %q Groups %q; certificate %v", id.UserName(), id.Groups(), cert.Subject)
		}
	}
	_, agent := issue(t, ca, "a", RoleAgent, t0)
	if id, err := pool.Verify([]*x509.Certificate{agent}, x509.ExtKeyUsageClientAuth, t0); err != nil || id.Role != RoleAgent {
		t.Fatalf("agent: %+v, %v", id, err)
	}
	if agent.SerialNumber.Cmp(cert.SerialNumber) == 0 {
		t.Fatal("two certificates share a serial")
	}
}

func TestIssueClampsToCA(t *testing.T) {
	ca := newCA(t, t0, 30*24*time.Hour)
	_, cert := issue(t, ca, "n", RoleAgent, t0)
	if !cert.NotAfter.Equal(ca.Cert().NotAfter) {
		t.Fatalf("NotAfter %v; want the CA's %v", cert.NotAfter, ca.Cert().NotAfter)
	}
	short, err := ca.Issue(IssueRequest{Identity: Identity{NodeName: "n", Role: RoleAgent}, PublicKey: newKey(t).Public(), NotBefore: t0, Validity: time.Hour})
	if err != nil || !short.NotAfter.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Validity 1h: NotAfter %v, %v", short.NotAfter, err)
	}
}

func TestIssueRejects(t *testing.T) {
	ca := newCA(t, t0, 24*time.Hour)
	good := func() IssueRequest {
		return IssueRequest{Identity: Identity{NodeName: "n", Role: RoleServer}, PublicKey: newKey(t).Public(), NotBefore: t0}
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		change func(*IssueRequest)
		target error
		text   string
	}{
		{"empty name", func(r *IssueRequest) { r.Identity.NodeName = "" }, ErrInvalidArgument, "NodeName: is empty"},
		{"upper-case name", func(r *IssueRequest) { r.Identity.NodeName = "Node" }, ErrInvalidArgument, "NodeName"},
		{"name with colon", func(r *IssueRequest) { r.Identity.NodeName = "a:b" }, ErrInvalidArgument, "NodeName"},
		{"bad role", func(r *IssueRequest) { r.Identity.Role = "admin" }, ErrInvalidArgument, "Role"},
		{"no key", func(r *IssueRequest) { r.PublicKey = nil }, ErrInvalidArgument, "PublicKey: no public key"},
		{"small RSA key", func(r *IssueRequest) { r.PublicKey = small.Public() }, ErrInvalidArgument, "1024 bits"},
		{"bad DNS name", func(r *IssueRequest) { r.DNSNames = []string{"ok", "bad name"} }, ErrInvalidArgument, "DNSNames[1]"},
		{"bad IP", func(r *IssueRequest) { r.IPs = []net.IP{{1, 2, 3}} }, ErrInvalidArgument, "IPs[0]"},
		{"no NotBefore", func(r *IssueRequest) { r.NotBefore = time.Time{} }, ErrInvalidArgument, "NotBefore: required"},
		{"negative validity", func(r *IssueRequest) { r.Validity = -time.Second }, ErrInvalidArgument, "Validity"},
		{"CA expired", func(r *IssueRequest) { r.NotBefore = t0.Add(48 * time.Hour) }, ErrExpired, "CA certificate"},
		{"CA not yet valid", func(r *IssueRequest) { r.NotBefore = t0.Add(-time.Hour) }, ErrNotYetValid, "CA certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := good()
			tc.change(&req)
			_, err := ca.Issue(req)
			wantErr(t, err, tc.target, tc.text)
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	ca := newCA(t, t0, 0)
	pool := NewPool(ca.Cert())
	_, good := issue(t, ca, "good", RoleServer, t0)
	_, revoked := issue(t, ca, "revoked", RoleServer, t0)
	pool.SetRevoked([]*big.Int{revoked.SerialNumber, nil})
	_, foreign := issue(t, newCA(t, t0, 0), "foreign", RoleServer, t0)
	serverOnly := craft(t, ca, &x509.Certificate{NotBefore: t0, NotAfter: t0.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	noEKU := craft(t, ca, &x509.Certificate{NotBefore: t0, NotAfter: t0.Add(time.Hour)})
	admin := craft(t, ca, &x509.Certificate{
		Subject:   pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}},
		NotBefore: t0, NotAfter: t0.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	noRole := craft(t, ca, &x509.Certificate{
		Subject:   pkix.Name{CommonName: "system:node:x", Organization: []string{GroupNodes}},
		NotBefore: t0, NotAfter: t0.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	shortCA := newCA(t, t0, time.Hour)
	outlives := craft(t, shortCA, &x509.Certificate{NotBefore: t0, NotAfter: t0.Add(48 * time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	shortPool := NewPool(shortCA.Cert())

	for _, tc := range []struct {
		name   string
		pool   *Pool
		chain  []*x509.Certificate
		usage  x509.ExtKeyUsage
		now    time.Time
		target error
		texts  []string
	}{
		{"empty chain", pool, nil, x509.ExtKeyUsageClientAuth, t0, ErrNoCertificate, nil},
		{"other CA", pool, []*x509.Certificate{foreign}, x509.ExtKeyUsageClientAuth, t0, ErrUnknownAuthority, []string{"signed by an unknown authority", `"system:node:foreign"`}},
		{"other CA with its CA appended", pool, []*x509.Certificate{foreign, ca.Cert()}, x509.ExtKeyUsageClientAuth, t0, ErrUnknownAuthority, nil},
		{"expired", pool, []*x509.Certificate{good}, x509.ExtKeyUsageClientAuth, good.NotAfter.Add(time.Second), ErrExpired, []string{"certificate expired at " + good.NotAfter.UTC().Format(time.RFC3339)}},
		{"not yet valid", pool, []*x509.Certificate{good}, x509.ExtKeyUsageClientAuth, t0.Add(-2 * time.Minute), ErrNotYetValid, []string{"valid from"}},
		{"revoked", pool, []*x509.Certificate{revoked}, x509.ExtKeyUsageClientAuth, t0, ErrRevoked, []string{"serial " + revoked.SerialNumber.Text(16)}},
		{"wrong usage", pool, []*x509.Certificate{serverOnly}, x509.ExtKeyUsageClientAuth, t0, ErrWrongUsage, []string{"clientAuth"}},
		{"no usage listed", pool, []*x509.Certificate{noEKU}, x509.ExtKeyUsageClientAuth, t0, ErrWrongUsage, []string{"clientAuth"}},
		{"CA as leaf", pool, []*x509.Certificate{ca.Cert()}, x509.ExtKeyUsageClientAuth, t0, ErrNotNodeCertificate, []string{"CA certificate"}},
		{"not a node", pool, []*x509.Certificate{admin}, x509.ExtKeyUsageClientAuth, t0, ErrNotNodeCertificate, []string{`"admin"`}},
		{"no role group", pool, []*x509.Certificate{noRole}, x509.ExtKeyUsageClientAuth, t0, ErrNotNodeCertificate, []string{"flotilla:servers"}},
		{"CA expired", shortPool, []*x509.Certificate{outlives}, x509.ExtKeyUsageClientAuth, t0.Add(2 * time.Hour), ErrExpired, []string{"CA certificate"}},
		{"empty pool", NewPool(), []*x509.Certificate{good}, x509.ExtKeyUsageClientAuth, t0, ErrUnknownAuthority, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.pool.Verify(tc.chain, tc.usage, tc.now)
			wantErr(t, err, tc.target, tc.texts...)
		})
	}

	if _, err := pool.Verify([]*x509.Certificate{good}, x509.ExtKeyUsageClientAuth, t0); err != nil {
		t.Fatalf("good certificate: %v", err)
	}
	pool.SetRevoked(nil)
	if _, err := pool.Verify([]*x509.Certificate{revoked}, x509.ExtKeyUsageClientAuth, t0); err != nil {
		t.Fatalf("after SetRevoked(nil): %v", err)
	}
	pool.SetCAs(good, nil) // a leaf is not a CA: ignored, so the leaf cannot vouch for itself
	if _, err := pool.Verify([]*x509.Certificate{good}, x509.ExtKeyUsageClientAuth, t0); !errors.Is(err, ErrUnknownAuthority) {
		t.Fatalf("pool of a leaf: %v; want ErrUnknownAuthority", err)
	}
	if len(pool.CAs()) != 0 {
		t.Fatalf("CAs() = %d certificates; want 0", len(pool.CAs()))
	}
}

func TestRenew(t *testing.T) {
	ca := newCA(t, t0, 365*24*time.Hour)
	_, oldLeaf := issue(t, ca, "old", RoleServer, t0)
	later := t0.Add(300 * 24 * time.Hour)
	renewed, err := ca.Renew(later, 0)
	if err != nil {
		t.Fatalf("Renew: %v", err)
	}
	if renewed.Fingerprint() != ca.Fingerprint() {
		t.Fatal("Renew changed the fingerprint")
	}
	rc, oc := renewed.Cert(), ca.Cert()
	if rc.SerialNumber.Cmp(oc.SerialNumber) == 0 || !bytes.Equal(rc.RawSubject, oc.RawSubject) || !bytes.Equal(rc.SubjectKeyId, oc.SubjectKeyId) {
		t.Fatal("renewed certificate: want a new serial, the same subject and key id")
	}
	if !rc.NotAfter.Equal(later.Add(DefaultCAValidity)) || !rc.IsCA || rc.MaxPathLen != 0 || !rc.MaxPathLenZero {
		t.Fatalf("renewed certificate: NotAfter %v IsCA %v MaxPathLen %d", rc.NotAfter, rc.IsCA, rc.MaxPathLen)
	}
	// A leaf of the old certificate verifies against the renewed one alone,
	// even after the old one expired, and the other way round.
	afterOld := oc.NotAfter.Add(time.Hour)
	if _, err := NewPool(rc).Verify([]*x509.Certificate{oldLeaf}, x509.ExtKeyUsageServerAuth, later); err != nil {
		t.Fatalf("old leaf against renewed CA: %v", err)
	}
	_, newLeaf := issue(t, renewed, "new", RoleServer, later)
	if _, err := NewPool(oc).Verify([]*x509.Certificate{newLeaf}, x509.ExtKeyUsageServerAuth, later); err != nil {
		t.Fatalf("new leaf against old CA: %v", err)
	}
	if _, err := NewPool(oc).Verify([]*x509.Certificate{newLeaf}, x509.ExtKeyUsageServerAuth, afterOld); !errors.Is(err, ErrExpired) {
		t.Fatalf("new leaf against the expired old CA alone: %v; want ErrExpired", err)
	}
	if _, err := NewPool(oc, rc).Verify([]*x509.Certificate{newLeaf}, x509.ExtKeyUsageServerAuth, afterOld); err != nil {
		t.Fatalf("new leaf against both CAs after the old expired: %v", err)
	}
	if _, err := ca.Renew(later, -1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("negative validity: %v", err)
	}
}

func TestRenewRefusesIntermediate(t *testing.T) {
	now := time.Now()
	root := newCA(t, now, 0)
	key := newKey(t)
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "intermediate"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, root.Cert(), key.Public(), root.key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := ParseCA(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), mustMarshalKey(t, key))
	if err != nil {
		t.Fatalf("ParseCA of an intermediate: %v", err)
	}
	_, leaf := issue(t, ca, "n", RoleAgent, now)
	if _, err := NewPool(ca.Cert()).Verify([]*x509.Certificate{leaf}, x509.ExtKeyUsageClientAuth, now); err != nil {
		t.Fatalf("leaf of an intermediate CA: %v", err)
	}
	_, err = ca.Renew(now, 0)
	wantErr(t, err, ErrInvalidArgument, "not self-signed")
}

// rsaKey is one 2048-bit RSA key for every test that needs one (making
// them is slow).
var rsaKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func testRSAKey(tb testing.TB) *rsa.PrivateKey {
	tb.Helper()
	k, err := rsaKey()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// operatorCA is a self-signed CA certificate for key as another tool would
// make it, valid around now unless change says otherwise.
func operatorCA(tb testing.TB, key crypto.Signer, change func(*x509.Certificate)) []byte {
	tb.Helper()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "ops root", Organization: []string{"Example Ops"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	if change != nil {
		change(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatalf("CreateCertificate: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestParseCA(t *testing.T) {
	now := time.Now()
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(p384)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk := testRSAKey(t)
	ours := newCA(t, now, 0)
	oursKey, err := ours.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name            string
		certPEM, keyPEM []byte
	}{
		{"NewCA round trip", ours.CertPEM(), oursKey},
		{"ECDSA P-384, SEC 1 key", operatorCA(t, p384, nil), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})},
		{"Ed25519", operatorCA(t, ed, nil), mustMarshalKey(t, ed)},
		{"RSA 2048, PKCS#1 key", operatorCA(t, rk, nil), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca, err := ParseCA(tc.certPEM, tc.keyPEM)
			if err != nil {
				t.Fatalf("ParseCA: %v", err)
			}
			_, leaf := issue(t, ca, "n1", RoleServer, now)
			if id, err := NewPool(ca.Cert()).Verify([]*x509.Certificate{leaf}, x509.ExtKeyUsageServerAuth, now); err != nil || id.NodeName != "n1" {
				t.Fatalf("Verify a leaf of the parsed CA: %+v, %v", id, err)
			}
			again, err := ParseCA(tc.certPEM, tc.keyPEM)
			if err != nil {
				t.Fatal(err)
			}
			a, errA := ca.DeriveKey("gossip", 32)
			b, errB := again.DeriveKey("gossip", 32)
			if errA != nil || errB != nil || !bytes.Equal(a, b) {
				t.Fatalf("DeriveKey differs between two loads of one CA (%v, %v)", errA, errB)
			}
			renewed, err := ca.Renew(now, 0)
			if err != nil {
				t.Fatalf("Renew: %v", err)
			}
			if renewed.Fingerprint() != ca.Fingerprint() || renewed.Cert().Subject.CommonName != ca.Cert().Subject.CommonName {
				t.Fatal("Renew changed the fingerprint or subject")
			}
			if _, err := NewPool(renewed.Cert()).Verify([]*x509.Certificate{leaf}, x509.ExtKeyUsageServerAuth, now); err != nil {
				t.Fatalf("leaf against the renewed CA: %v", err)
			}
		})
	}
}

func TestParseCAErrors(t *testing.T) {
	key := newKey(t)
	keyPEM := mustMarshalKey(t, key)
	good := operatorCA(t, key, nil)
	leafKey, leaf := issue(t, newCA(t, time.Now(), 0), "n", RoleServer, time.Now())
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224DER, err := x509.MarshalECPrivateKey(p224)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name            string
		certPEM, keyPEM []byte
		target          error
		text            string
	}{
		{"no certificate", nil, keyPEM, ErrInvalidArgument, "no PEM"},
		{"two certificates", append(slices.Clone(good), good...), keyPEM, ErrInvalidArgument, "exactly one"},
		{"a leaf", EncodeCerts(leaf), mustMarshalKey(t, leafKey), ErrInvalidArgument, "is not a CA"},
		{"may not sign", operatorCA(t, key, func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageDigitalSignature }), keyPEM, ErrInvalidArgument, "certSign"},
		{"key of another certificate", good, mustMarshalKey(t, newKey(t)), ErrInvalidArgument, "does not match"},
		{"no key", good, nil, ErrInvalidArgument, "no PEM private key"},
		{"garbage key", good, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("nope")}), ErrInvalidArgument, `"PRIVATE KEY" block`},
		{"encrypted key", good, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("x")}), ErrInvalidArgument, "encrypted"},
		{"expired", operatorCA(t, key, func(c *x509.Certificate) { c.NotAfter = time.Now().Add(-time.Minute) }), keyPEM, ErrExpired, "CA certificate"},
		{"not yet valid", operatorCA(t, key, func(c *x509.Certificate) { c.NotBefore = time.Now().Add(time.Hour) }), keyPEM, ErrNotYetValid, "CA certificate"},
		{"RSA 1024", operatorCA(t, small, nil), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}), ErrInvalidArgument, "1024 bits"},
		{"P-224", operatorCA(t, p224, nil), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: p224DER}), ErrInvalidArgument, "P-224"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCA(tc.certPEM, tc.keyPEM)
			wantErr(t, err, tc.target, tc.text)
		})
	}
}

func TestDeriveKey(t *testing.T) {
	ca := newCA(t, t0, 0)
	g1, err := ca.DeriveKey("gossip", 32)
	if err != nil || len(g1) != 32 {
		t.Fatalf("DeriveKey: %d bytes, %v", len(g1), err)
	}
	renewed, err := ca.Renew(t0.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	same, _ := renewed.DeriveKey("gossip", 32)
	store, _ := ca.DeriveKey("store", 32)
	short, _ := ca.DeriveKey("gossip", 16)
	other, _ := newCA(t, t0, 0).DeriveKey("gossip", 32)
	switch {
	case !bytes.Equal(g1, same):
		t.Fatal("Renew changed the derived key")
	case bytes.Equal(g1, store):
		t.Fatal("two purposes derived the same key")
	case bytes.Equal(g1, other):
		t.Fatal("two CAs derived the same key")
	case len(short) != 16:
		t.Fatalf("n=16 gave %d bytes", len(short))
	}
	for _, tc := range []struct {
		purpose string
		n       int
		text    string
	}{
		{"", 32, "purpose"},
		{"x", 0, "n: 0"},
		{"x", 255*32 + 1, "n: 8161"},
	} {
		_, err := ca.DeriveKey(tc.purpose, tc.n)
		wantErr(t, err, ErrInvalidArgument, tc.text)
	}
}

func TestIdentityOf(t *testing.T) {
	ca := newCA(t, t0, 0)
	subject := func(cn string, orgs ...string) *x509.Certificate {
		return craft(t, ca, &x509.Certificate{Subject: pkix.Name{CommonName: cn, Organization: orgs}, NotBefore: t0, NotAfter: t0.Add(time.Hour)})
	}
	for _, tc := range []struct {
		name string
		cert *x509.Certificate
		want Identity
		text string
	}{
		{"server", subject("system:node:s1", GroupNodes, GroupServers), Identity{"s1", RoleServer}, ""},
		{"agent, groups reversed", subject("system:node:a.b", GroupAgents, GroupNodes), Identity{"a.b", RoleAgent}, ""},
		{"other user", subject("alice", GroupNodes, GroupServers), Identity{}, "does not start with"},
		{"empty name", subject("system:node:", GroupNodes, GroupServers), Identity{}, "is empty"},
		{"bad name", subject("system:node:Bad_Name", GroupNodes, GroupServers), Identity{}, "DNS-1123"},
		{"no groups", subject("system:node:n"), Identity{}, "O is"},
		{"extra group", subject("system:node:n", GroupNodes, GroupServers, "system:masters"), Identity{}, "O is"},
		{"both roles", subject("system:node:n", GroupServers, GroupAgents), Identity{}, "O is"},
		{"CA", ca.Cert(), Identity{}, "is a CA certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := IdentityOf(tc.cert)
			if tc.text == "" {
				if err != nil || id != tc.want {
					t.Fatalf("IdentityOf = %+v, %v; want %+v", id, err, tc.want)
				}
				return
			}
			wantErr(t, err, ErrNotNodeCertificate, tc.text)
		})
	}
	if _, err := IdentityOf(nil); !errors.Is(err, ErrNoCertificate) {
		t.Fatalf("IdentityOf(nil): %v", err)
	}
}
