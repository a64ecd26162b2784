package trust_test

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
)

// A cluster CA is made at bootstrap, an operator makes a join token for an
// agent, and the new node trades it for its certificate at a server.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// Bootstrap: the CA, and the first server's own certificate.
	ca, err := trust.NewCA(time.Now(), 0)
	if err != nil {
		panic(err)
	}
	serverKey, _ := trust.NewKey()
	serverCert, err := ca.Issue(trust.IssueRequest{
		Identity:  trust.Identity{NodeName: "server-1", Role: trust.RoleServer},
		PublicKey: serverKey.Public(),
		NotBefore: time.Now(),
	})
	if err != nil {
		panic(err)
	}
	creds, _ := trust.NewCredentials(serverKey, serverCert)
	pool := trust.NewPool(ca.Cert())

	// The operator's token; the cluster keeps only its record.
	token, _ := trust.NewToken(ca.Fingerprint())
	record := trust.NewTokenRecord(token, trust.RoleAgent, time.Now(), time.Hour, "agents of rack 4")

	// The server's cluster port answers one join.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		served <- trust.ServeJoin(ctx, tls.Server(conn, trust.ServerConfig(creds, pool, nil)),
			func(ctx context.Context, req trust.JoinRequest, csrKey crypto.PublicKey) (*trust.JoinResponse, error) {
				if err := trust.Authorize(record, req, time.Now()); err != nil {
					return nil, err
				}
				ir, err := req.IssueRequest(csrKey, time.Now())
				if err != nil {
					return nil, err
				}
				cert, err := ca.Issue(ir)
				if err != nil {
					return nil, err
				}
				return &trust.JoinResponse{Certificate: trust.EncodeCerts(cert), CAs: trust.EncodeCerts(pool.CAs()...)}, nil
			})
	}()

	// The new node: its own key, the token's text, any server's address.
	parsed, err := trust.ParseToken(token.String())
	if err != nil {
		panic(err)
	}
	nodeKey, _ := trust.NewKey()
	resp, cas, err := trust.Join(ctx, ln.Addr().String(), parsed, nodeKey,
		trust.JoinRequest{NodeName: "agent-1", Role: trust.RoleAgent})
	if err != nil {
		panic(err)
	}
	if err := <-served; err != nil {
		panic(err)
	}
	certs, _ := trust.ParseCerts(resp.Certificate)
	id, err := trust.NewPool(cas...).Verify(certs, x509.ExtKeyUsageClientAuth, time.Now())
	if err != nil {
		panic(err)
	}
	fmt.Println(id.NodeName, id.Role)
	fmt.Println(certs[0].Subject.CommonName, certs[0].Subject.Organization)
	fmt.Println(trust.Fingerprint(cas[0]) == ca.Fingerprint())
	// Output:
	// agent-1 agent
	// system:node:agent-1 [system:nodes flotilla:agents]
	// true
}
