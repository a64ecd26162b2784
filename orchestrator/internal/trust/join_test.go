package trust

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// joinServer is a server node answering joins on loopback TCP, as the
// integrator wires it: TLS from ServerConfig, then ServeJoin.
type joinServer struct {
	addr  string
	calls atomic.Int32 // handler calls
	errs  chan error   // what each ServeJoin returned
}

func startJoinServer(t *testing.T, creds *Credentials, pool *Pool, handle JoinHandler) *joinServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	js := &joinServer{addr: ln.Addr().String(), errs: make(chan error, 16)}
	cfg := ServerConfig(creds, pool, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			js.errs <- ServeJoin(ctx, tls.Server(conn, cfg), func(ctx context.Context, req JoinRequest, key crypto.PublicKey) (*JoinResponse, error) {
				js.calls.Add(1)
				return handle(ctx, req, key)
			})
		}
	})
	t.Cleanup(func() {
		cancel()
		ln.Close()
		wg.Wait()
	})
	return js
}

// served is what ServeJoin returned for the next connection.
func (js *joinServer) served(t *testing.T) error {
	t.Helper()
	select {
	case err := <-js.errs:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("ServeJoin did not return")
		return nil
	}
}

var (
	gossipKey = bytes.Repeat([]byte{7}, 32)
	storeKey  = EncryptionKey{ID: "k1", Secret: bytes.Repeat([]byte{9}, 32)}
)

// issuer is the handler a server runs: authorize against rec, issue, and
// hand over the keys (store keys to servers only).
func issuer(ca *CA, pool *Pool, rec TokenRecord) JoinHandler {
	return func(ctx context.Context, req JoinRequest, csrKey crypto.PublicKey) (*JoinResponse, error) {
		now := time.Now()
		if err := Authorize(rec, req, now); err != nil {
			return nil, err
		}
		ir, err := req.IssueRequest(csrKey, now)
		if err != nil {
			return nil, err
		}
		cert, err := ca.Issue(ir)
		if err != nil {
			return nil, err
		}
		resp := &JoinResponse{Certificate: EncodeCerts(cert), CAs: EncodeCerts(pool.CAs()...), GossipKeys: [][]byte{gossipKey}}
		if req.Role == RoleServer {
			resp.EncryptionKeys = []EncryptionKey{storeKey}
		}
		return resp, nil
	}
}

// joinFixture is a cluster of one server that admits joins with token.
type joinFixture struct {
	ca     *CA
	token  Token
	server *joinServer
	srv    node
}

func newJoinFixture(t *testing.T, tokenRole Role, ttl time.Duration) joinFixture {
	t.Helper()
	ca := newCA(t, time.Now(), 0)
	tok, err := NewToken(ca.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	srv := newNode(t, ca, "server-1", RoleServer)
	rec := NewTokenRecord(tok, tokenRole, time.Now(), ttl, "test")
	return joinFixture{ca: ca, token: tok, srv: srv, server: startJoinServer(t, srv.creds, srv.pool, issuer(ca, srv.pool, rec))}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestJoin(t *testing.T) {
	f := newJoinFixture(t, RoleServer, time.Hour)
	for _, role := range []Role{RoleServer, RoleAgent} {
		t.Run(string(role), func(t *testing.T) {
			key := newKey(t)
			var dials atomic.Int32
			dial := func(ctx context.Context, addr string) (net.Conn, error) {
				dials.Add(1)
				var d net.Dialer
				return d.DialContext(ctx, "tcp", addr)
			}
			resp, cas, err := JoinWith(testCtx(t), dial, f.server.addr, f.token, key, JoinRequest{
				NodeName: "node-2", Role: role, DNSNames: []string{"node-2.lan"}, IPs: []string{"10.1.2.3"},
			})
			if err != nil {
				t.Fatalf("Join: %v", err)
			}
			if err := f.server.served(t); err != nil {
				t.Fatalf("ServeJoin: %v", err)
			}
			if dials.Load() != 1 || f.server.calls.Load() == 0 {
				t.Fatalf("%d dials, %d handler calls", dials.Load(), f.server.calls.Load())
			}
			if len(cas) != 1 || Fingerprint(cas[0]) != f.ca.Fingerprint() {
				t.Fatalf("CAs: %d certificates, not the cluster CA", len(cas))
			}
			certs, err := ParseCerts(resp.Certificate)
			if err != nil {
				t.Fatal(err)
			}
			cert := certs[0]
			id, err := NewPool(cas...).Verify(certs, x509.ExtKeyUsageClientAuth, time.Now())
			if err != nil || id != (Identity{NodeName: "node-2", Role: role}) {
				t.Fatalf("issued certificate: %+v, %v", id, err)
			}
			if !sameKey(key, cert.PublicKey) || !strings.Contains(strings.Join(cert.DNSNames, ","), "node-2.lan") || len(cert.IPAddresses) != 1 {
				t.Fatalf("issued certificate: key matches %v, DNS %v, IPs %v", sameKey(key, cert.PublicKey), cert.DNSNames, cert.IPAddresses)
			}
			if len(resp.GossipKeys) != 1 || !bytes.Equal(resp.GossipKeys[0], gossipKey) {
				t.Fatalf("gossip keys %x", resp.GossipKeys)
			}
			if wantKeys := role == RoleServer; (len(resp.EncryptionKeys) == 1) != wantKeys {
				t.Fatalf("%s got %d store keys", role, len(resp.EncryptionKeys))
			}
			// The new certificate works on the cluster port straight away.
			creds, err := NewCredentials(key, cert)
			if err != nil {
				t.Fatal(err)
			}
			res := handshake(t, f.srv.server(), ClientConfig(creds, NewPool(cas...), "server-1", nil))
			if res.serverErr != nil || res.clientErr != nil {
				t.Fatalf("handshake with the issued certificate: server %v, client %v", res.serverErr, res.clientErr)
			}
		})
	}
}

func TestJoinWrongFingerprint(t *testing.T) {
	f := newJoinFixture(t, RoleServer, 0)
	tok := f.token
	other := newCA(t, time.Now(), 0).Fingerprint()
	tok.CAFingerprint = other
	_, _, err := Join(testCtx(t), f.server.addr, tok, newKey(t), JoinRequest{NodeName: "n", Role: RoleAgent})
	wantErr(t, err, ErrFingerprintMismatch, "token expects "+other, "presented "+f.ca.Fingerprint(), f.server.addr)
	if served := f.server.served(t); served == nil || !strings.Contains(served.Error(), "TLS handshake") {
		t.Fatalf("ServeJoin: %v; want the handshake refused", served)
	}
	if n := f.server.calls.Load(); n != 0 {
		t.Fatalf("the handler ran %d times; the request must not be sent", n)
	}
}

func TestJoinServerIsAnAgent(t *testing.T) {
	ca := newCA(t, time.Now(), 0)
	tok, err := NewToken(ca.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	agent := newNode(t, ca, "agent-1", RoleAgent)
	js := startJoinServer(t, agent.creds, agent.pool, issuer(ca, agent.pool, NewTokenRecord(tok, RoleServer, time.Now(), 0, "")))
	_, _, err = Join(testCtx(t), js.addr, tok, newKey(t), JoinRequest{NodeName: "n", Role: RoleAgent})
	wantErr(t, err, ErrUnexpectedPeer, `"agent-1"`, js.addr)
	_ = js.served(t)
	if js.calls.Load() != 0 {
		t.Fatal("the handler ran behind an agent certificate")
	}
}

func TestJoinRefused(t *testing.T) {
	for _, tc := range []struct {
		name      string
		tokenRole Role
		ttl       time.Duration
		secret    func(Token) string
		role      Role
		target    error
	}{
		{"wrong secret", RoleServer, 0, func(t Token) string { return strings.Repeat("x", 32) }, RoleAgent, ErrWrongSecret},
		{"agent token for a server", RoleAgent, 0, nil, RoleServer, ErrRoleNotAllowed},
		{"expired token", RoleServer, -time.Second, nil, RoleAgent, ErrTokenExpired},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newJoinFixture(t, tc.tokenRole, tc.ttl)
			tok := f.token
			if tc.secret != nil {
				tok.Secret = tc.secret(tok)
			}
			_, _, err := Join(testCtx(t), f.server.addr, tok, newKey(t), JoinRequest{NodeName: "n", Role: tc.role})
			wantErr(t, err, ErrJoinRefused, "server refused the join", f.server.addr, f.token.ID)
			if !errors.Is(err, tc.target) {
				t.Fatalf("error %q does not wrap %q", err, tc.target)
			}
			if strings.Contains(err.Error(), tok.Secret) || strings.Contains(err.Error(), f.token.Secret) {
				t.Fatalf("error %q contains a secret", err)
			}
			if served := f.server.served(t); !errors.Is(served, tc.target) {
				t.Fatalf("ServeJoin: %v; want %v", served, tc.target)
			}
		})
	}
}

func TestJoinBadCSR(t *testing.T) {
	f := newJoinFixture(t, RoleServer, 0)
	key := newKey(t)
	csr, err := newCSR(key, JoinRequest{NodeName: "n", Role: RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(csr)
	bad[len(bad)-1] ^= 0xff // in the signature
	_, _, err = Join(testCtx(t), f.server.addr, f.token, key, JoinRequest{NodeName: "n", Role: RoleAgent, CSR: bad})
	wantErr(t, err, ErrJoinRefused, "CSR: the signature does not verify")
	if !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("error %q does not wrap ErrInvalidArgument", err)
	}
	if served := f.server.served(t); !errors.Is(served, ErrInvalidArgument) {
		t.Fatalf("ServeJoin: %v", served)
	}
	if f.server.calls.Load() != 0 {
		t.Fatal("the handler ran for a CSR whose signature does not verify")
	}

	// A CSR signed by another key gets a certificate for that key, which
	// Join refuses to return for key.
	otherCSR, err := newCSR(newKey(t), JoinRequest{NodeName: "n", Role: RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Join(testCtx(t), f.server.addr, f.token, key, JoinRequest{NodeName: "n", Role: RoleAgent, CSR: otherCSR})
	wantErr(t, err, ErrBadResponse, "issued for another key")
	_ = f.server.served(t)
}

func TestServeJoinOversizeRequest(t *testing.T) {
	f := newJoinFixture(t, RoleServer, 0)
	conn, err := tls.Dial("tcp", f.server.addr, &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], 1<<20)
	if _, err := conn.Write(hdr[:]); err != nil {
		t.Fatal(err)
	}
	var resp JoinResponse
	if err := ReadFrame(conn, &resp); err != nil {
		t.Fatalf("reading the refusal: %v", err)
	}
	if !strings.Contains(resp.Error, "frame too large: 1048576 bytes; the limit is 65536") {
		t.Fatalf("response error %q", resp.Error)
	}
	if served := f.server.served(t); !errors.Is(served, ErrFrameTooLarge) {
		t.Fatalf("ServeJoin: %v", served)
	}
	if f.server.calls.Load() != 0 {
		t.Fatal("the handler ran for an oversize request")
	}
}

func TestServeJoinMalformedRequest(t *testing.T) {
	f := newJoinFixture(t, RoleServer, 0)
	for _, tc := range []struct {
		name string
		send func(*tls.Conn) error
		text string
	}{
		{"not JSON", func(c *tls.Conn) error {
			_, err := c.Write([]byte{0, 0, 0, 3, '{', 'x', '}'})
			return err
		}, "malformed frame"},
		{"bad fields", func(c *tls.Conn) error {
			return WriteFrame(c, &JoinRequest{TokenID: "abc123", NodeName: "n", Role: RoleAgent, IPs: []string{"300.1.1.1"}})
		}, "IPs[0]"},
		{"no CSR", func(c *tls.Conn) error {
			return WriteFrame(c, &JoinRequest{TokenID: "abc123", NodeName: "n", Role: RoleAgent})
		}, "CSR: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", f.server.addr, &tls.Config{MinVersion: tls.VersionTLS13, InsecureSkipVerify: true})
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			if err := tc.send(conn); err != nil {
				t.Fatal(err)
			}
			var resp JoinResponse
			if err := ReadFrame(conn, &resp); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(resp.Error, tc.text) {
				t.Fatalf("response error %q does not contain %q", resp.Error, tc.text)
			}
			if served := f.server.served(t); !errors.Is(served, ErrInvalidArgument) {
				t.Fatalf("ServeJoin: %v", served)
			}
		})
	}
	if f.server.calls.Load() != 0 {
		t.Fatal("the handler ran for a malformed request")
	}
}

func TestJoinOversizeResponse(t *testing.T) {
	ca := newCA(t, time.Now(), 0)
	tok, err := NewToken(ca.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	srv := newNode(t, ca, "server-1", RoleServer)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		tc := tls.Server(conn, srv.server())
		defer tc.Close()
		var req JoinRequest
		if ReadFrame(tc, &req) == nil {
			_, _ = tc.Write([]byte{0, 0x10, 0, 0}) // 1 MiB announced
		}
	})
	_, _, err = Join(testCtx(t), ln.Addr().String(), tok, newKey(t), JoinRequest{NodeName: "n", Role: RoleAgent})
	wantErr(t, err, ErrFrameTooLarge, "read response", ln.Addr().String())
}

func TestServeJoinKeepsStoreKeysFromAgents(t *testing.T) {
	ca := newCA(t, time.Now(), 0)
	tok, err := NewToken(ca.Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	srv := newNode(t, ca, "server-1", RoleServer)
	rec := NewTokenRecord(tok, RoleServer, time.Now(), 0, "")
	leaky := func(ctx context.Context, req JoinRequest, key crypto.PublicKey) (*JoinResponse, error) {
		resp, err := issuer(ca, srv.pool, rec)(ctx, req, key)
		if resp != nil {
			resp.EncryptionKeys = []EncryptionKey{storeKey}
		}
		return resp, err
	}
	js := startJoinServer(t, srv.creds, srv.pool, leaky)
	_, _, err = Join(testCtx(t), js.addr, tok, newKey(t), JoinRequest{NodeName: "n", Role: RoleAgent})
	wantErr(t, err, ErrJoinRefused, "store encryption keys to an agent")
	if served := js.served(t); served == nil {
		t.Fatal("ServeJoin reported success")
	}
}

func TestJoinNetworkErrors(t *testing.T) {
	tok, err := NewToken(newCA(t, time.Now(), 0).Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	req := JoinRequest{NodeName: "n", Role: RoleAgent}

	t.Run("nothing listening", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		_, _, err = Join(testCtx(t), addr, tok, newKey(t), req)
		wantErr(t, err, nil, "trust: join via "+addr+": dial")
	})

	t.Run("silent server", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		var accepted net.Conn // accepted and then never answered
		var wg sync.WaitGroup
		wg.Go(func() { accepted, _ = ln.Accept() })
		defer func() {
			ln.Close()
			wg.Wait()
			if accepted != nil {
				accepted.Close()
			}
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, _, err = Join(ctx, ln.Addr().String(), tok, newKey(t), req)
		wantErr(t, err, context.DeadlineExceeded, ln.Addr().String(), "TLS handshake")
	})

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err := Join(ctx, "127.0.0.1:1", tok, newKey(t), req)
		wantErr(t, err, context.Canceled, "127.0.0.1:1")
	})
}

func TestJoinBadArguments(t *testing.T) {
	tok, err := NewToken(newCA(t, time.Now(), 0).Fingerprint())
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t)
	good := JoinRequest{NodeName: "n", Role: RoleAgent}
	for _, tc := range []struct {
		name   string
		token  func(*Token)
		key    crypto.Signer
		req    func(*JoinRequest)
		target error
		text   string
	}{
		{"bad fingerprint", func(t *Token) { t.CAFingerprint = "sha256:00" }, key, nil, ErrInvalidArgument, "token.CAFingerprint"},
		{"bad id", func(t *Token) { t.ID = "" }, key, nil, ErrInvalidArgument, "token.ID"},
		{"bad secret", func(t *Token) { t.Secret = "short" }, key, nil, ErrInvalidArgument, "token.Secret"},
		{"nil key", nil, nil, nil, ErrInvalidArgument, "key: nil"},
		{"bad node name", nil, key, func(r *JoinRequest) { r.NodeName = "-n" }, ErrInvalidArgument, "NodeName"},
		{"bad role", nil, key, func(r *JoinRequest) { r.Role = "boss" }, ErrInvalidArgument, "Role"},
		{"bad IP", nil, key, func(r *JoinRequest) { r.IPs = []string{"nope"} }, ErrInvalidArgument, "IPs[0]"},
		{"bad DNS name", nil, key, func(r *JoinRequest) { r.DNSNames = []string{"a b"} }, ErrInvalidArgument, "req.DNSNames[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk, req := tok, good
			if tc.token != nil {
				tc.token(&tk)
			}
			if tc.req != nil {
				tc.req(&req)
			}
			dial := func(context.Context, string) (net.Conn, error) {
				t.Fatal("dialled with a bad argument")
				return nil, nil
			}
			_, _, err := JoinWith(testCtx(t), dial, "127.0.0.1:1", tk, tc.key, req)
			wantErr(t, err, tc.target, tc.text)
			if tok.Secret != "" && strings.Contains(err.Error(), tok.Secret) {
				t.Fatalf("error %q contains the secret", err)
			}
		})
	}
}
