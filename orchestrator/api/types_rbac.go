package api

// This file holds rbac.authorization.k8s.io/v1: Role, ClusterRole,
// RoleBinding and ClusterRoleBinding, with Kubernetes' fields and JSON.

// RbacV1 is the API version of the RBAC kinds.
const RbacV1 = "rbac.authorization.k8s.io/v1"

// RBAC verbs, resources and names with a meaning of their own.
const (
	// VerbAll matches every verb, APIGroupAll every group, ResourceAll
	// every resource and NonResourceAll every path in a PolicyRule.
	VerbAll        = "*"
	APIGroupAll    = "*"
	ResourceAll    = "*"
	NonResourceAll = "*"
	// AutoUpdateAnnotation marks the built-in roles and bindings the
	// leader keeps current at start (Kubernetes' bootstrap policy).
	AutoUpdateAnnotation = "rbac.authorization.kubernetes.io/autoupdate"
	// GroupName of rbac.authorization.k8s.io, the apiGroup of a roleRef
	// and of User and Group subjects.
	RbacGroupName = "rbac.authorization.k8s.io"
	// Subject kinds.
	UserKind           = "User"
	GroupKind          = "Group"
	ServiceAccountKind = "ServiceAccount"
)

// PolicyRule grants verbs on resources or on non-resource URLs.
type PolicyRule struct {
	// Verbs the rule grants: get, list, create, ... or "*". Required.
	Verbs []string `json:"verbs"`
	// APIGroups of the resources; "" is the core group, "*" every group.
	APIGroups []string `json:"apiGroups,omitempty"`
	// Resources the rule applies to: "pods", "pods/log", "*", "*/status".
	Resources []string `json:"resources,omitempty"`
	// ResourceNames, when set, limit the rule to objects of these names.
	ResourceNames []string `json:"resourceNames,omitempty"`
	// NonResourceURLs: paths such as "/healthz" or "/api/*" (a trailing
	// "*" matches every path with that prefix). Only in ClusterRoles,
	// and never with Resources.
	NonResourceURLs []string `json:"nonResourceURLs,omitempty"`
}

// Subject is who a binding grants a role to.
type Subject struct {
	// Kind is User, Group or ServiceAccount.
	Kind string `json:"kind"`
	// APIGroup is rbac.authorization.k8s.io for User and Group, "" for
	// ServiceAccount (defaulted so).
	APIGroup string `json:"apiGroup,omitempty"`
	Name     string `json:"name"`
	// Namespace of a ServiceAccount; must be empty for users and groups.
	Namespace string `json:"namespace,omitempty"`
}

// RoleRef names the role a binding grants; immutable.
type RoleRef struct {
	APIGroup string `json:"apiGroup"`
	// Kind is Role (RoleBindings only) or ClusterRole.
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// AggregationRule of a ClusterRole. Flotilla refuses it (Forbidden: not
// supported yet); the type is here so that manifests carrying it decode
// and get that clear error.
type AggregationRule struct {
	ClusterRoleSelectors []LabelSelector `json:"clusterRoleSelectors,omitempty"`
}

// Role grants rules within its namespace.
type Role struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	Rules      []PolicyRule `json:"rules"`
}

// RoleList is a list of Roles.
type RoleList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []Role `json:"items"`
}

// ClusterRole grants rules cluster-wide (through a ClusterRoleBinding) or
// within one namespace (through a RoleBinding).
type ClusterRole struct {
	TypeMeta        `json:",inline"`
	ObjectMeta      `json:"metadata,omitzero"`
	Rules           []PolicyRule     `json:"rules"`
	AggregationRule *AggregationRule `json:"aggregationRule,omitempty"`
}

// ClusterRoleList is a list of ClusterRoles.
type ClusterRoleList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []ClusterRole `json:"items"`
}

// RoleBinding grants a Role or ClusterRole's rules to subjects within the
// binding's namespace.
type RoleBinding struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	Subjects   []Subject `json:"subjects,omitempty"`
	RoleRef    RoleRef   `json:"roleRef"`
}

// RoleBindingList is a list of RoleBindings.
type RoleBindingList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []RoleBinding `json:"items"`
}

// ClusterRoleBinding grants a ClusterRole's rules to subjects everywhere.
type ClusterRoleBinding struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	Subjects   []Subject `json:"subjects,omitempty"`
	RoleRef    RoleRef   `json:"roleRef"`
}

// ClusterRoleBindingList is a list of ClusterRoleBindings.
type ClusterRoleBindingList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []ClusterRoleBinding `json:"items"`
}
