package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// testUnauthorized checks, from the outside, that the API refuses kubectl
// without credentials, with a token nobody issued and with a client
// certificate from another CA, with kubectl's 401 message.
func testUnauthorized(t *testing.T, k *kubectl) {
	server := k.ok("config", "view", "--raw", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}")
	ca := k.ok("config", "view", "--raw", "--minify", "-o", "jsonpath={.clusters[0].cluster.certificate-authority-data}")
	if ca == "" {
		// A file rather than inline data.
		path := k.ok("config", "view", "--raw", "--minify", "-o", "jsonpath={.clusters[0].cluster.certificate-authority}")
		pemCA, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("the admin kubeconfig names neither CA data nor a readable CA file: %v", err)
		}
		ca = base64.StdEncoding.EncodeToString(pemCA)
	}
	if !strings.HasPrefix(server, "https://") {
		t.Fatalf("the admin kubeconfig's server %q is not https", server)
	}
	certPEM, keyPEM := foreignClientCert(t)
	// A user with nothing at all makes kubectl prompt for a username; a
	// username alone is HTTP basic auth, which the API (as Kubernetes since
	// 1.19) does not read: no credential it accepts. Without any header or
	// certificate at all, see the plain HTTPS request below.
	users := map[string]string{
		"basic auth":    `{"username": "admin"}`,
		"a wrong token": `{"token": "not-a-token-anybody-issued"}`,
		"a client certificate from another CA": fmt.Sprintf(`{"client-certificate-data": %q, "client-key-data": %q}`,
			base64.StdEncoding.EncodeToString(certPEM), base64.StdEncoding.EncodeToString(keyPEM)),
	}
	for name, user := range users {
		t.Run(name, func(t *testing.T) {
			// JSON is YAML: a kubeconfig kubectl reads as is.
			cfg := fmt.Sprintf(`{"apiVersion": "v1", "kind": "Config",
"clusters": [{"name": "flotilla", "cluster": {"server": %q, "certificate-authority-data": %q}}],
"users": [{"name": "stranger", "user": %s}],
"contexts": [{"name": "stranger", "context": {"cluster": "flotilla", "user": "stranger"}}],
"current-context": "stranger"}`, server, ca, user)
			stranger := k.withTB(t).withKubeconfig(k.manifest("kubeconfig-"+strings.ReplaceAll(name, " ", "-"), cfg))
			// kubectl get reports the 401 of its discovery request in
			// client-go's words, as it does against Kubernetes; a plain
			// request shows the server's Status message.
			r := stranger.fails("get", "pods", "-A")
			wantContains(t, "get pods -A", r.stderr, "error: You must be logged in to the server (the server has asked for the client to provide credentials)")
			r = stranger.fails("get", "--raw", "/api/v1/namespaces")
			wantContains(t, "get --raw /api/v1/namespaces", r.stderr, "error: You must be logged in to the server (Unauthorized)")
		})
	}

	t.Run("no credentials", func(t *testing.T) {
		pool := x509.NewCertPool()
		pemCA, err := base64.StdEncoding.DecodeString(ca)
		if err != nil || !pool.AppendCertsFromPEM(pemCA) {
			t.Fatalf("the admin kubeconfig's CA: %v", err)
		}
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(server + "/api/v1/namespaces")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var st struct {
			Kind, Status, Message, Reason string
			Code                          int
		}
		if err := json.Unmarshal(body, &st); err != nil || resp.StatusCode != http.StatusUnauthorized ||
			st.Kind != "Status" || st.Reason != "Unauthorized" || st.Message != "Unauthorized" || st.Code != 401 {
			t.Errorf("GET /api/v1/namespaces without credentials: %s %s (%v), want 401 and Kubernetes' Unauthorized Status", resp.Status, body, err)
		}
	})
}

// foreignClientCert returns a client certificate (CN admin, O
// system:masters) and its key, PEM-encoded, signed by a CA made here: one
// the cluster has never seen.
func foreignClientCert(tb testing.TB) (certPEM, keyPEM []byte) {
	tb.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "not-the-cluster-ca"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		tb.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "admin", Organization: []string{"system:masters"}},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}
