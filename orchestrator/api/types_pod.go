package api

// Pod is a group of containers scheduled together on one Node.
type Pod struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	Spec       PodSpec   `json:"spec,omitzero"`
	Status     PodStatus `json:"status,omitzero"`
}

// PodList is a list of Pods.
type PodList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []Pod `json:"items"`
}

// PodTemplateSpec is the Pod a workload controller creates.
type PodTemplateSpec struct {
	ObjectMeta `json:"metadata,omitzero"`
	Spec       PodSpec `json:"spec,omitzero"`
}

// RestartPolicy says when the agent restarts a Pod's exited containers.
type RestartPolicy string

// Restart policies.
const (
	RestartPolicyAlways    RestartPolicy = "Always"
	RestartPolicyOnFailure RestartPolicy = "OnFailure"
	RestartPolicyNever     RestartPolicy = "Never"
)

// DNSPolicy is how a Pod's resolver is set up. Flotilla runs no cluster
// DNS, so ClusterFirst is the node's resolver (as the kubelet falls back
// without cluster DNS); None is refused as not supported yet.
type DNSPolicy string

// PodSpec is the desired state of a Pod.
type PodSpec struct {
	// Volumes can be mounted by the Pod's containers.
	Volumes []Volume `json:"volumes,omitempty" patchMergeKey:"name" patchStrategy:"merge,retainKeys"`
	// InitContainers run to completion, in order, before Containers start;
	// one with restartPolicy Always is a sidecar, started in its turn and
	// kept running beside Containers.
	InitContainers []Container `json:"initContainers,omitempty" patchMergeKey:"name" patchStrategy:"merge"`
	// Containers is required: at least one.
	Containers []Container `json:"containers" patchMergeKey:"name" patchStrategy:"merge"`
	// RestartPolicy defaults to Always.
	RestartPolicy RestartPolicy `json:"restartPolicy,omitempty"`
	// TerminationGracePeriodSeconds is the time between SIGTERM and SIGKILL
	// on deletion; defaults to 30.
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
	// ActiveDeadlineSeconds bounds the Pod's run time.
	ActiveDeadlineSeconds *int64    `json:"activeDeadlineSeconds,omitempty"`
	DNSPolicy             DNSPolicy `json:"dnsPolicy,omitempty"`
	// NodeSelector restricts the Pod to Nodes with these labels.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// ServiceAccountName names the Pod's identity; "default" if empty.
	ServiceAccountName string `json:"serviceAccountName,omitempty"`
	// DeprecatedServiceAccount is the old name of ServiceAccountName.
	DeprecatedServiceAccount     string `json:"serviceAccount,omitempty"`
	AutomountServiceAccountToken *bool  `json:"automountServiceAccountToken,omitempty"`
	// NodeName binds the Pod to a Node; set by the scheduler.
	NodeName string `json:"nodeName,omitempty"`
	// HostNetwork puts the Pod in the node's network namespace.
	HostNetwork bool   `json:"hostNetwork,omitempty"`
	HostPID     bool   `json:"hostPID,omitempty"`
	HostIPC     bool   `json:"hostIPC,omitempty"`
	Hostname    string `json:"hostname,omitempty"`
	Subdomain   string `json:"subdomain,omitempty"`
	// Affinity holds scheduling constraints; only NodeAffinity is used now.
	Affinity *Affinity `json:"affinity,omitempty"`
	// SchedulerName may only name Flotilla's scheduler, "default-scheduler".
	SchedulerName string       `json:"schedulerName,omitempty"`
	Tolerations   []Toleration `json:"tolerations,omitempty"`
	// PriorityClassName and a non-zero Priority are refused as not
	// supported yet: every Pod has priority 0.
	PriorityClassName string `json:"priorityClassName,omitempty"`
	Priority          *int32 `json:"priority,omitempty"`
	// SecurityContext holds the Pod's security settings, which its
	// containers' own override (sysctls are refused as not supported yet).
	SecurityContext  *PodSecurityContext    `json:"securityContext,omitempty"`
	ImagePullSecrets []LocalObjectReference `json:"imagePullSecrets,omitempty" patchMergeKey:"name" patchStrategy:"merge"`
	// EnableServiceLinks (defaulted to true) gives the containers the
	// Docker-links style environment variables of every Service of the
	// Pod's namespace that has a cluster IP when they start
	// (<SVC>_SERVICE_HOST, <SVC>_PORT, ...); false leaves only the
	// `kubernetes` Service's, as in Kubernetes.
	EnableServiceLinks *bool `json:"enableServiceLinks,omitempty"`

	// Of the fields below, validation refuses what Flotilla does not act
	// on yet (Forbidden, "not supported yet"), and accepts only the values
	// that mean what it does (os linux, hostUsers true, ...).
	TopologySpreadConstraints []TopologySpreadConstraint `json:"topologySpreadConstraints,omitempty" patchMergeKey:"topologyKey" patchStrategy:"merge"`
	DNSConfig                 *PodDNSConfig              `json:"dnsConfig,omitempty"`
	HostAliases               []HostAlias                `json:"hostAliases,omitempty" patchMergeKey:"ip" patchStrategy:"merge"`
	ShareProcessNamespace     *bool                      `json:"shareProcessNamespace,omitempty"`
	RuntimeClassName          *string                    `json:"runtimeClassName,omitempty"`
	PreemptionPolicy          *string                    `json:"preemptionPolicy,omitempty"`
	ReadinessGates            []PodReadinessGate         `json:"readinessGates,omitempty"`
	SetHostnameAsFQDN         *bool                      `json:"setHostnameAsFQDN,omitempty"`
	OS                        *PodOS                     `json:"os,omitempty"`
	HostUsers                 *bool                      `json:"hostUsers,omitempty"`
	Overhead                  ResourceList               `json:"overhead,omitempty"`
}

// TopologySpreadConstraint spreads matching Pods across topology domains.
type TopologySpreadConstraint struct {
	MaxSkew            int32          `json:"maxSkew"`
	TopologyKey        string         `json:"topologyKey"`
	WhenUnsatisfiable  string         `json:"whenUnsatisfiable"`
	LabelSelector      *LabelSelector `json:"labelSelector,omitempty"`
	MinDomains         *int32         `json:"minDomains,omitempty"`
	NodeAffinityPolicy *string        `json:"nodeAffinityPolicy,omitempty"`
	NodeTaintsPolicy   *string        `json:"nodeTaintsPolicy,omitempty"`
	MatchLabelKeys     []string       `json:"matchLabelKeys,omitempty"`
}

// PodDNSConfig adjusts a Pod's resolver configuration.
type PodDNSConfig struct {
	Nameservers []string             `json:"nameservers,omitempty"`
	Searches    []string             `json:"searches,omitempty"`
	Options     []PodDNSConfigOption `json:"options,omitempty"`
}

// PodDNSConfigOption is one resolver option.
type PodDNSConfigOption struct {
	Name  string  `json:"name,omitempty"`
	Value *string `json:"value,omitempty"`
}

// HostAlias adds entries to a Pod's /etc/hosts.
type HostAlias struct {
	IP        string   `json:"ip"`
	Hostnames []string `json:"hostnames,omitempty"`
}

// PodReadinessGate names an extra condition a Pod needs to be ready.
type PodReadinessGate struct {
	ConditionType PodConditionType `json:"conditionType"`
}

// PodOS names the operating system a Pod needs.
type PodOS struct {
	Name string `json:"name"`
}

// PodSecurityContext holds pod-level security settings.
type PodSecurityContext struct {
	RunAsUser           *int64          `json:"runAsUser,omitempty"`
	RunAsGroup          *int64          `json:"runAsGroup,omitempty"`
	RunAsNonRoot        *bool           `json:"runAsNonRoot,omitempty"`
	FSGroup             *int64          `json:"fsGroup,omitempty"`
	SupplementalGroups  []int64         `json:"supplementalGroups,omitempty"`
	FSGroupChangePolicy *string         `json:"fsGroupChangePolicy,omitempty"`
	SeccompProfile      *SeccompProfile `json:"seccompProfile,omitempty"`
	Sysctls             []Sysctl        `json:"sysctls,omitempty"`
}

// SeccompProfile selects a seccomp profile.
type SeccompProfile struct {
	Type             string  `json:"type"`
	LocalhostProfile *string `json:"localhostProfile,omitempty"`
}

// Sysctl is one namespaced kernel parameter.
type Sysctl struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Capabilities adds and drops Linux capabilities.
type Capabilities struct {
	Add  []string `json:"add,omitempty"`
	Drop []string `json:"drop,omitempty"`
}

// SecurityContext holds container-level security settings.
type SecurityContext struct {
	RunAsUser                *int64          `json:"runAsUser,omitempty"`
	RunAsGroup               *int64          `json:"runAsGroup,omitempty"`
	RunAsNonRoot             *bool           `json:"runAsNonRoot,omitempty"`
	ReadOnlyRootFilesystem   *bool           `json:"readOnlyRootFilesystem,omitempty"`
	Privileged               *bool           `json:"privileged,omitempty"`
	AllowPrivilegeEscalation *bool           `json:"allowPrivilegeEscalation,omitempty"`
	Capabilities             *Capabilities   `json:"capabilities,omitempty"`
	SeccompProfile           *SeccompProfile `json:"seccompProfile,omitempty"`
	ProcMount                *string         `json:"procMount,omitempty"`
}

// LocalObjectReference names an object in the same namespace.
type LocalObjectReference struct {
	Name string `json:"name,omitempty"`
}

// PullPolicy says when the agent pulls an image.
type PullPolicy string

// Pull policies.
const (
	PullAlways       PullPolicy = "Always"
	PullNever        PullPolicy = "Never"
	PullIfNotPresent PullPolicy = "IfNotPresent"
)

// Container is one container of a Pod.
type Container struct {
	// Name is a DNS-1123 label unique within the Pod.
	Name string `json:"name"`
	// Image is required.
	Image string `json:"image,omitempty"`
	// Command replaces the image's entrypoint.
	Command []string `json:"command,omitempty"`
	// Args replace the image's cmd.
	Args       []string        `json:"args,omitempty"`
	WorkingDir string          `json:"workingDir,omitempty"`
	Ports      []ContainerPort `json:"ports,omitempty" patchMergeKey:"containerPort" patchStrategy:"merge"`
	EnvFrom    []EnvFromSource `json:"envFrom,omitempty"`
	Env        []EnvVar        `json:"env,omitempty" patchMergeKey:"name" patchStrategy:"merge"`
	// Resources holds requests (for scheduling) and limits (enforced).
	Resources    ResourceRequirements `json:"resources,omitzero"`
	VolumeMounts []VolumeMount        `json:"volumeMounts,omitempty" patchMergeKey:"mountPath" patchStrategy:"merge"`
	// LivenessProbe restarts the container when it fails.
	LivenessProbe *Probe `json:"livenessProbe,omitempty"`
	// ReadinessProbe removes the Pod from endpoints when it fails.
	ReadinessProbe *Probe `json:"readinessProbe,omitempty"`
	// StartupProbe gates the other probes until it succeeds once.
	StartupProbe *Probe     `json:"startupProbe,omitempty"`
	Lifecycle    *Lifecycle `json:"lifecycle,omitempty"`
	// TerminationMessagePath and TerminationMessagePolicy say where a
	// container leaves a message for its terminated status; Flotilla does
	// not read one yet, and refuses them as not supported yet.
	TerminationMessagePath   string `json:"terminationMessagePath,omitempty"`
	TerminationMessagePolicy string `json:"terminationMessagePolicy,omitempty"`
	// ImagePullPolicy defaults to IfNotPresent (also for ":latest": Flotilla
	// assumes no registry).
	ImagePullPolicy PullPolicy       `json:"imagePullPolicy,omitempty"`
	SecurityContext *SecurityContext `json:"securityContext,omitempty"`
	Stdin           bool             `json:"stdin,omitempty"`
	StdinOnce       bool             `json:"stdinOnce,omitempty"`
	TTY             bool             `json:"tty,omitempty"`
	// RestartPolicy Always makes an init container a sidecar. ResizePolicy
	// and VolumeDevices are refused as not supported yet.
	ResizePolicy  []ContainerResizePolicy `json:"resizePolicy,omitempty"`
	RestartPolicy *string                 `json:"restartPolicy,omitempty"`
	VolumeDevices []VolumeDevice          `json:"volumeDevices,omitempty" patchMergeKey:"devicePath" patchStrategy:"merge"`
}

// ContainerResizePolicy says whether resizing a resource restarts the
// container.
type ContainerResizePolicy struct {
	ResourceName  ResourceName `json:"resourceName"`
	RestartPolicy string       `json:"restartPolicy"`
}

// VolumeDevice maps a raw block volume into a container.
type VolumeDevice struct {
	Name       string `json:"name"`
	DevicePath string `json:"devicePath"`
}

// Protocol is a network protocol.
type Protocol string

// Protocols.
const (
	ProtocolTCP  Protocol = "TCP"
	ProtocolUDP  Protocol = "UDP"
	ProtocolSCTP Protocol = "SCTP"
)

// ContainerPort is a port a container listens on.
type ContainerPort struct {
	// Name is an IANA_SVC_NAME (up to 15 lowercase alphanumerics and
	// dashes), unique within the Pod; probes may refer to it.
	Name string `json:"name,omitempty"`
	// HostPort exposes the port on the node; 0 means not exposed.
	HostPort int32 `json:"hostPort,omitempty"`
	// ContainerPort is required, 1-65535.
	ContainerPort int32 `json:"containerPort"`
	// Protocol defaults to TCP.
	Protocol Protocol `json:"protocol,omitempty"`
	HostIP   string   `json:"hostIP,omitempty"`
}

// EnvVar is one environment variable: a literal Value or a ValueFrom
// source, not both.
type EnvVar struct {
	Name      string        `json:"name"`
	Value     string        `json:"value,omitempty"`
	ValueFrom *EnvVarSource `json:"valueFrom,omitempty"`
}

// EnvVarSource takes a variable's value from exactly one source.
type EnvVarSource struct {
	FieldRef         *ObjectFieldSelector   `json:"fieldRef,omitempty"`
	ResourceFieldRef *ResourceFieldSelector `json:"resourceFieldRef,omitempty"`
	ConfigMapKeyRef  *ConfigMapKeySelector  `json:"configMapKeyRef,omitempty"`
	SecretKeyRef     *SecretKeySelector     `json:"secretKeyRef,omitempty"`
}

// ObjectFieldSelector selects a field of the Pod, e.g. "metadata.name".
type ObjectFieldSelector struct {
	APIVersion string `json:"apiVersion,omitempty"`
	FieldPath  string `json:"fieldPath"`
}

// ResourceFieldSelector selects a container's resource, e.g. "limits.cpu".
type ResourceFieldSelector struct {
	ContainerName string    `json:"containerName,omitempty"`
	Resource      string    `json:"resource"`
	Divisor       *Quantity `json:"divisor,omitempty"`
}

// ConfigMapKeySelector selects a key of a ConfigMap.
type ConfigMapKeySelector struct {
	LocalObjectReference `json:",inline"`
	Key                  string `json:"key"`
	Optional             *bool  `json:"optional,omitempty"`
}

// SecretKeySelector selects a key of a Secret.
type SecretKeySelector struct {
	LocalObjectReference `json:",inline"`
	Key                  string `json:"key"`
	Optional             *bool  `json:"optional,omitempty"`
}

// EnvFromSource imports all keys of a ConfigMap or Secret as variables.
type EnvFromSource struct {
	Prefix       string              `json:"prefix,omitempty"`
	ConfigMapRef *ConfigMapEnvSource `json:"configMapRef,omitempty"`
	SecretRef    *SecretEnvSource    `json:"secretRef,omitempty"`
}

// ConfigMapEnvSource names a ConfigMap for EnvFromSource.
type ConfigMapEnvSource struct {
	LocalObjectReference `json:",inline"`
	Optional             *bool `json:"optional,omitempty"`
}

// SecretEnvSource names a Secret for EnvFromSource.
type SecretEnvSource struct {
	LocalObjectReference `json:",inline"`
	Optional             *bool `json:"optional,omitempty"`
}

// ResourceRequirements holds a container's requests and limits. A request
// must not exceed the limit of the same resource.
type ResourceRequirements struct {
	Limits   ResourceList `json:"limits,omitempty"`
	Requests ResourceList `json:"requests,omitempty"`
}

// VolumeMount mounts a Pod volume into a container.
type VolumeMount struct {
	Name      string `json:"name"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
	MountPath string `json:"mountPath"`
	SubPath   string `json:"subPath,omitempty"`
	// MountPropagation (but "None"), SubPathExpr and RecursiveReadOnly
	// (but "Disabled") are refused as not supported yet.
	MountPropagation  *string `json:"mountPropagation,omitempty"`
	SubPathExpr       string  `json:"subPathExpr,omitempty"`
	RecursiveReadOnly *string `json:"recursiveReadOnly,omitempty"`
}

// Volume is a named volume of a Pod with exactly one source.
type Volume struct {
	Name         string `json:"name"`
	VolumeSource `json:",inline"`
}

// VolumeSource is the source of a Volume; exactly one member is set.
type VolumeSource struct {
	HostPath              *HostPathVolumeSource              `json:"hostPath,omitempty"`
	EmptyDir              *EmptyDirVolumeSource              `json:"emptyDir,omitempty"`
	Secret                *SecretVolumeSource                `json:"secret,omitempty"`
	PersistentVolumeClaim *PersistentVolumeClaimVolumeSource `json:"persistentVolumeClaim,omitempty"`
	ConfigMap             *ConfigMapVolumeSource             `json:"configMap,omitempty"`
	DownwardAPI           *DownwardAPIVolumeSource           `json:"downwardAPI,omitempty"`
	Projected             *ProjectedVolumeSource             `json:"projected,omitempty"`
}

// DownwardAPIVolumeSource exposes Pod fields as files.
type DownwardAPIVolumeSource struct {
	Items       []DownwardAPIVolumeFile `json:"items,omitempty"`
	DefaultMode *int32                  `json:"defaultMode,omitempty"`
}

// DownwardAPIVolumeFile is one file of a downward API volume.
type DownwardAPIVolumeFile struct {
	Path             string                 `json:"path"`
	FieldRef         *ObjectFieldSelector   `json:"fieldRef,omitempty"`
	ResourceFieldRef *ResourceFieldSelector `json:"resourceFieldRef,omitempty"`
	Mode             *int32                 `json:"mode,omitempty"`
}

// ProjectedVolumeSource merges several sources into one directory (every
// Kubernetes Pod has one for its service account token).
type ProjectedVolumeSource struct {
	Sources     []VolumeProjection `json:"sources"`
	DefaultMode *int32             `json:"defaultMode,omitempty"`
}

// VolumeProjection is one source of a projected volume.
type VolumeProjection struct {
	Secret              *SecretProjection              `json:"secret,omitempty"`
	DownwardAPI         *DownwardAPIProjection         `json:"downwardAPI,omitempty"`
	ConfigMap           *ConfigMapProjection           `json:"configMap,omitempty"`
	ServiceAccountToken *ServiceAccountTokenProjection `json:"serviceAccountToken,omitempty"`
}

// SecretProjection projects a Secret's keys.
type SecretProjection struct {
	LocalObjectReference `json:",inline"`
	Items                []KeyToPath `json:"items,omitempty"`
	Optional             *bool       `json:"optional,omitempty"`
}

// ConfigMapProjection projects a ConfigMap's keys.
type ConfigMapProjection struct {
	LocalObjectReference `json:",inline"`
	Items                []KeyToPath `json:"items,omitempty"`
	Optional             *bool       `json:"optional,omitempty"`
}

// DownwardAPIProjection projects Pod fields.
type DownwardAPIProjection struct {
	Items []DownwardAPIVolumeFile `json:"items,omitempty"`
}

// ServiceAccountTokenProjection projects a service account token.
type ServiceAccountTokenProjection struct {
	Audience          string `json:"audience,omitempty"`
	ExpirationSeconds *int64 `json:"expirationSeconds,omitempty"`
	Path              string `json:"path"`
}

// HostPathVolumeSource mounts a path of the node.
type HostPathVolumeSource struct {
	Path string  `json:"path"`
	Type *string `json:"type,omitempty"`
}

// EmptyDirVolumeSource is a scratch directory that lives as long as the Pod.
type EmptyDirVolumeSource struct {
	Medium    string    `json:"medium,omitempty"`
	SizeLimit *Quantity `json:"sizeLimit,omitempty"`
}

// KeyToPath projects one key to a file path.
type KeyToPath struct {
	Key  string `json:"key"`
	Path string `json:"path"`
	Mode *int32 `json:"mode,omitempty"`
}

// SecretVolumeSource mounts a Secret's keys as files.
type SecretVolumeSource struct {
	SecretName  string      `json:"secretName,omitempty"`
	Items       []KeyToPath `json:"items,omitempty"`
	DefaultMode *int32      `json:"defaultMode,omitempty"`
	Optional    *bool       `json:"optional,omitempty"`
}

// ConfigMapVolumeSource mounts a ConfigMap's keys as files.
type ConfigMapVolumeSource struct {
	LocalObjectReference `json:",inline"`
	Items                []KeyToPath `json:"items,omitempty"`
	DefaultMode          *int32      `json:"defaultMode,omitempty"`
	Optional             *bool       `json:"optional,omitempty"`
}

// PersistentVolumeClaimVolumeSource mounts a claimed volume.
type PersistentVolumeClaimVolumeSource struct {
	ClaimName string `json:"claimName"`
	ReadOnly  bool   `json:"readOnly,omitempty"`
}

// Probe describes a health check. Exactly one handler (Exec, HTTPGet,
// TCPSocket or GRPC) must be set.
type Probe struct {
	ProbeHandler `json:",inline"`
	// InitialDelaySeconds waits after container start; default 0.
	InitialDelaySeconds int32 `json:"initialDelaySeconds,omitempty"`
	// TimeoutSeconds bounds one probe; default 1.
	TimeoutSeconds int32 `json:"timeoutSeconds,omitempty"`
	// PeriodSeconds is the interval between probes. 0 means unset and
	// becomes the default 10, as in Kubernetes (an explicit
	// "periodSeconds: 0" cannot be told from an absent one); a negative
	// value is invalid.
	PeriodSeconds int32 `json:"periodSeconds,omitempty"`
	// SuccessThreshold is the consecutive successes to pass; default 1,
	// and it must be 1 for liveness and startup probes.
	SuccessThreshold int32 `json:"successThreshold,omitempty"`
	// FailureThreshold is the consecutive failures to fail; default 3.
	FailureThreshold int32 `json:"failureThreshold,omitempty"`
	// TerminationGracePeriodSeconds overrides the Pod's grace period when
	// a liveness or startup probe kills the container.
	TerminationGracePeriodSeconds *int64 `json:"terminationGracePeriodSeconds,omitempty"`
	// PeriodMilliseconds is a Flotilla extension (not in Kubernetes): when
	// set (> 0) it replaces PeriodSeconds, allowing sub-second probe
	// intervals in tests. Kubernetes rejects manifests that use it.
	PeriodMilliseconds int32 `json:"periodMilliseconds,omitempty"`
}

// ProbeHandler is the action of a probe or lifecycle hook.
type ProbeHandler struct {
	Exec      *ExecAction      `json:"exec,omitempty"`
	HTTPGet   *HTTPGetAction   `json:"httpGet,omitempty"`
	TCPSocket *TCPSocketAction `json:"tcpSocket,omitempty"`
	GRPC      *GRPCAction      `json:"grpc,omitempty"`
}

// ExecAction runs a command in the container; exit 0 is success.
type ExecAction struct {
	Command []string `json:"command,omitempty"`
}

// URIScheme is HTTP or HTTPS.
type URIScheme string

// URI schemes.
const (
	URISchemeHTTP  URIScheme = "HTTP"
	URISchemeHTTPS URIScheme = "HTTPS"
)

// HTTPGetAction sends GET; a status 200-399 is success.
type HTTPGetAction struct {
	// Path defaults to "/".
	Path string `json:"path,omitempty"`
	// Port is a number or the name of a declared container port.
	Port IntOrString `json:"port"`
	// Host defaults to the Pod IP.
	Host string `json:"host,omitempty"`
	// Scheme defaults to HTTP.
	Scheme      URIScheme    `json:"scheme,omitempty"`
	HTTPHeaders []HTTPHeader `json:"httpHeaders,omitempty"`
}

// HTTPHeader is one request header.
type HTTPHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TCPSocketAction opens a TCP connection; success if it connects.
type TCPSocketAction struct {
	Port IntOrString `json:"port"`
	Host string      `json:"host,omitempty"`
}

// GRPCAction calls the gRPC health checking protocol.
type GRPCAction struct {
	Port int32 `json:"port"`
	// Service is the health service name; nil means "".
	Service *string `json:"service,omitempty"`
}

// Lifecycle holds hooks run around container start and stop.
type Lifecycle struct {
	PostStart *LifecycleHandler `json:"postStart,omitempty"`
	PreStop   *LifecycleHandler `json:"preStop,omitempty"`
}

// LifecycleHandler is a hook action; exactly one member is set.
type LifecycleHandler struct {
	Exec      *ExecAction      `json:"exec,omitempty"`
	HTTPGet   *HTTPGetAction   `json:"httpGet,omitempty"`
	TCPSocket *TCPSocketAction `json:"tcpSocket,omitempty"`
	Sleep     *SleepAction     `json:"sleep,omitempty"`
}

// SleepAction sleeps before the container is stopped.
type SleepAction struct {
	Seconds int64 `json:"seconds"`
}

// TolerationOperator is Exists or Equal.
type TolerationOperator string

// Toleration operators.
const (
	TolerationOpExists TolerationOperator = "Exists"
	TolerationOpEqual  TolerationOperator = "Equal"
)

// Toleration lets a Pod be placed on Nodes with a matching taint.
type Toleration struct {
	// Key empty with operator Exists tolerates everything.
	Key      string             `json:"key,omitempty"`
	Operator TolerationOperator `json:"operator,omitempty"`
	Value    string             `json:"value,omitempty"`
	// Effect empty matches all effects.
	Effect TaintEffect `json:"effect,omitempty"`
	// TolerationSeconds, for a NoExecute toleration of the taints
	// node.kubernetes.io/not-ready and unreachable, is how long the Pod
	// stays bound to a node that is not ready (nil: for ever); without
	// such a toleration the cluster's eviction timeout applies.
	TolerationSeconds *int64 `json:"tolerationSeconds,omitempty"`
}

// Affinity holds scheduling constraints.
type Affinity struct {
	NodeAffinity *NodeAffinity `json:"nodeAffinity,omitempty"`
	// PodAffinity and PodAntiAffinity are refused as not supported yet:
	// the scheduler does not place Pods by other Pods yet.
	PodAffinity     *PodAffinity     `json:"podAffinity,omitempty"`
	PodAntiAffinity *PodAntiAffinity `json:"podAntiAffinity,omitempty"`
}

// NodeAffinity constrains the Nodes a Pod may run on.
type NodeAffinity struct {
	RequiredDuringSchedulingIgnoredDuringExecution  *NodeSelector             `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
	PreferredDuringSchedulingIgnoredDuringExecution []PreferredSchedulingTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// NodeSelector is satisfied if any of its terms is (terms are ORed).
type NodeSelector struct {
	NodeSelectorTerms []NodeSelectorTerm `json:"nodeSelectorTerms"`
}

// NodeSelectorTerm is satisfied if all its requirements are (ANDed).
type NodeSelectorTerm struct {
	MatchExpressions []NodeSelectorRequirement `json:"matchExpressions,omitempty"`
	MatchFields      []NodeSelectorRequirement `json:"matchFields,omitempty"`
}

// NodeSelectorOperator relates a node label to values.
type NodeSelectorOperator string

// Node selector operators.
const (
	NodeSelectorOpIn           NodeSelectorOperator = "In"
	NodeSelectorOpNotIn        NodeSelectorOperator = "NotIn"
	NodeSelectorOpExists       NodeSelectorOperator = "Exists"
	NodeSelectorOpDoesNotExist NodeSelectorOperator = "DoesNotExist"
	NodeSelectorOpGt           NodeSelectorOperator = "Gt"
	NodeSelectorOpLt           NodeSelectorOperator = "Lt"
)

// NodeSelectorRequirement is one condition on a node label or field.
type NodeSelectorRequirement struct {
	Key      string               `json:"key"`
	Operator NodeSelectorOperator `json:"operator"`
	Values   []string             `json:"values,omitempty"`
}

// PreferredSchedulingTerm is a weighted soft node constraint.
type PreferredSchedulingTerm struct {
	Weight     int32            `json:"weight"`
	Preference NodeSelectorTerm `json:"preference"`
}

// PodAffinity attracts a Pod to Nodes running matching Pods.
type PodAffinity struct {
	RequiredDuringSchedulingIgnoredDuringExecution  []PodAffinityTerm         `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
	PreferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// PodAntiAffinity repels a Pod from Nodes running matching Pods.
type PodAntiAffinity struct {
	RequiredDuringSchedulingIgnoredDuringExecution  []PodAffinityTerm         `json:"requiredDuringSchedulingIgnoredDuringExecution,omitempty"`
	PreferredDuringSchedulingIgnoredDuringExecution []WeightedPodAffinityTerm `json:"preferredDuringSchedulingIgnoredDuringExecution,omitempty"`
}

// PodAffinityTerm selects Pods in a topology domain.
type PodAffinityTerm struct {
	LabelSelector *LabelSelector `json:"labelSelector,omitempty"`
	Namespaces    []string       `json:"namespaces,omitempty"`
	TopologyKey   string         `json:"topologyKey"`
}

// WeightedPodAffinityTerm is a soft PodAffinityTerm.
type WeightedPodAffinityTerm struct {
	Weight          int32           `json:"weight"`
	PodAffinityTerm PodAffinityTerm `json:"podAffinityTerm"`
}

// PodPhase is the coarse lifecycle state of a Pod.
type PodPhase string

// Pod phases.
const (
	PodPending   PodPhase = "Pending"
	PodRunning   PodPhase = "Running"
	PodSucceeded PodPhase = "Succeeded"
	PodFailed    PodPhase = "Failed"
	PodUnknown   PodPhase = "Unknown"
)

// PodConditionType names a Pod condition.
type PodConditionType string

// Pod condition types.
const (
	PodScheduled    PodConditionType = "PodScheduled"
	PodInitialized  PodConditionType = "Initialized"
	ContainersReady PodConditionType = "ContainersReady"
	PodReady        PodConditionType = "Ready"
	// DisruptionTarget: the Pod is about to be deleted by the control
	// plane (Kubernetes' reason DeletionByPodGC: its Node is gone).
	DisruptionTarget PodConditionType = "DisruptionTarget"
)

// PodCondition is one aspect of a Pod's state.
type PodCondition struct {
	Type               PodConditionType `json:"type"`
	ObservedGeneration int64            `json:"observedGeneration,omitempty"`
	Status             ConditionStatus  `json:"status"`
	LastProbeTime      Time             `json:"lastProbeTime,omitzero"`
	LastTransitionTime Time             `json:"lastTransitionTime,omitzero"`
	Reason             string           `json:"reason,omitempty"`
	Message            string           `json:"message,omitempty"`
}

// PodIP is one IP address of a Pod.
type PodIP struct {
	IP string `json:"ip"`
}

// PodStatus is the observed state of a Pod, written by the scheduler and
// the node agent.
type PodStatus struct {
	// ObservedGeneration is the metadata.generation the status reflects.
	ObservedGeneration    int64             `json:"observedGeneration,omitempty"`
	Phase                 PodPhase          `json:"phase,omitempty"`
	Conditions            []PodCondition    `json:"conditions,omitempty" patchMergeKey:"type" patchStrategy:"merge"`
	Message               string            `json:"message,omitempty"`
	Reason                string            `json:"reason,omitempty"`
	NominatedNodeName     string            `json:"nominatedNodeName,omitempty"`
	HostIP                string            `json:"hostIP,omitempty"`
	HostIPs               []HostIP          `json:"hostIPs,omitempty" patchMergeKey:"ip" patchStrategy:"merge"`
	PodIP                 string            `json:"podIP,omitempty"`
	PodIPs                []PodIP           `json:"podIPs,omitempty" patchMergeKey:"ip" patchStrategy:"merge"`
	StartTime             *Time             `json:"startTime,omitempty"`
	InitContainerStatuses []ContainerStatus `json:"initContainerStatuses,omitempty"`
	ContainerStatuses     []ContainerStatus `json:"containerStatuses,omitempty"`
	QOSClass              string            `json:"qosClass,omitempty"`
	// EphemeralContainerStatuses and Resize are accepted for compatibility.
	EphemeralContainerStatuses []ContainerStatus `json:"ephemeralContainerStatuses,omitempty"`
	Resize                     string            `json:"resize,omitempty"`
}

// HostIP is one IP address of the Pod's node.
type HostIP struct {
	IP string `json:"ip"`
}

// ContainerStatus is the observed state of one container.
type ContainerStatus struct {
	Name string `json:"name"`
	// State is the current state; exactly one member is set.
	State ContainerState `json:"state,omitzero"`
	// LastTerminationState is the previous run's termination, if any.
	LastTerminationState ContainerState `json:"lastState,omitzero"`
	// Ready is true once the readiness probe passed (or there is none).
	Ready        bool   `json:"ready"`
	RestartCount int32  `json:"restartCount"`
	Image        string `json:"image"`
	ImageID      string `json:"imageID"`
	ContainerID  string `json:"containerID,omitempty"`
	// Started is true once the startup probe passed (or there is none).
	Started *bool `json:"started,omitempty"`
	// Probes is a Flotilla extension (not in Kubernetes): the state of the
	// container's probes, one entry per probe it declares (startup,
	// liveness, readiness, in that order), while the node agent runs them
	// for the current instance of the container. It is empty for a
	// container without probes, and omitted, so Kubernetes status decodes
	// and encodes unchanged. See [ContainerProbeStatus] for when it
	// changes.
	Probes []ContainerProbeStatus `json:"probes,omitempty"`
	// AllocatedResources, Resources and VolumeMounts are accepted for
	// compatibility with Kubernetes output.
	AllocatedResources ResourceList          `json:"allocatedResources,omitempty"`
	Resources          *ResourceRequirements `json:"resources,omitempty"`
	VolumeMounts       []VolumeMountStatus   `json:"volumeMounts,omitempty" patchMergeKey:"mountPath" patchStrategy:"merge"`
}

// ProbeType names one of a container's probes in [ContainerProbeStatus].
type ProbeType string

// Probe types.
const (
	ProbeLiveness  ProbeType = "Liveness"
	ProbeReadiness ProbeType = "Readiness"
	ProbeStartup   ProbeType = "Startup"
)

// ProbeResult is a probe's outcome after its thresholds.
type ProbeResult string

// Probe results.
const (
	// ProbeSuccess: the probe passes (readiness: ready; startup: started;
	// liveness: alive, which it is from the start and stays below
	// failureThreshold consecutive failures).
	ProbeSuccess ProbeResult = "Success"
	// ProbeFailure: readiness or startup has not passed yet, or the probe
	// failed failureThreshold times in a row.
	ProbeFailure ProbeResult = "Failure"
	// ProbeUnknown: the probe has not run yet (initial delay, or waiting
	// for the startup probe).
	ProbeUnknown ProbeResult = "Unknown"
)

// ContainerProbeStatus is a Flotilla extension (Kubernetes reports probe
// outcomes only through Ready, Started, restarts and Events): the state of
// one probe of a container instance, counted from the instance's start
// (a restarted container starts afresh).
//
// To keep the node agent from rewriting Pod status (one Raft write each)
// on every probe period, an entry is a snapshot taken at the probe's last
// reported attempt, and only these attempts are reported: the first one;
// one that changes Result; a success while ConsecutiveSuccesses is at
// most the successThreshold (so the first success after failures); a
// failure while ConsecutiveFailures is at most the failureThreshold; and
// beyond that at most one failure per report interval (10 s by default)
// while a probe keeps failing, even if its message changes (messages may
// vary from attempt to attempt). A healthy probe's entry therefore stays
// unchanged, however many periods pass: its Successes and LastProbeTime
// are those of the attempt that last changed something, not live
// counters.
type ContainerProbeStatus struct {
	// Type is Liveness, Readiness or Startup.
	Type ProbeType `json:"type"`
	// Result is Success, Failure or Unknown (see [ProbeResult]).
	Result ProbeResult `json:"result"`
	// ConsecutiveSuccesses counts successes in a row, up to the probe's
	// successThreshold (reported successes stop there).
	ConsecutiveSuccesses int32 `json:"consecutiveSuccesses,omitempty"`
	// ConsecutiveFailures counts failures in a row; 0 after a success.
	// Beyond failureThreshold it is updated at most once per report
	// interval.
	ConsecutiveFailures int32 `json:"consecutiveFailures,omitempty"`
	// Successes and Failures count all attempts of this container
	// instance up to the last reported one.
	Successes int64 `json:"successes,omitempty"`
	Failures  int64 `json:"failures,omitempty"`
	// LastProbeTime is when the last reported attempt started.
	LastProbeTime Time `json:"lastProbeTime,omitzero"`
	// LastTransitionTime is when Result last changed.
	LastTransitionTime Time `json:"lastTransitionTime,omitzero"`
	// LastFailureMessage says why the last failed attempt failed (kept
	// after successes), e.g. "HTTP probe failed with statuscode: 503".
	LastFailureMessage string `json:"lastFailureMessage,omitempty"`
	// LastFailureTime is when that attempt started.
	LastFailureTime Time `json:"lastFailureTime,omitzero"`
}

// VolumeMountStatus reports a mounted volume.
type VolumeMountStatus struct {
	Name              string  `json:"name"`
	MountPath         string  `json:"mountPath"`
	ReadOnly          bool    `json:"readOnly,omitempty"`
	RecursiveReadOnly *string `json:"recursiveReadOnly,omitempty"`
}

// ContainerState is a container's state; at most one member is set, none
// meaning Waiting.
type ContainerState struct {
	Waiting    *ContainerStateWaiting    `json:"waiting,omitempty"`
	Running    *ContainerStateRunning    `json:"running,omitempty"`
	Terminated *ContainerStateTerminated `json:"terminated,omitempty"`
}

// ContainerStateWaiting says why a container is not running, e.g.
// reason "CrashLoopBackOff" with a message that ends with the time of the
// next restart ("back-off 20s restarting failed container=web
// pod=web-abc_default(uid); next restart at 2026-01-01T12:00:22Z").
type ContainerStateWaiting struct {
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// ContainerStateRunning says since when a container runs.
type ContainerStateRunning struct {
	StartedAt Time `json:"startedAt,omitzero"`
}

// ContainerStateTerminated describes a finished container run.
type ContainerStateTerminated struct {
	ExitCode    int32  `json:"exitCode"`
	Signal      int32  `json:"signal,omitempty"`
	Reason      string `json:"reason,omitempty"`
	Message     string `json:"message,omitempty"`
	StartedAt   Time   `json:"startedAt,omitzero"`
	FinishedAt  Time   `json:"finishedAt,omitzero"`
	ContainerID string `json:"containerID,omitempty"`
}
