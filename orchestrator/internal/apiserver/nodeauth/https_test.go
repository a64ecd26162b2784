package nodeauth_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/nodeauth"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client/remote"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
)

// certAuthenticator reads the user from a verified client certificate, as
// the API server's certificate authenticator does (CN user, O groups).
type certAuthenticator struct{ roots *x509.CertPool }

func (a certAuthenticator) Authenticate(r *http.Request) (apiserver.User, bool, error) {
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return apiserver.User{}, false, nil
	}
	leaf := r.TLS.PeerCertificates[0]
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: a.roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return apiserver.User{}, false, err
	}
	return apiserver.User{Name: leaf.Subject.CommonName, Groups: leaf.Subject.Organization}, true, nil
}

// nodeClient is a remote client to srv with a certificate of ca for the
// node name in role.
func nodeClient(t *testing.T, srv *httptest.Server, ca *trust.CA, name string, role trust.Role) *remote.Client {
	t.Helper()
	key, err := trust.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(trust.IssueRequest{Identity: trust.Identity{NodeName: name, Role: role}, PublicKey: key.Public(), NotBefore: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	c, err := remote.New(remote.Config{Servers: []string{srv.URL}, RootCAs: roots,
		Certificate: &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Over HTTPS, with the agent's certificate, an agent writes its own Node
// and its own Pods' status but neither another Node nor another node's
// Pod; a server's certificate may.
func TestAgentCertificateOverHTTPS(t *testing.T) {
	reg := cluster(t)
	ca, err := trust.NewCA(time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	z, err := nodeauth.New(nodeauth.Config{Client: reg})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert())
	h, err := apiserver.New(apiserver.Config{Client: nodeauth.Restrict(reg), Authenticator: certAuthenticator{roots}, Authorizer: z})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	ctx := context.Background()
	a := nodeClient(t, srv, ca, "a", trust.RoleAgent)
	for _, n := range []string{"a", "b"} {
		if err := reg.Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: n}}, client.CreateOptions{}); err != nil && n == "b" {
			t.Fatal(err)
		}
	}
	if err := reg.Delete(ctx, "", "a", &api.Node{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := a.Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "a"}}, client.CreateOptions{}); err != nil {
		t.Fatalf("agent a registers its Node: %v", err)
	}
	if err := a.Create(ctx, &api.Node{ObjectMeta: api.ObjectMeta{Name: "c"}}, client.CreateOptions{}); !api.IsForbidden(err) {
		t.Fatalf("agent a creates Node c: %v; want Forbidden", err)
	}

	var own, other api.Node
	if err := a.Get(ctx, "", "a", &own, client.GetOptions{}); err != nil {
		t.Fatalf("agent a reads its Node: %v", err)
	}
	own.Status.Phase = "Running"
	if err := a.UpdateStatus(ctx, &own, client.UpdateOptions{}); err != nil {
		t.Fatalf("agent a updates its Node's status: %v", err)
	}
	if err := reg.Get(ctx, "", "b", &other, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	err = a.UpdateStatus(ctx, &other, client.UpdateOptions{})
	want := `nodes "b" is forbidden: User "system:node:a" cannot update resource "nodes/status" in API group "" at the cluster scope: node "a" cannot modify or read node "b"`
	if !api.IsForbidden(err) || err.Error() != want {
		t.Fatalf("agent a updates Node b's status: %v\nwant %s", err, want)
	}

	var pa, pb api.Pod
	if err := a.Get(ctx, "default", "p-a", &pa, client.GetOptions{}); err != nil {
		t.Fatalf("agent a reads its Pod: %v", err)
	}
	pa.Status.Message = "seen by a"
	if err := a.UpdateStatus(ctx, &pa, client.UpdateOptions{}); err != nil {
		t.Fatalf("agent a updates its Pod's status: %v", err)
	}
	if err := a.Get(ctx, "default", "p-b", &pb, client.GetOptions{}); err != nil {
		t.Fatalf("agent a reads another node's Pod: %v", err)
	}
	pb.Status.Message = "hijacked by a"
	err = a.UpdateStatus(ctx, &pb, client.UpdateOptions{})
	want = `pods "p-b" is forbidden: User "system:node:a" cannot update resource "pods/status" in API group "" in the namespace "default": no relationship found between node 'a' and this object`
	if !api.IsForbidden(err) || err.Error() != want {
		t.Fatalf("agent a updates Pod p-b's status: %v\nwant %s", err, want)
	}
	if err := a.Patch(ctx, &pb, api.MergePatchType, []byte(`{"status":{"message":"hijacked"}}`), client.PatchOptions{}); !api.IsForbidden(err) {
		t.Fatalf("agent a patches Pod p-b: %v; want Forbidden", err)
	}
	if err := a.Delete(ctx, "default", "p-b", &api.Pod{}, client.DeleteOptions{}); !api.IsForbidden(err) {
		t.Fatalf("agent a deletes Pod p-b: %v; want Forbidden", err)
	}
	if err := reg.Get(ctx, "default", "p-b", &pb, client.GetOptions{}); err != nil || pb.Status.Message != "" {
		t.Fatalf("Pod p-b after the refused writes: %v, message %q", err, pb.Status.Message)
	}

	s := nodeClient(t, srv, ca, "s1", trust.RoleServer)
	pb.Status.Message = "written by a server"
	if err := s.UpdateStatus(ctx, &pb, client.UpdateOptions{}); err != nil {
		t.Fatalf("server updates Pod p-b's status: %v", err)
	}
}
