package trust

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"testing"
	"time"
)

func TestKeyRoundTrip(t *testing.T) {
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256 := newKey(t).(*ecdsa.PrivateKey)
	sec1, err := x509.MarshalECPrivateKey(p256)
	if err != nil {
		t.Fatal(err)
	}
	rk := testRSAKey(t)
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		pem  []byte
	}{
		{"ECDSA PKCS#8", p256, mustMarshalKey(t, p256)},
		{"ECDSA SEC 1 after EC PARAMETERS", p256, append(
			pem.EncodeToMemory(&pem.Block{Type: "EC PARAMETERS", Bytes: []byte{6, 8, 42, 134, 72, 206, 61, 3, 1, 7}}),
			pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1})...)},
		{"Ed25519 PKCS#8", ed, mustMarshalKey(t, ed)},
		{"RSA PKCS#1", rk, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})},
		{"RSA PKCS#8", rk, mustMarshalKey(t, rk)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseKey(tc.pem)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if !sameKey(got, tc.key.Public()) {
				t.Fatal("ParseKey returned another key")
			}
		})
	}
	if _, err := MarshalKey(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("MarshalKey(nil): %v", err)
	}
}

func TestParseKeyErrors(t *testing.T) {
	one := mustMarshalKey(t, newKey(t))
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224DER, err := x509.MarshalPKCS8PrivateKey(p224)
	if err != nil {
		t.Fatal(err)
	}
	legacyEncrypted := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte{1}})
	for _, tc := range []struct {
		name string
		pem  []byte
		text string
	}{
		{"empty", nil, "no PEM private key"},
		{"only a certificate", newCA(t, t0, 0).CertPEM(), "no PEM private key"},
		{"two keys", append(bytes.Clone(one), one...), "more than one"},
		{"PKCS#8 encrypted", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), "encrypted"},
		{"legacy encrypted", legacyEncrypted, "encrypted"},
		{"garbage", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte("nope")}), `"EC PRIVATE KEY" block`},
		{"P-224", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p224DER}), "P-224"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseKey(tc.pem)
			wantErr(t, err, ErrInvalidArgument, tc.text)
		})
	}
}

func TestCerts(t *testing.T) {
	ca := newCA(t, t0, 0)
	_, leaf := issue(t, ca, "n", RoleAgent, t0)
	encoded := EncodeCerts(leaf, nil, ca.Cert())
	got, err := ParseCerts(encoded)
	if err != nil {
		t.Fatalf("ParseCerts: %v", err)
	}
	if len(got) != 2 || !bytes.Equal(got[0].Raw, leaf.Raw) || !bytes.Equal(got[1].Raw, ca.Cert().Raw) {
		t.Fatalf("ParseCerts returned %d certificates, not the two encoded in order", len(got))
	}
	if !bytes.Equal(ca.CertPEM(), EncodeCerts(ca.Cert())) {
		t.Fatal("CertPEM differs from EncodeCerts")
	}
	for _, tc := range []struct {
		name string
		pem  []byte
		text string
	}{
		{"empty", nil, "no PEM"},
		{"not PEM", []byte("hello"), "no PEM"},
		{"a key among certificates", append(bytes.Clone(encoded), mustMarshalKey(t, newKey(t))...), `PEM block 3 is "PRIVATE KEY"`},
		{"garbage", append(bytes.Clone(encoded), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("x")})...), "certificate 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCerts(tc.pem)
			wantErr(t, err, ErrInvalidArgument, tc.text)
		})
	}
}

func TestCredentials(t *testing.T) {
	ca := newCA(t, t0, 0)
	key1, cert1 := issue(t, ca, "n", RoleServer, t0)
	key2, cert2 := issue(t, ca, "n", RoleServer, t0.Add(time.Hour))
	creds, err := NewCredentials(key1, cert1)
	if err != nil {
		t.Fatalf("NewCredentials: %v", err)
	}
	first := creds.TLSCertificate()
	if creds.Certificate() != cert1 || first.Leaf != cert1 || first.PrivateKey != key1 || !bytes.Equal(first.Certificate[0], cert1.Raw) {
		t.Fatal("credentials do not hold the first pair")
	}
	for _, tc := range []struct {
		name string
		key  crypto.Signer
		cert *x509.Certificate
		text string
	}{
		{"nil key", nil, cert2, "key: nil"},
		{"nil certificate", key2, nil, "certificate: nil"},
		{"key of another certificate", key1, cert2, "does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, creds.Set(tc.key, tc.cert), ErrInvalidArgument, tc.text)
			if creds.Certificate() != cert1 || creds.TLSCertificate() != first {
				t.Fatal("a refused Set changed the credentials")
			}
		})
	}
	if _, err := NewCredentials(key2, cert1); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("NewCredentials with a mismatched key: %v", err)
	}
	if err := creds.Set(key2, cert2); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if creds.Certificate() != cert2 || creds.Key() != key2 || creds.TLSCertificate().Leaf != cert2 {
		t.Fatal("Set did not replace the pair")
	}
}

func TestZeroValues(t *testing.T) {
	var creds Credentials
	if creds.Certificate() != nil || creds.Key() != nil || creds.TLSCertificate() == nil || len(creds.TLSCertificate().Certificate) != 0 {
		t.Fatal("zero Credentials: want no certificate, no key and an empty TLS certificate")
	}
	var nilCreds *Credentials
	if nilCreds.Certificate() != nil {
		t.Fatal("nil Credentials hold a certificate")
	}
	ca := newCA(t, t0, 0)
	_, leaf := issue(t, ca, "n", RoleServer, t0)
	for name, p := range map[string]*Pool{"nil": nil, "zero": {}} {
		if _, err := p.Verify([]*x509.Certificate{leaf}, x509.ExtKeyUsageClientAuth, t0); !errors.Is(err, ErrUnknownAuthority) {
			t.Fatalf("%s Pool: Verify = %v; want ErrUnknownAuthority", name, err)
		}
	}
	var zero Pool
	zero.SetRevoked([]*big.Int{leaf.SerialNumber})
	zero.SetCAs(ca.Cert())
	if _, err := zero.Verify([]*x509.Certificate{leaf}, x509.ExtKeyUsageClientAuth, t0); !errors.Is(err, ErrRevoked) {
		t.Fatalf("zero Pool after SetRevoked and SetCAs: %v; want ErrRevoked", err)
	}
}
