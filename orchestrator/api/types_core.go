package api

// This file holds the core/v1 kinds: Namespace, Node, Pod, ConfigMap, Event.
// Field names and meanings are Kubernetes'; Flotilla extensions are marked.

// ---- Namespace ----

// NamespacePhase is the lifecycle phase of a Namespace.
type NamespacePhase string

// Namespace phases.
const (
	NamespaceActive      NamespacePhase = "Active"
	NamespaceTerminating NamespacePhase = "Terminating"
)

// Namespace is a cluster-scoped scope for names.
type Namespace struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	Spec       NamespaceSpec   `json:"spec,omitzero"`
	Status     NamespaceStatus `json:"status,omitzero"`
}

// NamespaceSpec holds the finalizers that must run before a Namespace is
// removed.
type NamespaceSpec struct {
	Finalizers []string `json:"finalizers,omitempty"`
}

// NamespaceStatus is the observed state of a Namespace.
type NamespaceStatus struct {
	Phase      NamespacePhase       `json:"phase,omitempty"`
	Conditions []NamespaceCondition `json:"conditions,omitempty" patchMergeKey:"type" patchStrategy:"merge"`
}

// NamespaceCondition reports progress of a Namespace's deletion.
type NamespaceCondition struct {
	Type               string          `json:"type"`
	Status             ConditionStatus `json:"status"`
	LastTransitionTime Time            `json:"lastTransitionTime,omitzero"`
	Reason             string          `json:"reason,omitempty"`
	Message            string          `json:"message,omitempty"`
}

// NamespaceList is a list of Namespaces.
type NamespaceList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []Namespace `json:"items"`
}

// ---- Node ----

// Node is a machine that runs Pods. Cluster-scoped.
type Node struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	Spec       NodeSpec   `json:"spec,omitzero"`
	Status     NodeStatus `json:"status,omitzero"`
}

// NodeSpec is the desired configuration of a Node.
type NodeSpec struct {
	// PodCIDR is the range of Pod IPs assigned to the node, if any.
	PodCIDR  string   `json:"podCIDR,omitempty"`
	PodCIDRs []string `json:"podCIDRs,omitempty" patchStrategy:"merge"`
	// ProviderID identifies the machine to an infrastructure provider.
	ProviderID string `json:"providerID,omitempty"`
	// Unschedulable keeps new Pods off the node (cordon).
	Unschedulable bool `json:"unschedulable,omitempty"`
	// Taints repel Pods that do not tolerate them.
	Taints []Taint `json:"taints,omitempty"`
	// ConfigSource and DoNotUseExternalID are accepted for compatibility.
	ConfigSource       *RawJSON `json:"configSource,omitempty"`
	DoNotUseExternalID string   `json:"externalID,omitempty"`
}

// TaintEffect is what a taint does to Pods that do not tolerate it.
type TaintEffect string

// Taint effects.
const (
	TaintEffectNoSchedule       TaintEffect = "NoSchedule"
	TaintEffectPreferNoSchedule TaintEffect = "PreferNoSchedule"
	TaintEffectNoExecute        TaintEffect = "NoExecute"
)

// Taint marks a Node so that only Pods tolerating it are placed there.
type Taint struct {
	Key       string      `json:"key"`
	Value     string      `json:"value,omitempty"`
	Effect    TaintEffect `json:"effect"`
	TimeAdded *Time       `json:"timeAdded,omitempty"`
}

// NodeStatus is the observed state of a Node, written by its agent.
type NodeStatus struct {
	// Capacity is the node's total resources.
	Capacity ResourceList `json:"capacity,omitempty"`
	// Allocatable is what is available for Pods (capacity minus reserved).
	Allocatable ResourceList    `json:"allocatable,omitempty"`
	Phase       string          `json:"phase,omitempty"`
	Conditions  []NodeCondition `json:"conditions,omitempty" patchMergeKey:"type" patchStrategy:"merge"`
	Addresses   []NodeAddress   `json:"addresses,omitempty" patchMergeKey:"type" patchStrategy:"merge"`
	// DaemonEndpoints is accepted for compatibility and not used.
	DaemonEndpoints *NodeDaemonEndpoints `json:"daemonEndpoints,omitempty"`
	NodeInfo        NodeSystemInfo       `json:"nodeInfo,omitzero"`
	Images          []ContainerImage     `json:"images,omitempty"`
	// VolumesInUse and VolumesAttached are accepted for compatibility.
	VolumesInUse    []string         `json:"volumesInUse,omitempty"`
	VolumesAttached []AttachedVolume `json:"volumesAttached,omitempty"`
	// Config, RuntimeHandlers and Features are kept verbatim for
	// compatibility with Kubernetes output.
	Config          *RawJSON `json:"config,omitempty"`
	RuntimeHandlers *RawJSON `json:"runtimeHandlers,omitempty"`
	Features        *RawJSON `json:"features,omitempty"`
}

// AttachedVolume is a volume attached to a node.
type AttachedVolume struct {
	Name       string `json:"name"`
	DevicePath string `json:"devicePath"`
}

// NodeDaemonEndpoints lists the ports of daemons on a node.
type NodeDaemonEndpoints struct {
	KubeletEndpoint DaemonEndpoint `json:"kubeletEndpoint,omitzero"`
}

// DaemonEndpoint is one daemon port.
type DaemonEndpoint struct {
	Port int32 `json:"Port"`
}

// ContainerImage is an image present on a node.
type ContainerImage struct {
	Names     []string `json:"names,omitempty"`
	SizeBytes int64    `json:"sizeBytes,omitempty"`
}

// NodeConditionType names a node condition.
type NodeConditionType string

// Node condition types.
const (
	NodeReady              NodeConditionType = "Ready"
	NodeMemoryPressure     NodeConditionType = "MemoryPressure"
	NodeDiskPressure       NodeConditionType = "DiskPressure"
	NodePIDPressure        NodeConditionType = "PIDPressure"
	NodeNetworkUnavailable NodeConditionType = "NetworkUnavailable"
)

// ConditionStatus is True, False or Unknown.
type ConditionStatus string

// Condition statuses.
const (
	ConditionTrue    ConditionStatus = "True"
	ConditionFalse   ConditionStatus = "False"
	ConditionUnknown ConditionStatus = "Unknown"
)

// NodeCondition is one aspect of a node's health.
type NodeCondition struct {
	Type               NodeConditionType `json:"type"`
	Status             ConditionStatus   `json:"status"`
	LastHeartbeatTime  Time              `json:"lastHeartbeatTime,omitzero"`
	LastTransitionTime Time              `json:"lastTransitionTime,omitzero"`
	Reason             string            `json:"reason,omitempty"`
	Message            string            `json:"message,omitempty"`
}

// NodeAddressType names the kind of a node address.
type NodeAddressType string

// Node address types.
const (
	NodeHostName    NodeAddressType = "Hostname"
	NodeInternalIP  NodeAddressType = "InternalIP"
	NodeExternalIP  NodeAddressType = "ExternalIP"
	NodeInternalDNS NodeAddressType = "InternalDNS"
	NodeExternalDNS NodeAddressType = "ExternalDNS"
)

// NodeAddress is one address of a node.
type NodeAddress struct {
	Type    NodeAddressType `json:"type"`
	Address string          `json:"address"`
}

// NodeSystemInfo describes the node's software.
type NodeSystemInfo struct {
	MachineID               string `json:"machineID,omitempty"`
	SystemUUID              string `json:"systemUUID,omitempty"`
	BootID                  string `json:"bootID,omitempty"`
	KernelVersion           string `json:"kernelVersion,omitempty"`
	OSImage                 string `json:"osImage,omitempty"`
	ContainerRuntimeVersion string `json:"containerRuntimeVersion,omitempty"`
	// KubeletVersion carries the Flotilla agent version.
	KubeletVersion   string `json:"kubeletVersion,omitempty"`
	KubeProxyVersion string `json:"kubeProxyVersion,omitempty"`
	OperatingSystem  string `json:"operatingSystem,omitempty"`
	Architecture     string `json:"architecture,omitempty"`
	// Swap is kept verbatim for compatibility.
	Swap *RawJSON `json:"swap,omitempty"`
}

// NodeList is a list of Nodes.
type NodeList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []Node `json:"items"`
}

// ---- ConfigMap ----

// ConfigMap holds configuration data for Pods.
type ConfigMap struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	// Immutable forbids changing Data and BinaryData after creation.
	Immutable *bool `json:"immutable,omitempty"`
	// Data holds UTF-8 values; keys must be valid file names.
	Data map[string]string `json:"data,omitempty"`
	// BinaryData holds arbitrary bytes (base64 in JSON); keys must not
	// repeat those of Data.
	BinaryData map[string][]byte `json:"binaryData,omitempty"`
}

// ConfigMapList is a list of ConfigMaps.
type ConfigMapList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []ConfigMap `json:"items"`
}

// ---- Event ----

// Event types.
const (
	EventTypeNormal  = "Normal"
	EventTypeWarning = "Warning"
)

// Event records something a controller, the scheduler or an agent did or
// saw, about one object (core/v1 Event).
type Event struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	// InvolvedObject is the object the event is about.
	InvolvedObject ObjectReference `json:"involvedObject"`
	// Reason is a short CamelCase machine-readable cause, e.g. "Scheduled".
	Reason string `json:"reason,omitempty"`
	// Message is the human-readable description.
	Message string `json:"message,omitempty"`
	// Source names the reporting component and host.
	Source         EventSource `json:"source,omitzero"`
	FirstTimestamp Time        `json:"firstTimestamp,omitzero"`
	LastTimestamp  Time        `json:"lastTimestamp,omitzero"`
	// Count is how often the event occurred (events are deduplicated).
	Count int32 `json:"count,omitempty"`
	// Type is EventTypeNormal or EventTypeWarning.
	Type                string `json:"type,omitempty"`
	EventTime           *Time  `json:"eventTime,omitempty"`
	Action              string `json:"action,omitempty"`
	ReportingController string `json:"reportingComponent,omitempty"`
	ReportingInstance   string `json:"reportingInstance,omitempty"`
	// Series and Related are accepted for compatibility.
	Series  *EventSeries     `json:"series,omitempty"`
	Related *ObjectReference `json:"related,omitempty"`
}

// EventSeries describes a series of repeated events.
type EventSeries struct {
	Count            int32 `json:"count,omitempty"`
	LastObservedTime *Time `json:"lastObservedTime,omitempty"`
}

// EventSource names the component and host that reported an event.
type EventSource struct {
	Component string `json:"component,omitempty"`
	Host      string `json:"host,omitempty"`
}

// ObjectReference points at an object, e.g. from an Event.
type ObjectReference struct {
	Kind            string `json:"kind,omitempty"`
	Namespace       string `json:"namespace,omitempty"`
	Name            string `json:"name,omitempty"`
	UID             UID    `json:"uid,omitempty"`
	APIVersion      string `json:"apiVersion,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
	FieldPath       string `json:"fieldPath,omitempty"`
}

// EventList is a list of Events.
type EventList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []Event `json:"items"`
}
