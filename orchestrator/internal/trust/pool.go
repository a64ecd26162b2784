package trust

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Pool is what a node trusts: the CA certificates (several while a CA
// certificate is renewed or replaced) and the serials of revoked node
// certificates. SetCAs and SetRevoked swap them at runtime; the TLS configs
// of this package read the Pool at every handshake. Safe for concurrent
// use.
//
// A node certificate is trusted when a CA certificate of the Pool signed
// it directly (intermediate certificates are not followed: the CA issues
// leaves only), both are valid at the time of the check, it has the
// extended key usage asked for, its serial is not revoked, and it names a
// node (IdentityOf).
type Pool struct {
	mu  sync.Mutex // serializes writers; readers only Load
	cur atomic.Pointer[poolState]
}

// poolState is one immutable view of the Pool.
type poolState struct {
	cas     []*x509.Certificate
	roots   *x509.CertPool
	revoked map[string]bool // serial in lower-case hex
	// chains remembers certificates whose chain to roots verified, so a
	// client presenting its certificate on every request (the API server)
	// costs a hash and a map read rather than a signature check. It
	// belongs to roots: a new set of CAs starts an empty one.
	chains *chainCache
}

// NewPool trusts cas (see SetCAs) and revokes nothing. The zero Pool
// trusts nothing.
func NewPool(cas ...*x509.Certificate) *Pool {
	p := &Pool{}
	p.cur.Store(newPoolState(cas, nil))
	return p
}

// SetCAs replaces the trusted CA certificates, keeping the revoked list.
// Entries that are nil or not CA certificates are ignored (a leaf in the
// Pool would otherwise trust itself). With no CA nothing verifies.
func (p *Pool) SetCAs(cas ...*x509.Certificate) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cur.Store(newPoolState(cas, p.load().revoked))
}

// SetRevoked replaces the revoked list: the serial numbers of node
// certificates that must no longer be accepted, whichever CA issued them
// (serials are random 128-bit numbers, so they do not collide). It takes
// effect at the next handshake or Verify; connections already open are the
// caller's to close. Nil entries are ignored.
func (p *Pool) SetRevoked(serials []*big.Int) {
	revoked := make(map[string]bool, len(serials))
	for _, s := range serials {
		if s != nil {
			revoked[s.Text(16)] = true
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.load()
	p.cur.Store(&poolState{cas: old.cas, roots: old.roots, revoked: revoked, chains: old.chains})
}

// CAs are the trusted CA certificates, in the order given to SetCAs.
// Callers must not modify them.
func (p *Pool) CAs() []*x509.Certificate { return slices.Clone(p.load().cas) }

// Verify checks that chain[0] is a trusted node certificate for usage
// (x509.ExtKeyUsageClientAuth for a peer that dialled, ServerAuth for a
// peer that was dialled) at now, and returns whom it names. Certificates
// after chain[0] are ignored. The error wraps, checking in this order:
// ErrNoCertificate (empty chain), ErrNotNodeCertificate (a CA certificate
// used as a leaf), ErrNotYetValid or ErrExpired (the certificate, or every
// CA certificate that signed it), ErrUnknownAuthority (no trusted CA signed
// it), ErrWrongUsage, ErrInvalidChain (another x509 failure), ErrRevoked,
// and ErrNotNodeCertificate (not a node's subject). Its text names the
// certificate and the failed check.
func (p *Pool) Verify(chain []*x509.Certificate, usage x509.ExtKeyUsage, now time.Time) (Identity, error) {
	return p.load().verify(chain, usage, now)
}

// load is the current state; a nil or zero Pool trusts nothing.
func (p *Pool) load() *poolState {
	if p != nil {
		if st := p.cur.Load(); st != nil {
			return st
		}
	}
	return emptyPool
}

var emptyPool = newPoolState(nil, nil)

func newPoolState(cas []*x509.Certificate, revoked map[string]bool) *poolState {
	st := &poolState{roots: x509.NewCertPool(), revoked: revoked, chains: &chainCache{}}
	for _, ca := range cas {
		if ca == nil || !ca.IsCA || !ca.BasicConstraintsValid {
			continue
		}
		st.cas = append(st.cas, ca)
		st.roots.AddCert(ca)
	}
	return st
}

func (st *poolState) verify(chain []*x509.Certificate, usage x509.ExtKeyUsage, now time.Time) (Identity, error) {
	leaf, err := st.verifyLeaf(chain, usage, now)
	if err != nil {
		return Identity{}, err
	}
	return IdentityOf(leaf)
}

// verifyLeaf is verify without the node subject check: chain[0] signed by a
// trusted CA, valid at now, with usage, not revoked.
func (st *poolState) verifyLeaf(chain []*x509.Certificate, usage x509.ExtKeyUsage, now time.Time) (*x509.Certificate, error) {
	if len(chain) == 0 || chain[0] == nil {
		return nil, fmt.Errorf("%w: the peer presented none", ErrNoCertificate)
	}
	leaf := chain[0]
	cn := leaf.Subject.CommonName
	if leaf.IsCA {
		return nil, fmt.Errorf("%w: %q is a CA certificate, used as a leaf", ErrNotNodeCertificate, cn)
	}
	key := chainKey{sum: sha256.Sum256(leaf.Raw), usage: usage}
	if !st.chains.valid(key, now) {
		chains, err := leaf.Verify(x509.VerifyOptions{
			Roots:       st.roots,
			CurrentTime: now,
			KeyUsages:   []x509.ExtKeyUsage{usage},
		})
		if err != nil {
			return nil, st.explain(leaf, usage, now, err)
		}
		st.chains.add(key, chains)
	}
	// crypto/x509 lets a certificate without extended key usage serve any
	// use; every certificate Issue makes lists its uses, so ask for them.
	if usage != x509.ExtKeyUsageAny && !slices.Contains(leaf.ExtKeyUsage, usage) && !slices.Contains(leaf.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return nil, fmt.Errorf("%w: %q lacks extended key usage %s", ErrWrongUsage, cn, usageName(usage))
	}
	if st.revoked[leaf.SerialNumber.Text(16)] {
		return nil, fmt.Errorf("%w: %q (serial %s)", ErrRevoked, cn, leaf.SerialNumber.Text(16))
	}
	return leaf, nil
}

// explain turns crypto/x509's refusal of leaf into the first check that
// fails, in the order Verify documents.
func (st *poolState) explain(leaf *x509.Certificate, usage x509.ExtKeyUsage, now time.Time, x509Err error) error {
	if err := checkValidity(leaf, now, "certificate"); err != nil {
		return err
	}
	var signers []*x509.Certificate
	for _, ca := range st.cas {
		if bytes.Equal(leaf.RawIssuer, ca.RawSubject) && leaf.CheckSignatureFrom(ca) == nil {
			signers = append(signers, ca)
		}
	}
	cn := leaf.Subject.CommonName
	if len(signers) == 0 {
		return fmt.Errorf("%w: %q names issuer %q, but none of the %d trusted CA certificates signed it",
			ErrUnknownAuthority, cn, leaf.Issuer.CommonName, len(st.cas))
	}
	var validityErr error
	for _, ca := range signers {
		validityErr = checkValidity(ca, now, "CA certificate")
		if validityErr == nil {
			break
		}
	}
	if validityErr != nil {
		return validityErr
	}
	var invalid x509.CertificateInvalidError
	if errors.As(x509Err, &invalid) && invalid.Reason == x509.IncompatibleUsage {
		return fmt.Errorf("%w: %q is not valid for %s", ErrWrongUsage, cn, usageName(usage))
	}
	return fmt.Errorf("%w: %q: %v", ErrInvalidChain, cn, x509Err)
}

func usageName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageAny:
		return "any"
	case x509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	}
	return fmt.Sprintf("#%d", int(u))
}

// servingChain is the chain a server presents: its certificate followed by
// every trusted CA certificate that signed it, so that a joining node can
// check the CA against its token's fingerprint.
func (st *poolState) servingChain(leaf *x509.Certificate) [][]byte {
	chain := [][]byte{leaf.Raw}
	for _, ca := range st.cas {
		if bytes.Equal(leaf.RawIssuer, ca.RawSubject) && leaf.CheckSignatureFrom(ca) == nil {
			chain = append(chain, ca.Raw)
		}
	}
	return chain
}

// chainCache remembers verified chains by certificate and usage, with the
// span of time in which every certificate of one of the chains is valid.
// It holds at most maxCachedChains entries and starts again when full.
type chainCache struct {
	mu sync.Mutex
	m  map[chainKey]validSpan
}

type chainKey struct {
	sum   [sha256.Size]byte
	usage x509.ExtKeyUsage
}

type validSpan struct{ notBefore, notAfter time.Time }

const maxCachedChains = 4096

// valid reports whether key's chain verified before and is valid at now.
func (c *chainCache) valid(key chainKey, now time.Time) bool {
	if c == nil {
		return false
	}
	c.mu.Lock()
	span, ok := c.m[key]
	c.mu.Unlock()
	return ok && !now.Before(span.notBefore) && !now.After(span.notAfter)
}

// add remembers key's verified chains by the widest span one of them is
// valid in.
func (c *chainCache) add(key chainKey, chains [][]*x509.Certificate) {
	if c == nil || len(chains) == 0 {
		return
	}
	var best validSpan
	for i, chain := range chains {
		span := validSpan{notBefore: chain[0].NotBefore, notAfter: chain[0].NotAfter}
		for _, cert := range chain[1:] {
			if cert.NotBefore.After(span.notBefore) {
				span.notBefore = cert.NotBefore
			}
			if cert.NotAfter.Before(span.notAfter) {
				span.notAfter = cert.NotAfter
			}
		}
		if i == 0 || span.notAfter.Sub(span.notBefore) > best.notAfter.Sub(best.notBefore) {
			best = span
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= maxCachedChains {
		c.m = make(map[chainKey]validSpan)
	}
	c.m[key] = best
}
