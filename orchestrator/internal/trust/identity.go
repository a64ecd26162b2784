package trust

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
)

// Role is what a node certificate allows its holder to be.
type Role string

// Roles.
const (
	// RoleServer: a Raft voter that runs controllers when it leads.
	RoleServer Role = "server"
	// RoleAgent: a node that only runs Pods.
	RoleAgent Role = "agent"
)

// Certificate subject conventions. They follow Kubernetes' reading of a
// client certificate (CN is the user, O the groups), so the API server can
// authenticate a node by its certificate as the kubelet is authenticated.
const (
	// UserPrefix starts the CN of every node certificate: CN is
	// UserPrefix + NodeName.
	UserPrefix = "system:node:"
	// GroupNodes is in the O of every node certificate.
	GroupNodes = "system:nodes"
	// GroupServers is in the O of a RoleServer certificate.
	GroupServers = "flotilla:servers"
	// GroupAgents is in the O of a RoleAgent certificate.
	GroupAgents = "flotilla:agents"
)

// Identity is who a node certificate names.
type Identity struct {
	// NodeName is the node's name: a DNS-1123 subdomain (lower-case
	// letters, digits, '-' and '.', at most 253 characters).
	NodeName string
	// Role is RoleServer or RoleAgent.
	Role Role
}

// UserName is the Kubernetes user the certificate authenticates as:
// "system:node:<NodeName>".
func (id Identity) UserName() string { return UserPrefix + id.NodeName }

// Groups are the Kubernetes groups the certificate carries: system:nodes
// and flotilla:servers or flotilla:agents.
func (id Identity) Groups() []string {
	return []string{GroupNodes, roleGroup(id.Role)}
}

// Validate reports a bad NodeName or Role; the error wraps
// ErrInvalidArgument and names the field.
func (id Identity) Validate() error { return id.validate("") }

// validate is Validate with path before the field names.
func (id Identity) validate(path string) error {
	if err := validateNodeName(id.NodeName); err != nil {
		return fmt.Errorf("%w: %sNodeName: %s", ErrInvalidArgument, path, err)
	}
	if err := validateRole(id.Role); err != nil {
		return fmt.Errorf("%w: %sRole: %s", ErrInvalidArgument, path, err)
	}
	return nil
}

// IdentityOf reads the Identity a node certificate names, without
// verifying it (Pool.Verify does that). It fails with ErrNotNodeCertificate
// when cert is a CA certificate, its CN is not "system:node:<name>" with a
// valid name, or its O is not exactly system:nodes plus one role group.
func IdentityOf(cert *x509.Certificate) (Identity, error) {
	if cert == nil {
		return Identity{}, fmt.Errorf("%w: nil certificate", ErrNoCertificate)
	}
	cn := cert.Subject.CommonName
	if cert.IsCA {
		return Identity{}, fmt.Errorf("%w: %q is a CA certificate", ErrNotNodeCertificate, cn)
	}
	name, ok := strings.CutPrefix(cn, UserPrefix)
	if !ok {
		return Identity{}, fmt.Errorf("%w: CN %q does not start with %q", ErrNotNodeCertificate, cn, UserPrefix)
	}
	if err := validateNodeName(name); err != nil {
		return Identity{}, fmt.Errorf("%w: CN %q: node name %s", ErrNotNodeCertificate, cn, err)
	}
	orgs := cert.Subject.Organization
	var role Role
	switch {
	case len(orgs) != 2 || !slices.Contains(orgs, GroupNodes):
	case slices.Contains(orgs, GroupServers):
		role = RoleServer
	case slices.Contains(orgs, GroupAgents):
		role = RoleAgent
	}
	if role == "" {
		return Identity{}, fmt.Errorf("%w: CN %q: O is %q; want %q and one of %q, %q",
			ErrNotNodeCertificate, cn, orgs, GroupNodes, GroupServers, GroupAgents)
	}
	return Identity{NodeName: name, Role: role}, nil
}

func roleGroup(r Role) string {
	if r == RoleServer {
		return GroupServers
	}
	return GroupAgents
}

func validateRole(r Role) error {
	if r != RoleServer && r != RoleAgent {
		return fmt.Errorf("%q is not %q or %q", r, RoleServer, RoleAgent)
	}
	return nil
}

// validateNodeName checks a DNS-1123 subdomain, the rule Kubernetes (and
// orchestrator.Config) applies to Node names.
func validateNodeName(name string) error {
	if name == "" {
		return fmt.Errorf("is empty")
	}
	if len(name) > 253 {
		return fmt.Errorf("is %d characters; at most 253", len(name))
	}
	for label := range strings.SplitSeq(name, ".") {
		if !isDNSLabel(label, false) {
			return fmt.Errorf("%q is not a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', starting and ending with a letter or digit)", name)
		}
	}
	return nil
}

// validateDNSName checks a name for a certificate's DNS SANs: like a node
// name, but upper-case letters are allowed (DNS is case-insensitive).
func validateDNSName(name string) error {
	if name == "" {
		return fmt.Errorf("is empty")
	}
	if len(name) > 253 {
		return fmt.Errorf("is %d characters; at most 253", len(name))
	}
	for label := range strings.SplitSeq(name, ".") {
		if !isDNSLabel(label, true) {
			return fmt.Errorf("%q is not a DNS name (letters, digits, '-' and '.')", name)
		}
	}
	return nil
}

func isDNSLabel(label string, upper bool) bool {
	if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
		return false
	}
	for i := 0; i < len(label); i++ {
		c := label[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
		case upper && c >= 'A' && c <= 'Z':
		default:
			return false
		}
	}
	return true
}
