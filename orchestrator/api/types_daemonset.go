package api

// This file holds the apps/v1 DaemonSet.

// DaemonSet runs one Pod of its template on every Node that the template's
// nodeSelector, node affinity and tolerations admit.
type DaemonSet struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	Spec       DaemonSetSpec   `json:"spec,omitzero"`
	Status     DaemonSetStatus `json:"status,omitzero"`
}

// DaemonSetList is a list of DaemonSets.
type DaemonSetList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []DaemonSet `json:"items"`
}

// DaemonSetSpec is the desired state of a DaemonSet.
type DaemonSetSpec struct {
	// Selector is required, immutable, and must match Template's labels.
	Selector *LabelSelector `json:"selector"`
	// Template is the Pod to run on each Node; its restartPolicy must be
	// Always.
	Template PodTemplateSpec `json:"template"`
	// UpdateStrategy defaults to RollingUpdate with maxUnavailable 1 and
	// maxSurge 0.
	UpdateStrategy DaemonSetUpdateStrategy `json:"updateStrategy,omitzero"`
	// MinReadySeconds is how long a Pod must be ready to count as available.
	MinReadySeconds int32 `json:"minReadySeconds,omitempty"`
	// RevisionHistoryLimit is the number of old revisions kept; default 10.
	// Flotilla keeps no ControllerRevisions yet, so it only validates.
	RevisionHistoryLimit *int32 `json:"revisionHistoryLimit,omitempty"`
}

// DaemonSetUpdateStrategyType is RollingUpdate or OnDelete.
type DaemonSetUpdateStrategyType string

// DaemonSet update strategy types.
const (
	// RollingUpdateDaemonSetStrategyType replaces old Pods node by node.
	RollingUpdateDaemonSetStrategyType DaemonSetUpdateStrategyType = "RollingUpdate"
	// OnDeleteDaemonSetStrategyType replaces a Pod of an old template only
	// once it has been deleted.
	OnDeleteDaemonSetStrategyType DaemonSetUpdateStrategyType = "OnDelete"
)

// DaemonSetUpdateStrategy says how Pods of an old template are replaced.
type DaemonSetUpdateStrategy struct {
	Type DaemonSetUpdateStrategyType `json:"type,omitempty"`
	// RollingUpdate is set only for type RollingUpdate.
	RollingUpdate *RollingUpdateDaemonSet `json:"rollingUpdate,omitempty"`
}

// RollingUpdateDaemonSet bounds a rolling update. Values are counts or
// percentages of the Nodes that should run the Pod; exactly one of them
// must be non-zero.
type RollingUpdateDaemonSet struct {
	// MaxUnavailable (rounded up) Nodes may be without an available Pod
	// during the update; default 1.
	MaxUnavailable *IntOrString `json:"maxUnavailable,omitempty"`
	// MaxSurge (rounded up) Nodes may run an old and a new Pod at once
	// during the update; default 0.
	MaxSurge *IntOrString `json:"maxSurge,omitempty"`
}

// DaemonSetStatus is the observed state of a DaemonSet, counted as
// Kubernetes counts it.
type DaemonSetStatus struct {
	// CurrentNumberScheduled is the number of Nodes that run at least one
	// Pod of the set and should.
	CurrentNumberScheduled int32 `json:"currentNumberScheduled"`
	// NumberMisscheduled is the number of Nodes that run a Pod of the set
	// and should not.
	NumberMisscheduled int32 `json:"numberMisscheduled"`
	// DesiredNumberScheduled is the number of Nodes that should run a Pod.
	DesiredNumberScheduled int32 `json:"desiredNumberScheduled"`
	// NumberReady is the number of Nodes that should run the Pod and run
	// it ready.
	NumberReady int32 `json:"numberReady"`
	// ObservedGeneration is the generation the controller last acted on.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// UpdatedNumberScheduled is the number of Nodes running a Pod of the
	// current template.
	UpdatedNumberScheduled int32 `json:"updatedNumberScheduled,omitempty"`
	// NumberAvailable is the number of Nodes that should run the Pod and
	// run it available (ready for minReadySeconds).
	NumberAvailable int32 `json:"numberAvailable,omitempty"`
	// NumberUnavailable is DesiredNumberScheduled less NumberAvailable.
	NumberUnavailable int32 `json:"numberUnavailable,omitempty"`
	// CollisionCount disambiguates template hashes that collide.
	CollisionCount *int32               `json:"collisionCount,omitempty"`
	Conditions     []DaemonSetCondition `json:"conditions,omitempty" patchMergeKey:"type" patchStrategy:"merge"`
}

// DaemonSetConditionType names a DaemonSet condition. Kubernetes defines
// none; the type exists for manifests that carry conditions.
type DaemonSetConditionType string

// DaemonSetCondition is one aspect of a DaemonSet's state.
type DaemonSetCondition struct {
	Type               DaemonSetConditionType `json:"type"`
	Status             ConditionStatus        `json:"status"`
	LastTransitionTime Time                   `json:"lastTransitionTime,omitzero"`
	Reason             string                 `json:"reason,omitempty"`
	Message            string                 `json:"message,omitempty"`
}
