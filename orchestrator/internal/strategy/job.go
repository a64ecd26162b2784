package strategy

import (
	"fmt"
	"maps"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// jobStrategy: the status is the Job controller's; the selector is
// generated from the Job's uid unless manualSelector is true, as
// Kubernetes' Job strategy does, and it, the template, completions and
// completionMode are immutable.
type jobStrategy struct{ deletedWhenUnheld }

// Limits of Indexed Jobs and pod failure policies, as Kubernetes'.
const (
	maxIndexedJobCompletions  = 100000
	maxIndexedJobParallelism  = 100000
	maxPodFailurePolicyRules  = 20
	maxPodFailurePolicyValues = 255
)

func (jobStrategy) NamespaceScoped() bool { return true }

// PrepareForCreate clears the status and, unless manualSelector is true,
// generates the selector: the template gets the labels controller-uid and
// job-name (both the batch.kubernetes.io/ and the legacy keys) where it
// does not have them, and the selector matches
// batch.kubernetes.io/controller-uid. The registry has set the uid.
func (jobStrategy) PrepareForCreate(obj api.Object) {
	j := obj.(*api.Job)
	j.Status = api.JobStatus{}
	if isTrue(j.Spec.ManualSelector) {
		return
	}
	labels := maps.Clone(j.Spec.Template.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	for k, v := range map[string]string{
		api.LegacyJobNameLabel: j.Name, api.JobNameLabel: j.Name,
		api.LegacyJobControllerUIDLabel: string(j.UID), api.JobControllerUIDLabel: string(j.UID),
	} {
		// A label the user set is kept: validation refuses it if it
		// does not match.
		if _, ok := labels[k]; !ok {
			labels[k] = v
		}
	}
	j.Spec.Template.Labels = labels
	if j.Spec.Selector == nil {
		j.Spec.Selector = &api.LabelSelector{}
	}
	if j.Spec.Selector.MatchLabels == nil {
		j.Spec.Selector.MatchLabels = map[string]string{}
	}
	if _, ok := j.Spec.Selector.MatchLabels[api.JobControllerUIDLabel]; !ok {
		j.Spec.Selector.MatchLabels[api.JobControllerUIDLabel] = string(j.UID)
	}
}

func (jobStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*api.Job).Status = api.Clone(old.(*api.Job).Status)
}

// Default sets, as Kubernetes: completions and parallelism 1 when both
// are unset, else parallelism 1 when unset; backoffLimit 6;
// completionMode NonIndexed; suspend and manualSelector false; and the
// Pod template's defaults.
func (jobStrategy) Default(obj api.Object) {
	sp := &obj.(*api.Job).Spec
	if sp.Completions == nil && sp.Parallelism == nil {
		sp.Completions = api.Ptr(int32(1))
	}
	if sp.Parallelism == nil {
		sp.Parallelism = api.Ptr(int32(1))
	}
	if sp.BackoffLimit == nil {
		sp.BackoffLimit = api.Ptr(api.DefaultJobBackoffLimit)
	}
	if sp.CompletionMode == nil {
		sp.CompletionMode = api.Ptr(api.NonIndexedCompletion)
	}
	if sp.Suspend == nil {
		sp.Suspend = api.Ptr(false)
	}
	if sp.ManualSelector == nil {
		sp.ManualSelector = api.Ptr(false)
	}
	defaultPodSpec(&sp.Template.Spec)
}

func (jobStrategy) Validate(obj api.Object) api.FieldErrorList {
	j := obj.(*api.Job)
	errs := ValidateObjectMeta(&j.ObjectMeta, true, api.IsDNS1123Subdomain, api.NewPath("metadata"))
	errs = append(errs, validateJobSpec(&j.Spec, api.NewPath("spec"))...)
	return append(errs, validateGeneratedSelector(j)...)
}

func (s jobStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	errs := append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
	n, o := &obj.(*api.Job).Spec, &old.(*api.Job).Spec
	p := api.NewPath("spec")
	immutable := func(changed bool, path api.Path, v any) {
		if changed {
			errs = append(errs, api.Invalid(path, v, "field is immutable"))
		}
	}
	immutable(!selectorsEqual(o.Selector, n.Selector), p.Child("selector"), n.Selector)
	immutable(!semanticEqual(o.Template, n.Template), p.Child("template"), "")
	immutable(!semanticEqual(o.Completions, n.Completions), p.Child("completions"), n.Completions)
	immutable(!semanticEqual(o.CompletionMode, n.CompletionMode), p.Child("completionMode"), n.CompletionMode)
	immutable(!semanticEqual(o.PodFailurePolicy, n.PodFailurePolicy), p.Child("podFailurePolicy"), "")
	immutable(!semanticEqual(o.ManualSelector, n.ManualSelector), p.Child("manualSelector"), n.ManualSelector)
	return errs
}

// Replicas implements Replicated: spec.parallelism, the most Pods the Job
// runs at once.
func (jobStrategy) Replicas(obj api.Object) (int64, api.Path, bool) {
	n := obj.(*api.Job).Spec.Parallelism
	if n == nil {
		return 0, api.Path{}, false
	}
	return int64(*n), api.NewPath("spec", "parallelism"), true
}

func (jobStrategy) BumpsGeneration(obj, old api.Object) bool {
	return !semanticEqual(obj.(*api.Job).Spec, old.(*api.Job).Spec)
}

func (jobStrategy) Status() StatusStrategy { return jobStatusStrategy{} }

type jobStatusStrategy struct{}

func (jobStatusStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*api.Job).Spec = api.Clone(old.(*api.Job).Spec)
}

func (jobStatusStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	st, p := &obj.(*api.Job).Status, api.NewPath("status")
	var errs api.FieldErrorList
	errs = append(errs, validateNonNegative(int64(st.Active), p.Child("active"))...)
	errs = append(errs, validateNonNegative(int64(st.Succeeded), p.Child("succeeded"))...)
	errs = append(errs, validateNonNegative(int64(st.Failed), p.Child("failed"))...)
	if st.Ready != nil {
		errs = append(errs, validateNonNegative(int64(*st.Ready), p.Child("ready"))...)
	}
	return errs
}

func validateJobSpec(spec *api.JobSpec, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	nonNegative := func(v *int32, name string) {
		if v != nil {
			errs = append(errs, validateNonNegative(int64(*v), p.Child(name))...)
		}
	}
	nonNegative(spec.Parallelism, "parallelism")
	nonNegative(spec.Completions, "completions")
	nonNegative(spec.BackoffLimit, "backoffLimit")
	nonNegative(spec.TTLSecondsAfterFinished, "ttlSecondsAfterFinished")
	if spec.ActiveDeadlineSeconds != nil {
		errs = append(errs, validateNonNegative(*spec.ActiveDeadlineSeconds, p.Child("activeDeadlineSeconds"))...)
	}
	if mode := spec.CompletionMode; mode != nil {
		switch *mode {
		case api.NonIndexedCompletion:
		case api.IndexedCompletion:
			switch {
			case spec.Completions == nil:
				errs = append(errs, api.Required(p.Child("completions"), "when completion mode is Indexed"))
			case *spec.Completions > maxIndexedJobCompletions:
				errs = append(errs, api.Invalid(p.Child("completions"), *spec.Completions,
					"must be less than or equal to 100000 when completion mode is Indexed"))
			}
			if spec.Parallelism != nil && *spec.Parallelism > maxIndexedJobParallelism {
				errs = append(errs, api.Invalid(p.Child("parallelism"), *spec.Parallelism,
					"must be less than or equal to 100000 when completion mode is Indexed"))
			}
		default:
			errs = append(errs, api.NotSupported(p.Child("completionMode"), *mode, api.NonIndexedCompletion, api.IndexedCompletion))
		}
	}
	errs = append(errs, validateSelectorAndPodTemplate(spec.Selector, &spec.Template, p, "job")...)
	rp := p.Child("template", "spec", "restartPolicy")
	switch policy := spec.Template.Spec.RestartPolicy; {
	case policy != api.RestartPolicyOnFailure && policy != api.RestartPolicyNever:
		errs = append(errs, api.NotSupported(rp, policy, api.RestartPolicyOnFailure, api.RestartPolicyNever))
	case spec.PodFailurePolicy != nil && policy != api.RestartPolicyNever:
		errs = append(errs, api.Invalid(rp, policy, `only "Never" is supported when podFailurePolicy is specified`))
	}
	if spec.PodFailurePolicy != nil {
		errs = append(errs, validatePodFailurePolicy(spec, p.Child("podFailurePolicy"))...)
	}
	return errs
}

func validatePodFailurePolicy(spec *api.JobSpec, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	rules := spec.PodFailurePolicy.Rules
	rulesPath := p.Child("rules")
	if len(rules) > maxPodFailurePolicyRules {
		errs = append(errs, api.Invalid(rulesPath, len(rules), fmt.Sprintf("must have at most %d items", maxPodFailurePolicyRules)))
	}
	containers := map[string]bool{}
	for _, c := range spec.Template.Spec.Containers {
		containers[c.Name] = true
	}
	for _, c := range spec.Template.Spec.InitContainers {
		containers[c.Name] = true
	}
	for i := range rules {
		r := &rules[i]
		rp := rulesPath.Index(i)
		switch r.Action {
		case api.PodFailurePolicyActionFailJob, api.PodFailurePolicyActionIgnore, api.PodFailurePolicyActionCount:
		case api.PodFailurePolicyActionFailIndex:
			errs = append(errs, notSupported(rp.Child("action")))
		default:
			errs = append(errs, api.NotSupported(rp.Child("action"), r.Action, api.PodFailurePolicyActionCount,
				api.PodFailurePolicyActionFailIndex, api.PodFailurePolicyActionFailJob, api.PodFailurePolicyActionIgnore))
		}
		if (r.OnExitCodes == nil) == (len(r.OnPodConditions) == 0) {
			errs = append(errs, api.Invalid(rp, "", "specifying one of OnExitCodes and OnPodConditions is required"))
		}
		if len(r.OnPodConditions) > 0 {
			errs = append(errs, notSupported(rp.Child("onPodConditions")))
		}
		if ec := r.OnExitCodes; ec != nil {
			errs = append(errs, validateOnExitCodes(ec, containers, rp.Child("onExitCodes"))...)
		}
	}
	return errs
}

func validateOnExitCodes(ec *api.PodFailurePolicyOnExitCodesRequirement, containers map[string]bool, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	if ec.ContainerName != nil && !containers[*ec.ContainerName] {
		errs = append(errs, api.Invalid(p.Child("containerName"), *ec.ContainerName,
			"must be one of the container or initContainer names in the pod template"))
	}
	switch ec.Operator {
	case api.PodFailurePolicyOnExitCodesOpIn, api.PodFailurePolicyOnExitCodesOpNotIn:
	default:
		errs = append(errs, api.NotSupported(p.Child("operator"), ec.Operator,
			api.PodFailurePolicyOnExitCodesOpIn, api.PodFailurePolicyOnExitCodesOpNotIn))
	}
	vp := p.Child("values")
	switch {
	case len(ec.Values) == 0:
		errs = append(errs, api.Invalid(vp, ec.Values, "at least one value is required"))
	case len(ec.Values) > maxPodFailurePolicyValues:
		errs = append(errs, api.Invalid(vp, len(ec.Values), fmt.Sprintf("must have at most %d items", maxPodFailurePolicyValues)))
	}
	for i, v := range ec.Values {
		switch {
		case ec.Operator == api.PodFailurePolicyOnExitCodesOpIn && v == 0:
			errs = append(errs, api.Invalid(vp.Index(i), v, "must not be 0 for the In operator"))
		case i > 0 && v == ec.Values[i-1]:
			errs = append(errs, api.Duplicate(vp.Index(i), v))
		case i > 0 && v < ec.Values[i-1]:
			errs = append(errs, api.Invalid(vp.Index(i), v, "must be ordered"))
		}
	}
	return errs
}

// validateGeneratedSelector checks, unless manualSelector is true, that
// the selector is the one PrepareForCreate generated: it must select the
// Job's uid, or the Job could take another's Pods.
func validateGeneratedSelector(j *api.Job) api.FieldErrorList {
	if isTrue(j.Spec.ManualSelector) || j.Spec.Selector == nil {
		return nil
	}
	if j.UID == "" {
		return api.FieldErrorList{api.Required(api.NewPath("metadata", "uid"), "")}
	}
	sel, err := api.LabelSelectorAsSelector(j.Spec.Selector)
	if err != nil {
		return nil // reported by the selector's validation
	}
	if !sel.Matches(map[string]string{api.JobControllerUIDLabel: string(j.UID)}) {
		return api.FieldErrorList{api.Invalid(api.NewPath("spec", "selector"), j.Spec.Selector, "`selector` not auto-generated")}
	}
	return nil
}
