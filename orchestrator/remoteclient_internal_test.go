package orchestrator

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testPEM returns a self-signed certificate and its key, PEM encoded.
func testPEM(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "admin"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestRemoteConfigFromKubeconfig(t *testing.T) {
	cert, key := testPEM(t)
	kc := `apiVersion: v1
kind: Config
current-context: admin@flotilla
preferences: {}
clusters:
- name: other
  cluster: {server: "https://other:1"}
- name: flotilla
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority-data: ` + b64(cert) + `
    tls-server-name: api.flotilla
contexts:
- name: admin@flotilla
  context: {cluster: flotilla, user: admin, namespace: shop}
users:
- name: admin
  user:
    client-certificate-data: ` + b64(cert) + `
    client-key-data: ` + b64(key) + `
`
	cfg, err := remoteConfig([]byte(kc), remoteOptions{servers: []string{"https://10.0.0.2:6443"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Servers, " ") != "https://10.0.0.1:6443 https://10.0.0.2:6443" || cfg.TLSServerName != "api.flotilla" {
		t.Errorf("servers %v, tls-server-name %q", cfg.Servers, cfg.TLSServerName)
	}
	if cfg.RootCAs == nil || cfg.Certificate == nil || cfg.BearerToken != "" {
		t.Errorf("RootCAs %v Certificate %v token %q", cfg.RootCAs != nil, cfg.Certificate != nil, cfg.BearerToken)
	}
	if _, err := NewRemoteClient([]byte(kc)); err != nil {
		t.Errorf("NewRemoteClient: %v", err)
	}
}

func TestRemoteConfigFilesRelativeToTheKubeconfig(t *testing.T) {
	dir := t.TempDir()
	cert, _ := testPEM(t)
	for name, data := range map[string][]byte{"ca.crt": cert, "token": []byte("abc.def\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	kc := `current-context: c
clusters: [{name: k, cluster: {server: "https://h:1", certificate-authority: ca.crt}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {tokenFile: token}}]
`
	path := filepath.Join(dir, "config")
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := NewRemoteClientFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cfg, err := remoteConfig([]byte(kc), remoteOptions{dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BearerToken != "abc.def" || cfg.RootCAs == nil {
		t.Errorf("token %q, RootCAs set %v", cfg.BearerToken, cfg.RootCAs != nil)
	}
}

// TestRemoteConfigErrors: each refused kubeconfig gets an error naming
// the field.
func TestRemoteConfigErrors(t *testing.T) {
	cert, _ := testPEM(t)
	base := func(cluster, user string) string {
		return `current-context: c
clusters: [{name: k, cluster: {` + cluster + `}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {` + user + `}}]
`
	}
	tests := []struct {
		name, kubeconfig string
		opts             remoteOptions
		want             []string
	}{
		{"NotYAML", "{[", remoteOptions{}, []string{"not a kubeconfig"}},
		{"NoContext", "clusters: []", remoteOptions{}, []string{"current-context"}},
		{"UnknownContext", base(`server: "https://h:1"`, ""), remoteOptions{context: "nope"}, []string{`no context named "nope"`}},
		{"UnknownCluster", `current-context: c
contexts: [{name: c, context: {cluster: gone}}]`, remoteOptions{}, []string{`no cluster named "gone"`}},
		{"UnknownUser", `current-context: c
clusters: [{name: k, cluster: {server: "https://h:1"}}]
contexts: [{name: c, context: {cluster: k, user: ghost}}]`, remoteOptions{}, []string{`no user named "ghost"`}},
		{"Insecure", base(`server: "https://h:1", insecure-skip-tls-verify: true`, ""), remoteOptions{},
			[]string{`clusters["k"].cluster.insecure-skip-tls-verify: refused`}},
		{"NoServer", base(``, ""), remoteOptions{}, []string{`clusters["k"].cluster.server: empty`}},
		{"BadCA", base(`server: "https://h:1", certificate-authority-data: `+b64([]byte("junk")), ""), remoteOptions{},
			[]string{"certificate-authority-data: holds no PEM certificate"}},
		{"MissingCAFile", base(`server: "https://h:1", certificate-authority: /nonexistent/ca.crt`, ""), remoteOptions{},
			[]string{"cluster.certificate-authority:", "no such file"}},
		{"CertWithoutKey", base(`server: "https://h:1"`, `client-certificate-data: `+b64(cert)), remoteOptions{},
			[]string{`users["u"].user.client-key-data: a client certificate needs its key`}},
		{"Exec", base(`server: "https://h:1"`, `exec: {command: aws}`), remoteOptions{}, []string{"user.exec: exec credential plugins are not supported"}},
		{"PlainHTTP", base(`server: "http://h:1"`, ""), remoteOptions{}, []string{"want an https:// URL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newRemoteClient([]byte(tt.kubeconfig), tt.opts)
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v; want it to contain %q", err, w)
				}
			}
		})
	}
}
