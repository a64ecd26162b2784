package orchestrator_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	"sigs.k8s.io/yaml"

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

// TestRemoteClientFailover: when the server of the kubeconfig's context
// goes down, the remote client carries on through the other servers the
// kubeconfig lists; when none answers, IsServiceUnavailable.
func TestRemoteClientFailover(t *testing.T) {
	tc := orchestratortest.NewCluster(t, 3, orchestratortest.WithAPI())
	first := (tc.Leader() + 1) % 3
	cl := remoteClient(t, tc, first)
	ctx := context.Background()
	if err := cl.Create(ctx, configMap("failover-1", nil, nil)); err != nil {
		t.Fatal(err)
	}
	tc.StopNode(first)
	if err := cl.Create(ctx, configMap("failover-2", nil, nil)); err != nil {
		t.Fatalf("create with the context's server down: %v", err)
	}
	var l orchestrator.ConfigMapList
	if err := cl.List(ctx, &l, orchestrator.MatchingFields{"metadata.namespace": "default"}); err != nil {
		t.Fatal(err)
	}
	if len(l.Items) < 2 {
		t.Errorf("list after failover: %d ConfigMaps, want both", len(l.Items))
	}
	for i := range 3 {
		if i != first {
			tc.StopNode(i)
		}
	}
	err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "failover-1"}, &orchestrator.ConfigMap{})
	if !orchestrator.IsServiceUnavailable(err) {
		t.Fatalf("every server down: %v, want ServiceUnavailable", err)
	}
}

// TestRemoteClientUnauthorized: a credential the cluster does not accept
// is IsUnauthorized.
func TestRemoteClientUnauthorized(t *testing.T) {
	tc := orchestratortest.NewCluster(t, 1, orchestratortest.WithAPI())
	kc, err := os.ReadFile(tc.Kubeconfig(t))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(kc, &m); err != nil {
		t.Fatal(err)
	}
	for _, u := range m["users"].([]any) {
		u.(map[string]any)["user"] = map[string]any{"token": "not-a-token-of-this-cluster"}
	}
	if kc, err = yaml.Marshal(m); err != nil {
		t.Fatal(err)
	}
	cl, err := orchestrator.NewRemoteClient(kc)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	err = cl.Get(context.Background(), orchestrator.ObjectKey{Namespace: "default", Name: "x"}, &orchestrator.ConfigMap{})
	if !orchestrator.IsUnauthorized(err) {
		t.Fatalf("a bogus token: %v, want Unauthorized", err)
	}
}
