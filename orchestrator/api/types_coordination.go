package api

// This file holds the coordination.k8s.io/v1 Lease.

// Lease is a lock with a holder and a term, renewed by its holder. Every
// Node's agent holds the Lease named after its Node in the
// kube-node-lease Namespace ([NodeLeaseNamespace]) and renews it as its
// heartbeat; the node lifecycle controller reads liveness from it.
type Lease struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	Spec       LeaseSpec `json:"spec,omitzero"`
}

// LeaseList is a list of Leases.
type LeaseList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []Lease `json:"items"`
}

// LeaseSpec is the state of a Lease. Every field is optional.
type LeaseSpec struct {
	// HolderIdentity names the current holder (a Node's name for a node
	// Lease).
	HolderIdentity *string `json:"holderIdentity,omitempty"`
	// LeaseDurationSeconds is how long, after RenewTime, the holder is
	// considered to hold it without renewing; at least 1 when set.
	LeaseDurationSeconds *int32 `json:"leaseDurationSeconds,omitempty"`
	// AcquireTime is when the current holder acquired it.
	AcquireTime *MicroTime `json:"acquireTime,omitempty"`
	// RenewTime is when the current holder last renewed it.
	RenewTime *MicroTime `json:"renewTime,omitempty"`
	// LeaseTransitions counts the changes of holder; at least 0.
	LeaseTransitions *int32 `json:"leaseTransitions,omitempty"`
}
