package orchestratortest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// rolling is a Deployment of replicas Pods whose container "app" has a
// readiness probe every 50 ms; the default strategy (25%/25%). It carries
// the annotation team=web, which the controller must keep.
func rolling(name string, replicas int32, image string) *orchestrator.Deployment {
	labels := map[string]string{"app": name}
	return &orchestrator.Deployment{
		ObjectMeta: orchestrator.ObjectMeta{Name: name, Namespace: "default", Annotations: map[string]string{"team": "web"}},
		Spec: orchestrator.DeploymentSpec{
			Replicas: orchestrator.Ptr(replicas),
			Selector: &orchestrator.LabelSelector{MatchLabels: labels},
			Template: orchestrator.PodTemplateSpec{
				ObjectMeta: orchestrator.ObjectMeta{Labels: labels},
				Spec: orchestrator.PodSpec{Containers: []orchestrator.Container{{
					Name: "app", Image: image,
					Ports:          []orchestrator.ContainerPort{{Name: "http", ContainerPort: 8080}},
					ReadinessProbe: httpProbe(1),
				}}},
			},
		},
	}
}

// podWatch follows the Pods with a label set from a List through a Watch
// and checks, after every event, that ready >= minReady and total <=
// maxTotal. Stop ends it and returns the violations seen.
type podWatch struct {
	t                  *testing.T
	minReady, maxTotal int
	oneVersion         bool
	cancel             context.CancelFunc
	done               chan struct{}

	mu         sync.Mutex
	pods       map[string]*orchestrator.Pod
	violations []string
	events     int
	maxSeen    int
	minSeen    int
}

func watchPods(t *testing.T, cl orchestrator.Client, labels map[string]string, minReady, maxTotal int) *podWatch {
	return watchPodsOneVersion(t, cl, labels, minReady, maxTotal, false)
}

// watchPodsOneVersion is watchPods that also checks, if oneVersion, that
// the Pods never run two images at once.
func watchPodsOneVersion(t *testing.T, cl orchestrator.Client, labels map[string]string, minReady, maxTotal int, oneVersion bool) *podWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var list orchestrator.PodList
	if err := cl.List(ctx, &list, orchestrator.MatchingLabels(labels)); err != nil {
		cancel()
		t.Fatal(err)
	}
	w, err := cl.Watch(ctx, &orchestrator.PodList{}, orchestrator.MatchingLabels(labels), orchestrator.FromResourceVersion(list.ResourceVersion))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	pw := &podWatch{t: t, minReady: minReady, maxTotal: maxTotal, oneVersion: oneVersion, cancel: cancel, done: make(chan struct{}),
		pods: map[string]*orchestrator.Pod{}, minSeen: 1 << 30}
	for i := range list.Items {
		pw.pods[list.Items[i].Name] = &list.Items[i]
	}
	pw.check("initial list")
	go func() {
		defer close(pw.done)
		defer w.Stop()
		for ev := range w.Events() {
			p, ok := ev.Object.(*orchestrator.Pod)
			if !ok {
				continue
			}
			pw.mu.Lock()
			if ev.Type == orchestrator.Deleted || p.DeletionTimestamp != nil {
				delete(pw.pods, p.Name)
			} else {
				pw.pods[p.Name] = p
			}
			pw.events++
			pw.mu.Unlock()
			pw.check(fmt.Sprintf("%s %s", ev.Type, p.Name))
		}
	}()
	return pw
}

func (pw *podWatch) counts() (ready, total int) {
	for _, p := range pw.pods {
		total++
		if orchestrator.IsPodReady(p) {
			ready++
		}
	}
	return ready, total
}

func (pw *podWatch) check(what string) {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	ready, total := pw.counts()
	pw.maxSeen = max(pw.maxSeen, total)
	pw.minSeen = min(pw.minSeen, ready)
	images := map[string]bool{}
	for _, p := range pw.pods {
		images[p.Spec.Containers[0].Image] = true
	}
	if ready < pw.minReady || total > pw.maxTotal || (pw.oneVersion && len(images) > 1) {
		per := map[string]int{}
		for _, p := range pw.pods {
			per[fmt.Sprintf("%s ready=%v", p.Spec.Containers[0].Image, orchestrator.IsPodReady(p))]++
		}
		pw.violations = append(pw.violations, fmt.Sprintf("after %s: ready %d (min %d), total %d (max %d): %v", what, ready, pw.minReady, total, pw.maxTotal, per))
	}
}

// readyImages counts the ready Pods per image as the watch sees them.
func (pw *podWatch) readyImages() map[string]int {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	out := map[string]int{}
	for _, p := range pw.pods {
		if orchestrator.IsPodReady(p) {
			out[p.Spec.Containers[0].Image]++
		}
	}
	return out
}

func (pw *podWatch) stop() {
	pw.cancel()
	<-pw.done
	pw.mu.Lock()
	defer pw.mu.Unlock()
	pw.t.Logf("watch: %d events, at most %d pods, at least %d ready", pw.events, pw.maxSeen, pw.minSeen)
	for _, v := range pw.violations {
		pw.t.Errorf("invariant violated %s", v)
	}
}

func rolloutStatus(t *testing.T, cl orchestrator.Client, name string, timeout time.Duration) ([]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var msgs []string
	err := orchestrator.RolloutStatus(ctx, cl, "default", name, func(m string) { msgs = append(msgs, m) })
	return msgs, err
}

func setImage(t *testing.T, cl orchestrator.Client, name, image string) {
	t.Helper()
	updateDeployment(t, cl, name, func(d *orchestrator.Deployment) { d.Spec.Template.Spec.Containers[0].Image = image })
}

// waitRevision waits until the named Deployment carries revision want in
// its revision annotation (written after its ReplicaSet's) and checks that
// writing it left the other annotations and the generation alone.
func waitRevision(t *testing.T, c *orchestratortest.TestCluster, cl orchestrator.Client, name, want string) {
	t.Helper()
	var d orchestrator.Deployment
	c.Eventually(20*time.Second, fmt.Sprintf("deployment %s at revision %s", name, want), func() bool {
		d = orchestrator.Deployment{}
		err := cl.Get(context.Background(), orchestrator.ObjectKey{Namespace: "default", Name: name}, &d)
		return err == nil && d.Annotations[api.RevisionAnnotation] == want
	})
	if d.Annotations["team"] != "web" {
		t.Errorf("deployment %s: annotations %v lost team=web", name, d.Annotations)
	}
	if d.Status.ObservedGeneration != d.Generation {
		t.Errorf("deployment %s: generation %d, observed %d", name, d.Generation, d.Status.ObservedGeneration)
	}
}

func TestRollingUpdateInvariant(t *testing.T) {
	c := orchestratortest.NewCluster(t, 3)
	cl := c.Client()
	labels := map[string]string{"app": "roll"}
	if err := cl.Create(context.Background(), rolling("roll", 10, "web:1")); err != nil {
		t.Fatal(err)
	}
	if msgs, err := rolloutStatus(t, cl, "roll", 60*time.Second); err != nil {
		t.Fatalf("initial rollout: %v (%q)", err, msgs)
	}
	waitRevision(t, c, cl, "roll", "1")
	// 25%/25% of 10: maxSurge 3 (rounded up), maxUnavailable 2 (down).
	pw := watchPods(t, cl, labels, 10-2, 10+3)
	setImage(t, cl, "roll", "web:2")
	msgs, err := rolloutStatus(t, cl, "roll", 60*time.Second)
	if err != nil {
		t.Fatalf("rollout: %v (%q)", err, msgs)
	}
	t.Logf("progress: %q", msgs)
	if len(msgs) == 0 || msgs[len(msgs)-1] != `deployment "roll" successfully rolled out` {
		t.Fatalf("last message: %q", msgs)
	}
	// RolloutStatus reads the Deployment's status, which counts the last
	// old Pod gone once it is deleted; this watch may deliver that
	// deletion a moment later (stopping it first would drop the event).
	c.Eventually(20*time.Second, "10 ready web:2 pods and no ready web:1", func() bool {
		got := pw.readyImages()
		return got["web:2"] == 10 && got["web:1"] == 0
	})
	pw.stop()
	var rss orchestrator.ReplicaSetList
	if err := cl.List(context.Background(), &rss, orchestrator.MatchingLabels(labels)); err != nil {
		t.Fatal(err)
	}
	revs := map[string]string{}
	for _, rs := range rss.Items {
		revs[rs.Spec.Template.Spec.Containers[0].Image] = rs.Annotations[api.RevisionAnnotation]
	}
	if revs["web:1"] != "1" || revs["web:2"] != "2" {
		t.Fatalf("revisions: %v", revs)
	}
	waitRevision(t, c, cl, "roll", "2")
}

// badImageCluster is a 3-node cluster on which image web:bad runs but
// never passes its readiness probe.
func badImageCluster(t *testing.T) *orchestratortest.TestCluster {
	t.Helper()
	c := orchestratortest.NewCluster(t, 3)
	for i := range c.Len() {
		if err := c.Runtime(i).SetImageBehavior("web:bad", fake.Behavior{HTTP: func(int, string) int { return 503 }}); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func TestBadRolloutStallsThenRollback(t *testing.T) {
	c := badImageCluster(t)
	cl := c.Client()
	labels := map[string]string{"app": "bad"}
	d := rolling("bad", 10, "web:1")
	// Condition times have a resolution of a second, so a deadline of 1 s
	// could end at once; 2 s leaves at least one.
	d.Spec.ProgressDeadlineSeconds = orchestrator.Ptr(int32(2))
	if err := cl.Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if msgs, err := rolloutStatus(t, cl, "bad", 60*time.Second); err != nil {
		t.Fatalf("initial rollout: %v (%q)", err, msgs)
	}
	pw := watchPods(t, cl, labels, 10-2, 10+3)
	setImage(t, cl, "bad", "web:bad")
	msgs, err := rolloutStatus(t, cl, "bad", 60*time.Second)
	if !errors.Is(err, orchestrator.ErrProgressDeadlineExceeded) {
		t.Fatalf("bad rollout: err %v, want ErrProgressDeadlineExceeded (%q)", err, msgs)
	}
	var got orchestrator.Deployment
	if err := cl.Get(context.Background(), orchestrator.ObjectKey{Namespace: "default", Name: "bad"}, &got); err != nil {
		t.Fatal(err)
	}
	if cond := api.GetDeploymentCondition(&got.Status, api.DeploymentProgressing); cond == nil || cond.Status != orchestrator.ConditionFalse {
		t.Fatalf("Progressing: %+v", cond)
	}
	// A stalled rollout is still the Deployment's revision.
	waitRevision(t, c, cl, "bad", "2")
	// The old version keeps serving within the bound.
	if n := pw.readyImages()["web:1"]; n < 8 {
		t.Fatalf("%d ready old pods, want >= 8", n)
	}
	rev, err := orchestrator.Rollback(context.Background(), cl, "default", "bad", 0)
	if err != nil || rev != 1 {
		t.Fatalf("rollback: revision %d, %v", rev, err)
	}
	if msgs, err := rolloutStatus(t, cl, "bad", 60*time.Second); err != nil {
		t.Fatalf("rollout after rollback: %v (%q)", err, msgs)
	}
	c.Eventually(20*time.Second, "10 ready web:1 pods, none other", func() bool {
		got := pw.readyImages()
		return got["web:1"] == 10 && len(got) == 1
	})
	pw.stop()
	if err := cl.Get(context.Background(), orchestrator.ObjectKey{Namespace: "default", Name: "bad"}, &got); err != nil {
		t.Fatal(err)
	}
	if img := got.Spec.Template.Spec.Containers[0].Image; img != "web:1" {
		t.Fatalf("template image after rollback: %s", img)
	}
	waitRevision(t, c, cl, "bad", "3")
	var rss orchestrator.ReplicaSetList
	if err := cl.List(context.Background(), &rss, orchestrator.MatchingLabels(labels)); err != nil {
		t.Fatal(err)
	}
	for _, rs := range rss.Items {
		img, rev := rs.Spec.Template.Spec.Containers[0].Image, rs.Annotations[api.RevisionAnnotation]
		if (img == "web:1" && rev != "3") || (img == "web:bad" && (rev != "2" || *rs.Spec.Replicas != 0)) {
			t.Fatalf("replica set %s: image %s revision %s replicas %d", rs.Name, img, rev, *rs.Spec.Replicas)
		}
	}
}

func TestRecreateNeverMixesVersions(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	labels := map[string]string{"app": "rec"}
	d := rolling("rec", 4, "web:1")
	d.Spec.Strategy = orchestrator.DeploymentStrategy{Type: api.RecreateDeploymentStrategyType}
	if err := cl.Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if msgs, err := rolloutStatus(t, cl, "rec", 60*time.Second); err != nil {
		t.Fatalf("initial rollout: %v (%q)", err, msgs)
	}
	// Recreate: no availability bound, at most the replicas, one version.
	pw := watchPodsOneVersion(t, cl, labels, 0, 4, true)
	setImage(t, cl, "rec", "web:2")
	msgs, err := rolloutStatus(t, cl, "rec", 60*time.Second)
	if err != nil {
		t.Fatalf("rollout: %v (%q)", err, msgs)
	}
	c.Eventually(20*time.Second, "4 ready web:2 pods", func() bool { return pw.readyImages()["web:2"] == 4 })
	pw.stop()
}

func TestPausedAndHistoryLimit(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	ctx := context.Background()
	labels := map[string]string{"app": "hist"}
	d := rolling("hist", 2, "web:1")
	d.Spec.RevisionHistoryLimit = orchestrator.Ptr(int32(1))
	if err := cl.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	if msgs, err := rolloutStatus(t, cl, "hist", 60*time.Second); err != nil {
		t.Fatalf("initial rollout: %v (%q)", err, msgs)
	}
	setPaused := func(paused bool) {
		for {
			var d orchestrator.Deployment
			if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "hist"}, &d); err != nil {
				t.Fatal(err)
			}
			d.Spec.Paused = paused
			err := cl.Update(ctx, &d)
			if orchestrator.IsConflict(err) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			return
		}
	}
	setPaused(true)
	setImage(t, cl, "hist", "web:2")
	c.Eventually(20*time.Second, "paused condition", func() bool {
		var d orchestrator.Deployment
		if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "hist"}, &d); err != nil {
			return false
		}
		cond := api.GetDeploymentCondition(&d.Status, api.DeploymentProgressing)
		return d.Status.ObservedGeneration == d.Generation && cond != nil && cond.Reason == "DeploymentPaused"
	})
	for _, p := range podsOf(t, cl, labels) {
		if img := p.Spec.Containers[0].Image; img != "web:1" {
			t.Fatalf("paused deployment rolled out: pod %s runs %s", p.Name, img)
		}
	}
	// A paused rollout does not finish: RolloutStatus reports where it
	// stands and returns when its context ends.
	msgs, err := rolloutStatus(t, cl, "hist", 300*time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) || len(msgs) == 0 ||
		msgs[0] != `Waiting for deployment "hist" rollout to finish: 0 out of 2 new replicas have been updated...` {
		t.Fatalf("status of a paused rollout: %v, %q", err, msgs)
	}
	setPaused(false)
	if msgs, err := rolloutStatus(t, cl, "hist", 60*time.Second); err != nil {
		t.Fatalf("resumed rollout: %v (%q)", err, msgs)
	}
	setImage(t, cl, "hist", "web:3")
	if msgs, err := rolloutStatus(t, cl, "hist", 60*time.Second); err != nil {
		t.Fatalf("third rollout: %v (%q)", err, msgs)
	}
	// revisionHistoryLimit 1: the current ReplicaSet and one old one.
	c.Eventually(20*time.Second, "history pruned to 1", func() bool {
		var rss orchestrator.ReplicaSetList
		if err := cl.List(ctx, &rss, orchestrator.MatchingLabels(labels)); err != nil {
			return false
		}
		revs := map[string]string{}
		for _, rs := range rss.Items {
			revs[rs.Spec.Template.Spec.Containers[0].Image] = rs.Annotations[api.RevisionAnnotation]
		}
		return len(revs) == 2 && revs["web:3"] == "3" && revs["web:2"] == "2"
	})
}

// TestPausedRecreateResize resizes a paused Recreate Deployment whose
// template has changed: the old ReplicaSet, its only active one, takes the
// new size with the old template, and the new template waits for the
// Deployment to be resumed.
func TestPausedRecreateResize(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	labels := map[string]string{"app": "prec"}
	d := rolling("prec", 2, "web:1")
	d.Spec.Strategy = orchestrator.DeploymentStrategy{Type: api.RecreateDeploymentStrategyType}
	if err := cl.Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if msgs, err := rolloutStatus(t, cl, "prec", 60*time.Second); err != nil {
		t.Fatalf("initial rollout: %v (%q)", err, msgs)
	}
	updateDeployment(t, cl, "prec", func(d *orchestrator.Deployment) {
		d.Spec.Paused = true
		d.Spec.Template.Spec.Containers[0].Image = "web:2"
	})
	updateDeployment(t, cl, "prec", func(d *orchestrator.Deployment) { d.Spec.Replicas = orchestrator.Ptr(int32(4)) })
	waitSizes(t, c, cl, labels, map[string]int32{"web:1": 4})
	if spec, _ := replicaSetSizes(t, cl, labels); len(spec) != 1 {
		t.Fatalf("paused deployment made a new replica set: %v", spec)
	}
	for _, p := range podsOf(t, cl, labels) {
		if img := p.Spec.Containers[0].Image; img != "web:1" {
			t.Fatalf("paused deployment rolled out: pod %s runs %s", p.Name, img)
		}
	}
	waitRevision(t, c, cl, "prec", "1")

	updateDeployment(t, cl, "prec", func(d *orchestrator.Deployment) { d.Spec.Paused = false })
	if msgs, err := rolloutStatus(t, cl, "prec", 60*time.Second); err != nil {
		t.Fatalf("resumed rollout: %v (%q)", err, msgs)
	}
	waitSizes(t, c, cl, labels, map[string]int32{"web:1": 0, "web:2": 4})
	waitRevision(t, c, cl, "prec", "2")
}

// TestPausedScaleUpFromZero scales a Deployment to 0, pauses it and
// scales it up again: the ReplicaSet of its current template takes the
// whole size (the newest when the template is the newest's; the old one
// when the template went back to it while paused), as in Kubernetes, for
// both strategies.
func TestPausedScaleUpFromZero(t *testing.T) {
	for _, tc := range []struct {
		strategy api.DeploymentStrategyType
		image    string // the template's image while paused
		want     map[string]int32
	}{
		{api.RollingUpdateDeploymentStrategyType, "web:2", map[string]int32{"web:1": 0, "web:2": 3}},
		{api.RecreateDeploymentStrategyType, "web:2", map[string]int32{"web:1": 0, "web:2": 3}},
		{api.RollingUpdateDeploymentStrategyType, "web:1", map[string]int32{"web:1": 3, "web:2": 0}},
	} {
		strategy := tc.strategy
		t.Run(string(strategy)+"/"+tc.image, func(t *testing.T) {
			c := orchestratortest.NewCluster(t, 1)
			cl := c.Client()
			labels := map[string]string{"app": "zero"}
			d := rolling("zero", 2, "web:1")
			if strategy == api.RecreateDeploymentStrategyType {
				d.Spec.Strategy = orchestrator.DeploymentStrategy{Type: strategy}
			}
			if err := cl.Create(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			if msgs, err := rolloutStatus(t, cl, "zero", 60*time.Second); err != nil {
				t.Fatalf("initial rollout: %v (%q)", err, msgs)
			}
			setImage(t, cl, "zero", "web:2")
			if msgs, err := rolloutStatus(t, cl, "zero", 60*time.Second); err != nil {
				t.Fatalf("rollout: %v (%q)", err, msgs)
			}
			updateDeployment(t, cl, "zero", func(d *orchestrator.Deployment) { d.Spec.Replicas = orchestrator.Ptr(int32(0)) })
			waitSizes(t, c, cl, labels, map[string]int32{"web:1": 0, "web:2": 0})
			updateDeployment(t, cl, "zero", func(d *orchestrator.Deployment) {
				d.Spec.Paused = true
				d.Spec.Template.Spec.Containers[0].Image = tc.image
			})
			updateDeployment(t, cl, "zero", func(d *orchestrator.Deployment) { d.Spec.Replicas = orchestrator.Ptr(int32(3)) })
			waitSizes(t, c, cl, labels, tc.want)
		})
	}
}

// TestPausedDeploymentPrunesHistory lowers revisionHistoryLimit to 1 on a
// Deployment with three old revisions as it is paused: the two oldest go
// all the same.
func TestPausedDeploymentPrunesHistory(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	ctx := context.Background()
	labels := map[string]string{"app": "prune"}
	if err := cl.Create(ctx, rolling("prune", 1, "web:1")); err != nil {
		t.Fatal(err)
	}
	// Revision 1 must exist before the template changes (else web:2 is
	// revision 1).
	if msgs, err := rolloutStatus(t, cl, "prune", 60*time.Second); err != nil {
		t.Fatalf("initial rollout: %v (%q)", err, msgs)
	}
	for _, img := range []string{"web:2", "web:3", "web:4"} {
		setImage(t, cl, "prune", img)
		if msgs, err := rolloutStatus(t, cl, "prune", 60*time.Second); err != nil {
			t.Fatalf("rollout to %s: %v (%q)", img, err, msgs)
		}
	}
	updateDeployment(t, cl, "prune", func(d *orchestrator.Deployment) {
		d.Spec.Paused = true
		d.Spec.RevisionHistoryLimit = orchestrator.Ptr(int32(1))
	})
	var revs map[string]string
	c.Eventually(20*time.Second, "history pruned to 1", func() bool {
		var rss orchestrator.ReplicaSetList
		if err := cl.List(ctx, &rss, orchestrator.MatchingLabels(labels)); err != nil {
			return false
		}
		revs = map[string]string{}
		for _, rs := range rss.Items {
			revs[rs.Spec.Template.Spec.Containers[0].Image] = rs.Annotations[api.RevisionAnnotation]
		}
		return len(revs) == 2
	})
	if revs["web:4"] != "4" || revs["web:3"] != "3" {
		t.Fatalf("revisions kept: %v, want web:4 at 4 and web:3 at 3", revs)
	}
}

// updateDeployment applies change to the named Deployment, retrying on
// conflicts.
func updateDeployment(t *testing.T, cl orchestrator.Client, name string, change func(*orchestrator.Deployment)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var d orchestrator.Deployment
		if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: name}, &d); err != nil {
			t.Fatal(err)
		}
		change(&d)
		err := cl.Update(ctx, &d)
		if orchestrator.IsConflict(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
}

// replicaSetSizes maps the image of each ReplicaSet with the labels to
// its spec.replicas and status.replicas.
func replicaSetSizes(t *testing.T, cl orchestrator.Client, labels map[string]string) (spec, pods map[string]int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var rss orchestrator.ReplicaSetList
	if err := cl.List(ctx, &rss, orchestrator.MatchingLabels(labels)); err != nil {
		t.Fatal(err)
	}
	spec, pods = map[string]int32{}, map[string]int32{}
	for _, rs := range rss.Items {
		img := rs.Spec.Template.Spec.Containers[0].Image
		spec[img], pods[img] = *rs.Spec.Replicas, rs.Status.Replicas
	}
	return spec, pods
}

// waitSizes waits until the ReplicaSets (by image) have want as their
// spec.replicas and as many Pods.
func waitSizes(t *testing.T, c *orchestratortest.TestCluster, cl orchestrator.Client, labels map[string]string, want map[string]int32) {
	t.Helper()
	var spec, pods map[string]int32
	c.Eventually(30*time.Second, fmt.Sprintf("replica sets at %v", want), func() bool {
		spec, pods = replicaSetSizes(t, cl, labels)
		for img, n := range want {
			if spec[img] != n || pods[img] != n {
				return false
			}
		}
		return true
	})
}

// TestProportionalScalingMidRollout resizes a Deployment whose rollout is
// stalled halfway (the new version never becomes ready) with old and new
// Pods: the change is shared in proportion to the ReplicaSets' sizes, as
// in Kubernetes, within replicas+maxSurge; then, paused, it is resized
// back.
func TestProportionalScalingMidRollout(t *testing.T) {
	c := badImageCluster(t)
	cl := c.Client()
	labels := map[string]string{"app": "prop"}
	if err := cl.Create(context.Background(), rolling("prop", 10, "web:1")); err != nil {
		t.Fatal(err)
	}
	if msgs, err := rolloutStatus(t, cl, "prop", 60*time.Second); err != nil {
		t.Fatalf("initial rollout: %v (%q)", err, msgs)
	}
	setImage(t, cl, "prop", "web:bad")
	// 25%/25% of 10: maxSurge 3, maxUnavailable 2. The rollout stalls with
	// 8 old Pods (10 - 2) and 5 new ones (13 - 8) that never get ready.
	waitSizes(t, c, cl, labels, map[string]int32{"web:1": 8, "web:bad": 5})

	// At every moment from here: at most 20 + 25% = 25 Pods, and the 8
	// ready old ones keep serving.
	pw := watchPods(t, cl, labels, 8, 25)
	updateDeployment(t, cl, "prop", func(d *orchestrator.Deployment) { d.Spec.Replicas = orchestrator.Ptr(int32(20)) })
	// From 13 to 25 Pods in proportion: old 8×25/13 = 15.4 -> 15, new
	// 5×25/13 = 9.6 -> 10 (all of the new version would be 8 and 17).
	waitSizes(t, c, cl, labels, map[string]int32{"web:1": 15, "web:bad": 10})
	c.Eventually(30*time.Second, "15 ready old pods", func() bool { return pw.readyImages()["web:1"] == 15 })
	// The rollout resumes from there and, the new version being bad, stays
	// put: 15 available old Pods is exactly 20 - maxUnavailable 5.
	if spec, _ := replicaSetSizes(t, cl, labels); spec["web:1"] != 15 || spec["web:bad"] != 10 {
		t.Fatalf("after the old pods got ready: %v, want web:1 15, web:bad 10", spec)
	}

	// Paused, a resize is still shared: 25 -> 13, old 15×13/25 = 7.8 -> 8,
	// new 10×13/25 = 5.2 -> 5.
	updateDeployment(t, cl, "prop", func(d *orchestrator.Deployment) {
		d.Spec.Paused = true
		d.Spec.Replicas = orchestrator.Ptr(int32(10))
	})
	waitSizes(t, c, cl, labels, map[string]int32{"web:1": 8, "web:bad": 5})
	c.Eventually(30*time.Second, "8 ready old pods", func() bool { return pw.readyImages()["web:1"] == 8 })
	pw.stop()

	var rss orchestrator.ReplicaSetList
	if err := cl.List(context.Background(), &rss, orchestrator.MatchingLabels(labels)); err != nil {
		t.Fatal(err)
	}
	for _, rs := range rss.Items {
		if rs.Annotations[api.DesiredReplicasAnnotation] != "10" || rs.Annotations[api.MaxReplicasAnnotation] != "13" {
			t.Errorf("replica set %s annotations %v, want desired 10 and max 13", rs.Name, rs.Annotations)
		}
	}
}

// TestRollbackToNamedRevision rolls a Deployment with three revisions
// back to the first by number, and checks Rollback's refusals: a revision
// not in the history, no previous revision, a paused Deployment, a
// missing Deployment, a negative revision.
func TestRollbackToNamedRevision(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	ctx := context.Background()
	labels := map[string]string{"app": "undo"}
	if err := cl.Create(ctx, rolling("undo", 2, "web:1")); err != nil {
		t.Fatal(err)
	}
	if msgs, err := rolloutStatus(t, cl, "undo", 60*time.Second); err != nil {
		t.Fatalf("initial rollout: %v (%q)", err, msgs)
	}
	if _, err := orchestrator.Rollback(ctx, cl, "default", "undo", 0); !orchestrator.IsNotFound(err) {
		t.Fatalf("rollback with one revision: %v, want IsNotFound", err)
	}
	for _, img := range []string{"web:2", "web:3"} {
		setImage(t, cl, "undo", img)
		if msgs, err := rolloutStatus(t, cl, "undo", 60*time.Second); err != nil {
			t.Fatalf("rollout to %s: %v (%q)", img, err, msgs)
		}
	}
	waitRevision(t, c, cl, "undo", "3")
	generation := func() int64 {
		var d orchestrator.Deployment
		if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "undo"}, &d); err != nil {
			t.Fatal(err)
		}
		return d.Generation
	}
	before := generation()
	for _, tc := range []struct {
		name, deployment string
		rev              int64
		is               func(error) bool
	}{
		{"revision not in the history", "undo", 9, orchestrator.IsNotFound},
		{"negative revision", "undo", -1, orchestrator.IsBadRequest},
		{"missing deployment", "nope", 1, orchestrator.IsNotFound},
	} {
		if _, err := orchestrator.Rollback(ctx, cl, "default", tc.deployment, tc.rev); !tc.is(err) {
			t.Fatalf("%s: got %v", tc.name, err)
		}
	}
	// Rolling back to the current revision changes nothing.
	if rev, err := orchestrator.Rollback(ctx, cl, "default", "undo", 3); err != nil || rev != 3 {
		t.Fatalf("rollback to the current revision: %d, %v", rev, err)
	}
	updateDeployment(t, cl, "undo", func(d *orchestrator.Deployment) { d.Spec.Paused = true })
	if _, err := orchestrator.Rollback(ctx, cl, "default", "undo", 1); !orchestrator.IsBadRequest(err) || !strings.Contains(err.Error(), "paused") {
		t.Fatalf("rollback of a paused deployment: %v, want IsBadRequest", err)
	}
	updateDeployment(t, cl, "undo", func(d *orchestrator.Deployment) { d.Spec.Paused = false })
	if g := generation(); g != before+2 {
		t.Fatalf("generation %d -> %d: a refused rollback changed the spec", before, g)
	}

	rev, err := orchestrator.Rollback(ctx, cl, "default", "undo", 1)
	if err != nil || rev != 1 {
		t.Fatalf("rollback to revision 1: %d, %v", rev, err)
	}
	if msgs, err := rolloutStatus(t, cl, "undo", 60*time.Second); err != nil {
		t.Fatalf("rollout after rollback: %v (%q)", err, msgs)
	}
	c.Eventually(20*time.Second, "2 web:1 pods only", func() bool {
		pods := podsOf(t, cl, labels)
		for _, p := range pods {
			if p.Spec.Containers[0].Image != "web:1" {
				return false
			}
		}
		return len(pods) == 2
	})
	// The reused ReplicaSet is now the newest revision, 4.
	var rss orchestrator.ReplicaSetList
	if err := cl.List(ctx, &rss, orchestrator.MatchingLabels(labels)); err != nil {
		t.Fatal(err)
	}
	revs := map[string]string{}
	for _, rs := range rss.Items {
		revs[rs.Spec.Template.Spec.Containers[0].Image] = rs.Annotations[api.RevisionAnnotation]
	}
	if revs["web:1"] != "4" || revs["web:2"] != "2" || revs["web:3"] != "3" || len(revs) != 3 {
		t.Fatalf("revisions after rollback: %v", revs)
	}
	waitRevision(t, c, cl, "undo", "4")
}

// TestMinReadySeconds checks that a Pod counts as available only
// minReadySeconds after it became Ready: the Deployment reports all
// replicas ready before it reports them available, and its rollout
// completes only then.
func TestMinReadySeconds(t *testing.T) {
	c := orchestratortest.NewCluster(t, 1)
	cl := c.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	w, err := cl.Watch(ctx, &orchestrator.DeploymentList{}, orchestrator.InNamespace("default"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	d := rolling("slow", 3, "web:1")
	// Condition times have a resolution of a second: a Pod is available
	// 3 to 4 s after it became Ready (room for a slow controller under
	// -race on a loaded machine to still see them ready first).
	d.Spec.MinReadySeconds = 4
	if err := cl.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	var allReady time.Time
	available := false
	for ev := range w.Events() {
		dep, ok := ev.Object.(*orchestrator.Deployment)
		if !ok || dep.Name != "slow" {
			continue
		}
		st := dep.Status
		if allReady.IsZero() && st.ReadyReplicas == 3 {
			allReady = time.Now()
			if st.AvailableReplicas == 3 {
				t.Fatalf("3 replicas available as soon as they are ready: %+v", st)
			}
		}
		if st.AvailableReplicas == 3 {
			if allReady.IsZero() {
				t.Fatalf("available before ready: %+v", st)
			}
			if waited := time.Since(allReady); waited < time.Second {
				t.Fatalf("available %v after ready, want about minReadySeconds (4 s) less the 1 s resolution", waited)
			}
			available = true
			break
		}
	}
	if !available {
		t.Fatalf("the watch ended before 3 replicas were available (%v)", ctx.Err())
	}
	if msgs, err := rolloutStatus(t, cl, "slow", 10*time.Second); err != nil {
		t.Fatalf("rollout: %v (%q)", err, msgs)
	}
}
