package trust

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync/atomic"
)

// Credentials are a node's current private key and certificate. Set swaps
// them at runtime (certificate renewal) and the TLS configs of this package
// pick the new pair up at the next handshake, with no restart. Safe for
// concurrent use.
type Credentials struct {
	cur atomic.Pointer[credState]
}

// credState is one immutable key and certificate pair.
type credState struct {
	key  crypto.Signer
	cert *x509.Certificate
	tls  *tls.Certificate
}

// NewCredentials holds key and cert. It fails as Set does.
func NewCredentials(key crypto.Signer, cert *x509.Certificate) (*Credentials, error) {
	c := &Credentials{}
	if err := c.Set(key, cert); err != nil {
		return nil, err
	}
	return c, nil
}

// Set replaces the key and certificate; connections already open keep
// the old ones. It fails with ErrInvalidArgument, changing nothing, when
// either is nil or the key is not the certificate's key.
func (c *Credentials) Set(key crypto.Signer, cert *x509.Certificate) error {
	if key == nil {
		return fmt.Errorf("%w: key: nil", ErrInvalidArgument)
	}
	if cert == nil {
		return fmt.Errorf("%w: certificate: nil", ErrInvalidArgument)
	}
	if !sameKey(key, cert.PublicKey) {
		return fmt.Errorf("%w: key: does not match the public key of certificate %q", ErrInvalidArgument, cert.Subject.CommonName)
	}
	c.cur.Store(&credState{
		key:  key,
		cert: cert,
		tls:  &tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert},
	})
	return nil
}

// Certificate is the current certificate (nil before the first Set).
// Callers must not modify it.
func (c *Credentials) Certificate() *x509.Certificate { return c.load().cert }

// Key is the current private key (nil before the first Set).
func (c *Credentials) Key() crypto.Signer { return c.load().key }

// TLSCertificate is the current pair for crypto/tls (the leaf alone, no
// CA); before the first Set, an empty one, which sends no certificate.
// The same value is returned until the next Set; callers must not modify
// it.
func (c *Credentials) TLSCertificate() *tls.Certificate { return c.load().tls }

// noCredentials is the state of nil or never-Set Credentials.
var noCredentials = &credState{tls: &tls.Certificate{}}

func (c *Credentials) load() *credState {
	if c == nil {
		return noCredentials
	}
	if st := c.cur.Load(); st != nil {
		return st
	}
	return noCredentials
}
