package orchestrator_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// nilObjectsAreBadRequests: every call given a nil object or list, typed
// or not, answers BadRequest and never panics.
func nilObjectsAreBadRequests(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	key := orchestrator.ObjectKey{Namespace: "default", Name: "x"}
	patch := orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{}`))
	calls := map[string]func() error{
		"Create((*Deployment)(nil))": func() error { return cl.Create(ctx, (*orchestrator.Deployment)(nil)) },
		"Create(nil)":                func() error { return cl.Create(ctx, nil) },
		"Update((*Deployment)(nil))": func() error { return cl.Update(ctx, (*orchestrator.Deployment)(nil)) },
		"UpdateStatus(nil)":          func() error { return cl.UpdateStatus(ctx, nil) },
		"UpdateStatus((*Pod)(nil))":  func() error { return cl.UpdateStatus(ctx, (*orchestrator.Pod)(nil)) },
		"Delete(nil)":                func() error { return cl.Delete(ctx, nil) },
		"Delete((*Pod)(nil))":        func() error { return cl.Delete(ctx, (*orchestrator.Pod)(nil)) },
		"Apply(nil)":                 func() error { return cl.Apply(ctx, nil) },
		"Apply((*ConfigMap)(nil))":   func() error { return cl.Apply(ctx, (*orchestrator.ConfigMap)(nil)) },
		"Patch(nil, patch)":          func() error { return cl.Patch(ctx, nil, patch) },
		"Patch((*Pod)(nil), patch)":  func() error { return cl.Patch(ctx, (*orchestrator.Pod)(nil), patch) },
		"Patch((*Pod)(nil), MergeFrom)": func() error {
			return cl.Patch(ctx, (*orchestrator.Pod)(nil), orchestrator.MergeFrom(&orchestrator.Pod{}))
		},
		"List((*PodList)(nil))":  func() error { return cl.List(ctx, (*orchestrator.PodList)(nil)) },
		"List(nil)":              func() error { return cl.List(ctx, nil) },
		"Get(key, (*Pod)(nil))":  func() error { return cl.Get(ctx, key, (*orchestrator.Pod)(nil)) },
		"Get(key, nil)":          func() error { return cl.Get(ctx, key, nil) },
		"Watch((*PodList)(nil))": func() error { _, err := cl.Watch(ctx, (*orchestrator.PodList)(nil)); return err },
	}
	for name, call := range calls {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s panicked: %v", name, p)
				}
			}()
			if err := call(); !orchestrator.IsBadRequest(err) {
				t.Errorf("%s: %v, want BadRequest", name, err)
			}
		}()
	}
}

// createWithResourceVersion: a Create carrying metadata.resourceVersion
// is refused, as Kubernetes refuses it, and stores nothing.
func createWithResourceVersion(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	cm := configMap("with-rv", nil, nil)
	cm.ResourceVersion = "12"
	err := cl.Create(ctx, cm)
	if !orchestrator.IsBadRequest(err) || !strings.Contains(err.Error(), "resourceVersion should not be set on objects to be created") {
		t.Fatalf("Create with resourceVersion 12: %v", err)
	}
	if err := cl.Get(ctx, orchestrator.KeyFor(cm), &orchestrator.ConfigMap{}); !orchestrator.IsNotFound(err) {
		t.Fatalf("stored anyway: %v", err)
	}
}

// listArguments: List and Watch refuse a namespace that is no namespace
// name and a label key no label may have, naming them.
func listArguments(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	for _, tc := range []struct {
		opt  orchestrator.ListOption
		want string
	}{
		{orchestrator.InNamespace("default/"), `invalid namespace "default/"`},
		{orchestrator.MatchingLabels{"a b": "x"}, `invalid label key "a b"`},
	} {
		if err := cl.List(ctx, &orchestrator.PodList{}, tc.opt); !orchestrator.IsBadRequest(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("List %v: %v; want BadRequest containing %s", tc.opt, err, tc.want)
		}
		if _, err := cl.Watch(ctx, &orchestrator.PodList{}, tc.opt); !orchestrator.IsBadRequest(err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Watch %v: %v; want BadRequest containing %s", tc.opt, err, tc.want)
		}
	}
}

// watchFromTheFuture: a Watch from a resourceVersion the cluster has not
// reached is answered at once with Kubernetes' "Too large resource
// version" (a Timeout), instead of a watch that never delivers.
func watchFromTheFuture(t *testing.T, cl orchestrator.Client) {
	ctx := context.Background()
	var list orchestrator.ConfigMapList
	if err := cl.List(ctx, &list); err != nil {
		t.Fatal(err)
	}
	cur, _ := strconv.ParseInt(list.ResourceVersion, 10, 64)
	far := cur + 1<<40
	_, err := cl.Watch(ctx, &orchestrator.ConfigMapList{}, orchestrator.FromResourceVersion(strconv.FormatInt(far, 10)))
	if !orchestrator.IsTooLargeResourceVersion(err) || !orchestrator.IsTimeout(err) ||
		!strings.HasPrefix(err.Error(), fmt.Sprintf("Timeout: Too large resource version: %d, current: ", far)) {
		t.Fatalf("watch from %d: %v", far, err)
	}
	w, err := cl.Watch(ctx, &orchestrator.ConfigMapList{}, orchestrator.FromResourceVersion(list.ResourceVersion))
	if err != nil {
		t.Fatalf("watch from the list's resourceVersion: %v", err)
	}
	w.Stop()
}

func deploymentNamed(name string, replicas int32) *orchestrator.Deployment {
	labels := map[string]string{"app": "bounds"}
	return &orchestrator.Deployment{
		ObjectMeta: orchestrator.ObjectMeta{Name: name, Namespace: "default"},
		Spec: orchestrator.DeploymentSpec{Replicas: api.Ptr(replicas), Selector: &orchestrator.LabelSelector{MatchLabels: labels},
			Template: orchestrator.PodTemplateSpec{ObjectMeta: orchestrator.ObjectMeta{Labels: labels},
				Spec: orchestrator.PodSpec{Containers: []orchestrator.Container{{Name: "app", Image: "app:1"}}}}},
	}
}

func podsOf(t *testing.T, cl orchestrator.Client, opts ...orchestrator.ListOption) []orchestrator.Pod {
	t.Helper()
	var pods orchestrator.PodList
	if err := cl.List(context.Background(), &pods, opts...); err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// The safety limits hold with their defaults and as configured: a
// Deployment of a million replicas is refused naming the field and the
// limit; a namespace takes no more Pods than its limit, and the
// ReplicaSet says why in its ReplicaFailure condition; a node given a
// capacity without "pods" runs at most 110 Pods, and the scheduler binds
// none beyond a node's pods capacity.
func TestSafetyLimits(t *testing.T) {
	ctx := context.Background()
	t.Run("defaults", func(t *testing.T) {
		c := orchestratortest.NewCluster(t, 1, orchestratortest.WithCapacity(orchestrator.ResourceList{api.ResourceCPU: api.MustParse("64")}))
		cl := c.Client()
		err := cl.Create(ctx, deploymentNamed("huge", 1000000))
		if !orchestrator.IsInvalid(err) || !strings.Contains(err.Error(), "spec.replicas: Invalid value: 1000000: must be less than or equal to 10000") {
			t.Fatalf("a million replicas: %v", err)
		}
		var node orchestrator.Node
		if err := cl.Get(ctx, orchestrator.ObjectKey{Name: c.NodeName(0)}, &node); err != nil {
			t.Fatal(err)
		}
		if q := node.Status.Allocatable[api.ResourcePods]; q.Value() != orchestrator.DefaultMaxPodsPerNode {
			t.Errorf("node allocatable pods %v, want %d", q.String(), orchestrator.DefaultMaxPodsPerNode)
		}
	})
	t.Run("configured", func(t *testing.T) {
		c := orchestratortest.NewCluster(t, 1,
			orchestratortest.WithCapacity(orchestrator.ResourceList{api.ResourceCPU: api.MustParse("64"), api.ResourcePods: api.MustParse("4")}),
			orchestratortest.WithConfig(func(_ int, cfg *orchestrator.Config) {
				cfg.Limits = orchestrator.Limits{MaxReplicas: 20, MaxObjectsPerNamespace: 6}
			}))
		cl := c.Client()
		if err := cl.Create(ctx, deploymentNamed("over", 21)); !orchestrator.IsInvalid(err) || !strings.Contains(err.Error(), "less than or equal to 20") {
			t.Fatalf("21 replicas under a limit of 20: %v", err)
		}
		if err := cl.Create(ctx, deploymentNamed("web", 8)); err != nil {
			t.Fatal(err)
		}
		c.Eventually(10*time.Second, "6 Pods and a ReplicaFailure condition", func() bool {
			var rss orchestrator.ReplicaSetList
			if cl.List(ctx, &rss) != nil || len(rss.Items) != 1 {
				return false
			}
			cond := api.GetReplicaSetCondition(&rss.Items[0].Status, api.ReplicaSetReplicaFailure)
			return len(podsOf(t, cl)) == 6 && cond != nil && cond.Reason == "FailedCreate" &&
				strings.Contains(cond.Message, `namespace "default" holds 6 pods, the cluster's limit of objects of one kind per namespace`)
		})
		c.Eventually(10*time.Second, "4 Pods bound, as the node's pods capacity says", func() bool {
			bound := 0
			for _, p := range podsOf(t, cl) {
				if p.Spec.NodeName != "" {
					bound++
				}
			}
			return bound == 4
		})
		c.Eventually(10*time.Second, "the other 2 Pods Unschedulable: Too many pods", func() bool {
			n := 0
			for _, p := range podsOf(t, cl) {
				cond := api.GetPodCondition(&p.Status, api.PodScheduled)
				if p.Spec.NodeName == "" && cond != nil && cond.Reason == "Unschedulable" && strings.Contains(cond.Message, "Too many pods") {
					n++
				}
			}
			return n == 2
		})
		if n := len(podsOf(t, cl)); n != 6 {
			t.Errorf("%d Pods, want the namespace's limit of 6", n)
		}
	})
}

// A Pod whose terminationGracePeriodSeconds would overflow the agent's
// timer (2^62 s) is refused, naming the field.
func TestTerminationGracePeriodOverflowRefused(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	p := &orchestrator.Pod{ObjectMeta: orchestrator.ObjectMeta{Name: "forever", Namespace: "default"},
		Spec: orchestrator.PodSpec{TerminationGracePeriodSeconds: api.Ptr(int64(1) << 62), Containers: []orchestrator.Container{{Name: "app", Image: "app:1"}}}}
	err := c.Client().Create(context.Background(), p)
	if !orchestrator.IsInvalid(err) || !strings.Contains(err.Error(), "spec.terminationGracePeriodSeconds: Invalid value: 4611686018427387904") {
		t.Fatalf("grace period 2^62: %v", err)
	}
}

// A Pod bound to a Node that does not exist is marked Failed and deleted
// once the quarantine (grace plus eviction timeout) is over; the Pods of
// real Nodes stay.
func TestPodOnMissingNodeIsCollected(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	ctx := context.Background()
	for _, node := range []string{"ghost", c.NodeName(0)} {
		p := &orchestrator.Pod{ObjectMeta: orchestrator.ObjectMeta{Name: "on-" + node, Namespace: "default"},
			Spec: orchestrator.PodSpec{NodeName: node, Containers: []orchestrator.Container{{Name: "app", Image: "app:1"}}}}
		if err := cl.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	c.Eventually(10*time.Second, "the ghost node's Pod deleted", func() bool {
		return orchestrator.IsNotFound(cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "on-ghost"}, &orchestrator.Pod{}))
	})
	var p orchestrator.Pod
	if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "on-" + c.NodeName(0)}, &p); err != nil {
		t.Fatalf("the real node's Pod: %v", err)
	}
}

// A Deployment named with 253 characters (valid, as in Kubernetes) whose
// ReplicaSet name would be too long says so in its Progressing condition
// and a Warning Event, instead of doing nothing in silence.
func TestLongDeploymentNameReportsFailure(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	ctx := context.Background()
	name := strings.Repeat("w", 253)
	if err := cl.Create(ctx, deploymentNamed(name, 1)); err != nil {
		t.Fatal(err)
	}
	c.Eventually(10*time.Second, "Progressing False, ReplicaSetCreateError", func() bool {
		var d orchestrator.Deployment
		if cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: name}, &d) != nil {
			return false
		}
		cond := api.GetDeploymentCondition(&d.Status, api.DeploymentProgressing)
		return cond != nil && cond.Status == api.ConditionFalse && cond.Reason == "ReplicaSetCreateError" &&
			strings.Contains(cond.Message, "metadata.name")
	})
	c.Eventually(10*time.Second, "a Warning Event about it", func() bool {
		var evs orchestrator.EventList
		if cl.List(ctx, &evs, orchestrator.MatchingFields{"involvedObject.name": name}) != nil {
			return false
		}
		for _, e := range evs.Items {
			if e.Reason == "ReplicaSetCreateError" && e.Type == api.EventTypeWarning {
				return true
			}
		}
		return false
	})
}

// ApplyAll refuses a manifest over the decoders' 3 MiB limit whole.
func TestApplyAllRefusesOversizedManifest(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	manifest := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {v: " + strings.Repeat("x", orchestrator.MaxManifestBytes) + "}\n"
	objs, err := c.Client().ApplyAll(context.Background(), []byte(manifest))
	if !orchestrator.IsRequestEntityTooLarge(err) || len(objs) != 0 {
		t.Fatalf("ApplyAll of %d bytes: %d objects, %v", len(manifest), len(objs), err)
	}
}
