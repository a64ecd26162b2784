// Type aliases over package api, so that importing orchestrator is enough
// for everyday work. Keep in step with package api when kinds are added.

package orchestrator

import "github.com/flotilla-io/flotilla/orchestrator/api"

// Object types, re-exported from package api so that one import is enough.
// See package api for their documentation.
type (
	Affinity                 = api.Affinity
	ConditionStatus          = api.ConditionStatus
	ConfigMap                = api.ConfigMap
	ConfigMapEnvSource       = api.ConfigMapEnvSource
	ConfigMapKeySelector     = api.ConfigMapKeySelector
	ConfigMapList            = api.ConfigMapList
	ConfigMapVolumeSource    = api.ConfigMapVolumeSource
	Container                = api.Container
	ContainerPort            = api.ContainerPort
	ContainerProbeStatus     = api.ContainerProbeStatus
	ContainerState           = api.ContainerState
	ContainerStateRunning    = api.ContainerStateRunning
	ContainerStateTerminated = api.ContainerStateTerminated
	ContainerStateWaiting    = api.ContainerStateWaiting
	ContainerStatus          = api.ContainerStatus
	DeletionPropagation      = api.DeletionPropagation
	Deployment               = api.Deployment
	DeploymentCondition      = api.DeploymentCondition
	DeploymentConditionType  = api.DeploymentConditionType
	DeploymentList           = api.DeploymentList
	DeploymentSpec           = api.DeploymentSpec
	DeploymentStatus         = api.DeploymentStatus
	DeploymentStrategy       = api.DeploymentStrategy
	DeploymentStrategyType   = api.DeploymentStrategyType
	EmptyDirVolumeSource     = api.EmptyDirVolumeSource
	EnvFromSource            = api.EnvFromSource
	EnvVar                   = api.EnvVar
	EnvVarSource             = api.EnvVarSource
	Event                    = api.Event
	EventList                = api.EventList
	EventSource              = api.EventSource
	ExecAction               = api.ExecAction
	FieldError               = api.FieldError
	FieldErrorList           = api.FieldErrorList
	FieldSelector            = api.FieldSelector
	GRPCAction               = api.GRPCAction
	HTTPGetAction            = api.HTTPGetAction
	HTTPHeader               = api.HTTPHeader
	HostPathVolumeSource     = api.HostPathVolumeSource
	IntOrString              = api.IntOrString
	KeyToPath                = api.KeyToPath
	LabelSelector            = api.LabelSelector
	LabelSelectorOperator    = api.LabelSelectorOperator
	LabelSelectorRequirement = api.LabelSelectorRequirement
	ListMeta                 = api.ListMeta
	LocalObjectReference     = api.LocalObjectReference
	Namespace                = api.Namespace
	NamespaceList            = api.NamespaceList
	NamespacePhase           = api.NamespacePhase
	NamespaceSpec            = api.NamespaceSpec
	NamespaceStatus          = api.NamespaceStatus
	Node                     = api.Node
	NodeAddress              = api.NodeAddress
	NodeAffinity             = api.NodeAffinity
	NodeCondition            = api.NodeCondition
	NodeConditionType        = api.NodeConditionType
	NodeList                 = api.NodeList
	NodeSelector             = api.NodeSelector
	NodeSelectorRequirement  = api.NodeSelectorRequirement
	NodeSelectorTerm         = api.NodeSelectorTerm
	NodeSpec                 = api.NodeSpec
	NodeStatus               = api.NodeStatus
	Object                   = api.Object
	ObjectList               = api.ObjectList
	ObjectMeta               = api.ObjectMeta
	ObjectReference          = api.ObjectReference
	OwnerReference           = api.OwnerReference
	Pod                      = api.Pod
	PodCondition             = api.PodCondition
	PodConditionType         = api.PodConditionType
	PodList                  = api.PodList
	PodPhase                 = api.PodPhase
	PodSpec                  = api.PodSpec
	PodStatus                = api.PodStatus
	PodTemplateSpec          = api.PodTemplateSpec
	Probe                    = api.Probe
	ProbeHandler             = api.ProbeHandler
	ProbeResult              = api.ProbeResult
	ProbeType                = api.ProbeType
	Protocol                 = api.Protocol
	PullPolicy               = api.PullPolicy
	Quantity                 = api.Quantity
	ReplicaSet               = api.ReplicaSet
	ReplicaSetCondition      = api.ReplicaSetCondition
	ReplicaSetList           = api.ReplicaSetList
	ReplicaSetSpec           = api.ReplicaSetSpec
	ReplicaSetStatus         = api.ReplicaSetStatus
	ResourceList             = api.ResourceList
	ResourceName             = api.ResourceName
	ResourceRequirements     = api.ResourceRequirements
	RestartPolicy            = api.RestartPolicy
	RollingUpdateDeployment  = api.RollingUpdateDeployment
	Selector                 = api.Selector
	StatusError              = api.StatusError
	TCPSocketAction          = api.TCPSocketAction
	Taint                    = api.Taint
	TaintEffect              = api.TaintEffect
	Time                     = api.Time
	Toleration               = api.Toleration
	TypeMeta                 = api.TypeMeta
	UID                      = api.UID
	Volume                   = api.Volume
	VolumeMount              = api.VolumeMount
	VolumeSource             = api.VolumeSource
)

// Constants re-exported from package api.
const (
	DefaultNamespace = api.DefaultNamespace

	NamespaceActive      = api.NamespaceActive
	NamespaceTerminating = api.NamespaceTerminating

	PodPending   = api.PodPending
	PodRunning   = api.PodRunning
	PodSucceeded = api.PodSucceeded
	PodFailed    = api.PodFailed
	PodUnknown   = api.PodUnknown

	PodReady        = api.PodReady
	PodScheduled    = api.PodScheduled
	ContainersReady = api.ContainersReady

	ConditionTrue    = api.ConditionTrue
	ConditionFalse   = api.ConditionFalse
	ConditionUnknown = api.ConditionUnknown

	NodeReady = api.NodeReady

	ProbeLiveness  = api.ProbeLiveness
	ProbeReadiness = api.ProbeReadiness
	ProbeStartup   = api.ProbeStartup
	ProbeSuccess   = api.ProbeSuccess
	ProbeFailure   = api.ProbeFailure
	ProbeUnknown   = api.ProbeUnknown

	RestartPolicyAlways    = api.RestartPolicyAlways
	RestartPolicyOnFailure = api.RestartPolicyOnFailure
	RestartPolicyNever     = api.RestartPolicyNever

	DeploymentAvailable   = api.DeploymentAvailable
	DeploymentProgressing = api.DeploymentProgressing

	DeletePropagationBackground = api.DeletePropagationBackground
	DeletePropagationForeground = api.DeletePropagationForeground
	DeletePropagationOrphan     = api.DeletePropagationOrphan
)

// Helpers re-exported from package api.
var (
	// Decode strictly decodes one JSON or YAML object; see api.Decode.
	Decode = api.Decode
	// DecodeAll strictly decodes JSON or multi-document YAML; see api.DecodeAll.
	DecodeAll = api.DecodeAll
	// ParseSelector parses a label selector such as "app=web,tier!=db".
	ParseSelector = api.ParseSelector
	// ParseFieldSelector parses a field selector such as "spec.nodeName=n1".
	ParseFieldSelector = api.ParseFieldSelector
	// MustParseQuantity parses a literal quantity such as "100m" and panics
	// on a malformed one (for constants in code).
	MustParseQuantity = api.MustParse
	// IsPodReady reports whether a Pod's Ready condition is true.
	IsPodReady = api.IsPodReady
	// IsNodeReady reports whether a Node's Ready condition is true.
	IsNodeReady = api.IsNodeReady
	// FieldErrors lists the field errors of an Invalid error.
	FieldErrors = api.FieldErrors
)

// Ptr returns a pointer to v (for optional fields such as replicas).
func Ptr[T any](v T) *T { return &v }

// Error predicates. Every Client method documents which of these its errors
// satisfy.
var (
	IsNotFound             = api.IsNotFound
	IsAlreadyExists        = api.IsAlreadyExists
	IsConflict             = api.IsConflict
	IsInvalid              = api.IsInvalid
	IsTooOld               = api.IsTooOld
	IsBadRequest           = api.IsBadRequest
	IsForbidden            = api.IsForbidden
	IsServiceUnavailable   = api.IsServiceUnavailable
	IsUnsupportedMediaType = api.IsUnsupportedMediaType
	IgnoreNotFound         = api.IgnoreNotFound
)
