package trust

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"
)

func BenchmarkPoolVerify(b *testing.B) {
	now := time.Now()
	ca := newCA(b, now, 0)
	_, leaf := issue(b, ca, "n", RoleServer, now)
	pool := NewPool(ca.Cert())
	revoked := make([]*big.Int, 1000)
	for i := range revoked {
		revoked[i] = big.NewInt(int64(i + 1))
	}
	pool.SetRevoked(revoked)
	chain := []*x509.Certificate{leaf}
	for b.Loop() {
		if _, err := pool.Verify(chain, x509.ExtKeyUsageClientAuth, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIssue(b *testing.B) {
	now := time.Now()
	ca := newCA(b, now, 0)
	pub := newKey(b).Public()
	for b.Loop() {
		if _, err := ca.Issue(IssueRequest{Identity: Identity{NodeName: "n", Role: RoleAgent}, PublicKey: pub, NotBefore: now}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHandshake is one mutual TLS 1.3 handshake between two nodes on
// loopback TCP, with ServerConfig and ClientConfig.
func BenchmarkHandshake(b *testing.B) {
	now := time.Now()
	ca := newCA(b, now, 0)
	srvCreds := newCreds(b, ca, "server-1", RoleServer, now)
	cliCreds := newCreds(b, ca, "client-1", RoleServer, now)
	pool := NewPool(ca.Cert())
	serverCfg := ServerConfig(srvCreds, pool, nil)
	clientCfg := ClientConfig(cliCreds, pool, "server-1", nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			tc := tls.Server(conn, serverCfg)
			_ = tc.Handshake()
			_ = tc.Close()
		}
	})
	defer func() {
		ln.Close()
		wg.Wait()
	}()
	ctx := context.Background()
	for b.Loop() {
		raw, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		tc := tls.Client(raw, clientCfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			b.Fatal(err)
		}
		_ = tc.Close()
	}
}

// BenchmarkJoin is one whole join on loopback: dial, TLS, request, issue,
// response, checks on both sides.
func BenchmarkJoin(b *testing.B) {
	now := time.Now()
	ca := newCA(b, now, 0)
	tok, err := NewToken(ca.Fingerprint())
	if err != nil {
		b.Fatal(err)
	}
	srvCreds := newCreds(b, ca, "server-1", RoleServer, now)
	pool := NewPool(ca.Cert())
	handle := issuer(ca, pool, NewTokenRecord(tok, RoleServer, now, 0, ""))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	cfg := ServerConfig(srvCreds, pool, nil)
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = ServeJoin(context.Background(), tls.Server(conn, cfg), handle)
		}
	})
	defer func() {
		ln.Close()
		wg.Wait()
	}()
	key := newKey(b)
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := Join(ctx, ln.Addr().String(), tok, key, JoinRequest{NodeName: "n", Role: RoleAgent}); err != nil {
			b.Fatal(err)
		}
	}
}
