package clientgo

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// apiCluster is an in-process cluster serving the Kubernetes API on
// loopback, with the admin kubeconfig.
type apiCluster struct {
	*orchestratortest.TestCluster
	tb         testing.TB
	kubeconfig string
	addrs      []string // each node's API address (host:port)
}

// newCluster starts n nodes with the API and returns when they are ready.
func newCluster(tb testing.TB, n int, opts ...orchestratortest.Option) *apiCluster {
	tb.Helper()
	tc := orchestratortest.NewCluster(tb, n, append([]orchestratortest.Option{orchestratortest.WithAPI()}, opts...)...)
	c := &apiCluster{TestCluster: tc, tb: tb, kubeconfig: tc.Kubeconfig(tb)}
	for i := range n {
		c.addrs = append(c.addrs, tc.APIAddr(i))
	}
	return c
}

// restConfig returns the admin's client configuration with node i as the
// server, unthrottled (client-go's default 5 requests per second would
// make the tests slow, not more faithful), speaking JSON: client-go's
// clientsets send protobuf by default, which TestProtobufClientset covers
// on its own so that the other tests check the API's semantics.
func (c *apiCluster) restConfig(i int) *rest.Config {
	cfg := c.defaultRestConfig(i)
	cfg.ContentType = "application/json"
	cfg.AcceptContentTypes = "application/json"
	return cfg
}

// defaultRestConfig is restConfig with client-go's default content types.
func (c *apiCluster) defaultRestConfig(i int) *rest.Config {
	c.tb.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
	if err != nil {
		c.tb.Fatalf("the kubeconfig of the test cluster: %v", err)
	}
	cfg.Host = "https://" + c.addrs[i]
	cfg.QPS, cfg.Burst = -1, 0
	cfg.Timeout = 30 * time.Second
	return cfg
}

// clientset returns a typed clientset with node i as the server.
func (c *apiCluster) clientset(i int) *kubernetes.Clientset {
	c.tb.Helper()
	cs, err := kubernetes.NewForConfig(c.restConfig(i))
	if err != nil {
		c.tb.Fatal(err)
	}
	return cs
}

// failoverConfig is restConfig(i) with a dialer that, when node i does not
// answer, dials the other nodes in turn: one client across a leader's stop.
func (c *apiCluster) failoverConfig(i int) *rest.Config {
	cfg := c.restConfig(i)
	cfg.Timeout = 0 // watches must be able to outlive it
	order := append([]string{c.addrs[i]}, append(append([]string{}, c.addrs[:i]...), c.addrs[i+1:]...)...)
	var d net.Dialer
	cfg.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var err error
		for _, addr := range order {
			dctx, cancel := context.WithTimeout(ctx, time.Second)
			var conn net.Conn
			conn, err = d.DialContext(dctx, network, addr)
			cancel()
			if err == nil {
				return conn, nil
			}
		}
		return nil, err
	}
	return cfg
}

// follower returns a running node that does not lead.
func (c *apiCluster) follower() int {
	c.tb.Helper()
	leader := c.Leader()
	for i := range c.Len() {
		if i != leader {
			return i
		}
	}
	c.tb.Fatal("no follower")
	return -1
}

// servers names the two kinds of server a test runs against.
func (c *apiCluster) servers() []struct {
	name string
	node int
} {
	return []struct {
		name string
		node int
	}{{"leader", c.Leader()}, {"follower", c.follower()}}
}

// eventually polls cond every 20 ms until it returns true, failing tb after
// timeout with the last error cond returned.
func eventually(tb testing.TB, timeout time.Duration, what string, cond func() (bool, error)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, err := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: not after %v (last error: %v)", what, timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ctxFor returns a context cancelled at the end of tb's test, bounded by
// timeout.
func ctxFor(tb testing.TB, timeout time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	tb.Cleanup(cancel)
	return ctx
}

// clientsetFor returns a typed clientset for cfg.
func (c *apiCluster) clientsetFor(cfg *rest.Config) *kubernetes.Clientset {
	c.tb.Helper()
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		c.tb.Fatal(err)
	}
	return cs
}
