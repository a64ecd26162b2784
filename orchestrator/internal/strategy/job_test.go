package strategy

import (
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// newTestJob returns a valid Job as the registry hands it to the
// strategy: named, with a uid, not yet prepared or defaulted.
func newTestJob() *api.Job {
	return &api.Job{
		ObjectMeta: api.ObjectMeta{Name: "pi", Namespace: "default", UID: "1234"},
		Spec: api.JobSpec{Template: api.PodTemplateSpec{Spec: api.PodSpec{
			RestartPolicy: api.RestartPolicyNever,
			Containers:    []api.Container{{Name: "pi", Image: "perl:5"}},
		}}},
	}
}

func createJob(j *api.Job) {
	jobStrategy{}.PrepareForCreate(j)
	jobStrategy{}.Default(j)
}

// Completions and parallelism default as Kubernetes: both 1 when both are
// unset; only parallelism otherwise (a work queue keeps completions nil).
func TestJobDefaults(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		completions, parallelism *int32
		wantCompletions, wantPar *int32
	}{
		{"neither", nil, nil, api.Ptr(int32(1)), api.Ptr(int32(1))},
		{"completions only", api.Ptr(int32(5)), nil, api.Ptr(int32(5)), api.Ptr(int32(1))},
		{"parallelism only", nil, api.Ptr(int32(3)), nil, api.Ptr(int32(3))},
	} {
		j := newTestJob()
		j.Spec.Completions, j.Spec.Parallelism = tc.completions, tc.parallelism
		createJob(j)
		if !semanticEqual(j.Spec.Completions, tc.wantCompletions) || !semanticEqual(j.Spec.Parallelism, tc.wantPar) ||
			*j.Spec.BackoffLimit != 6 || *j.Spec.CompletionMode != api.NonIndexedCompletion || *j.Spec.Suspend || *j.Spec.ManualSelector {
			t.Errorf("%s: spec %+v", tc.name, j.Spec)
		}
		if errs := (jobStrategy{}).Validate(j); len(errs) > 0 {
			t.Errorf("%s: %v", tc.name, errs)
		}
	}
}

// The generated selector matches the uid, and the template gets the four
// labels Kubernetes puts on a Job's Pods; a manual selector is kept.
func TestJobGeneratedSelector(t *testing.T) {
	j := newTestJob()
	createJob(j)
	if !semanticEqual(j.Spec.Selector, &api.LabelSelector{MatchLabels: map[string]string{api.JobControllerUIDLabel: "1234"}}) {
		t.Fatalf("selector %+v", j.Spec.Selector)
	}
	want := map[string]string{api.JobControllerUIDLabel: "1234", api.LegacyJobControllerUIDLabel: "1234", api.JobNameLabel: "pi", api.LegacyJobNameLabel: "pi"}
	if !semanticEqual(j.Spec.Template.Labels, want) {
		t.Fatalf("template labels %v", j.Spec.Template.Labels)
	}

	m := newTestJob()
	m.Spec.ManualSelector = api.Ptr(true)
	m.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "pi"}}
	m.Spec.Template.Labels = map[string]string{"app": "pi"}
	createJob(m)
	if errs := (jobStrategy{}).Validate(m); len(errs) > 0 || len(m.Spec.Selector.MatchLabels) != 1 || len(m.Spec.Template.Labels) != 1 {
		t.Fatalf("manual selector: %v, selector %v, labels %v", errs, m.Spec.Selector, m.Spec.Template.Labels)
	}
}

// The selector, template, completions, completionMode and pod failure
// policy are immutable; parallelism and suspend are not.
func TestJobValidateUpdate(t *testing.T) {
	old := newTestJob()
	createJob(old)
	ok := api.Clone(*old)
	ok.Spec.Parallelism, ok.Spec.Suspend = api.Ptr(int32(4)), api.Ptr(true)
	if errs := (jobStrategy{}).ValidateUpdate(&ok, old); len(errs) > 0 {
		t.Fatalf("parallelism and suspend: %v", errs)
	}
	bad := api.Clone(*old)
	bad.Spec.Completions = api.Ptr(int32(9))
	bad.Spec.CompletionMode = api.Ptr(api.IndexedCompletion)
	bad.Spec.Template.Spec.Containers[0].Image = "perl:6"
	errs := (jobStrategy{}).ValidateUpdate(&bad, old).Error()
	for _, w := range []string{"spec.completions: Invalid value: 9: field is immutable", "spec.completionMode: Invalid value: \"Indexed\": field is immutable",
		"spec.template: Invalid value", "field is immutable"} {
		if !strings.Contains(errs, w) {
			t.Errorf("%s\nlacks %q", errs, w)
		}
	}
}

// A status write keeps the spec, and negative counts are refused.
func TestJobStatusStrategy(t *testing.T) {
	old := newTestJob()
	createJob(old)
	next := api.Clone(*old)
	next.Spec.Parallelism = api.Ptr(int32(7))
	next.Status.Succeeded = -1
	st := jobStrategy{}.Status()
	st.PrepareForUpdate(&next, old)
	if *next.Spec.Parallelism != 1 {
		t.Fatalf("status write changed parallelism to %d", *next.Spec.Parallelism)
	}
	if errs := st.ValidateUpdate(&next, old); len(errs) != 1 || errs[0].Field != "status.succeeded" {
		t.Fatalf("errors %v", errs)
	}
}
