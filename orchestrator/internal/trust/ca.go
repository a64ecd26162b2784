package trust

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"slices"
	"time"
)

// Defaults and fixed values of issued certificates.
const (
	// CACommonName is the CN of a CA made by NewCA.
	CACommonName = "flotilla-cluster-ca"
	// DefaultCAValidity is the validity of NewCA and Renew when given 0.
	DefaultCAValidity = 10 * 365 * 24 * time.Hour
	// DefaultCertValidity is the validity of Issue when given 0.
	DefaultCertValidity = 365 * 24 * time.Hour
	// Backdate is subtracted from "now" for NotBefore, so a peer whose clock
	// is a little behind accepts a certificate made a moment ago.
	Backdate = time.Minute
)

// CA is the cluster certificate authority: a private key and its CA
// certificate. NewCA makes one with an ECDSA P-256 key; ParseCA loads one
// an operator supplied. A CA is immutable and safe for concurrent use.
type CA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// NewCA makes a cluster CA: a new ECDSA P-256 key and a self-signed CA
// certificate (CN "flotilla-cluster-ca", a random 128-bit serial, path
// length 0 so it can sign only leaves, valid from now-Backdate for validity,
// DefaultCAValidity if 0). It fails with ErrInvalidArgument for a negative
// validity, and otherwise only if the random source fails.
func NewCA(now time.Time, validity time.Duration) (*CA, error) {
	if validity < 0 {
		return nil, fmt.Errorf("%w: validity: %v is negative", ErrInvalidArgument, validity)
	}
	if validity == 0 {
		validity = DefaultCAValidity
	}
	key, err := NewKey()
	if err != nil {
		return nil, err
	}
	spki, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, fmt.Errorf("trust: new CA: %w", err)
	}
	skid := sha256.Sum256(spki)
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: CACommonName},
		SubjectKeyId:          skid[:20], // RFC 7093 method 1: leftmost 160 bits of SHA-256
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
	}
	cert, err := selfSign(tmpl, key, now, validity)
	if err != nil {
		return nil, fmt.Errorf("trust: new CA: %w", err)
	}
	return &CA{cert: cert, key: key}, nil
}

// ParseCA loads a CA an operator supplied: exactly one certificate in
// certPEM and its private key in keyPEM (see ParseKey for the formats).
// The key may be ECDSA (P-256, P-384, P-521), Ed25519 or RSA of at least
// 2048 bits. The CA certificate may be self-signed or issued by another
// authority (an intermediate); leaves are always issued directly by it.
//
// It fails with ErrInvalidArgument, naming the problem, when the PEM holds
// no or several certificates, the certificate is not a CA (basic
// constraints) or may not sign certificates (key usage), the key does not
// parse, is unsupported, or does not match the certificate; with
// ErrExpired or ErrNotYetValid when the certificate is outside its
// validity at the time of the call.
func ParseCA(certPEM, keyPEM []byte) (*CA, error) {
	certs, err := ParseCerts(certPEM)
	if err != nil {
		return nil, fmt.Errorf("trust: CA certificate: %w", err)
	}
	if len(certs) != 1 {
		return nil, fmt.Errorf("%w: CA certificate: the PEM holds %d certificates; want exactly one", ErrInvalidArgument, len(certs))
	}
	cert := certs[0]
	cn := cert.Subject.CommonName
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, fmt.Errorf("%w: CA certificate: %q is not a CA (basic constraints do not say CA:TRUE)", ErrInvalidArgument, cn)
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("%w: CA certificate: %q may not sign certificates (key usage lacks certSign)", ErrInvalidArgument, cn)
	}
	if err := checkPublicKey(cert.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: CA certificate: %q: %s", ErrInvalidArgument, cn, err)
	}
	key, err := ParseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("trust: CA key: %w", err)
	}
	if !sameKey(key, cert.PublicKey) {
		return nil, fmt.Errorf("%w: CA key: the private key does not match the CA certificate %q", ErrInvalidArgument, cn)
	}
	if err := checkValidity(cert, time.Now(), "CA certificate"); err != nil {
		return nil, err
	}
	return &CA{cert: cert, key: key}, nil
}

// Cert is the CA certificate. Callers must not modify it.
func (ca *CA) Cert() *x509.Certificate { return ca.cert }

// CertPEM is the CA certificate as a PEM block.
func (ca *CA) CertPEM() []byte { return EncodeCerts(ca.cert) }

// KeyPEM is the CA private key as a PEM "PRIVATE KEY" block (PKCS#8). It
// is the cluster's most sensitive secret: store it encrypted and never log
// it. The error comes from crypto/x509 and cannot happen for keys this
// package accepted.
func (ca *CA) KeyPEM() ([]byte, error) { return MarshalKey(ca.key) }

// Fingerprint identifies the CA by its key: "sha256:" and the hex SHA-256
// of its SubjectPublicKeyInfo, as kubeadm's discovery token CA cert hash.
// Renew keeps it.
func (ca *CA) Fingerprint() string { return Fingerprint(ca.cert) }

// Fingerprint is "sha256:<64 hex>" of cert's SubjectPublicKeyInfo, or ""
// for nil.
func Fingerprint(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return fingerprintPrefix + hex.EncodeToString(sum[:])
}

const fingerprintPrefix = "sha256:"

// Renew makes a new CA certificate for the same key and subject: a new
// serial, valid from now-Backdate for validity (DefaultCAValidity if 0).
// Everything issued under the old certificate verifies against the new
// one, and Fingerprint is unchanged; trust both in the Pool while nodes
// move over. It fails with ErrInvalidArgument for a negative validity and
// for a CA certificate issued by another authority (renew that one with
// its issuer and ParseCA the result).
func (ca *CA) Renew(now time.Time, validity time.Duration) (*CA, error) {
	if validity < 0 {
		return nil, fmt.Errorf("%w: validity: %v is negative", ErrInvalidArgument, validity)
	}
	if validity == 0 {
		validity = DefaultCAValidity
	}
	old := ca.cert
	if !bytes.Equal(old.RawIssuer, old.RawSubject) || old.CheckSignatureFrom(old) != nil {
		return nil, fmt.Errorf("%w: renew: CA certificate %q is issued by %q, not self-signed; renew it with its issuer",
			ErrInvalidArgument, old.Subject.CommonName, old.Issuer.CommonName)
	}
	tmpl := &x509.Certificate{
		RawSubject:                  old.RawSubject,
		SubjectKeyId:                old.SubjectKeyId,
		AuthorityKeyId:              old.AuthorityKeyId,
		KeyUsage:                    old.KeyUsage,
		ExtKeyUsage:                 old.ExtKeyUsage,
		UnknownExtKeyUsage:          old.UnknownExtKeyUsage,
		BasicConstraintsValid:       true,
		IsCA:                        true,
		MaxPathLen:                  old.MaxPathLen,
		MaxPathLenZero:              old.MaxPathLenZero,
		PermittedDNSDomainsCritical: old.PermittedDNSDomainsCritical,
		PermittedDNSDomains:         old.PermittedDNSDomains,
		ExcludedDNSDomains:          old.ExcludedDNSDomains,
		PermittedIPRanges:           old.PermittedIPRanges,
		ExcludedIPRanges:            old.ExcludedIPRanges,
		PermittedEmailAddresses:     old.PermittedEmailAddresses,
		ExcludedEmailAddresses:      old.ExcludedEmailAddresses,
		PermittedURIDomains:         old.PermittedURIDomains,
		ExcludedURIDomains:          old.ExcludedURIDomains,
	}
	cert, err := selfSign(tmpl, ca.key, now, validity)
	if err != nil {
		return nil, fmt.Errorf("trust: renew CA: %w", err)
	}
	return &CA{cert: cert, key: ca.key}, nil
}

// IssueRequest describes a node certificate to issue.
type IssueRequest struct {
	// Identity is the node the certificate names (required).
	Identity Identity
	// PublicKey is the node's own public key (required): the CA never
	// sees a node's private key.
	PublicKey crypto.PublicKey
	// DNSNames are extra DNS SANs; Identity.NodeName is always included
	// (first) and duplicates are dropped.
	DNSNames []string
	// IPs are IP SANs: the node's advertised addresses.
	IPs []net.IP
	// NotBefore is "now" (required); the certificate is valid from
	// NotBefore-Backdate.
	NotBefore time.Time
	// Validity is how long the certificate lasts from NotBefore
	// (DefaultCertValidity if 0), cut short to the CA certificate's
	// NotAfter.
	Validity time.Duration
}

// Issue signs a node certificate for req: CN "system:node:<NodeName>",
// O ["system:nodes", "flotilla:servers" or "flotilla:agents"], extended key
// usage for both client and server authentication, a random serial. It
// fails with ErrInvalidArgument naming the field of req that is bad
// (identity, missing or unsupported public key, a DNS name or IP, zero
// NotBefore, negative Validity), and with ErrExpired or ErrNotYetValid when
// the CA certificate is not valid at req.NotBefore.
func (ca *CA) Issue(req IssueRequest) (*x509.Certificate, error) {
	if err := req.Identity.validate("IssueRequest.Identity."); err != nil {
		return nil, err
	}
	if err := checkPublicKey(req.PublicKey); err != nil {
		return nil, fmt.Errorf("%w: IssueRequest.PublicKey: %s", ErrInvalidArgument, err)
	}
	if req.NotBefore.IsZero() {
		return nil, fmt.Errorf("%w: IssueRequest.NotBefore: required", ErrInvalidArgument)
	}
	if req.Validity < 0 {
		return nil, fmt.Errorf("%w: IssueRequest.Validity: %v is negative", ErrInvalidArgument, req.Validity)
	}
	dnsNames := []string{req.Identity.NodeName}
	for i, n := range req.DNSNames {
		if err := validateDNSName(n); err != nil {
			return nil, fmt.Errorf("%w: IssueRequest.DNSNames[%d]: %s", ErrInvalidArgument, i, err)
		}
		if !slices.Contains(dnsNames, n) {
			dnsNames = append(dnsNames, n)
		}
	}
	var ips []net.IP
	for i, ip := range req.IPs {
		if len(ip) != net.IPv4len && len(ip) != net.IPv6len {
			return nil, fmt.Errorf("%w: IssueRequest.IPs[%d]: %d bytes is not an IP address", ErrInvalidArgument, i, len(ip))
		}
		if !slices.ContainsFunc(ips, ip.Equal) {
			ips = append(ips, ip)
		}
	}
	if err := checkValidity(ca.cert, req.NotBefore, "CA certificate"); err != nil {
		return nil, err
	}
	validity := req.Validity
	if validity == 0 {
		validity = DefaultCertValidity
	}
	notAfter := req.NotBefore.Add(validity)
	if notAfter.After(ca.cert.NotAfter) {
		notAfter = ca.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		Subject: pkix.Name{
			CommonName:   req.Identity.UserName(),
			Organization: req.Identity.Groups(),
		},
		DNSNames:              dnsNames,
		IPAddresses:           ips,
		NotBefore:             req.NotBefore.Add(-Backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	if _, ok := req.PublicKey.(*rsa.PublicKey); ok {
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	}
	cert, err := ca.sign(tmpl, req.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("trust: issue %q: %w", req.Identity.NodeName, err)
	}
	return cert, nil
}

// DeriveKey derives n bytes of secret for purpose from the CA private key
// with HKDF-SHA256 (no salt, info "flotilla "+purpose). Founders given the
// same CA derive the same bytes, so they agree on the first gossip key and
// the first store encryption key without another exchange; different
// purposes give unrelated keys. The input keying material is the key's
// canonical private form: the ECDSA scalar, the Ed25519 seed, or the RSA
// primes in ascending order. It fails with ErrInvalidArgument for an empty
// purpose or n outside 1..8160 (HKDF-SHA256's limit).
func (ca *CA) DeriveKey(purpose string, n int) ([]byte, error) {
	if purpose == "" {
		return nil, fmt.Errorf("%w: purpose: empty", ErrInvalidArgument)
	}
	if n < 1 || n > 255*sha256.Size {
		return nil, fmt.Errorf("%w: n: %d is outside 1..%d", ErrInvalidArgument, n, 255*sha256.Size)
	}
	var secret []byte
	switch k := ca.key.(type) {
	case *ecdsa.PrivateKey:
		b, err := k.Bytes()
		if err != nil {
			return nil, fmt.Errorf("trust: derive key: %w", err)
		}
		secret = b
	case ed25519.PrivateKey:
		secret = k.Seed()
	case *rsa.PrivateKey:
		if len(k.Primes) < 2 {
			return nil, fmt.Errorf("trust: derive key: RSA key without primes")
		}
		primes := slices.Clone(k.Primes)
		slices.SortFunc(primes, func(a, b *big.Int) int { return a.Cmp(b) })
		size := (k.N.BitLen() + 7) / 8
		for _, p := range primes {
			secret = append(secret, p.FillBytes(make([]byte, size))...)
		}
	default:
		return nil, fmt.Errorf("trust: derive key: CA key type %T is not supported", ca.key)
	}
	out, err := hkdf.Key(sha256.New, secret, nil, "flotilla "+purpose, n)
	if err != nil {
		return nil, fmt.Errorf("trust: derive key: %w", err)
	}
	return out, nil
}

// sign issues tmpl for pub under the CA, with a fresh random serial.
func (ca *CA) sign(tmpl *x509.Certificate, pub crypto.PublicKey) (*x509.Certificate, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func selfSign(tmpl *x509.Certificate, key crypto.Signer, now time.Time, validity time.Duration) (*x509.Certificate, error) {
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = now.Add(-Backdate)
	tmpl.NotAfter = now.Add(validity)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// newSerial is a random positive serial of at most 128 bits.
func newSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		s, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, err
		}
		if s.Sign() > 0 {
			return s, nil
		}
	}
}

// checkValidity reports ErrNotYetValid or ErrExpired when now is outside
// cert's validity; what names the certificate in the message.
func checkValidity(cert *x509.Certificate, now time.Time, what string) error {
	switch {
	case now.Before(cert.NotBefore):
		return fmt.Errorf("%w: %s %q is valid from %s (now %s)", ErrNotYetValid, what,
			cert.Subject.CommonName, cert.NotBefore.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	case now.After(cert.NotAfter):
		return fmt.Errorf("%w at %s: %s %q (now %s)", ErrExpired, cert.NotAfter.UTC().Format(time.RFC3339), what,
			cert.Subject.CommonName, now.UTC().Format(time.RFC3339))
	}
	return nil
}
