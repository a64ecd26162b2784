package authn

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math/big"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
)

var t0 = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)

func newCA(t *testing.T) *trust.CA {
	t.Helper()
	ca, err := trust.NewCA(t0.Add(-24*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func clientCert(t *testing.T, ca *trust.CA, cn string, orgs []string, notBefore time.Time, validity time.Duration) *x509.Certificate {
	t.Helper()
	key, err := trust.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.IssueClient(trust.ClientRequest{CommonName: cn, Organizations: orgs, PublicKey: key.Public(), NotBefore: notBefore, Validity: validity})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const tokenFile = `
secret-admin,alice,uid-1,"system:masters,devs"
  secret-bob, bob ,uid-2
`

func TestAuthenticate(t *testing.T) {
	ca, other := newCA(t), newCA(t)
	pool := trust.NewPool(ca.Cert())
	tokens, err := ParseTokens(strings.NewReader(tokenFile))
	if err != nil {
		t.Fatal(err)
	}
	a := New(Config{Pool: pool, Tokens: tokens, Now: func() time.Time { return t0 }})
	admin := clientCert(t, ca, "flotilla:admin", []string{"system:masters"}, t0, 0)
	revoked := clientCert(t, ca, "mallory", nil, t0, 0)
	pool.SetRevoked([]*big.Int{revoked.SerialNumber})

	for _, tc := range []struct {
		name    string
		cert    *x509.Certificate
		auth    string
		want    apiserver.User
		ok      bool
		wantErr []error
	}{
		{name: "nothing"},
		{name: "admin certificate", cert: admin, ok: true,
			want: apiserver.User{Name: "flotilla:admin", Groups: []string{"system:masters", GroupAuthenticated}}},
		{name: "token", auth: "Bearer secret-admin", ok: true,
			want: apiserver.User{Name: "alice", UID: "uid-1", Groups: []string{"system:masters", "devs", GroupAuthenticated}}},
		{name: "token without groups, lower-case scheme", auth: "bearer secret-bob", ok: true,
			want: apiserver.User{Name: "bob", UID: "uid-2", Groups: []string{GroupAuthenticated}}},
		{name: "wrong token", auth: "Bearer secret-adminx", wantErr: []error{ErrInvalidToken}},
		{name: "basic auth is no credential", auth: "Basic YWxpY2U6cHc="},
		{name: "empty bearer", auth: "Bearer "},
		{name: "another CA", cert: clientCert(t, other, "eve", nil, t0, 0), wantErr: []error{ErrInvalidCertificate, trust.ErrUnknownAuthority}},
		{name: "expired", cert: clientCert(t, ca, "old", nil, t0.Add(-2*time.Hour), time.Hour), wantErr: []error{ErrInvalidCertificate, trust.ErrExpired}},
		{name: "revoked", cert: revoked, wantErr: []error{ErrInvalidCertificate, trust.ErrRevoked}},
		{name: "bad certificate, good token", cert: revoked, auth: "Bearer secret-bob", ok: true,
			want: apiserver.User{Name: "bob", UID: "uid-2", Groups: []string{GroupAuthenticated}}},
		{name: "bad certificate, bad token", cert: revoked, auth: "Bearer nope", wantErr: []error{ErrInvalidCertificate, ErrInvalidToken}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "https://x/api", nil)
			if tc.cert != nil {
				r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{tc.cert}}
			}
			if tc.auth != "" {
				r.Header.Set("Authorization", tc.auth)
			}
			u, ok, err := a.Authenticate(r)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v (err %v)", ok, tc.ok, err)
			}
			for _, want := range tc.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("err = %v; want it to wrap %v", err, want)
				}
			}
			if len(tc.wantErr) == 0 && err != nil {
				t.Errorf("err = %v", err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error %q shows a token", err)
			}
			if u.Name != tc.want.Name || u.UID != tc.want.UID || !slices.Equal(u.Groups, tc.want.Groups) {
				t.Errorf("user = %+v, want %+v", u, tc.want)
			}
		})
	}
}

func TestNodeCertificateAuthenticates(t *testing.T) {
	ca := newCA(t)
	key, _ := trust.NewKey()
	cert, err := ca.Issue(trust.IssueRequest{Identity: trust.Identity{NodeName: "node-1", Role: trust.RoleAgent}, PublicKey: key.Public(), NotBefore: t0})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{cert}}
	u, ok, err := New(Config{Pool: trust.NewPool(ca.Cert()), Now: func() time.Time { return t0 }}).Authenticate(r)
	if !ok || err != nil || u.Name != "system:node:node-1" || !slices.Equal(u.Groups, []string{"system:nodes", "flotilla:agents", GroupAuthenticated}) {
		t.Fatalf("got %+v %v %v", u, ok, err)
	}
}

func TestParseTokensErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a,b\n", "line 1: 2 columns; want at least 3"},
		{"ok,u,1\n,b,c\n", "line 2: column 1 (token) is empty"},
		{"ok,u,1\n\nx y,b,c\n", "line 3: column 1 (token) holds white space"},
		{"t,,c\n", "line 1: column 2 (user name) is empty"},
		{"t,u,\n", "line 1: column 3 (uid) is empty"},
		{"t,u,1\nt,v,2\n", "line 2: the token of line 1 is repeated"},
		{"t,u,1,\"a,b\n", "line 1:"},
	} {
		_, err := ParseTokens(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseTokens(%q) = %v; want %q", tc.in, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "ok,") {
			t.Errorf("error shows a token: %v", err)
		}
	}
}

func TestReadTokenFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "tokens.csv")
	if err := os.WriteFile(p, []byte(tokenFile), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, err := ReadTokenFile(p)
	if err != nil || tok.Len() != 2 {
		t.Fatalf("ReadTokenFile = %v, %v", tok.Len(), err)
	}
	if _, err := ReadTokenFile(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: %v", err)
	}
	if err := os.WriteFile(p, []byte("a,b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTokenFile(p); err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("malformed file: %v", err)
	}
}
