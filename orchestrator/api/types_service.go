package api

// This file holds the v1 Service and the discovery.k8s.io/v1
// EndpointSlice.

// Service gives a set of Pods (those its selector matches) one stable
// virtual address and name. Flotilla stores and validates Services,
// allocates their cluster IPs and node ports, and keeps their
// EndpointSlices; the proxy and cluster DNS that carry traffic are not
// built yet.
type Service struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	Spec       ServiceSpec   `json:"spec,omitzero"`
	Status     ServiceStatus `json:"status,omitzero"`
}

// ServiceList is a list of Services.
type ServiceList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []Service `json:"items"`
}

// ServiceType says how a Service is exposed.
type ServiceType string

// Service types.
const (
	// ServiceTypeClusterIP (the default) exposes the Service on a cluster
	// IP only.
	ServiceTypeClusterIP ServiceType = "ClusterIP"
	// ServiceTypeNodePort also exposes every port on a node port of every
	// node.
	ServiceTypeNodePort ServiceType = "NodePort"
	// ServiceTypeLoadBalancer is served as NodePort, with the nodes'
	// addresses in status.loadBalancer (as k3s's built-in load balancer).
	ServiceTypeLoadBalancer ServiceType = "LoadBalancer"
	// ServiceTypeExternalName is a DNS alias (CNAME) of spec.externalName;
	// it has no cluster IP, ports are informational.
	ServiceTypeExternalName ServiceType = "ExternalName"
)

// ClusterIPNone is the clusterIP of a headless Service.
const ClusterIPNone = "None"

// ServiceAffinity is a Service's session affinity.
type ServiceAffinity string

// Session affinities.
const (
	ServiceAffinityNone     ServiceAffinity = "None"
	ServiceAffinityClientIP ServiceAffinity = "ClientIP"
)

// ServiceTrafficPolicy is an internal or external traffic policy.
type ServiceTrafficPolicy string

// Traffic policies.
const (
	// ServiceTrafficPolicyCluster routes to every ready endpoint.
	ServiceTrafficPolicyCluster ServiceTrafficPolicy = "Cluster"
	// ServiceTrafficPolicyLocal routes only to endpoints on the node the
	// traffic arrived at.
	ServiceTrafficPolicyLocal ServiceTrafficPolicy = "Local"
)

// IPFamily is IPv4 or IPv6.
type IPFamily string

// IP families; Flotilla serves IPv4 only.
const (
	IPv4Protocol IPFamily = "IPv4"
	IPv6Protocol IPFamily = "IPv6"
)

// IPFamilyPolicy says how many IP families a Service gets.
type IPFamilyPolicy string

// IP family policies.
const (
	IPFamilyPolicySingleStack      IPFamilyPolicy = "SingleStack"
	IPFamilyPolicyPreferDualStack  IPFamilyPolicy = "PreferDualStack"
	IPFamilyPolicyRequireDualStack IPFamilyPolicy = "RequireDualStack"
)

// DefaultClientIPServiceAffinitySeconds is the default timeout of
// ClientIP session affinity (3 hours), and
// MaxClientIPServiceAffinitySeconds its bound (a day).
const (
	DefaultClientIPServiceAffinitySeconds = int32(10800)
	MaxClientIPServiceAffinitySeconds     = int32(86400)
)

// ServiceSpec is the desired state of a Service.
type ServiceSpec struct {
	// Type defaults to ClusterIP.
	Type ServiceType `json:"type,omitempty"`
	// Ports are the Service's ports; at least one unless the Service is
	// headless or ExternalName. Each needs a name when there are several.
	Ports []ServicePort `json:"ports,omitempty" patchMergeKey:"port" patchStrategy:"merge"`
	// Selector picks the Pods behind the Service; empty means the
	// Service's endpoints are managed by hand (no EndpointSlices are
	// made for it).
	Selector map[string]string `json:"selector,omitempty"`
	// ClusterIP is allocated from the cluster's service range when unset;
	// a requested address must be in the range and free; "None" makes the
	// Service headless. Immutable once set (except to and from
	// ExternalName).
	ClusterIP string `json:"clusterIP,omitempty"`
	// ClusterIPs repeats ClusterIP (one address: IPv4 only).
	ClusterIPs []string `json:"clusterIPs,omitempty"`
	// ExternalName is the DNS name an ExternalName Service aliases.
	ExternalName string `json:"externalName,omitempty"`
	// SessionAffinity is None (default) or ClientIP.
	SessionAffinity ServiceAffinity `json:"sessionAffinity,omitempty"`
	// SessionAffinityConfig is defaulted for ClientIP affinity (timeout
	// 10800 s) and refused for None.
	SessionAffinityConfig *SessionAffinityConfig `json:"sessionAffinityConfig,omitempty"`
	// PublishNotReadyAddresses puts endpoints in the EndpointSlices as
	// ready whatever their Pods' readiness.
	PublishNotReadyAddresses bool `json:"publishNotReadyAddresses,omitempty"`
	// ExternalTrafficPolicy (NodePort and LoadBalancer only; default
	// Cluster) says whether node-port traffic may go to other nodes.
	ExternalTrafficPolicy ServiceTrafficPolicy `json:"externalTrafficPolicy,omitempty"`
	// InternalTrafficPolicy (default Cluster) says whether cluster-IP
	// traffic may go to other nodes.
	InternalTrafficPolicy *ServiceTrafficPolicy `json:"internalTrafficPolicy,omitempty"`
	// IPFamilies defaults to [IPv4]; IPv6 is refused.
	IPFamilies []IPFamily `json:"ipFamilies,omitempty"`
	// IPFamilyPolicy defaults to SingleStack; RequireDualStack is refused.
	IPFamilyPolicy *IPFamilyPolicy `json:"ipFamilyPolicy,omitempty"`
	// AllocateLoadBalancerNodePorts (LoadBalancer only; default true):
	// false leaves the node ports of a LoadBalancer Service unallocated.
	AllocateLoadBalancerNodePorts *bool `json:"allocateLoadBalancerNodePorts,omitempty"`
}

// ServicePort is one port of a Service.
type ServicePort struct {
	// Name is a DNS label, required and unique when there are several
	// ports.
	Name string `json:"name,omitempty"`
	// Protocol is TCP (default) or UDP; SCTP is refused.
	Protocol Protocol `json:"protocol,omitempty"`
	// AppProtocol is a hint for the application protocol.
	AppProtocol *string `json:"appProtocol,omitempty"`
	// Port is the Service's port, 1-65535.
	Port int32 `json:"port"`
	// TargetPort is the Pods' port: a number, or the name of a container
	// port (resolved per Pod). Default: Port.
	TargetPort IntOrString `json:"targetPort,omitzero"`
	// NodePort (NodePort and LoadBalancer only) is allocated from the
	// node port range when unset; a requested one must be in the range
	// and free.
	NodePort int32 `json:"nodePort,omitempty"`
}

// SessionAffinityConfig configures session affinity.
type SessionAffinityConfig struct {
	ClientIP *ClientIPConfig `json:"clientIP,omitempty"`
}

// ClientIPConfig configures ClientIP session affinity.
type ClientIPConfig struct {
	// TimeoutSeconds is 1-86400; default 10800.
	TimeoutSeconds *int32 `json:"timeoutSeconds,omitempty"`
}

// ServiceStatus is the observed state of a Service.
type ServiceStatus struct {
	// LoadBalancer is set for LoadBalancer Services by the controller.
	LoadBalancer LoadBalancerStatus `json:"loadBalancer,omitzero"`
}

// LoadBalancerStatus lists the addresses a LoadBalancer Service is
// reachable at: for Flotilla, its nodes' addresses.
type LoadBalancerStatus struct {
	Ingress []LoadBalancerIngress `json:"ingress,omitempty"`
}

// LoadBalancerIngress is one address of a load balancer.
type LoadBalancerIngress struct {
	IP       string `json:"ip,omitempty"`
	Hostname string `json:"hostname,omitempty"`
}

// EndpointSlice lists some of the endpoints of a Service (at most 100 per
// slice when made by Flotilla's controller). Slices the controller makes
// carry the labels LabelServiceName and LabelManagedBy and an owner
// reference to their Service.
type EndpointSlice struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	// AddressType is IPv4, IPv6 or FQDN; immutable.
	AddressType AddressType `json:"addressType"`
	// Endpoints are at most 1000 addresses.
	Endpoints []Endpoint `json:"endpoints"`
	// Ports are the ports every endpoint of the slice serves (at most
	// 100).
	Ports []EndpointPort `json:"ports"`
}

// EndpointSliceList is a list of EndpointSlices.
type EndpointSliceList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []EndpointSlice `json:"items"`
}

// AddressType is the type of an EndpointSlice's addresses.
type AddressType string

// Address types.
const (
	AddressTypeIPv4 AddressType = "IPv4"
	AddressTypeIPv6 AddressType = "IPv6"
	AddressTypeFQDN AddressType = "FQDN"
)

// Labels on the EndpointSlices of a Service.
const (
	// LabelServiceName names the Service a slice belongs to.
	LabelServiceName = "kubernetes.io/service-name"
	// LabelManagedBy names the controller that manages a slice.
	LabelManagedBy = "endpointslice.kubernetes.io/managed-by"
	// EndpointSliceControllerName is LabelManagedBy's value on slices
	// that Flotilla's controller manages (Kubernetes' own value).
	EndpointSliceControllerName = "endpointslice-controller.k8s.io"
)

// Endpoint is one address of an EndpointSlice.
type Endpoint struct {
	// Addresses holds one address (Flotilla: the Pod's IP).
	Addresses []string `json:"addresses"`
	// Conditions say whether the endpoint takes traffic.
	Conditions EndpointConditions `json:"conditions,omitzero"`
	// Hostname is the Pod's spec.hostname, if any.
	Hostname *string `json:"hostname,omitempty"`
	// TargetRef is the Pod behind the endpoint.
	TargetRef *ObjectReference `json:"targetRef,omitempty"`
	// NodeName is the Pod's node.
	NodeName *string `json:"nodeName,omitempty"`
	// Zone is the node's topology.kubernetes.io/zone label.
	Zone *string `json:"zone,omitempty"`
}

// EndpointConditions are an endpoint's conditions, as Kubernetes defines
// them.
type EndpointConditions struct {
	// Ready: the Pod is ready and not terminating (or the Service
	// publishes not-ready addresses).
	Ready *bool `json:"ready,omitempty"`
	// Serving: the Pod is ready, whether terminating or not.
	Serving *bool `json:"serving,omitempty"`
	// Terminating: the Pod is being deleted.
	Terminating *bool `json:"terminating,omitempty"`
}

// EndpointPort is one port of an EndpointSlice.
type EndpointPort struct {
	// Name is the Service port's name.
	Name *string `json:"name,omitempty"`
	// Protocol is TCP or UDP.
	Protocol *Protocol `json:"protocol,omitempty"`
	// Port is the endpoints' port number (a named targetPort resolved
	// from the Pods' container ports).
	Port *int32 `json:"port,omitempty"`
	// AppProtocol is the Service port's appProtocol.
	AppProtocol *string `json:"appProtocol,omitempty"`
}
