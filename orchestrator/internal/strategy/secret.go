package strategy

import (
	"crypto/tls"
	"encoding/json"
	"maps"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// secretStrategy: no status; stringData is merged into data before
// anything else sees the object (so it is validated as data, and never
// stored), the type defaults to Opaque and never changes, and an
// immutable Secret keeps its data (and its immutability) for good.
type secretStrategy struct {
	noStatus
	deletedWhenUnheld
}

// redacted stands for a Secret value in an error, as Kubernetes writes it.
const redacted = "<secret contents redacted>"

func (secretStrategy) NamespaceScoped() bool { return true }

func (secretStrategy) PrepareForCreate(obj api.Object) { mergeStringData(obj.(*api.Secret)) }

func (secretStrategy) PrepareForUpdate(obj, _ api.Object) { mergeStringData(obj.(*api.Secret)) }

// mergeStringData moves s.StringData into s.Data, replacing values of the
// same key, as Kubernetes' conversion does.
func mergeStringData(s *api.Secret) {
	if len(s.StringData) == 0 {
		s.StringData = nil
		return
	}
	if s.Data == nil {
		s.Data = make(map[string][]byte, len(s.StringData))
	}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
}

func (secretStrategy) Default(obj api.Object) {
	s := obj.(*api.Secret)
	mergeStringData(s) // a dry-run or validation path may skip Prepare
	if s.Type == "" {
		s.Type = api.SecretTypeOpaque
	}
}

func (secretStrategy) Validate(obj api.Object) api.FieldErrorList {
	s := obj.(*api.Secret)
	errs := ValidateObjectMeta(&s.ObjectMeta, true, api.IsDNS1123Subdomain, api.NewPath("metadata"))
	return append(errs, validateSecret(s)...)
}

func (s secretStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	errs := append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
	n, o := obj.(*api.Secret), old.(*api.Secret)
	if n.Type != o.Type {
		errs = append(errs, api.Invalid(api.NewPath("type"), n.Type, "field is immutable"))
	}
	if o.Immutable != nil && *o.Immutable {
		if n.Immutable == nil || !*n.Immutable {
			errs = append(errs, api.Forbidden(api.NewPath("immutable"), "field is immutable when `immutable` is set"))
		}
		if !maps.EqualFunc(o.Data, n.Data, func(a, b []byte) bool { return string(a) == string(b) }) {
			errs = append(errs, api.Forbidden(api.NewPath("data"), "field is immutable when `immutable` is set"))
		}
	}
	return errs
}

func (secretStrategy) BumpsGeneration(obj, old api.Object) bool {
	n, o := obj.(*api.Secret), old.(*api.Secret)
	return !semanticEqual(n.Immutable, o.Immutable) || !semanticEqual(n.Data, o.Data) || n.Type != o.Type
}

// validateSecret makes Kubernetes' checks of a Secret: key names, the
// total size, and the keys its type requires. An error never carries a
// value of the Secret: a bad value is shown as redacted.
func validateSecret(s *api.Secret) api.FieldErrorList {
	var errs api.FieldErrorList
	data := api.NewPath("data")
	total := 0
	for _, k := range sortedKeys(s.Data) {
		for _, msg := range api.IsConfigMapKey(k) {
			errs = append(errs, api.Invalid(data.Key(k), k, msg))
		}
		total += len(s.Data[k])
	}
	if total > api.SecretMaxSize {
		errs = append(errs, api.TooLong(data, api.SecretMaxSize))
	}
	required := func(key string) {
		if _, ok := s.Data[key]; !ok {
			errs = append(errs, api.Required(data.Key(key), ""))
		}
	}
	jsonValue := func(key string) {
		v, ok := s.Data[key]
		if !ok {
			errs = append(errs, api.Required(data.Key(key), ""))
			return
		}
		var anything map[string]any
		if err := json.Unmarshal(v, &anything); err != nil {
			// json's messages quote no input, only offsets and types.
			errs = append(errs, api.Invalid(data.Key(key), redacted, err.Error()))
		}
	}
	switch s.Type {
	case api.SecretTypeServiceAccountToken:
		if s.Annotations[api.ServiceAccountNameKey] == "" {
			errs = append(errs, api.Required(api.NewPath("metadata", "annotations").Key(api.ServiceAccountNameKey), ""))
		}
	case api.SecretTypeDockercfg:
		jsonValue(api.DockerConfigKey)
	case api.SecretTypeDockerConfigJSON:
		jsonValue(api.DockerConfigJSONKey)
	case api.SecretTypeBasicAuth:
		_, user := s.Data[api.BasicAuthUsernameKey]
		_, pass := s.Data[api.BasicAuthPasswordKey]
		if !user && !pass {
			errs = append(errs, api.Required(data.Key(api.BasicAuthUsernameKey), ""),
				api.Required(data.Key(api.BasicAuthPasswordKey), ""))
		}
	case api.SecretTypeSSHAuth:
		required(api.SSHAuthPrivateKey)
	case api.SecretTypeTLS:
		_, crt := s.Data[api.TLSCertKey]
		_, key := s.Data[api.TLSPrivateKeyKey]
		required(api.TLSCertKey)
		required(api.TLSPrivateKeyKey)
		// Beyond Kubernetes (issue 16): the pair must be a PEM certificate
		// chain and its matching key, checked as a TLS server would load
		// them. crypto/tls's errors describe, never quote, the input.
		if crt && key {
			if _, err := tls.X509KeyPair(s.Data[api.TLSCertKey], s.Data[api.TLSPrivateKeyKey]); err != nil {
				errs = append(errs, api.Invalid(data.Key(api.TLSCertKey), redacted, "must be a PEM certificate chain matching the private key in "+api.TLSPrivateKeyKey+": "+err.Error()))
			}
		}
	}
	return errs
}
