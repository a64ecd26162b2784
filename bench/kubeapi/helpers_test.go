package kubeapi_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/raftstore"
)

// kubeconfigCreds is what the benchmarks need of an admin kubeconfig:
// the cluster CA and the admin client certificate.
type kubeconfigCreds struct {
	Clusters []struct {
		Cluster struct {
			CA []byte `json:"certificate-authority-data"`
		} `json:"cluster"`
	} `json:"clusters"`
	Users []struct {
		User struct {
			Cert []byte `json:"client-certificate-data"`
			Key  []byte `json:"client-key-data"`
		} `json:"user"`
	} `json:"users"`
}

// apiClient is an HTTPS client of every server of a cluster: one
// http.Transport, so one HTTP/2 connection per server while its streams
// fit the server's limit (Go's client opens another when they do not).
type apiClient struct {
	*http.Client
	tr    *http.Transport
	dials atomic.Int64 // TLS connections opened
}

// newAPIClient reads the admin kubeconfig at path.
func newAPIClient(tb testing.TB, path string) *apiClient {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var kc kubeconfigCreds
	if err := yaml.Unmarshal(raw, &kc); err != nil {
		tb.Fatalf("kubeconfig: %v", err)
	}
	if len(kc.Clusters) == 0 || len(kc.Users) == 0 {
		tb.Fatalf("kubeconfig %s: no cluster or user", path)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(kc.Clusters[0].Cluster.CA) {
		tb.Fatal("kubeconfig: no CA certificate")
	}
	pair, err := tls.X509KeyPair(kc.Users[0].User.Cert, kc.Users[0].User.Key)
	if err != nil {
		tb.Fatalf("kubeconfig: client certificate: %v", err)
	}
	c := &apiClient{}
	c.tr = &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
	}
	dial := (&net.Dialer{}).DialContext
	c.tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c.dials.Add(1)
		return dial(ctx, network, addr)
	}
	c.Client = &http.Client{Transport: c.tr}
	tb.Cleanup(c.tr.CloseIdleConnections)
	return c
}

// servers returns the API base URLs of the cluster's nodes.
func servers(c *orchestratortest.TestCluster) []string {
	urls := make([]string, c.Len())
	for i := range urls {
		urls[i] = "https://" + c.APIAddr(i)
	}
	return urls
}

// create creates obj through cl (or, on a retry, through the next of
// clients if given) and retries a write whose outcome a leadership change
// made unknown, as clients do: AlreadyExists on a retry means the first
// attempt was applied. It returns how many retries it made.
func create(ctx context.Context, obj orchestrator.Object, clients []orchestrator.Client, first int) (int, error) {
	orig := obj.DeepCopyObject() // a failed Create may have filled in obj
	err := clients[first%len(clients)].Create(ctx, obj)
	tries := 0
	for ; err != nil && raftstore.IsRetryable(err) && tries < 50; tries++ {
		time.Sleep(20 * time.Millisecond) // retry backoff
		if err = clients[(first+tries+1)%len(clients)].Create(ctx, orig.DeepCopyObject()); api.IsAlreadyExists(err) {
			err = nil
		}
	}
	return tries, err
}
