package api

// This file holds the batch/v1 kinds (Job).

// Job runs Pods until a number of them succeed, as Kubernetes' batch/v1
// Job.
type Job struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	Spec       JobSpec   `json:"spec,omitzero"`
	Status     JobStatus `json:"status,omitzero"`
}

// JobList is a list of Jobs.
type JobList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []Job `json:"items"`
}

// CompletionMode says how the Pods of a Job are told apart.
type CompletionMode string

// Job completion modes.
const (
	// NonIndexedCompletion: the Job is complete when Completions Pods
	// have succeeded; the Pods are interchangeable.
	NonIndexedCompletion CompletionMode = "NonIndexed"
	// IndexedCompletion: each Pod gets an index from 0 to Completions-1
	// (annotation and label JobCompletionIndexAnnotation, variable
	// JobCompletionIndexEnv); the Job is complete when one Pod of every
	// index has succeeded.
	IndexedCompletion CompletionMode = "Indexed"
)

// JobSpec is the desired state of a Job.
type JobSpec struct {
	// Parallelism is the most Pods running at once; default 1. 0 runs
	// none (a paused Job, as Kubernetes allows).
	Parallelism *int32 `json:"parallelism,omitempty"`
	// Completions is the number of Pods that must succeed. Unset (a work
	// queue): the Job is complete when any Pod has succeeded and none
	// runs. Defaults to 1 when Parallelism is unset too. Required for
	// Indexed Jobs.
	Completions *int32 `json:"completions,omitempty"`
	// ActiveDeadlineSeconds bounds the time from the Job's start; when it
	// passes, the Job fails (reason DeadlineExceeded) and its running
	// Pods are deleted.
	ActiveDeadlineSeconds *int64 `json:"activeDeadlineSeconds,omitempty"`
	// PodFailurePolicy decides, from a failed Pod's exit codes, whether
	// the failure fails the Job, is ignored, or counts towards
	// BackoffLimit. It requires the template's restartPolicy Never.
	PodFailurePolicy *PodFailurePolicy `json:"podFailurePolicy,omitempty"`
	// BackoffLimit is the number of failures (failed Pods, and container
	// restarts under restartPolicy OnFailure) tolerated before the Job
	// fails with reason BackoffLimitExceeded; default 6.
	BackoffLimit *int32 `json:"backoffLimit,omitempty"`
	// Selector selects the Job's Pods. Unless ManualSelector is true the
	// server generates it (batch.kubernetes.io/controller-uid=<uid>) and
	// labels the template to match; it is immutable.
	Selector *LabelSelector `json:"selector,omitempty"`
	// ManualSelector, when true, takes Selector as written.
	ManualSelector *bool `json:"manualSelector,omitempty"`
	// Template is the Pod to run; its restartPolicy must be OnFailure or
	// Never.
	Template PodTemplateSpec `json:"template"`
	// TTLSecondsAfterFinished: this long after the Job completes or fails
	// it is deleted, and its Pods with it (by the garbage collector).
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`
	// CompletionMode defaults to NonIndexed.
	CompletionMode *CompletionMode `json:"completionMode,omitempty"`
	// Suspend, when true, deletes the Job's running Pods and creates no
	// more until it is false again; default false.
	Suspend *bool `json:"suspend,omitempty"`
}

// PodFailurePolicyAction is what a matching rule does with a failed Pod.
type PodFailurePolicyAction string

// Pod failure policy actions.
const (
	// PodFailurePolicyActionFailJob fails the Job (reason
	// PodFailurePolicy) and deletes its running Pods.
	PodFailurePolicyActionFailJob PodFailurePolicyAction = "FailJob"
	// PodFailurePolicyActionFailIndex fails the index of an Indexed Job
	// (not supported yet: refused by validation).
	PodFailurePolicyActionFailIndex PodFailurePolicyAction = "FailIndex"
	// PodFailurePolicyActionIgnore does not count the failure towards
	// BackoffLimit; the Pod is replaced.
	PodFailurePolicyActionIgnore PodFailurePolicyAction = "Ignore"
	// PodFailurePolicyActionCount counts the failure, as without a rule.
	PodFailurePolicyActionCount PodFailurePolicyAction = "Count"
)

// PodFailurePolicyOnExitCodesOperator relates exit codes to a rule's
// values.
type PodFailurePolicyOnExitCodesOperator string

// Exit code operators.
const (
	PodFailurePolicyOnExitCodesOpIn    PodFailurePolicyOnExitCodesOperator = "In"
	PodFailurePolicyOnExitCodesOpNotIn PodFailurePolicyOnExitCodesOperator = "NotIn"
)

// PodFailurePolicy is an ordered list of rules; the first that matches a
// failed Pod decides.
type PodFailurePolicy struct {
	Rules []PodFailurePolicyRule `json:"rules"`
}

// PodFailurePolicyRule matches a failed Pod by its containers' exit codes
// (OnExitCodes) or its conditions (OnPodConditions, not supported yet).
type PodFailurePolicyRule struct {
	Action          PodFailurePolicyAction                   `json:"action"`
	OnExitCodes     *PodFailurePolicyOnExitCodesRequirement  `json:"onExitCodes,omitempty"`
	OnPodConditions []PodFailurePolicyOnPodConditionsPattern `json:"onPodConditions,omitempty"`
}

// PodFailurePolicyOnExitCodesRequirement matches when a container (the
// one named ContainerName, or any) terminated with a non-zero exit code
// In (or NotIn) Values.
type PodFailurePolicyOnExitCodesRequirement struct {
	ContainerName *string                             `json:"containerName,omitempty"`
	Operator      PodFailurePolicyOnExitCodesOperator `json:"operator"`
	Values        []int32                             `json:"values"`
}

// PodFailurePolicyOnPodConditionsPattern matches a Pod condition.
type PodFailurePolicyOnPodConditionsPattern struct {
	Type   PodConditionType `json:"type"`
	Status ConditionStatus  `json:"status,omitempty"`
}

// JobStatus is the observed state of a Job, written by the Job
// controller.
type JobStatus struct {
	Conditions []JobCondition `json:"conditions,omitempty" patchMergeKey:"type" patchStrategy:"merge"`
	// StartTime is when the controller started the Job (or resumed it).
	StartTime *Time `json:"startTime,omitempty"`
	// CompletionTime is set when the Job completes (not when it fails).
	CompletionTime *Time `json:"completionTime,omitempty"`
	// Active counts the Pods neither terminal nor being deleted.
	Active int32 `json:"active,omitempty"`
	// Succeeded and Failed count the Pods in phase Succeeded and Failed.
	Succeeded int32 `json:"succeeded,omitempty"`
	Failed    int32 `json:"failed,omitempty"`
	// CompletedIndexes lists the succeeded indexes of an Indexed Job in
	// Kubernetes' form, e.g. "1,3-5,7".
	CompletedIndexes string `json:"completedIndexes,omitempty"`
	// Ready counts the active Pods that are Ready.
	Ready *int32 `json:"ready,omitempty"`
}

// JobConditionType names a Job condition.
type JobConditionType string

// Job condition types.
const (
	JobSuspended JobConditionType = "Suspended"
	JobComplete  JobConditionType = "Complete"
	JobFailed    JobConditionType = "Failed"
)

// Reasons of the Failed condition.
const (
	JobReasonBackoffLimitExceeded = "BackoffLimitExceeded"
	JobReasonDeadlineExceeded     = "DeadlineExceeded"
	JobReasonPodFailurePolicy     = "PodFailurePolicy"
)

// JobCondition is one aspect of a Job's state.
type JobCondition struct {
	Type               JobConditionType `json:"type"`
	Status             ConditionStatus  `json:"status"`
	LastProbeTime      Time             `json:"lastProbeTime,omitzero"`
	LastTransitionTime Time             `json:"lastTransitionTime,omitzero"`
	Reason             string           `json:"reason,omitempty"`
	Message            string           `json:"message,omitempty"`
}
