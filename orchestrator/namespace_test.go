package orchestrator_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// TestNamespaces: the system namespaces exist when the cluster is ready;
// objects in a missing namespace are refused; deleting a namespace stops
// and deletes its workloads, refuses new content while it terminates and
// leaves other namespaces alone.
func TestNamespaces(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var nss orchestrator.NamespaceList
	if err := cl.List(ctx, &nss); err != nil {
		t.Fatal(err)
	}
	have := map[string]orchestrator.NamespacePhase{}
	for _, ns := range nss.Items {
		have[ns.Name] = ns.Status.Phase
	}
	if have["default"] != orchestrator.NamespaceActive || have["kube-system"] != orchestrator.NamespaceActive {
		t.Fatalf("namespaces at start: %v, want default and kube-system Active", have)
	}

	// A missing namespace: NotFound naming it, nothing stored.
	shop := strings.Replace(webYAML, "  name: web\n", "  name: web\n  namespace: shop\n", 1)
	err := cl.Create(ctx, decode(t, shop))
	if !orchestrator.IsNotFound(err) || !strings.Contains(err.Error(), `Namespace "shop" not found`) {
		t.Fatalf("create in a missing namespace: %v", err)
	}
	var deps orchestrator.DeploymentList
	if err := cl.List(ctx, &deps); err != nil || len(deps.Items) != 0 {
		t.Fatalf("deployments after the refused create: %v %d", err, len(deps.Items))
	}

	// Workloads in "shop" and "default".
	if err := cl.Create(ctx, &orchestrator.Namespace{ObjectMeta: orchestrator.ObjectMeta{Name: "shop"}}); err != nil {
		t.Fatal(err)
	}
	for _, manifest := range []string{shop, webYAML} {
		if err := cl.Apply(ctx, decode(t, manifest)); err != nil {
			t.Fatal(err)
		}
	}
	running := func(ns string) (uids []string) {
		var pods orchestrator.PodList
		if err := cl.List(ctx, &pods, orchestrator.InNamespace(ns), orchestrator.MatchingFields{"status.phase": "Running"}); err != nil {
			return nil
		}
		for _, p := range pods.Items {
			uids = append(uids, string(p.UID))
		}
		return uids
	}
	c.Eventually(20*time.Second, "2 Pods running in each namespace", func() bool {
		return len(running("shop")) == 2 && len(running("default")) == 2
	})
	shopPods := running("shop")
	// A finalizer keeps the namespace Terminating until the test lets go.
	held := &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Name: "held", Namespace: "shop", Finalizers: []string{"example.com/hold"}}}
	if err := cl.Create(ctx, held); err != nil {
		t.Fatal(err)
	}

	ns := &orchestrator.Namespace{ObjectMeta: orchestrator.ObjectMeta{Name: "shop"}}
	if err := cl.Delete(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if ns.Status.Phase != orchestrator.NamespaceTerminating || ns.DeletionTimestamp == nil {
		t.Fatalf("deleted namespace: phase %q deletionTimestamp %v", ns.Status.Phase, ns.DeletionTimestamp)
	}
	c.Eventually(20*time.Second, "shop's Pods stopped in the runtime", func() bool {
		var pods orchestrator.PodList
		if err := cl.List(ctx, &pods, orchestrator.InNamespace("shop")); err != nil || len(pods.Items) != 0 {
			return false
		}
		for i := range c.Len() {
			sbs, err := c.Runtime(i).ListPodSandboxes(ctx, nil)
			if err != nil {
				return false
			}
			for _, sb := range sbs {
				for _, uid := range shopPods {
					if sb.UID == uid {
						return false
					}
				}
			}
		}
		return true
	})
	err = cl.Create(ctx, &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Name: "late", Namespace: "shop"}})
	if !orchestrator.IsForbidden(err) || !strings.Contains(err.Error(), "being terminated") {
		t.Fatalf("create in a terminating namespace: %v", err)
	}
	// The namespace controller may be marking it meanwhile: a merge patch
	// retries on conflicts.
	if err := cl.Patch(ctx, held, orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`))); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "namespace shop removed", func() bool {
		return orchestrator.IsNotFound(cl.Get(ctx, orchestrator.ObjectKey{Name: "shop"}, &orchestrator.Namespace{}))
	})
	if n := len(running("default")); n != 2 {
		t.Fatalf("default has %d running Pods after shop was deleted, want 2", n)
	}
	if err := cl.Delete(ctx, &orchestrator.Namespace{ObjectMeta: orchestrator.ObjectMeta{Name: "default"}}); !orchestrator.IsForbidden(err) {
		t.Fatalf("delete default: %v, want Forbidden", err)
	}
}
