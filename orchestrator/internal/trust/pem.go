package trust

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
)

// PEM block types.
const (
	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY" // PKCS#8
	pemECKey       = "EC PRIVATE KEY"
	pemRSAKey      = "RSA PRIVATE KEY"
)

// minRSABits is the smallest RSA modulus accepted for any key.
const minRSABits = 2048

// NewKey makes a node's private key: ECDSA on P-256. The error comes from
// the system's random source.
func NewKey() (crypto.Signer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("trust: new key: %w", err)
	}
	return k, nil
}

// MarshalKey encodes a private key as a PEM "PRIVATE KEY" block (PKCS#8).
// It fails with ErrInvalidArgument for nil or for a key type crypto/x509
// cannot marshal (only ECDSA, Ed25519 and RSA keys are supported).
func MarshalKey(key crypto.Signer) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("%w: key: nil", ErrInvalidArgument)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("%w: key: %v", ErrInvalidArgument, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// ParseKey reads one private key from PEM: PKCS#8 ("PRIVATE KEY"), SEC 1
// ("EC PRIVATE KEY") or PKCS#1 ("RSA PRIVATE KEY"). Other blocks (such as
// OpenSSL's "EC PARAMETERS") are skipped. It fails with ErrInvalidArgument
// when there is no key block, more than one, an encrypted key, a key that
// does not parse, or a key of an unsupported type or size (ECDSA P-256,
// P-384, P-521, Ed25519 and RSA of at least 2048 bits are supported).
func ParseKey(pemBytes []byte) (crypto.Signer, error) {
	var found *pem.Block
	rest := pemBytes
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		switch b.Type {
		case pemPrivateKey, pemECKey, pemRSAKey:
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%w: key: the PEM key is encrypted; decrypt it first", ErrInvalidArgument)
		default:
			continue
		}
		if found != nil {
			return nil, fmt.Errorf("%w: key: more than one private key in the PEM data", ErrInvalidArgument)
		}
		if _, ok := b.Headers["Proc-Type"]; ok {
			return nil, fmt.Errorf("%w: key: the PEM key is encrypted; decrypt it first", ErrInvalidArgument)
		}
		found = b
	}
	if found == nil {
		return nil, fmt.Errorf("%w: key: no PEM private key block found", ErrInvalidArgument)
	}
	var (
		key any
		err error
	)
	switch found.Type {
	case pemPrivateKey:
		key, err = x509.ParsePKCS8PrivateKey(found.Bytes)
	case pemECKey:
		key, err = x509.ParseECPrivateKey(found.Bytes)
	case pemRSAKey:
		key, err = x509.ParsePKCS1PrivateKey(found.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: key: %q block: %v", ErrInvalidArgument, found.Type, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: key: %T is not a signing key", ErrInvalidArgument, key)
	}
	if err := checkPublicKey(signer.Public()); err != nil {
		return nil, fmt.Errorf("%w: key: %s", ErrInvalidArgument, err)
	}
	return signer, nil
}

// EncodeCerts encodes certificates as consecutive PEM "CERTIFICATE"
// blocks, skipping nil entries.
func EncodeCerts(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		if c != nil {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: c.Raw})...)
		}
	}
	return out
}

// ParseCerts reads every PEM "CERTIFICATE" block, in order. It fails with
// ErrInvalidArgument when there is none, when a block of another type is
// present (a key pasted into a certificate file), or when a certificate
// does not parse (the error gives its position).
func ParseCerts(pemBytes []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := pemBytes
	for i := 1; ; i++ {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != pemCertificate {
			return nil, fmt.Errorf("%w: PEM block %d is %q; want %q", ErrInvalidArgument, i, b.Type, pemCertificate)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %v", ErrInvalidArgument, i, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no PEM %q block found", ErrInvalidArgument, pemCertificate)
	}
	return certs, nil
}

// checkPublicKey accepts the key types and sizes this package signs with
// or for.
func checkPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("ECDSA curve %s is not supported (P-256, P-384 or P-521)", k.Curve.Params().Name)
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return fmt.Errorf("Ed25519 public key of %d bytes", len(k))
		}
		return nil
	case *rsa.PublicKey:
		if k.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA key of %d bits; at least %d", k.N.BitLen(), minRSABits)
		}
		return nil
	case nil:
		return fmt.Errorf("no public key")
	default:
		return fmt.Errorf("key type %T is not supported (ECDSA, Ed25519 or RSA)", pub)
	}
}

// sameKey reports whether the signer's public key is pub.
func sameKey(key crypto.Signer, pub crypto.PublicKey) bool {
	k, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(pub)
}
