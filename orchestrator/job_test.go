package orchestrator_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"go.uber.org/zap"
)

// jobCluster is a one-node cluster whose runtime runs image "ok:v1" for a
// few milliseconds and exits 0, and "fail:v1" likewise with exit code 3.
func jobCluster(tb testing.TB, opts ...orchestratortest.Option) *orchestratortest.TestCluster {
	tb.Helper()
	opts = append([]orchestratortest.Option{orchestratortest.WithFakeRuntime(func(_ int, cfg *fake.Config) {
		cfg.ImageBehaviors = map[string]fake.Behavior{
			"ok:v1":   {ExitAfter: 2 * time.Millisecond},
			"fail:v1": {ExitAfter: 2 * time.Millisecond, ExitCode: 3},
		}
	})}, opts...)
	return orchestratortest.NewCluster(tb, 1, opts...)
}

func newJob(name, image string, completions, parallelism int32) *orchestrator.Job {
	return &orchestrator.Job{
		ObjectMeta: orchestrator.ObjectMeta{Name: name, Namespace: "default"},
		Spec: orchestrator.JobSpec{
			Completions: api.Ptr(completions), Parallelism: api.Ptr(parallelism),
			Template: orchestrator.PodTemplateSpec{Spec: orchestrator.PodSpec{
				RestartPolicy: api.RestartPolicyNever,
				Containers:    []orchestrator.Container{{Name: "work", Image: image}},
			}},
		},
	}
}

// waitJob waits until the Job has condition typ True and returns it.
func waitJob(t testing.TB, c *orchestratortest.TestCluster, name string, typ api.JobConditionType, timeout time.Duration) *orchestrator.Job {
	t.Helper()
	var job orchestrator.Job
	c.Eventually(timeout, "Job "+name+" "+string(typ), func() bool {
		err := c.Client().Get(context.Background(), orchestrator.ObjectKey{Namespace: "default", Name: name}, &job)
		cond := api.GetJobCondition(&job.Status, typ)
		return err == nil && cond != nil && cond.Status == api.ConditionTrue
	})
	return &job
}

func jobPods(t testing.TB, c *orchestratortest.TestCluster, job *orchestrator.Job) []orchestrator.Pod {
	t.Helper()
	var pods orchestrator.PodList
	if err := c.Client().List(context.Background(), &pods, orchestrator.InNamespace("default"),
		orchestrator.MatchingLabels{api.JobControllerUIDLabel: string(job.UID)}); err != nil {
		t.Fatal(err)
	}
	return pods.Items
}

// A Job of 100 completions at parallelism 10 completes with exactly 100
// succeeded Pods, each labelled and owned as Kubernetes' Job controller
// does, and status counts, completionTime and condition Complete.
func TestJobCompletionsParallelism(t *testing.T) {
	c := jobCluster(t)
	ctx := context.Background()
	job := newJob("hundred", "ok:v1", 100, 10)
	if err := c.Client().Create(ctx, job); err != nil {
		t.Fatal(err)
	}
	if got := job.Spec.Selector.MatchLabels[api.JobControllerUIDLabel]; got != string(job.UID) {
		t.Fatalf("generated selector %v, want controller-uid %s", job.Spec.Selector, job.UID)
	}
	done := waitJob(t, c, "hundred", api.JobComplete, 60*time.Second)
	if done.Status.Succeeded != 100 || done.Status.Failed != 0 || done.Status.Active != 0 ||
		done.Status.CompletionTime == nil || done.Status.StartTime == nil {
		t.Fatalf("status %+v", done.Status)
	}
	pods := jobPods(t, c, done)
	if len(pods) != 100 {
		t.Fatalf("%d Pods, want 100", len(pods))
	}
	for _, p := range pods {
		if p.Status.Phase != api.PodSucceeded || p.Labels[api.JobNameLabel] != "hundred" ||
			!api.IsControlledBy(&p, done) || !strings.HasPrefix(p.Name, "hundred-") {
			t.Fatalf("Pod %s: phase %s, labels %v, owners %v", p.Name, p.Status.Phase, p.Labels, p.OwnerReferences)
		}
	}
}

// A Job whose Pods fail makes backoffLimit+1 attempts, one at a time
// after the back-off, then fails with BackoffLimitExceeded.
func TestJobBackoffLimit(t *testing.T) {
	c := jobCluster(t)
	ctx := context.Background()
	job := newJob("failing", "fail:v1", 1, 1)
	job.Spec.BackoffLimit = api.Ptr(int32(2))
	if err := c.Client().Create(ctx, job); err != nil {
		t.Fatal(err)
	}
	failed := waitJob(t, c, "failing", api.JobFailed, 30*time.Second)
	cond := api.GetJobCondition(&failed.Status, api.JobFailed)
	if cond.Reason != api.JobReasonBackoffLimitExceeded || failed.Status.Failed != 3 || failed.Status.CompletionTime != nil {
		t.Fatalf("condition %+v, status %+v", cond, failed.Status)
	}
	pods := jobPods(t, c, failed)
	if len(pods) != 3 {
		t.Fatalf("%d Pods, want 3 (backoffLimit 2 + 1)", len(pods))
	}
	for _, p := range pods {
		if p.Status.Phase != api.PodFailed {
			t.Fatalf("Pod %s is %s", p.Name, p.Status.Phase)
		}
	}
}

// A pod failure policy rule FailJob on exit code 3 fails the Job at the
// first failure, whatever the backoffLimit.
func TestJobPodFailurePolicyFailJob(t *testing.T) {
	c := jobCluster(t)
	job := newJob("policy", "fail:v1", 1, 1)
	job.Spec.PodFailurePolicy = &orchestrator.PodFailurePolicy{Rules: []orchestrator.PodFailurePolicyRule{{
		Action:      api.PodFailurePolicyActionFailJob,
		OnExitCodes: &orchestrator.PodFailurePolicyOnExitCodesRequirement{Operator: api.PodFailurePolicyOnExitCodesOpIn, Values: []int32{3}},
	}}}
	if err := c.Client().Create(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	failed := waitJob(t, c, "policy", api.JobFailed, 30*time.Second)
	cond := api.GetJobCondition(&failed.Status, api.JobFailed)
	if cond.Reason != api.JobReasonPodFailurePolicy || !strings.Contains(cond.Message, "exit code 3 matching FailJob rule at index 0") {
		t.Fatalf("condition %+v", cond)
	}
	if n := len(jobPods(t, c, failed)); n != 1 {
		t.Fatalf("%d Pods, want 1", n)
	}
}

// An Indexed Job runs each index once: one succeeded Pod per index, with
// the index in its annotation, label, name and JOB_COMPLETION_INDEX.
func TestJobIndexed(t *testing.T) {
	c := jobCluster(t)
	job := newJob("indexed", "ok:v1", 7, 3)
	job.Spec.CompletionMode = api.Ptr(api.IndexedCompletion)
	if err := c.Client().Create(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	done := waitJob(t, c, "indexed", api.JobComplete, 30*time.Second)
	if done.Status.CompletedIndexes != "0-6" || done.Status.Succeeded != 7 {
		t.Fatalf("status %+v", done.Status)
	}
	var seen []string
	for _, p := range jobPods(t, c, done) {
		idx := p.Annotations[api.JobCompletionIndexAnnotation]
		env := p.Spec.Containers[0].Env
		if p.Labels[api.JobCompletionIndexAnnotation] != idx || !strings.HasPrefix(p.Name, "indexed-"+idx+"-") ||
			len(env) != 1 || env[0].Name != api.JobCompletionIndexEnv || env[0].Value != idx {
			t.Fatalf("Pod %s: index %q, labels %v, env %v", p.Name, idx, p.Labels, env)
		}
		seen = append(seen, idx)
	}
	slices.Sort(seen)
	if want := []string{"0", "1", "2", "3", "4", "5", "6"}; !slices.Equal(seen, want) {
		t.Fatalf("indexes %v, want each of %v once", seen, want)
	}
}

// Bad Jobs are refused with Kubernetes' field paths, and not stored.
func TestJobInvalid(t *testing.T) {
	c := jobCluster(t)
	ctx := context.Background()
	for name, tc := range map[string]struct {
		change func(*orchestrator.Job)
		want   []string
	}{
		"restartPolicy Always": {func(j *orchestrator.Job) { j.Spec.Template.Spec.RestartPolicy = "" },
			[]string{`spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"`}},
		"negative counts": {func(j *orchestrator.Job) {
			j.Spec.Parallelism, j.Spec.Completions, j.Spec.BackoffLimit = api.Ptr(int32(-1)), api.Ptr(int32(-2)), api.Ptr(int32(-3))
			j.Spec.ActiveDeadlineSeconds, j.Spec.TTLSecondsAfterFinished = api.Ptr(int64(-4)), api.Ptr(int32(-5))
		}, []string{"spec.parallelism: Invalid value: -1", "spec.completions: Invalid value: -2", "spec.backoffLimit: Invalid value: -3",
			"spec.activeDeadlineSeconds: Invalid value: -4", "spec.ttlSecondsAfterFinished: Invalid value: -5"}},
		"Indexed without completions": {func(j *orchestrator.Job) {
			j.Spec.Completions, j.Spec.CompletionMode = nil, api.Ptr(api.IndexedCompletion)
		}, []string{"spec.completions: Required value: when completion mode is Indexed"}},
		"bad completionMode": {func(j *orchestrator.Job) { j.Spec.CompletionMode = api.Ptr(api.CompletionMode("Sorted")) },
			[]string{`spec.completionMode: Unsupported value: "Sorted"`}},
		"foreign selector": {func(j *orchestrator.Job) {
			j.Spec.Selector = &orchestrator.LabelSelector{MatchLabels: map[string]string{api.JobControllerUIDLabel: "other"}}
		}, []string{"spec.selector: Invalid value", "`selector` not auto-generated", "spec.template.metadata.labels"}},
		"pod failure policy": {func(j *orchestrator.Job) {
			j.Spec.Template.Spec.RestartPolicy = api.RestartPolicyOnFailure
			j.Spec.PodFailurePolicy = &orchestrator.PodFailurePolicy{Rules: []orchestrator.PodFailurePolicyRule{
				{Action: "Explode", OnExitCodes: &orchestrator.PodFailurePolicyOnExitCodesRequirement{
					ContainerName: api.Ptr("nope"), Operator: "In", Values: []int32{0, 2, 1}}},
				{Action: api.PodFailurePolicyActionIgnore, OnPodConditions: []orchestrator.PodFailurePolicyOnPodConditionsPattern{{Type: "DisruptionTarget"}}},
			}}
		}, []string{`spec.template.spec.restartPolicy: Invalid value: "OnFailure": only "Never" is supported when podFailurePolicy is specified`,
			`spec.podFailurePolicy.rules[0].action: Unsupported value: "Explode"`,
			`spec.podFailurePolicy.rules[0].onExitCodes.containerName: Invalid value: "nope"`,
			"spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value: 0: must not be 0 for the In operator",
			"spec.podFailurePolicy.rules[0].onExitCodes.values[2]: Invalid value: 1: must be ordered",
			"spec.podFailurePolicy.rules[1].onPodConditions: Forbidden: not supported yet"}},
		"Pod activeDeadlineSeconds": {func(j *orchestrator.Job) { j.Spec.Template.Spec.ActiveDeadlineSeconds = api.Ptr(int64(5)) },
			[]string{"spec.template.spec.activeDeadlineSeconds: Forbidden: not supported yet"}},
	} {
		t.Run(name, func(t *testing.T) {
			job := newJob("bad", "ok:v1", 1, 1)
			tc.change(job)
			err := c.Client().Create(ctx, job)
			if !api.IsInvalid(err) {
				t.Fatalf("Create: %v, want Invalid", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			var got orchestrator.Job
			if err := c.Client().Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "bad"}, &got); !api.IsNotFound(err) {
				t.Fatalf("Get after a refused Create: %v", err)
			}
		})
	}
}

// A suspended Job starts no Pod and says so; resumed, it runs. Its
// ttlSecondsAfterFinished 0 then deletes it, and its Pods with it.
func TestJobSuspendAndTTL(t *testing.T) {
	c := jobCluster(t)
	ctx := context.Background()
	job := newJob("later", "ok:v1", 2, 2)
	job.Spec.Suspend = api.Ptr(true)
	job.Spec.TTLSecondsAfterFinished = api.Ptr(int32(0))
	if err := c.Client().Create(ctx, job); err != nil {
		t.Fatal(err)
	}
	suspended := waitJob(t, c, "later", api.JobSuspended, 30*time.Second)
	if n := len(jobPods(t, c, suspended)); n != 0 || suspended.Status.StartTime != nil {
		t.Fatalf("suspended Job: %d Pods, status %+v", n, suspended.Status)
	}
	suspended.Spec.Suspend = api.Ptr(false)
	if err := c.Client().Update(ctx, suspended); err != nil {
		t.Fatal(err)
	}
	c.Eventually(30*time.Second, "Job deleted after its TTL, with its Pods", func() bool {
		var j orchestrator.Job
		err := c.Client().Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "later"}, &j)
		return api.IsNotFound(err) && len(jobPods(t, c, suspended)) == 0
	})
}

// A Job whose Pods outlive activeDeadlineSeconds fails with
// DeadlineExceeded and its running Pods are deleted.
func TestJobActiveDeadline(t *testing.T) {
	c := jobCluster(t)
	job := newJob("slow", "forever:v1", 1, 2)
	job.Spec.ActiveDeadlineSeconds = api.Ptr(int64(1))
	if err := c.Client().Create(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	failed := waitJob(t, c, "slow", api.JobFailed, 30*time.Second)
	if cond := api.GetJobCondition(&failed.Status, api.JobFailed); cond.Reason != api.JobReasonDeadlineExceeded || failed.Status.Active != 0 {
		t.Fatalf("condition %+v, status %+v", cond, failed.Status)
	}
	c.Eventually(30*time.Second, "the running Pod deleted", func() bool { return len(jobPods(t, c, failed)) == 0 })
}

// The manifest of Kubernetes' Job example, with the image swapped for
// the fake runtime's, applies unchanged through ApplyAll; a watch sees
// the Job go from created to Complete, and List and Get read it back.
func TestJobManifest(t *testing.T) {
	c := jobCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var jobs orchestrator.JobList
	if err := c.Client().List(ctx, &jobs); err != nil {
		t.Fatal(err)
	}
	w, err := c.Client().Watch(ctx, &orchestrator.JobList{}, orchestrator.FromResourceVersion(jobs.ResourceVersion))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	const manifest = `apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  template:
    spec:
      containers:
      - name: pi
        image: ok:v1
        command: ["perl", "-Mbignum=bpi", "-wle", "print bpi(2000)"]
      restartPolicy: Never
  backoffLimit: 4
`
	if _, err := c.Client().ApplyAll(ctx, []byte(manifest)); err != nil {
		t.Fatal(err)
	}
	var sawAdded bool
	for ev := range w.Events() {
		job := ev.Object.(*orchestrator.Job)
		sawAdded = sawAdded || ev.Type == orchestrator.Added
		if c := api.GetJobCondition(&job.Status, api.JobComplete); c != nil && c.Status == api.ConditionTrue {
			if !sawAdded || job.Status.Succeeded != 1 || *job.Spec.Completions != 1 || *job.Spec.Parallelism != 1 ||
				*job.Spec.BackoffLimit != 4 || *job.Spec.CompletionMode != api.NonIndexedCompletion {
				t.Fatalf("added %v, Job %+v", sawAdded, job)
			}
			break
		}
	}
	if err := ctx.Err(); err != nil {
		t.Fatalf("no Complete Job seen: %v (watch: %v)", err, w.Err())
	}
	if err := c.Client().List(ctx, &jobs, orchestrator.InNamespace("default")); err != nil || len(jobs.Items) != 1 || jobs.Items[0].Name != "pi" {
		t.Fatalf("List: %v, %d Jobs", err, len(jobs.Items))
	}
}

// Under restartPolicy OnFailure the failing container restarts in place
// and its restarts count towards backoffLimit, as in Kubernetes.
func TestJobOnFailureRestartsCount(t *testing.T) {
	c := jobCluster(t)
	job := newJob("restarts", "fail:v1", 1, 1)
	job.Spec.Template.Spec.RestartPolicy = api.RestartPolicyOnFailure
	job.Spec.BackoffLimit = api.Ptr(int32(2))
	if err := c.Client().Create(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	failed := waitJob(t, c, "restarts", api.JobFailed, 30*time.Second)
	if cond := api.GetJobCondition(&failed.Status, api.JobFailed); cond.Reason != api.JobReasonBackoffLimitExceeded {
		t.Fatalf("condition %+v", cond)
	}
	// One Pod only: it was restarted, never replaced.
	if pods := jobPods(t, c, failed); len(pods) > 1 {
		t.Fatalf("%d Pods, want at most 1", len(pods))
	}
}

// BenchmarkJob1000Parallelism50 is "Job of 1,000 completions,
// parallelism 50, on the fake runtime": ns/op is the time from Create
// until condition Complete (target 5 s).
func BenchmarkJob1000Parallelism50(b *testing.B) {
	c := jobCluster(b, orchestratortest.WithLogger(zap.NewNop()))
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		job := newJob(fmt.Sprintf("bench-%d", i), "ok:v1", 1000, 50)
		if err := c.Client().Create(ctx, job); err != nil {
			b.Fatal(err)
		}
		waitJob(b, c, job.Name, api.JobComplete, 60*time.Second)
		b.StopTimer()
		if err := c.Client().Delete(ctx, job); err != nil {
			b.Fatal(err)
		}
		c.Eventually(60*time.Second, "the Job's Pods deleted", func() bool { return len(jobPods(b, c, job)) == 0 })
		b.StartTimer()
	}
}
