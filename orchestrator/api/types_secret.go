package api

import (
	"fmt"
	"reflect"
	"strings"
)

// This file holds the core/v1 Secret kind and its methods (kept apart
// from types_core.go and kinds.go so that kinds added alongside merge
// cleanly).

// SecretType says what a Secret holds and which keys it must have.
type SecretType string

// Secret types, with the keys each requires (Kubernetes' validation).
const (
	// SecretTypeOpaque (the default) is arbitrary user data.
	SecretTypeOpaque SecretType = "Opaque"
	// SecretTypeServiceAccountToken holds a ServiceAccount's token; it
	// must be annotated with ServiceAccountNameKey.
	SecretTypeServiceAccountToken SecretType = "kubernetes.io/service-account-token"
	// SecretTypeDockercfg holds a legacy ~/.dockercfg under DockerConfigKey.
	SecretTypeDockercfg SecretType = "kubernetes.io/dockercfg"
	// SecretTypeDockerConfigJSON holds a ~/.docker/config.json under
	// DockerConfigJSONKey.
	SecretTypeDockerConfigJSON SecretType = "kubernetes.io/dockerconfigjson"
	// SecretTypeBasicAuth holds BasicAuthUsernameKey and/or
	// BasicAuthPasswordKey.
	SecretTypeBasicAuth SecretType = "kubernetes.io/basic-auth"
	// SecretTypeSSHAuth holds SSHAuthPrivateKey.
	SecretTypeSSHAuth SecretType = "kubernetes.io/ssh-auth"
	// SecretTypeTLS holds a PEM certificate chain (TLSCertKey) and its
	// private key (TLSPrivateKeyKey).
	SecretTypeTLS SecretType = "kubernetes.io/tls"
	// SecretTypeBootstrapToken is a node bootstrap token.
	SecretTypeBootstrapToken SecretType = "bootstrap.kubernetes.io/token"
)

// Well-known Secret keys and annotations.
const (
	ServiceAccountNameKey = "kubernetes.io/service-account.name"
	ServiceAccountUIDKey  = "kubernetes.io/service-account.uid"
	DockerConfigKey       = ".dockercfg"
	DockerConfigJSONKey   = ".dockerconfigjson"
	BasicAuthUsernameKey  = "username"
	BasicAuthPasswordKey  = "password"
	SSHAuthPrivateKey     = "ssh-privatekey"
	TLSCertKey            = "tls.crt"
	TLSPrivateKeyKey      = "tls.key"
)

// SecretMaxSize bounds the summed size of a Secret's data values.
const SecretMaxSize = 1024 * 1024

// Secret holds sensitive data for Pods: delivered to containers as
// environment variables or files on tmpfs, encrypted at rest in the
// store, and never logged.
type Secret struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitzero"`
	// Immutable forbids changing Data (and Immutable) after creation.
	Immutable *bool `json:"immutable,omitempty"`
	// Data holds the values (base64 in JSON); keys must be valid file
	// names.
	Data map[string][]byte `json:"data,omitempty"`
	// StringData is write-only: its values are merged into Data on write
	// (replacing a Data value of the same key) and it is never stored or
	// returned.
	StringData map[string]string `json:"stringData,omitempty"`
	// Type is one of the SecretType constants or any other name; empty
	// means SecretTypeOpaque. It cannot change.
	Type SecretType `json:"type,omitempty"`
}

// SecretList is a list of Secrets.
type SecretList struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	Items    []Secret `json:"items"`
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *Secret) DeepCopy() *Secret {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *Secret) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *SecretList) DeepCopy() *SecretList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *SecretList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *SecretList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *Secret.
func (l *SecretList) SetItems(items []Object) error {
	out := make([]Secret, len(items))
	for i, it := range items {
		o, ok := it.(*Secret)
		if !ok || o == nil {
			return fmt.Errorf("api: SecretList.SetItems: item %d is %T, want *Secret", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// secretKind is the Secret's entry of builtinKinds.
func secretKind() KindInfo {
	return KindInfo{APIVersion: CoreV1, Kind: "Secret", Resource: "secrets", Namespaced: true,
		New:     func() Object { return &Secret{TypeMeta: TypeMeta{CoreV1, "Secret"}} },
		NewList: func() ObjectList { return &SecretList{TypeMeta: TypeMeta{CoreV1, "SecretList"}} }}
}

// redactedValue stands for a Secret value in an error, as Kubernetes
// writes it.
const redactedValue = "<secret contents redacted>"

// redactSecretValues replaces, in the decode errors of an object of type
// t, the bad values under a Secret's data and stringData (a number where
// a string belongs, say) by a placeholder: a decode error must not echo a
// Secret value.
func redactSecretValues(t reflect.Type, errs FieldErrorList) FieldErrorList {
	if t != reflect.TypeFor[Secret]() {
		return errs
	}
	for _, e := range errs {
		if e.Type == ErrorTypeInvalid && e.BadValue != nil &&
			(strings.HasPrefix(e.Field, "data") || strings.HasPrefix(e.Field, "stringData")) {
			e.BadValue = redactedValue
		}
	}
	return errs
}
