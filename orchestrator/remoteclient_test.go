package orchestrator_test

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/authn"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// TestRemoteClientConformance runs the Client contract suite through the
// HTTPS Kubernetes API: a 3-node cluster, the remote client pointed at a
// follower, with the other nodes as failover servers.
func TestRemoteClientConformance(t *testing.T) {
	tc := orchestratortest.NewCluster(t, 3)
	leader := tc.Leader()
	var urls []string
	var caPEM []byte
	for i := range 3 {
		srv := serveAPI(t, tc.Node((leader+1+i)%3))
		urls = append(urls, srv.URL)
		caPEM = append(caPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})...)
	}
	cl, err := orchestrator.NewRemoteClient(testKubeconfig(urls[0], caPEM, "conformance-token"),
		orchestrator.WithFailoverServers(urls[1:]...), orchestrator.WithRemoteLogger(zaptest.NewLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	clientConformance(t, cl)
}

// serveAPI serves node's Kubernetes API over HTTPS (HTTP/2) on loopback,
// to the bearer token "conformance-token" (user admin).
//
// TODO(lead): replace with orchestratortest.WithAPI and
// TestCluster.Kubeconfig once branch serve provides them.
func serveAPI(tb testing.TB, node *orchestrator.Cluster) *httptest.Server {
	tb.Helper()
	tokens, err := authn.ParseTokens(strings.NewReader("conformance-token,admin,uid-admin,system:masters\n"))
	if err != nil {
		tb.Fatal(err)
	}
	h, err := apiserver.New(apiserver.Config{
		Client:        orchestrator.ClientSeamForTest(node),
		Authenticator: authn.New(authn.Config{Tokens: tokens}),
		Logger:        zaptest.NewLogger(tb),
	})
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.StartTLS()
	tb.Cleanup(srv.Close)
	return srv
}

func testKubeconfig(server string, caPEM []byte, token string) []byte {
	return fmt.Appendf(nil, `apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster: {server: %q, certificate-authority-data: %s}
contexts:
- name: test
  context: {cluster: test, user: test}
users:
- name: test
  user: {token: %q}
`, server, base64.StdEncoding.EncodeToString(caPEM), token)
}

// TestClientWatchTooOld: on a node that keeps few events for watches, a
// watch from a revision compacted away is TooOld through either client.
func TestClientWatchTooOld(t *testing.T) {
	tc := orchestratortest.NewCluster(t, 1, orchestratortest.WithConfig(func(_ int, cfg *orchestrator.Config) {
		orchestrator.SetWatchHistoryForTest(cfg, 16)
	}))
	ctx := context.Background()
	var first string
	for i := range 40 {
		cm := configMap(fmt.Sprintf("too-old-%d", i), nil, nil)
		if err := tc.Client().Create(ctx, cm); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = cm.ResourceVersion
		}
	}
	srv := serveAPI(t, tc.Node(0))
	remote, err := orchestrator.NewRemoteClient(testKubeconfig(srv.URL,
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), "conformance-token"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = remote.Close() })
	t.Run("Local", func(t *testing.T) { watchTooOld(t, tc.Client(), first) })
	t.Run("Remote", func(t *testing.T) { watchTooOld(t, remote, first) })
}
