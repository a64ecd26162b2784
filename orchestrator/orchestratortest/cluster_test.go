package orchestratortest_test

import (
	"context"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// memberlist's background goroutines exit shortly after Shutdown
		// returns (memberlist does not wait for them).
		goleak.IgnoreTopFunction("github.com/hashicorp/memberlist.(*Memberlist).probeNode"),
	)
}

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
}
