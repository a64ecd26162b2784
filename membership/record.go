package membership

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"strconv"
	"strings"
)

// MaxRecordSize is the largest encoded node record, in bytes. It is memberlist's
// limit on node metadata (memberlist.MetaMaxSize).
const MaxRecordSize = 512

// Protocol versions of the node record and the rules built on it. A node only
// accepts peers whose version lies in [ProtocolVersionMin, ProtocolVersionMax].
const (
	ProtocolVersionMin = 1
	ProtocolVersionMax = 1
)

// Role says what a node does in the cluster.
type Role string

const (
	// RoleServer nodes take part in Raft (as voters or non-voters).
	RoleServer Role = "server"
	// RoleAgent nodes run workloads only and never become Raft members.
	RoleAgent Role = "agent"
)

// Capacity is what a node offers to workloads. Zero fields mean "not reported".
type Capacity struct {
	MilliCPU    int64 `json:"cpu,omitempty"`  // CPU in thousandths of a core
	MemoryBytes int64 `json:"mem,omitempty"`  // memory in bytes
	Pods        int   `json:"pods,omitempty"` // maximum number of pods
}

// Record is the node record every member gossips in its memberlist metadata.
// It is encoded as compact JSON and must fit in MaxRecordSize bytes, so keep
// labels few and short.
type Record struct {
	// Name is the node name; it always equals the memberlist node name and is
	// filled in by Membership.
	Name string `json:"n"`
	// Role is RoleServer or RoleAgent. Required.
	Role Role `json:"r"`
	// RPCAddr is the Raft and RPC address (host:port, or a node name on an
	// in-memory test network); servers must set it.
	RPCAddr string `json:"rpc,omitempty"`
	// APIAddr is the client API address (host:port), optional.
	APIAddr string `json:"api,omitempty"`
	// Protocol is the membership protocol version; filled in by Membership.
	Protocol int `json:"v"`
	// Capacity is what the node offers to workloads.
	Capacity Capacity `json:"cap,omitzero"`
	// Labels are the node's labels (Kubernetes-style key/value pairs).
	Labels map[string]string `json:"l,omitempty"`
	// Bootstrapped reports that the node already belongs to a Raft cluster
	// (it has Raft state). Autopilot sets it so that no server bootstraps a
	// second cluster next to an existing one.
	Bootstrapped bool `json:"b,omitempty"`
	// Leaving is set by Membership.Leave just before the leave message, so
	// peers can tell a graceful leave from a failure.
	Leaving bool `json:"x,omitempty"`
}

// Clone returns a deep copy of r.
func (r Record) Clone() Record {
	r.Labels = maps.Clone(r.Labels)
	return r
}

// Validate reports every problem with r, each naming the field.
// The errors wrap ErrInvalidRecord.
func (r Record) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s", ErrInvalidRecord, fmt.Sprintf(format, args...)))
	}
	if r.Name == "" {
		bad("name: must not be empty")
	}
	switch r.Role {
	case RoleServer:
		if r.RPCAddr == "" {
			bad("rpcAddr: required for role %q", r.Role)
		}
	case RoleAgent:
	default:
		bad("role: %q is not %q or %q", r.Role, RoleServer, RoleAgent)
	}
	if r.RPCAddr != "" {
		if err := checkAddr(r.RPCAddr); err != nil {
			bad("rpcAddr: %v", err)
		}
	}
	if r.APIAddr != "" {
		if err := checkAddr(r.APIAddr); err != nil {
			bad("apiAddr: %v", err)
		}
	}
	if r.Protocol < 1 {
		bad("protocol: %d is not a valid version", r.Protocol)
	}
	if r.Capacity.MilliCPU < 0 {
		bad("capacity.cpu: %d is negative", r.Capacity.MilliCPU)
	}
	if r.Capacity.MemoryBytes < 0 {
		bad("capacity.mem: %d is negative", r.Capacity.MemoryBytes)
	}
	if r.Capacity.Pods < 0 {
		bad("capacity.pods: %d is negative", r.Capacity.Pods)
	}
	for k := range r.Labels {
		if k == "" {
			bad("labels: empty key")
		}
	}
	return errors.Join(errs...)
}

// checkAddr accepts host:port, or (for in-memory test networks, such as
// raftstore's) a plain name; either way printable, without spaces, at most
// 255 bytes. A host:port must have a valid port.
func checkAddr(s string) error {
	if len(s) > 255 {
		return fmt.Errorf("%d bytes, at most 255", len(s))
	}
	for _, c := range s {
		if c <= ' ' || c == 0x7f {
			return fmt.Errorf("%q contains a space or control character", s)
		}
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(s, ":") {
			return fmt.Errorf("%q: %v", s, err)
		}
		return nil // an in-memory address such as "s1"
	}
	if host == "" {
		return fmt.Errorf("%q has no host", s)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("%q has an invalid port", s)
	}
	return nil
}

// encode validates r and returns its wire form.
func (r Record) encode() ([]byte, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidRecord, err)
	}
	if len(b) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes encoded, limit %d (shorten labels)", ErrRecordTooLarge, len(b), MaxRecordSize)
	}
	return b, nil
}

// decodeRecord parses and validates a record received from the peer called
// name. Unknown JSON fields are tolerated so that newer nodes of the same
// protocol version may add optional fields.
func decodeRecord(name string, b []byte) (Record, error) {
	var r Record
	if len(b) > MaxRecordSize {
		return r, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, len(b), MaxRecordSize)
	}
	if len(b) == 0 {
		return r, fmt.Errorf("%w: empty metadata (not a Flotilla node?)", ErrInvalidRecord)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("%w: %v", ErrInvalidRecord, err)
	}
	if dec.More() {
		return r, fmt.Errorf("%w: trailing data after record", ErrInvalidRecord)
	}
	if err := r.Validate(); err != nil {
		return r, err
	}
	if r.Name != name {
		return r, fmt.Errorf("%w: name: record says %q but the node is %q", ErrInvalidRecord, r.Name, name)
	}
	return r, nil
}
