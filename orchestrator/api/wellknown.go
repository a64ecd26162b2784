package api

// Annotations and labels that Flotilla's controllers and agents put on
// objects, as in Kubernetes: programs built on Flotilla read them (a
// ReplicaSet's revision, a Node's hostname), so their names are part of
// the API.
const (
	// PodTemplateHashLabel is the label a Deployment puts on its
	// ReplicaSets and their Pods; its value is the hash of the Pod template,
	// computed by the Deployment controller.
	PodTemplateHashLabel = "pod-template-hash"
	// RevisionAnnotation holds a Deployment's and its ReplicaSets'
	// rollout revision number.
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// DesiredReplicasAnnotation holds, on a Deployment's ReplicaSet, the
	// Deployment's spec.replicas when the ReplicaSet was last scaled.
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	// MaxReplicasAnnotation holds, on a Deployment's ReplicaSet, the
	// Deployment's spec.replicas plus maxSurge when the ReplicaSet was
	// last scaled: the base of proportional scaling.
	MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
	// LabelHostname is the node label with the node's name.
	LabelHostname = "kubernetes.io/hostname"
	// LabelTopologyZone is the node label with the node's zone.
	LabelTopologyZone = "topology.kubernetes.io/zone"
	// JobControllerUIDLabel and LegacyJobControllerUIDLabel hold, on a
	// Job's Pod template and Pods, the Job's uid; the generated selector
	// of a Job selects the first.
	JobControllerUIDLabel       = "batch.kubernetes.io/controller-uid"
	LegacyJobControllerUIDLabel = "controller-uid"
	// JobNameLabel and LegacyJobNameLabel hold, on a Job's Pod template
	// and Pods, the Job's name.
	JobNameLabel       = "batch.kubernetes.io/job-name"
	LegacyJobNameLabel = "job-name"
	// JobCompletionIndexAnnotation holds, as an annotation and a label on
	// the Pods of an Indexed Job, the Pod's completion index.
	JobCompletionIndexAnnotation = "batch.kubernetes.io/job-completion-index"
	// JobCompletionIndexEnv is the environment variable of every container
	// of an Indexed Job's Pod that holds the Pod's completion index.
	JobCompletionIndexEnv = "JOB_COMPLETION_INDEX"
	// ControllerRevisionHashLabel is the label a DaemonSet puts on its
	// Pods; its value is the hash of the Pod template they were made
	// from, which tells a rolling update the Pods still to replace.
	ControllerRevisionHashLabel = "controller-revision-hash"
)

// Taints Kubernetes puts on Nodes for their conditions, which DaemonSet
// Pods tolerate.
const (
	TaintNodeNotReady           = "node.kubernetes.io/not-ready"
	TaintNodeUnreachable        = "node.kubernetes.io/unreachable"
	TaintNodeUnschedulable      = "node.kubernetes.io/unschedulable"
	TaintNodeDiskPressure       = "node.kubernetes.io/disk-pressure"
	TaintNodeMemoryPressure     = "node.kubernetes.io/memory-pressure"
	TaintNodePIDPressure        = "node.kubernetes.io/pid-pressure"
	TaintNodeNetworkUnavailable = "node.kubernetes.io/network-unavailable"
)
