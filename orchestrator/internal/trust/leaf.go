package trust

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// ClientRequest describes a client certificate for a person or program
// that is not a node: a kubeconfig's user, read by the API server the way
// Kubernetes reads one (CN is the user name, each O a group).
type ClientRequest struct {
	// CommonName is the user name (required; 1 to 64 printable characters,
	// the X.509 limit). It must not start with "system:node:", which only
	// node certificates (Issue) carry.
	CommonName string
	// Organizations are the user's groups (each non-empty, at most 64
	// characters, no duplicates).
	Organizations []string
	// PublicKey is the holder's public key (required).
	PublicKey crypto.PublicKey
	// NotBefore is "now" (required); the certificate is valid from
	// NotBefore-Backdate.
	NotBefore time.Time
	// Validity is how long the certificate lasts from NotBefore
	// (DefaultCertValidity if 0), cut short to the CA certificate's
	// NotAfter.
	Validity time.Duration
}

// IssueClient signs a client certificate for req: CN and O as given,
// extended key usage client authentication only (it can never serve, nor
// pass as a node: Pool.Verify refuses its subject), a random serial.
//
// It fails with ErrInvalidArgument naming the field of req that is bad
// (CommonName empty, too long or in the node namespace, an empty, long or
// repeated organization, a missing or unsupported public key, zero
// NotBefore, negative Validity), and with ErrExpired or ErrNotYetValid when
// the CA certificate is not valid at req.NotBefore.
func (ca *CA) IssueClient(req ClientRequest) (*x509.Certificate, error) {
	if err := checkSubjectText(req.CommonName); err != nil {
		return nil, fmt.Errorf("%w: ClientRequest.CommonName: %s", ErrInvalidArgument, err)
	}
	if strings.HasPrefix(req.CommonName, UserPrefix) {
		return nil, fmt.Errorf("%w: ClientRequest.CommonName: %q is a node's name (prefix %q); node certificates come from Issue",
			ErrInvalidArgument, req.CommonName, UserPrefix)
	}
	for i, o := range req.Organizations {
		if err := checkSubjectText(o); err != nil {
			return nil, fmt.Errorf("%w: ClientRequest.Organizations[%d]: %s", ErrInvalidArgument, i, err)
		}
		if slices.Contains(req.Organizations[:i], o) {
			return nil, fmt.Errorf("%w: ClientRequest.Organizations[%d]: %q is repeated", ErrInvalidArgument, i, o)
		}
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: req.CommonName, Organization: slices.Clone(req.Organizations)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return ca.issueLeaf("ClientRequest", tmpl, req.PublicKey, req.NotBefore, req.Validity)
}

// ServingRequest describes a TLS serving certificate, such as the one a
// server node's Kubernetes API listener presents.
type ServingRequest struct {
	// CommonName is the subject's CN (required; 1 to 64 printable
	// characters). Clients check the SANs, not the CN.
	CommonName string
	// DNSNames and IPs are the names clients may dial (at least one of
	// them; duplicates are dropped).
	DNSNames []string
	IPs      []net.IP
	// PublicKey is the server's public key (required).
	PublicKey crypto.PublicKey
	// NotBefore is "now" (required); the certificate is valid from
	// NotBefore-Backdate.
	NotBefore time.Time
	// Validity is how long the certificate lasts from NotBefore
	// (DefaultCertValidity if 0), cut short to the CA certificate's
	// NotAfter.
	Validity time.Duration
}

// IssueServing signs a serving certificate for req: extended key usage
// server authentication only (it never authenticates a client), the SANs
// given, a random serial.
//
// It fails with ErrInvalidArgument naming the field of req that is bad
// (CommonName, a DNS name or IP, no SAN at all, a missing or unsupported
// public key, zero NotBefore, negative Validity), and with ErrExpired or
// ErrNotYetValid when the CA certificate is not valid at req.NotBefore.
func (ca *CA) IssueServing(req ServingRequest) (*x509.Certificate, error) {
	if err := checkSubjectText(req.CommonName); err != nil {
		return nil, fmt.Errorf("%w: ServingRequest.CommonName: %s", ErrInvalidArgument, err)
	}
	var dnsNames []string
	for i, n := range req.DNSNames {
		if err := validateDNSName(n); err != nil {
			return nil, fmt.Errorf("%w: ServingRequest.DNSNames[%d]: %s", ErrInvalidArgument, i, err)
		}
		if !slices.Contains(dnsNames, n) {
			dnsNames = append(dnsNames, n)
		}
	}
	var ips []net.IP
	for i, ip := range req.IPs {
		if len(ip) != net.IPv4len && len(ip) != net.IPv6len {
			return nil, fmt.Errorf("%w: ServingRequest.IPs[%d]: %d bytes is not an IP address", ErrInvalidArgument, i, len(ip))
		}
		if !slices.ContainsFunc(ips, ip.Equal) {
			ips = append(ips, ip)
		}
	}
	if len(dnsNames) == 0 && len(ips) == 0 {
		return nil, fmt.Errorf("%w: ServingRequest.DNSNames: required (or IPs): a serving certificate must name its server", ErrInvalidArgument)
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: req.CommonName},
		DNSNames:    dnsNames,
		IPAddresses: ips,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	return ca.issueLeaf("ServingRequest", tmpl, req.PublicKey, req.NotBefore, req.Validity)
}

// issueLeaf checks the fields every leaf shares, fills in validity and key
// usage, and signs tmpl.
func (ca *CA) issueLeaf(what string, tmpl *x509.Certificate, pub crypto.PublicKey, notBefore time.Time, validity time.Duration) (*x509.Certificate, error) {
	if err := checkPublicKey(pub); err != nil {
		return nil, fmt.Errorf("%w: %s.PublicKey: %s", ErrInvalidArgument, what, err)
	}
	if notBefore.IsZero() {
		return nil, fmt.Errorf("%w: %s.NotBefore: required", ErrInvalidArgument, what)
	}
	if validity < 0 {
		return nil, fmt.Errorf("%w: %s.Validity: %v is negative", ErrInvalidArgument, what, validity)
	}
	if err := checkValidity(ca.cert, notBefore, "CA certificate"); err != nil {
		return nil, err
	}
	if validity == 0 {
		validity = DefaultCertValidity
	}
	tmpl.NotBefore = notBefore.Add(-Backdate)
	tmpl.NotAfter = notBefore.Add(validity)
	if tmpl.NotAfter.After(ca.cert.NotAfter) {
		tmpl.NotAfter = ca.cert.NotAfter
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	if _, ok := pub.(*rsa.PublicKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	tmpl.BasicConstraintsValid = true
	cert, err := ca.sign(tmpl, pub)
	if err != nil {
		return nil, fmt.Errorf("trust: issue %q: %w", tmpl.Subject.CommonName, err)
	}
	return cert, nil
}

// checkSubjectText checks a CN or O value: 1 to 64 characters (RFC 5280's
// upper bounds), printable, no control characters.
func checkSubjectText(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("is empty")
	case len(s) > 64:
		return fmt.Errorf("is %d bytes; at most 64", len(s))
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%q holds a control character", s)
		}
	}
	return nil
}

// User is who a client certificate names, in Kubernetes' reading: the CN
// is the user name, each O a group.
type User struct {
	Name   string
	Groups []string
	// Serial is the certificate's serial in lower-case hexadecimal (as
	// the revocation list keys it).
	Serial string
}

// VerifyClient checks that chain[0] is a trusted client certificate at
// now — any subject, a node's or a user's from IssueClient — and returns
// whom it names. The checks and errors are Verify's for
// x509.ExtKeyUsageClientAuth (ErrNoCertificate, ErrNotNodeCertificate for
// a CA certificate used as a leaf, ErrNotYetValid, ErrExpired,
// ErrUnknownAuthority, ErrWrongUsage, ErrInvalidChain, ErrRevoked), except
// that the subject need not name a node; a certificate with an empty CN
// fails with ErrInvalidArgument.
func (p *Pool) VerifyClient(chain []*x509.Certificate, now time.Time) (User, error) {
	st := p.load()
	leaf, err := st.verifyLeaf(chain, x509.ExtKeyUsageClientAuth, now)
	if err != nil {
		return User{}, err
	}
	if leaf.Subject.CommonName == "" {
		return User{}, fmt.Errorf("%w: the certificate (serial %s) has no CN to name its user", ErrInvalidArgument, leaf.SerialNumber.Text(16))
	}
	return User{Name: leaf.Subject.CommonName, Groups: slices.Clone(leaf.Subject.Organization), Serial: leaf.SerialNumber.Text(16)}, nil
}
