package orchestratortest_test

import (
	"context"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/leakcheck"
	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// Nodes run memberlist, whose goroutines may outlive Shutdown briefly.
func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

func web(replicas int32) *orchestrator.Deployment {
	labels := map[string]string{"app": "web"}
	return &orchestrator.Deployment{
		ObjectMeta: orchestrator.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: orchestrator.DeploymentSpec{
			Replicas: orchestrator.Ptr(replicas),
			Selector: &orchestrator.LabelSelector{MatchLabels: labels},
			Template: orchestrator.PodTemplateSpec{
				ObjectMeta: orchestrator.ObjectMeta{Labels: labels},
				Spec:       orchestrator.PodSpec{Containers: []orchestrator.Container{{Name: "app", Image: "web:1"}}},
			},
		},
	}
}

// runningPods returns the Running and Ready Pods matching labels.
func runningPods(t *testing.T, c orchestrator.Client, labels map[string]string) []orchestrator.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var pods orchestrator.PodList
	if err := c.List(ctx, &pods, orchestrator.MatchingLabels(labels)); err != nil {
		t.Logf("list: %v", err)
		return nil
	}
	var out []orchestrator.Pod
	for _, p := range pods.Items {
		if p.Status.Phase == orchestrator.PodRunning && orchestrator.IsPodReady(&p) && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

func TestDeploymentRuns(t *testing.T) {
	c := orchestratortest.NewCluster(t, 3)
	ctx := context.Background()
	cl := c.Client()
	if err := cl.Create(ctx, web(3)); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "3 pods running", func() bool { return len(runningPods(t, cl, map[string]string{"app": "web"})) == 3 })
	// Controllers, scheduler and agents say what they did.
	c.Eventually(20*time.Second, "events", func() bool {
		var evs orchestrator.EventList
		if err := cl.List(ctx, &evs, orchestrator.InNamespace("default")); err != nil {
			return false
		}
		reasons := map[string]int{}
		for _, e := range evs.Items {
			reasons[e.InvolvedObject.Kind+"/"+e.Reason]++
		}
		return reasons["Deployment/ScalingReplicaSet"] >= 1 && reasons["ReplicaSet/SuccessfulCreate"] >= 1 &&
			reasons["Pod/Scheduled"] == 3 && reasons["Pod/Started"] == 3
	})
}

func podsOf(t *testing.T, c orchestrator.Client, labels map[string]string) []orchestrator.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var pods orchestrator.PodList
	if err := c.List(ctx, &pods, orchestrator.MatchingLabels(labels)); err != nil {
		t.Logf("list: %v", err)
		return nil
	}
	return pods.Items
}

func TestScaleUpDown(t *testing.T) {
	c := orchestratortest.NewCluster(t, 3)
	ctx := context.Background()
	cl := c.Client()
	sel := map[string]string{"app": "web"}
	d := web(2)
	if err := cl.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "2 running", func() bool { return len(runningPods(t, cl, sel)) == 2 })
	if err := cl.Patch(ctx, d, orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"spec":{"replicas":6}}`))); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "6 running", func() bool { return len(runningPods(t, cl, sel)) == 6 })
	// The scheduler spreads one owner's Pods across nodes.
	perNode := map[string]int{}
	for _, p := range runningPods(t, cl, sel) {
		perNode[p.Spec.NodeName]++
	}
	if len(perNode) != 3 {
		t.Errorf("6 pods on %d nodes (%v), want spread over 3", len(perNode), perNode)
	}
	if err := cl.Patch(ctx, d, orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"spec":{"replicas":1}}`))); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "1 pod left", func() bool { return len(podsOf(t, cl, sel)) == 1 })
	c.Eventually(20*time.Second, "deployment status", func() bool {
		var got orchestrator.Deployment
		if err := cl.Get(ctx, orchestrator.KeyFor(d), &got); err != nil {
			return false
		}
		cond := func(tp orchestrator.DeploymentConditionType) string {
			for _, c := range got.Status.Conditions {
				if c.Type == tp {
					return string(c.Status) + "/" + c.Reason
				}
			}
			return ""
		}
		return got.Status.ObservedGeneration == got.Generation && got.Status.Replicas == 1 &&
			got.Status.ReadyReplicas == 1 && got.Status.AvailableReplicas == 1 && got.Status.UpdatedReplicas == 1 &&
			cond(orchestrator.DeploymentAvailable) == "True/MinimumReplicasAvailable" &&
			cond(orchestrator.DeploymentProgressing) == "True/NewReplicaSetAvailable"
	})
}

func TestNewTemplateReplacesReplicaSet(t *testing.T) {
	c := orchestratortest.NewCluster(t, 2)
	ctx := context.Background()
	cl := c.Client()
	sel := map[string]string{"app": "web"}
	d := web(3)
	if err := cl.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "3 running", func() bool { return len(runningPods(t, cl, sel)) == 3 })
	if err := cl.Patch(ctx, d, orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"web:2"}]}}}}`))); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "3 pods of web:2 and none of web:1", func() bool {
		pods := podsOf(t, cl, sel)
		n := 0
		for _, p := range pods {
			if p.Spec.Containers[0].Image != "web:2" {
				return false
			}
			if p.Status.Phase == orchestrator.PodRunning {
				n++
			}
		}
		return n == 3 && len(pods) == 3
	})
	var rss orchestrator.ReplicaSetList
	if err := cl.List(ctx, &rss, orchestrator.InNamespace("default")); err != nil {
		t.Fatal(err)
	}
	if len(rss.Items) != 2 {
		t.Fatalf("%d replica sets, want 2 (old kept at 0 for history)", len(rss.Items))
	}
	for _, rs := range rss.Items {
		want := int32(0)
		if rs.Spec.Template.Spec.Containers[0].Image == "web:2" {
			want = 3
		}
		if *rs.Spec.Replicas != want {
			t.Errorf("%s: replicas %d, want %d", rs.Name, *rs.Spec.Replicas, want)
		}
	}
}

func TestCrashedContainerRestarts(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	ctx := context.Background()
	cl := c.Client()
	sel := map[string]string{"app": "web"}
	if err := cl.Create(ctx, web(1)); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "1 running", func() bool { return len(runningPods(t, cl, sel)) == 1 })
	pod := runningPods(t, cl, sel)[0]
	c.CrashContainer(&pod, "app", 3)
	c.Eventually(20*time.Second, "restarted container", func() bool {
		var p orchestrator.Pod
		if err := cl.Get(ctx, orchestrator.KeyFor(&pod), &p); err != nil || len(p.Status.ContainerStatuses) != 1 {
			return false
		}
		cs := p.Status.ContainerStatuses[0]
		return cs.RestartCount == 1 && cs.State.Running != nil && cs.LastTerminationState.Terminated != nil &&
			cs.LastTerminationState.Terminated.ExitCode == 3 && p.UID == pod.UID
	})
}

func TestFailedPodReplaced(t *testing.T) {
	c := orchestratortest.NewCluster(t, 2)
	ctx := context.Background()
	cl := c.Client()
	sel := map[string]string{"app": "web"}
	d := web(2)
	d.Spec.Template.Spec.RestartPolicy = orchestrator.RestartPolicyNever
	// Deployments only allow Always; use a ReplicaSet directly.
	rs := &orchestrator.ReplicaSet{
		ObjectMeta: orchestrator.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:       orchestrator.ReplicaSetSpec{Replicas: orchestrator.Ptr(int32(2)), Selector: d.Spec.Selector, Template: d.Spec.Template},
	}
	rs.Spec.Template.Spec.RestartPolicy = orchestrator.RestartPolicyAlways
	if err := cl.Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "2 running", func() bool { return len(runningPods(t, cl, sel)) == 2 })
	victim := runningPods(t, cl, sel)[0]
	// A Pod deleted behind the controller's back is replaced.
	if err := cl.Delete(ctx, &victim); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "replacement running", func() bool {
		pods := runningPods(t, cl, sel)
		if len(pods) != 2 {
			return false
		}
		for _, p := range pods {
			if p.UID == victim.UID {
				return false
			}
		}
		return true
	})
	// The deleted Pod's containers are stopped on its node.
	c.Eventually(20*time.Second, "victim containers removed", func() bool {
		for i := range c.Len() {
			sbs, _ := c.Runtime(i).ListPodSandboxes(ctx, nil)
			for _, sb := range sbs {
				if sb.UID == string(victim.UID) {
					return false
				}
			}
		}
		return true
	})
}

func TestNodeLossPodsReplacedElsewhere(t *testing.T) {
	c := orchestratortest.NewCluster(t, 3)
	ctx := context.Background()
	sel := map[string]string{"app": "web"}
	if err := c.Client().Create(ctx, web(6)); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "6 running", func() bool { return len(runningPods(t, c.Client(), sel)) == 6 })
	// Lose a node that is not the leader, so the controllers keep running.
	victim := (c.Leader() + 1) % 3
	c.StopNode(victim)
	lost := c.NodeName(victim)
	c.Eventually(20*time.Second, "6 running on the other nodes", func() bool {
		pods := runningPods(t, c.Client(), sel)
		if len(pods) != 6 {
			return false
		}
		for _, p := range pods {
			if p.Spec.NodeName == lost {
				return false
			}
		}
		return true
	})
	var n orchestrator.Node
	if err := c.Client().Get(ctx, orchestrator.ObjectKey{Name: lost}, &n); err != nil {
		t.Fatal(err)
	}
	if orchestrator.IsNodeReady(&n) {
		t.Fatalf("lost node %s still Ready", lost)
	}
	// When it comes back, its stale Pods are stopped.
	c.RestartNode(victim)
	c.WaitReady(20 * time.Second)
	c.Eventually(20*time.Second, "stale pods on the returning node stopped", func() bool {
		sbs, err := c.Runtime(victim).ListPodSandboxes(ctx, nil)
		if err != nil {
			return false
		}
		var pods orchestrator.PodList
		if err := c.Client().List(ctx, &pods, orchestrator.MatchingFields{"spec.nodeName": lost}); err != nil {
			return false
		}
		live := map[string]bool{}
		for _, p := range pods.Items {
			live[string(p.UID)] = true
		}
		for _, sb := range sbs {
			if !live[sb.UID] {
				return false
			}
		}
		return true
	})
}

func TestLeaderStoppedMidRollout(t *testing.T) {
	c := orchestratortest.NewCluster(t, 3)
	ctx := context.Background()
	sel := map[string]string{"app": "web"}
	if err := c.Client().Create(ctx, web(30)); err != nil {
		t.Fatal(err)
	}
	// Stop the leader while Pods are being created and scheduled.
	c.Eventually(20*time.Second, "some pods exist", func() bool { return len(podsOf(t, c.Client(), sel)) > 0 })
	leader := c.Leader()
	if leader < 0 {
		t.Fatal("no leader")
	}
	c.StopNode(leader)
	c.Eventually(30*time.Second, "30 pods running on the surviving nodes, no extras", func() bool {
		pods := podsOf(t, c.Client(), sel)
		running := 0
		for _, p := range pods {
			if p.Spec.NodeName == c.NodeName(leader) {
				return false
			}
			if p.Status.Phase == orchestrator.PodRunning {
				running++
			}
		}
		return len(pods) == 30 && running == 30
	})
	// Stays at exactly 30: no duplicate creation after failover.
	var rss orchestrator.ReplicaSetList
	if err := c.Client().List(ctx, &rss); err != nil {
		t.Fatal(err)
	}
	if len(rss.Items) != 1 || rss.Items[0].Status.Replicas > 30 {
		t.Fatalf("replica sets after failover: %d", len(rss.Items))
	}
}

func TestGarbageCollection(t *testing.T) {
	c := orchestratortest.NewCluster(t, 2)
	ctx := context.Background()
	cl := c.Client()
	sel := map[string]string{"app": "web"}
	d := web(2)
	if err := cl.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "2 running", func() bool { return len(runningPods(t, cl, sel)) == 2 })
	// Orphan: the ReplicaSet and Pods stay, without the owner reference.
	if err := cl.Delete(ctx, web(0), orchestrator.PropagationPolicy(orchestrator.DeletePropagationOrphan)); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "deployment gone, replica set orphaned", func() bool {
		var got orchestrator.Deployment
		if err := cl.Get(ctx, orchestrator.KeyFor(d), &got); !orchestrator.IsNotFound(err) {
			return false
		}
		var rss orchestrator.ReplicaSetList
		if err := cl.List(ctx, &rss); err != nil || len(rss.Items) != 1 {
			return false
		}
		return len(rss.Items[0].OwnerReferences) == 0
	})
	if n := len(podsOf(t, cl, sel)); n != 2 {
		t.Fatalf("%d pods after orphaning, want 2", n)
	}
	// Background: deleting the ReplicaSet deletes its Pods.
	var rss orchestrator.ReplicaSetList
	if err := cl.List(ctx, &rss); err != nil {
		t.Fatal(err)
	}
	if err := cl.Delete(ctx, &rss.Items[0]); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "pods collected", func() bool { return len(podsOf(t, cl, sel)) == 0 })

	// Foreground: the Deployment stays until its dependents are gone.
	d2 := web(2)
	if err := cl.Create(ctx, d2); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "2 running again", func() bool { return len(runningPods(t, cl, sel)) == 2 })
	if err := cl.Delete(ctx, web(0), orchestrator.PropagationPolicy(orchestrator.DeletePropagationForeground)); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "everything gone", func() bool {
		var got orchestrator.Deployment
		var rss orchestrator.ReplicaSetList
		return orchestrator.IsNotFound(cl.Get(ctx, orchestrator.KeyFor(d2), &got)) &&
			cl.List(ctx, &rss) == nil && len(rss.Items) == 0 && len(podsOf(t, cl, sel)) == 0
	})
}

func TestUnschedulableThenScheduled(t *testing.T) {
	c := orchestratortest.NewCluster(t, 2)
	ctx := context.Background()
	cl := c.Client()
	pod := &orchestrator.Pod{
		ObjectMeta: orchestrator.ObjectMeta{Name: "big", Namespace: "default"},
		Spec: orchestrator.PodSpec{
			NodeSelector: map[string]string{"disk": "ssd"},
			Containers:   []orchestrator.Container{{Name: "app", Image: "app:1"}},
		},
	}
	if err := cl.Create(ctx, pod); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "PodScheduled=False", func() bool {
		var p orchestrator.Pod
		if err := cl.Get(ctx, orchestrator.KeyFor(pod), &p); err != nil {
			return false
		}
		for _, cond := range p.Status.Conditions {
			if cond.Type == orchestrator.PodScheduled && cond.Status == orchestrator.ConditionFalse && cond.Reason == "Unschedulable" {
				return true
			}
		}
		return false
	})
	c.Eventually(20*time.Second, "FailedScheduling event", func() bool {
		var evs orchestrator.EventList
		if err := cl.List(ctx, &evs, orchestrator.InNamespace("default")); err != nil {
			return false
		}
		for _, e := range evs.Items {
			if e.Reason == "FailedScheduling" && e.InvolvedObject.Name == "big" {
				return true
			}
		}
		return false
	})
	// Label a node: the Pod is retried and lands there.
	var n orchestrator.Node
	if err := cl.Patch(ctx, &orchestrator.Node{ObjectMeta: orchestrator.ObjectMeta{Name: c.NodeName(1)}}, orchestrator.RawPatch(orchestrator.MergePatchType, []byte(`{"metadata":{"labels":{"disk":"ssd"}}}`))); err != nil {
		t.Fatal(err)
	}
	_ = n
	c.Eventually(20*time.Second, "pod running on node-1", func() bool {
		var p orchestrator.Pod
		return cl.Get(ctx, orchestrator.KeyFor(pod), &p) == nil && p.Spec.NodeName == c.NodeName(1) && p.Status.Phase == orchestrator.PodRunning
	})
}

func TestPartitionedNodeReplacedAndCleanedOnHeal(t *testing.T) {
	c := orchestratortest.NewCluster(t, 3)
	ctx := context.Background()
	sel := map[string]string{"app": "web"}
	if err := c.Client().Create(ctx, web(6)); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "6 running", func() bool { return len(runningPods(t, c.Client(), sel)) == 6 })
	victim := (c.Leader() + 1) % 3
	lost := c.NodeName(victim)
	healthy := c.Node((victim + 1) % 3).Client()
	c.Partition(victim)
	c.Eventually(20*time.Second, "6 running elsewhere", func() bool {
		pods := runningPods(t, healthy, sel)
		for _, p := range pods {
			if p.Spec.NodeName == lost {
				return false
			}
		}
		return len(pods) == 6
	})
	c.Heal()
	c.WaitReady(20 * time.Second)
	c.Eventually(20*time.Second, "stale pods on the healed node stopped", func() bool {
		sbs, err := c.Runtime(victim).ListPodSandboxes(ctx, nil)
		if err != nil {
			return false
		}
		var pods orchestrator.PodList
		if err := healthy.List(ctx, &pods, orchestrator.MatchingFields{"spec.nodeName": lost}); err != nil {
			return false
		}
		live := map[string]bool{}
		for _, p := range pods.Items {
			live[string(p.UID)] = true
		}
		for _, sb := range sbs {
			if !live[sb.UID] {
				return false
			}
		}
		return true
	})
	if n := len(runningPods(t, c.Client(), sel)); n != 6 {
		t.Fatalf("%d running after heal, want 6", n)
	}
}

func TestRestartFromDataDirs(t *testing.T) {
	c := orchestratortest.NewCluster(t, 3, orchestratortest.WithDataDirs())
	ctx := context.Background()
	sel := map[string]string{"app": "web"}
	if err := c.Client().Create(ctx, web(3)); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "3 running", func() bool { return len(runningPods(t, c.Client(), sel)) == 3 })
	leader := c.Leader()
	c.StopNode(leader)
	c.RestartNode(leader)
	c.WaitReady(20 * time.Second)
	// The restarted node serves the data it had and everything since.
	var d orchestrator.Deployment
	c.Eventually(20*time.Second, "deployment readable through the restarted node", func() bool {
		return c.Node(leader).Client().Get(ctx, orchestrator.ObjectKey{Name: "web"}, &d) == nil
	})
	c.Eventually(20*time.Second, "3 running", func() bool { return len(runningPods(t, c.Client(), sel)) == 3 })
}
