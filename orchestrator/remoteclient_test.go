package orchestrator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// TestRemoteClientConformance runs the Client contract suite through the
// HTTPS Kubernetes API: a 3-node cluster, the remote client from a
// follower's admin kubeconfig (its client certificate of the cluster CA),
// with the other servers of the kubeconfig's flotilla-servers list as
// failover.
func TestRemoteClientConformance(t *testing.T) {
	tc := orchestratortest.NewCluster(t, 3, orchestratortest.WithAPI())
	cl := remoteClient(t, tc, (tc.Leader()+1)%3)
	clientConformance(t, cl)
}

// remoteClient returns a RemoteClient from node i's admin kubeconfig,
// closed by tb.Cleanup.
func remoteClient(tb testing.TB, tc *orchestratortest.TestCluster, i int) *orchestrator.RemoteClient {
	tb.Helper()
	var kc []byte
	var err error
	// The cluster CA reaches a follower's store shortly after start.
	tc.Eventually(10*time.Second, "an admin kubeconfig from node "+tc.NodeName(i), func() bool {
		kc, err = tc.Node(i).AdminKubeconfig(context.Background())
		return err == nil
	})
	cl, err := orchestrator.NewRemoteClient(kc, orchestrator.WithRemoteLogger(zaptest.NewLogger(tb)))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cl.Close() })
	return cl
}

// TestClientWatchTooOld: on a node that keeps few events for watches, a
// watch from a revision compacted away is TooOld through either client.
func TestClientWatchTooOld(t *testing.T) {
	tc := orchestratortest.NewCluster(t, 1, orchestratortest.WithAPI(), orchestratortest.WithConfig(func(_ int, cfg *orchestrator.Config) {
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
	remote := remoteClient(t, tc, 0)
	t.Run("Local", func(t *testing.T) { watchTooOld(t, tc.Client(), first) })
	t.Run("Remote", func(t *testing.T) { watchTooOld(t, remote, first) })
}
