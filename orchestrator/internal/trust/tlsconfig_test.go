package trust

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// handshakeResult is what both ends of one loopback TLS connection saw.
type handshakeResult struct {
	serverErr, clientErr     error
	serverState, clientState tls.ConnectionState
}

// handshake connects a client with config client to a server with config
// server over loopback TCP. The server writes one byte after its
// handshake and the client reads it, so a client certificate the server
// refused (which TLS 1.3 reports after the client's handshake) shows up in
// clientErr too.
func handshake(t *testing.T, server, client *tls.Config) handshakeResult {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var res handshakeResult
	var wg sync.WaitGroup
	wg.Go(func() {
		conn, err := ln.Accept()
		if err != nil {
			res.serverErr = err
			return
		}
		tc := tls.Server(conn, server)
		defer tc.Close()
		if err := tc.HandshakeContext(ctx); err != nil {
			res.serverErr = err
			return
		}
		res.serverState = tc.ConnectionState()
		_, res.serverErr = tc.Write([]byte{1})
	})
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(raw, client)
	res.clientErr = tc.HandshakeContext(ctx)
	if res.clientErr == nil {
		res.clientState = tc.ConnectionState()
		var b [1]byte
		_, res.clientErr = io.ReadFull(tc, b[:])
	}
	tc.Close()
	wg.Wait()
	return res
}

// node is one side's TLS material.
type node struct {
	creds *Credentials
	pool  *Pool
}

func newNode(t *testing.T, ca *CA, name string, role Role) node {
	return node{creds: newCreds(t, ca, name, role, time.Now()), pool: NewPool(ca.Cert())}
}

func (n node) server() *tls.Config { return ServerConfig(n.creds, n.pool, nil) }

func (n node) client(expect string) *tls.Config { return ClientConfig(n.creds, n.pool, expect, nil) }

func TestTLSMutual(t *testing.T) {
	ca := newCA(t, time.Now(), 0)
	srv := newNode(t, ca, "server-1", RoleServer)
	for _, role := range []Role{RoleServer, RoleAgent} {
		cli := newNode(t, ca, "client-1", role)
		res := handshake(t, srv.server(), cli.client("server-1"))
		if res.serverErr != nil || res.clientErr != nil {
			t.Fatalf("%s client: server %v, client %v", role, res.serverErr, res.clientErr)
		}
		if res.serverState.Version != tls.VersionTLS13 {
			t.Fatalf("TLS version %x; want 1.3", res.serverState.Version)
		}
		id, err := PeerIdentity(res.serverState, srv.pool, time.Now())
		if err != nil || id != (Identity{NodeName: "client-1", Role: role}) {
			t.Fatalf("PeerIdentity on the server = %+v, %v", id, err)
		}
		// The server sends its CA after its certificate, for joining nodes.
		if chain := res.clientState.PeerCertificates; len(chain) != 2 || Fingerprint(chain[1]) != ca.Fingerprint() {
			t.Fatalf("server presented %d certificates; want its own and the CA", len(chain))
		}
	}
}

func TestTLSClientOfAnotherCA(t *testing.T) {
	ca := newCA(t, time.Now(), 0)
	srv := newNode(t, ca, "server-1", RoleServer)
	stranger := newNode(t, newCA(t, time.Now(), 0), "stranger", RoleServer)
	stranger.pool = srv.pool // it trusts our CA, but its own certificate is not ours
	res := handshake(t, srv.server(), stranger.client(""))
	if res.serverErr == nil || !strings.Contains(res.serverErr.Error(), "unknown authority") {
		t.Fatalf("server: %v; want a refusal naming the unknown authority", res.serverErr)
	}
	if res.clientErr == nil {
		t.Fatal("the refused client could read from the connection")
	}
}

func TestTLSClientWithoutCertificate(t *testing.T) {
	ca := newCA(t, time.Now(), 0)
	srv := newNode(t, ca, "server-1", RoleServer)
	res := handshake(t, srv.server(), ClientConfig(nil, srv.pool, "", nil))
	if res.serverErr != nil || res.clientErr != nil {
		t.Fatalf("certless client: server %v, client %v", res.serverErr, res.clientErr)
	}
	_, err := PeerIdentity(res.serverState, srv.pool, time.Now())
	wantErr(t, err, ErrNoCertificate, "no certificate")
}

func TestTLSServerMustBeServer(t *testing.T) {
	ca := newCA(t, time.Now(), 0)
	agent := newNode(t, ca, "agent-1", RoleAgent)
	cli := newNode(t, ca, "client-1", RoleServer)
	res := handshake(t, agent.server(), cli.client(""))
	wantErr(t, res.clientErr, ErrUnexpectedPeer, `"agent-1" has the agent role; want a server`)
	if res.serverErr == nil {
		t.Fatal("the server's handshake succeeded after the client refused it")
	}
}

func TestTLSExpectName(t *testing.T) {
	ca := newCA(t, time.Now(), 0)
	srv := newNode(t, ca, "server-1", RoleServer)
	cli := newNode(t, ca, "client-1", RoleServer)
	res := handshake(t, srv.server(), cli.client("server-2"))
	wantErr(t, res.clientErr, ErrUnexpectedPeer, `names node "server-1"; want "server-2"`)
	if res := handshake(t, srv.server(), cli.client("server-1")); res.clientErr != nil || res.serverErr != nil {
		t.Fatalf("expected name: server %v, client %v", res.serverErr, res.clientErr)
	}
}

func TestTLSClientRefusesServerOfAnotherCA(t *testing.T) {
	ca := newCA(t, time.Now(), 0)
	impostor := newNode(t, newCA(t, time.Now(), 0), "server-1", RoleServer)
	cli := newNode(t, ca, "client-1", RoleServer)
	res := handshake(t, impostor.server(), cli.client("server-1"))
	wantErr(t, res.clientErr, ErrUnknownAuthority)
}

func TestTLSRotation(t *testing.T) {
	now := time.Now()
	ca := newCA(t, now, 0)
	srv := newNode(t, ca, "server-1", RoleServer)
	cli := newNode(t, ca, "client-1", RoleServer)
	// One pair of configs for the whole test: every change below must reach
	// new handshakes through Credentials and Pool alone.
	serverCfg, clientCfg := srv.server(), cli.client("server-1")
	if res := handshake(t, serverCfg, clientCfg); res.serverErr != nil || res.clientErr != nil {
		t.Fatalf("before rotation: server %v, client %v", res.serverErr, res.clientErr)
	}

	// Renew the CA certificate and both node certificates under it.
	renewed, err := ca.Renew(now, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv.pool.SetCAs(ca.Cert(), renewed.Cert())
	cli.pool.SetCAs(renewed.Cert())
	key, cert := issue(t, renewed, "server-1", RoleServer, now)
	if err := srv.creds.Set(key, cert); err != nil {
		t.Fatal(err)
	}
	res := handshake(t, serverCfg, clientCfg)
	if res.serverErr != nil || res.clientErr != nil {
		t.Fatalf("after renewal: server %v, client %v", res.serverErr, res.clientErr)
	}
	if got := res.clientState.PeerCertificates[0].SerialNumber; got.Cmp(cert.SerialNumber) != 0 {
		t.Fatalf("server presented serial %x; want the new certificate's %x", got, cert.SerialNumber)
	}

	// Move the server to a new CA key: the client's old certificate is no
	// longer accepted until it gets one of the new CA.
	next := newCA(t, now, 0)
	srv.pool.SetCAs(next.Cert())
	cli.pool.SetCAs(next.Cert())
	key, cert = issue(t, next, "server-1", RoleServer, now)
	if err := srv.creds.Set(key, cert); err != nil {
		t.Fatal(err)
	}
	res = handshake(t, serverCfg, clientCfg)
	if res.serverErr == nil || !strings.Contains(res.serverErr.Error(), "unknown authority") {
		t.Fatalf("client certificate of the dropped CA: server %v", res.serverErr)
	}
	key, cert = issue(t, next, "client-1", RoleServer, now)
	if err := cli.creds.Set(key, cert); err != nil {
		t.Fatal(err)
	}
	res = handshake(t, serverCfg, clientCfg)
	if res.serverErr != nil || res.clientErr != nil {
		t.Fatalf("after moving to the new CA: server %v, client %v", res.serverErr, res.clientErr)
	}
	if id, err := PeerIdentity(res.serverState, srv.pool, now); err != nil || id.NodeName != "client-1" {
		t.Fatalf("PeerIdentity after rotation: %+v, %v", id, err)
	}
}

func TestTLSRevoked(t *testing.T) {
	ca := newCA(t, time.Now(), 0)
	srv := newNode(t, ca, "server-1", RoleServer)
	cli := newNode(t, ca, "client-1", RoleServer)
	serverCfg, clientCfg := srv.server(), cli.client("")
	res := handshake(t, serverCfg, clientCfg)
	if res.serverErr != nil || res.clientErr != nil {
		t.Fatalf("before revocation: server %v, client %v", res.serverErr, res.clientErr)
	}
	// PeerIdentity re-checks a connection made before the revocation.
	before := res.serverState

	srv.pool.SetRevoked([]*big.Int{cli.creds.Certificate().SerialNumber})
	res = handshake(t, serverCfg, clientCfg)
	wantErr(t, res.serverErr, ErrRevoked, "client-1")
	if res.clientErr == nil {
		t.Fatal("the revoked client could read from the connection")
	}
	if _, err := PeerIdentity(before, srv.pool, time.Now()); !errors.Is(err, ErrRevoked) {
		t.Fatalf("PeerIdentity of an earlier connection after revocation: %v", err)
	}

	srv.pool.SetRevoked(nil)
	cli.pool.SetRevoked([]*big.Int{srv.creds.Certificate().SerialNumber})
	res = handshake(t, serverCfg, clientCfg)
	wantErr(t, res.clientErr, ErrRevoked, "server-1")
}

func TestTLSClock(t *testing.T) {
	now := time.Now()
	ca := newCA(t, now, 0)
	srv := newNode(t, ca, "server-1", RoleServer)
	cli := newNode(t, ca, "client-1", RoleServer)
	future := func() time.Time { return now.Add(2 * DefaultCertValidity) }
	res := handshake(t, srv.server(), ClientConfig(cli.creds, cli.pool, "", future))
	wantErr(t, res.clientErr, ErrExpired, `"system:node:server-1"`)
	res = handshake(t, ServerConfig(srv.creds, srv.pool, future), cli.client(""))
	if res.serverErr == nil || !strings.Contains(res.serverErr.Error(), "expired") {
		t.Fatalf("server with a clock past the client's certificate: %v; want it refused as expired", res.serverErr)
	}
}

func TestServerWithoutCredentials(t *testing.T) {
	ca := newCA(t, time.Now(), 0)
	cli := newNode(t, ca, "client-1", RoleServer)
	res := handshake(t, ServerConfig(&Credentials{}, cli.pool, nil), cli.client(""))
	wantErr(t, res.serverErr, nil, "server has no credentials")
}
