package strategy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// testKeyPair returns a PEM certificate and its PEM private key.
func testKeyPair(t *testing.T) (crt, key []byte) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "web"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}
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

func newSecret(typ api.SecretType, data map[string]string) *api.Secret {
	s := &api.Secret{ObjectMeta: api.ObjectMeta{Name: "s", Namespace: "default"}, Type: typ}
	for k, v := range data {
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		s.Data[k] = []byte(v)
	}
	return s
}

func TestSecretValidation(t *testing.T) {
	crt, key := testKeyPair(t)
	otherCrt, _ := testKeyPair(t)
	const value = "hunter2-do-not-print"
	tests := []struct {
		name   string
		secret *api.Secret
		want   []string // field paths; nil: valid
		msg    string   // in the error message
	}{
		{"opaque by default", newSecret("", map[string]string{"a": value}), nil, ""},
		{"bad key", newSecret("", map[string]string{"a/b": value}), []string{"data[a/b]"}, "a valid config key"},
		{"too large", newSecret("", map[string]string{"a": strings.Repeat("x", api.SecretMaxSize), "b": "y"}), []string{"data"}, "Too long"},
		{"service account token without its account", newSecret(api.SecretTypeServiceAccountToken, nil),
			[]string{"metadata.annotations[kubernetes.io/service-account.name]"}, "Required value"},
		{"dockerconfigjson missing", newSecret(api.SecretTypeDockerConfigJSON, nil), []string{"data[.dockerconfigjson]"}, "Required value"},
		{"dockerconfigjson not JSON", newSecret(api.SecretTypeDockerConfigJSON, map[string]string{".dockerconfigjson": value}),
			[]string{"data[.dockerconfigjson]"}, redacted},
		{"dockerconfigjson", newSecret(api.SecretTypeDockerConfigJSON, map[string]string{".dockerconfigjson": `{"auths":{}}`}), nil, ""},
		{"dockercfg not JSON", newSecret(api.SecretTypeDockercfg, map[string]string{".dockercfg": value}), []string{"data[.dockercfg]"}, redacted},
		{"basic-auth empty", newSecret(api.SecretTypeBasicAuth, nil), []string{"data[password]", "data[username]"}, "Required value"},
		{"basic-auth password only", newSecret(api.SecretTypeBasicAuth, map[string]string{"password": value}), nil, ""},
		{"ssh-auth", newSecret(api.SecretTypeSSHAuth, map[string]string{"x": value}), []string{"data[ssh-privatekey]"}, "Required value"},
		{"tls missing key", newSecret(api.SecretTypeTLS, map[string]string{"tls.crt": string(crt)}), []string{"data[tls.key]"}, "Required value"},
		{"tls mismatched", newSecret(api.SecretTypeTLS, map[string]string{"tls.crt": string(otherCrt), "tls.key": string(key)}),
			[]string{"data[tls.crt]"}, "private key does not match"},
		{"tls not PEM", newSecret(api.SecretTypeTLS, map[string]string{"tls.crt": value, "tls.key": value}), []string{"data[tls.crt]"}, redacted},
		{"tls", newSecret(api.SecretTypeTLS, map[string]string{"tls.crt": string(crt), "tls.key": string(key)}), nil, ""},
		{"unknown type is opaque", newSecret("example.com/custom", map[string]string{"a": value}), nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := defaultAndValidate(tt.secret)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("error %v, want none", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %v", tt.want)
			}
			_, st := forObject(tt.secret)
			got := st.Validate(tt.secret).Fields()
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("field paths %q, want %q", got, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
			for _, secret := range []string{value, string(key), string(crt)} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows a Secret value", err)
				}
			}
		})
	}
}

func TestSecretStringDataAndDefaults(t *testing.T) {
	s := &api.Secret{ObjectMeta: api.ObjectMeta{Name: "s", Namespace: "default"},
		Data:       map[string][]byte{"a": []byte("old"), "b": []byte("kept")},
		StringData: map[string]string{"a": "new", "c": "added"}}
	_, st := forObject(s)
	st.PrepareForCreate(s)
	st.Default(s)
	if s.StringData != nil {
		t.Errorf("stringData %v kept, want it merged away", s.StringData)
	}
	if string(s.Data["a"]) != "new" || string(s.Data["b"]) != "kept" || string(s.Data["c"]) != "added" {
		t.Errorf("data %q, want stringData merged over data", s.Data)
	}
	if s.Type != api.SecretTypeOpaque {
		t.Errorf("type %q, want Opaque", s.Type)
	}
	// stringData keys are validated as data keys.
	bad := &api.Secret{ObjectMeta: api.ObjectMeta{Name: "s", Namespace: "default"}, StringData: map[string]string{"..x": "v"}}
	st.PrepareForCreate(bad)
	if err := defaultAndValidate(bad); err == nil || !strings.Contains(err.Error(), "data[..x]") {
		t.Errorf("error %v, want one at data[..x]", err)
	}
}

func TestSecretUpdate(t *testing.T) {
	old := newSecret(api.SecretTypeOpaque, map[string]string{"a": "1"})
	old.Immutable = api.Ptr(true)
	_, st := forObject(old)

	changed := old.DeepCopy()
	changed.StringData = map[string]string{"a": "2"}
	st.PrepareForUpdate(changed, old)
	errs := st.ValidateUpdate(changed, old)
	if got := errs.Fields(); !slices.Equal(got, []string{"data"}) || !strings.Contains(errs.Error(), "field is immutable when `immutable` is set") {
		t.Errorf("data change of an immutable Secret: %v", errs)
	}

	mutable := old.DeepCopy()
	mutable.Immutable = api.Ptr(false)
	if got := st.ValidateUpdate(mutable, old).Fields(); !slices.Equal(got, []string{"immutable"}) {
		t.Errorf("making it mutable: fields %q, want [immutable]", got)
	}

	retyped := newSecret(api.SecretTypeBasicAuth, map[string]string{"username": "u"})
	if errs := st.ValidateUpdate(retyped, newSecret(api.SecretTypeOpaque, map[string]string{"username": "u"})); !slices.Equal(errs.Fields(), []string{"type"}) ||
		!strings.Contains(errs.Error(), "field is immutable") {
		t.Errorf("type change: %v", errs)
	}

	plain := newSecret(api.SecretTypeOpaque, map[string]string{"a": "1"})
	next := plain.DeepCopy()
	next.Data["a"] = []byte("2")
	if errs := st.ValidateUpdate(next, plain); len(errs) > 0 {
		t.Errorf("data change of a mutable Secret: %v", errs)
	}
	if !st.BumpsGeneration(next, plain) {
		t.Error("a data change does not bump the generation")
	}
}
