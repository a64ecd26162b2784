package orchestrator_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
)

// secretsOfEveryType writes a Secret of each type holding canaries (each
// value a fresh canary), updates each to new canaries and deletes half,
// and returns every canary written.
func secretsOfEveryType(t *testing.T, cl orchestrator.Client) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var canaries []string
	canary := func() string {
		var b [8]byte
		_, _ = rand.Read(b[:])
		c := "canary-" + hex.EncodeToString(b[:])
		canaries = append(canaries, c)
		return c
	}
	crt, key := testCertPair(t)
	kinds := []struct {
		name string
		typ  orchestrator.SecretType
		data func() map[string]string
		ann  map[string]string
	}{
		{"opaque", orchestrator.SecretTypeOpaque, func() map[string]string { return map[string]string{"a": canary()} }, nil},
		{"basic", orchestrator.SecretTypeBasicAuth, func() map[string]string { return map[string]string{"username": canary(), "password": canary()} }, nil},
		{"ssh", orchestrator.SecretTypeSSHAuth, func() map[string]string { return map[string]string{"ssh-privatekey": canary()} }, nil},
		{"docker", orchestrator.SecretTypeDockerConfigJSON, func() map[string]string {
			return map[string]string{".dockerconfigjson": `{"auths":{"r.example":{"auth":"` + canary() + `"}}}`}
		}, nil},
		{"token", orchestrator.SecretTypeServiceAccountToken, func() map[string]string { return map[string]string{"token": canary()} },
			map[string]string{orchestrator.ServiceAccountNameKey: "default"}},
		{"tls", orchestrator.SecretTypeTLS, func() map[string]string {
			return map[string]string{"tls.crt": string(crt), "tls.key": string(key), "note": canary()}
		}, nil},
	}
	canaries = append(canaries, string(key))
	for i, k := range kinds {
		s := &orchestrator.Secret{ObjectMeta: orchestrator.ObjectMeta{Name: k.name, Namespace: "default", Annotations: k.ann}, Type: k.typ, StringData: k.data()}
		if err := cl.Create(ctx, s); err != nil {
			t.Fatalf("create %s: %v", k.name, err)
		}
		s.StringData = k.data()
		if err := cl.Update(ctx, s); err != nil {
			t.Fatalf("update %s: %v", k.name, err)
		}
		if i%2 == 0 {
			if err := cl.Delete(ctx, s); err != nil {
				t.Fatalf("delete %s: %v", k.name, err)
			}
		}
	}
	return canaries
}

// filesHolding returns the files under dir holding s or its base64 (how
// a Secret's data is encoded in JSON).
func filesHolding(t *testing.T, dir, s string) []string {
	t.Helper()
	needles := [][]byte{[]byte(s), []byte(base64.StdEncoding.EncodeToString([]byte(s)))}
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				found = append(found, path)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// No Secret value, plain or base64, is in any file under any server's
// data dir (Raft log, snapshots, keys) after Secrets of every type were
// written, updated and deleted; without cluster trust (plaintext test
// networks) the same search finds them, so it would see a leak.
func TestSecretsNeverOnDiskInPlaintext(t *testing.T) {
	plain := orchestratortest.NewCluster(t, 1, orchestratortest.WithDataDirs())
	for _, c := range secretsOfEveryType(t, plain.Client())[:1] {
		if len(filesHolding(t, plain.DataDir(0), c)) == 0 {
			t.Fatal("a plaintext store's Secret value is not found on disk: the search is broken")
		}
	}
	plain.Close()

	c := tlsCluster(t, 3, nil)
	canaries := secretsOfEveryType(t, c.Client())
	for i := range c.Len() {
		c.StopNode(i)
	}
	for i := range c.Len() {
		for _, v := range canaries {
			if files := filesHolding(t, c.DataDir(i), v); len(files) > 0 {
				t.Errorf("a Secret value is on disk in plaintext or base64, in %v", files)
			}
		}
	}
}

// testCertPair returns a self-signed PEM certificate and its PEM key.
func testCertPair(t *testing.T) (crt, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "web"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})
}
