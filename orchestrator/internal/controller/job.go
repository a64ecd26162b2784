package controller

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
	"github.com/flotilla-io/flotilla/orchestrator/internal/controllerutil"
	"github.com/flotilla-io/flotilla/orchestrator/internal/events"
	"github.com/flotilla-io/flotilla/orchestrator/internal/informer"
	"github.com/flotilla-io/flotilla/orchestrator/internal/metrics"
	"go.uber.org/zap"
)

// Kubernetes' back-off between the retries of a failing Job: 10 s after
// the first failure, doubling, at most 6 minutes.
const (
	DefaultJobBackoff    = 10 * time.Second
	DefaultMaxJobBackoff = 6 * time.Minute
)

// jobController runs the Pods of Jobs as Kubernetes' Job controller does,
// level-triggered: each pass counts the Job's Pods by phase and takes the
// next step (finish, fail, delete surplus Pods, create missing ones after
// the back-off), then writes the status.
//
// The counts are those of the Pods that exist: a terminal Pod deleted by
// hand while the Job runs is forgotten (Kubernetes keeps it counted with
// a finalizer and status.uncountedTerminatedPods; Flotilla does not yet).
type jobController struct {
	reg  client.Interface
	pods *informer.Informer
	jobs *informer.Informer
	rec  *events.Recorder
	log  *zap.Logger
	*loop

	backoff, maxBackoff time.Duration
	now                 func() time.Time

	exp podExpectations
}

func newJobController(reg client.Interface, pods, jobs *informer.Informer, rec *events.Recorder, backoff, maxBackoff time.Duration, log *zap.Logger, met *metrics.Node) *jobController {
	if backoff <= 0 {
		backoff = DefaultJobBackoff
	}
	if maxBackoff < backoff {
		maxBackoff = max(backoff, DefaultMaxJobBackoff)
	}
	c := &jobController{reg: reg, pods: pods, jobs: jobs, rec: rec, log: log.Named("job"), exp: podExpectations{pods: pods},
		backoff: backoff, maxBackoff: maxBackoff, now: time.Now}
	c.loop = newLoop("job", 4, log, met, c.reconcile)
	enqueue := func(o api.Object) { c.queue.Add(api.KeyOf(o)) }
	jobs.AddHandler(informer.Handler{OnAdd: enqueue, OnUpdate: func(_, o api.Object) { enqueue(o) }, OnDelete: enqueue})
	podEvent := func(o api.Object) {
		if ref := api.GetControllerOf(o); ref != nil && ref.Kind == "Job" {
			c.queue.Add(api.Key(o.GetNamespace(), ref.Name))
		}
	}
	pods.AddHandler(informer.Handler{OnAdd: podEvent, OnUpdate: func(_, o api.Object) { podEvent(o) }, OnDelete: podEvent})
	return c
}

// jobPods is a Job's Pods sorted by what they are to the Job.
type jobPods struct {
	active    []*api.Pod
	succeeded []*api.Pod
	failed    []*api.Pod // counted towards backoffLimit
	restarts  int        // container restarts of active Pods (restartPolicy OnFailure)
	ready     int32
	failJob   string // the message of a FailJob rule that matched, if any
}

func (c *jobController) reconcile(ctx context.Context, key string) (time.Duration, error) {
	o, ok := c.jobs.Get(key)
	if !ok {
		return 0, nil // its Pods are the garbage collector's
	}
	job := o.(*api.Job)
	if job.DeletionTimestamp != nil {
		return 0, nil
	}
	now := c.now()
	pods := c.classify(job)
	if api.IsJobFinished(job) {
		// Pods left running by a finished Job (a lost delete) go.
		if _, _, err := deletePods(ctx, c.reg, &c.exp, pods.active); err != nil {
			return 0, err
		}
		return c.expire(ctx, job, now)
	}
	st := api.Clone(job.Status)
	anow := api.NewTime(now)
	var requeue []time.Duration
	after := func(d time.Duration) { requeue = append(requeue, max(d, time.Millisecond)) }

	suspended := *job.Spec.Suspend
	switch {
	case suspended:
		if conditions.SetJob(&st, api.JobCondition{Type: api.JobSuspended, Status: api.ConditionTrue, Reason: "JobSuspended", Message: "Job suspended"}, anow) {
			c.rec.Eventf(job, api.EventTypeNormal, "Suspended", "Job suspended")
		}
	case st.StartTime == nil:
		st.StartTime = &anow
		if c := api.GetJobCondition(&st, api.JobSuspended); c != nil && c.Status == api.ConditionTrue {
			conditions.SetJob(&st, api.JobCondition{Type: api.JobSuspended, Status: api.ConditionFalse, Reason: "JobResumed", Message: "Job resumed"}, anow)
		}
	}

	failReason, failMessage := "", ""
	completions := job.Spec.Completions
	indexed := *job.Spec.CompletionMode == api.IndexedCompletion
	done := indexSet{}
	for _, p := range pods.succeeded {
		if i, ok := podIndex(p, completions); ok {
			done[i] = true
		}
	}
	var complete bool
	switch {
	case indexed:
		complete = len(done) >= int(*completions)
	case completions == nil:
		complete = len(pods.succeeded) > 0 && len(pods.active) == 0
	default:
		complete = len(pods.succeeded) >= int(*completions)
	}
	switch {
	case complete:
	case pods.failJob != "":
		failReason, failMessage = api.JobReasonPodFailurePolicy, pods.failJob
	case len(pods.failed)+pods.restarts > int(*job.Spec.BackoffLimit):
		failReason, failMessage = api.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit"
	case job.Spec.ActiveDeadlineSeconds != nil && st.StartTime != nil && !suspended:
		deadline := st.StartTime.Add(time.Duration(*job.Spec.ActiveDeadlineSeconds) * time.Second)
		if !now.Before(deadline) {
			failReason, failMessage = api.JobReasonDeadlineExceeded, "Job was active longer than specified deadline"
		} else {
			after(deadline.Sub(now))
		}
	}

	var writeErr error
	switch {
	case complete || failReason != "" || suspended:
		// Nothing more runs: Pods still running are deleted (a NonIndexed
		// Job that reached its completions, a failed or suspended Job).
		deleted, _, err := deletePods(ctx, c.reg, &c.exp, pods.active)
		writeErr = err
		if deleted > 0 {
			c.rec.Eventf(job, api.EventTypeNormal, "SuccessfulDelete", "Deleted %d pod(s)", deleted)
		}
		pods.active = slices.DeleteFunc(pods.active, func(*api.Pod) bool { return err == nil })
	default:
		want := c.wantActive(job, &pods, len(done))
		if n := want - len(pods.active); n > 0 {
			if wait := c.backoffLeft(&pods, now); wait > 0 {
				after(wait)
				break
			}
			var indexes []int
			if indexed {
				indexes = pendingIndexes(job, &pods, done, n)
				n = len(indexes)
			}
			created, err := c.createPods(ctx, job, min(n, maxBurst), indexes)
			writeErr = err
			if created > 0 {
				c.rec.Eventf(job, api.EventTypeNormal, "SuccessfulCreate", "Created %d pod(s)", created)
			}
			if err != nil {
				c.rec.Eventf(job, api.EventTypeWarning, "FailedCreate", "Error creating pods: %v", err)
			}
			if n > maxBurst {
				after(time.Millisecond)
			}
		}
	}
	// At most 10 s: a cache that lags longer is the informer's problem.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	err := c.exp.wait(wctx)
	cancel()
	if err != nil {
		return 0, err
	}
	// Count again from the cache, which now has this pass's writes.
	pods = c.classify(job)
	if complete || failReason != "" || suspended {
		pods.active = nil
	}
	st.Active = int32(len(pods.active))
	st.Ready = &pods.ready
	st.Succeeded = int32(len(pods.succeeded))
	st.Failed = int32(len(pods.failed))
	if indexed {
		st.CompletedIndexes = done.String()
	}
	switch {
	case complete:
		st.CompletionTime = &anow
		conditions.SetJob(&st, api.JobCondition{Type: api.JobComplete, Status: api.ConditionTrue}, anow)
		c.rec.Eventf(job, api.EventTypeNormal, "Completed", "Job completed")
		if ttl := job.Spec.TTLSecondsAfterFinished; ttl != nil {
			after(time.Duration(*ttl) * time.Second)
		}
	case failReason != "":
		conditions.SetJob(&st, api.JobCondition{Type: api.JobFailed, Status: api.ConditionTrue, Reason: failReason, Message: failMessage}, anow)
		c.rec.Eventf(job, api.EventTypeWarning, failReason, "%s", failMessage)
		if ttl := job.Spec.TTLSecondsAfterFinished; ttl != nil {
			after(time.Duration(*ttl) * time.Second)
		}
	}
	if !jsonEqual(st, job.Status) {
		next := job.DeepCopyObject().(*api.Job)
		next.Status = st
		if err := c.reg.UpdateStatus(ctx, next, client.UpdateOptions{}); err != nil {
			if api.IsConflict(err) || api.IsNotFound(err) {
				return 0, nil // the newer version re-queues us
			}
			return 0, err
		}
	}
	if writeErr != nil {
		return 0, writeErr
	}
	if len(requeue) == 0 {
		return 0, nil
	}
	return slices.Min(requeue), nil
}

// classify sorts the Pods the Job controls, applying its pod failure
// policy to the failed ones.
func (c *jobController) classify(job *api.Job) jobPods {
	var out jobPods
	for _, po := range c.pods.ByIndex(informer.IndexOwner, string(job.UID)) {
		p := po.(*api.Pod)
		if !api.IsControlledBy(p, job) {
			continue
		}
		switch {
		case p.Status.Phase == api.PodSucceeded:
			out.succeeded = append(out.succeeded, p)
		case p.DeletionTimestamp != nil:
			// Being deleted (by this controller, when suspended or done):
			// neither running for the Job nor a failure of it.
		case p.Status.Phase == api.PodFailed:
			switch action, msg := failurePolicyAction(job, p); action {
			case api.PodFailurePolicyActionIgnore:
				// Not counted: the Pod is replaced, as if it had not run.
			case api.PodFailurePolicyActionFailJob:
				if out.failJob == "" {
					out.failJob = msg
				}
				out.failed = append(out.failed, p)
			default:
				out.failed = append(out.failed, p)
			}
		default:
			out.active = append(out.active, p)
			if api.IsPodReady(p) {
				out.ready++
			}
			if job.Spec.Template.Spec.RestartPolicy == api.RestartPolicyOnFailure {
				for _, cs := range p.Status.ContainerStatuses {
					out.restarts += int(cs.RestartCount)
				}
			}
		}
	}
	return out
}

// failurePolicyAction returns the action of the first rule of the Job's
// pod failure policy that matches the failed Pod p (Count when none does)
// and, for FailJob, Kubernetes' message.
func failurePolicyAction(job *api.Job, p *api.Pod) (api.PodFailurePolicyAction, string) {
	pfp := job.Spec.PodFailurePolicy
	if pfp == nil {
		return api.PodFailurePolicyActionCount, ""
	}
	statuses := append(slices.Clone(p.Status.InitContainerStatuses), p.Status.ContainerStatuses...)
	for i, r := range pfp.Rules {
		ec := r.OnExitCodes
		if ec == nil {
			continue
		}
		for _, cs := range statuses {
			t := cs.State.Terminated
			if t == nil || t.ExitCode == 0 || ec.ContainerName != nil && *ec.ContainerName != cs.Name {
				continue
			}
			if slices.Contains(ec.Values, t.ExitCode) == (ec.Operator == api.PodFailurePolicyOnExitCodesOpIn) {
				return r.Action, fmt.Sprintf("Container %s for pod %s/%s failed with exit code %d matching %s rule at index %d",
					cs.Name, p.Namespace, p.Name, t.ExitCode, r.Action, i)
			}
		}
	}
	return api.PodFailurePolicyActionCount, ""
}

// wantActive is the number of Pods that should run now.
func (c *jobController) wantActive(job *api.Job, pods *jobPods, doneIndexes int) int {
	parallelism := int(*job.Spec.Parallelism)
	switch comp := job.Spec.Completions; {
	case comp == nil:
		// A work queue: once one Pod succeeded, no new ones start.
		if len(pods.succeeded) > 0 {
			return len(pods.active)
		}
		return parallelism
	case *job.Spec.CompletionMode == api.IndexedCompletion:
		return min(parallelism, int(*comp)-doneIndexes)
	default:
		return max(0, min(parallelism, int(*comp)-len(pods.succeeded)))
	}
}

// backoffLeft is how long new Pods must still wait after the failures
// since the last success: the back-off doubles from c.backoff with each,
// up to c.maxBackoff, counted from when the last one finished.
func (c *jobController) backoffLeft(pods *jobPods, now time.Time) time.Duration {
	var lastSuccess time.Time
	for _, p := range pods.succeeded {
		lastSuccess = later(lastSuccess, finishedAt(p))
	}
	var failures int
	var lastFailure time.Time
	for _, p := range pods.failed {
		if f := finishedAt(p); f.After(lastSuccess) {
			failures++
			lastFailure = later(lastFailure, f)
		}
	}
	if failures == 0 {
		return 0
	}
	d := c.backoff
	for i := 1; i < failures && d < c.maxBackoff; i++ {
		d *= 2
	}
	return lastFailure.Add(min(d, c.maxBackoff)).Sub(now)
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// finishedAt is when the terminal Pod p ended: its last container's
// finish, else the transition of its Ready condition, else its creation.
func finishedAt(p *api.Pod) time.Time {
	var t time.Time
	for _, cs := range p.Status.ContainerStatuses {
		if term := cs.State.Terminated; term != nil {
			t = later(t, term.FinishedAt.Time)
		}
	}
	if t.IsZero() {
		if c := api.GetPodCondition(&p.Status, api.PodReady); c != nil {
			t = c.LastTransitionTime.Time
		}
	}
	if t.IsZero() {
		t = p.CreationTimestamp.Time
	}
	return t
}

// indexSet is a set of completion indexes.
type indexSet map[int]bool

// String is Kubernetes' form of completedIndexes: sorted, runs of
// consecutive indexes as "first-last", comma-separated.
func (s indexSet) String() string {
	idx := slices.Sorted(maps.Keys(s))
	var b strings.Builder
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(idx[i]))
		if j > i {
			b.WriteByte('-')
			b.WriteString(strconv.Itoa(idx[j]))
		}
		i = j + 1
	}
	return b.String()
}

// podIndex reads the completion index of an Indexed Job's Pod; ok is
// false for a Pod without a valid one.
func podIndex(p *api.Pod, completions *int32) (int, bool) {
	v, found := p.Annotations[api.JobCompletionIndexAnnotation]
	if !found || completions == nil {
		return 0, false
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 || i >= int(*completions) {
		return 0, false
	}
	return i, true
}

// pendingIndexes returns up to n of the lowest indexes that have neither
// succeeded nor an active Pod.
func pendingIndexes(job *api.Job, pods *jobPods, done indexSet, n int) []int {
	running := indexSet{}
	for _, p := range pods.active {
		if i, ok := podIndex(p, job.Spec.Completions); ok {
			running[i] = true
		}
	}
	var out []int
	for i := 0; i < int(*job.Spec.Completions) && len(out) < n; i++ {
		if !done[i] && !running[i] {
			out = append(out, i)
		}
	}
	return out
}

// expire deletes a finished Job once its ttlSecondsAfterFinished has
// passed (its Pods go with it, by the garbage collector), or returns how
// long is left.
func (c *jobController) expire(ctx context.Context, job *api.Job, now time.Time) (time.Duration, error) {
	ttl := job.Spec.TTLSecondsAfterFinished
	if ttl == nil {
		return 0, nil
	}
	var finished time.Time
	for _, t := range []api.JobConditionType{api.JobComplete, api.JobFailed} {
		if c := api.GetJobCondition(&job.Status, t); c != nil && c.Status == api.ConditionTrue {
			finished = c.LastTransitionTime.Time
		}
	}
	if left := finished.Add(time.Duration(*ttl) * time.Second).Sub(now); left > 0 {
		return left, nil
	}
	var out api.Job
	err := c.reg.Delete(ctx, job.Namespace, job.Name, &out, client.DeleteOptions{
		Propagation: api.DeletePropagationBackground, ResourceVersion: job.ResourceVersion})
	if err != nil && !api.IsNotFound(err) && !api.IsConflict(err) {
		return 0, err
	}
	return 0, nil
}

// createPods creates n Pods of job (for the given indexes of an Indexed
// Job) with the ReplicaSet controller's slow start: one create, then two
// more for each that succeeds, none after the first failure. It returns
// how many it created and the first error.
func (c *jobController) createPods(ctx context.Context, job *api.Job, n int, indexes []int) (int, error) {
	type result struct {
		pod *api.Pod
		err error
	}
	results := make(chan result, maxInFlight)
	var names []string
	defer func() { c.exp.expect(names, true) }()
	var firstErr error
	created, started, inFlight, credit := 0, 0, 0, 1
	for {
		for credit > 0 && inFlight < maxInFlight && started < n && firstErr == nil {
			index := -1
			if indexes != nil {
				index = indexes[started]
			}
			credit--
			inFlight++
			started++
			go func() {
				p := jobPodFromTemplate(job, index)
				results <- result{p, c.reg.Create(ctx, p, client.CreateOptions{})}
			}()
		}
		if inFlight == 0 {
			return created, firstErr
		}
		r := <-results
		inFlight--
		if r.err != nil {
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		created++
		credit += 2
		names = append(names, api.Key(r.pod.Namespace, r.pod.Name))
	}
}

// jobPodFromTemplate is a new Pod of job; index >= 0 gives it that
// completion index (annotation, label and JOB_COMPLETION_INDEX in every
// container) and a name "<job>-<index>-<random>", as Kubernetes does.
func jobPodFromTemplate(job *api.Job, index int) *api.Pod {
	t := api.Clone(job.Spec.Template)
	p := &api.Pod{
		ObjectMeta: api.ObjectMeta{
			GenerateName:    job.Name + "-",
			Namespace:       job.Namespace,
			Labels:          maps.Clone(t.Labels),
			Annotations:     maps.Clone(t.Annotations),
			OwnerReferences: []api.OwnerReference{controllerutil.NewControllerRef(job)},
		},
		Spec: t.Spec,
	}
	if index < 0 {
		return p
	}
	v := strconv.Itoa(index)
	p.GenerateName = job.Name + "-" + v + "-"
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	if p.Labels == nil {
		p.Labels = map[string]string{}
	}
	p.Annotations[api.JobCompletionIndexAnnotation] = v
	p.Labels[api.JobCompletionIndexAnnotation] = v
	env := api.EnvVar{Name: api.JobCompletionIndexEnv, Value: v}
	for i := range p.Spec.InitContainers {
		p.Spec.InitContainers[i].Env = append(p.Spec.InitContainers[i].Env, env)
	}
	for i := range p.Spec.Containers {
		p.Spec.Containers[i].Env = append(p.Spec.Containers[i].Env, env)
	}
	return p
}
