package trust

import (
	"crypto"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is the "now" of tests that do not touch the network.
var t0 = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

func newCA(tb testing.TB, now time.Time, validity time.Duration) *CA {
	tb.Helper()
	ca, err := NewCA(now, validity)
	if err != nil {
		tb.Fatalf("NewCA: %v", err)
	}
	return ca
}

func newKey(tb testing.TB) crypto.Signer {
	tb.Helper()
	k, err := NewKey()
	if err != nil {
		tb.Fatalf("NewKey: %v", err)
	}
	return k
}

// issue makes a key and a certificate for name/role from ca at now.
func issue(tb testing.TB, ca *CA, name string, role Role, now time.Time) (crypto.Signer, *x509.Certificate) {
	tb.Helper()
	key := newKey(tb)
	cert, err := ca.Issue(IssueRequest{Identity: Identity{NodeName: name, Role: role}, PublicKey: key.Public(), NotBefore: now})
	if err != nil {
		tb.Fatalf("Issue %s: %v", name, err)
	}
	return key, cert
}

func newCreds(tb testing.TB, ca *CA, name string, role Role, now time.Time) *Credentials {
	tb.Helper()
	key, cert := issue(tb, ca, name, role, now)
	c, err := NewCredentials(key, cert)
	if err != nil {
		tb.Fatalf("NewCredentials: %v", err)
	}
	return c
}

// craft signs an arbitrary leaf template with ca's key, for certificates
// Issue would never make.
func craft(tb testing.TB, ca *CA, tmpl *x509.Certificate) *x509.Certificate {
	tb.Helper()
	if tmpl.Subject.CommonName == "" {
		tmpl.Subject = pkix.Name{CommonName: "system:node:crafted", Organization: []string{GroupNodes, GroupServers}}
	}
	cert, err := ca.sign(tmpl, newKey(tb).Public())
	if err != nil {
		tb.Fatalf("sign: %v", err)
	}
	return cert
}

// wantErr fails unless err wraps target and its text contains every one
// of texts.
func wantErr(tb testing.TB, err, target error, texts ...string) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("got no error; want %v", target)
	}
	if target != nil && !errors.Is(err, target) {
		tb.Fatalf("error %q does not wrap %q", err, target)
	}
	for _, s := range texts {
		if !strings.Contains(err.Error(), s) {
			tb.Fatalf("error %q does not contain %q", err, s)
		}
	}
}

func mustMarshalKey(tb testing.TB, key crypto.Signer) []byte {
	tb.Helper()
	b, err := MarshalKey(key)
	if err != nil {
		tb.Fatalf("MarshalKey: %v", err)
	}
	return b
}
