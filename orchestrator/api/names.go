package api

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Syntax checks for names, keys and values. Each returns the list of
// rules the input breaks (empty when valid), in Kubernetes' wording.

const (
	dns1123LabelMaxLength     = 63
	dns1123SubdomainMaxLength = 253
	qualifiedNameMaxLength    = 63
	labelValueMaxLength       = 63
	// TotalAnnotationSizeLimitB bounds the summed size of an object's
	// annotation keys and values.
	TotalAnnotationSizeLimitB = 256 * 1024
	// ConfigMapMaxSize bounds the summed size of a ConfigMap's data.
	ConfigMapMaxSize = 1024 * 1024
)

var (
	dns1123LabelRE     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1123SubdomainRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	qualifiedNameRE    = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	labelValueRE       = qualifiedNameRE
	ianaSvcNameRE      = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
	configMapKeyRE     = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
)

// IsDNS1123Label checks an RFC 1123 label: at most 63 lowercase
// alphanumerics or '-', starting and ending alphanumeric (Namespace names,
// container names).
func IsDNS1123Label(s string) []string {
	var errs []string
	if len(s) > dns1123LabelMaxLength {
		errs = append(errs, fmt.Sprintf("must be no more than %d characters", dns1123LabelMaxLength))
	}
	if !dns1123LabelRE.MatchString(s) {
		errs = append(errs, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')")
	}
	return errs
}

// IsDNS1123Subdomain checks an RFC 1123 subdomain: at most 253 characters,
// dot-separated labels (most object names).
func IsDNS1123Subdomain(s string) []string {
	var errs []string
	if len(s) > dns1123SubdomainMaxLength {
		errs = append(errs, fmt.Sprintf("must be no more than %d characters", dns1123SubdomainMaxLength))
	}
	if !dns1123SubdomainRE.MatchString(s) {
		errs = append(errs, "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')")
	}
	return errs
}

// IsQualifiedName checks a label or annotation key: an optional DNS
// subdomain prefix and '/', then a name of at most 63 alphanumerics, '-',
// '_' or '.', starting and ending alphanumeric.
func IsQualifiedName(s string) []string {
	var errs []string
	parts := strings.Split(s, "/")
	var name string
	switch len(parts) {
	case 1:
		name = parts[0]
	case 2:
		prefix := parts[0]
		name = parts[1]
		if prefix == "" {
			errs = append(errs, "prefix part must be non-empty")
		} else if msgs := IsDNS1123Subdomain(prefix); len(msgs) > 0 {
			for _, m := range msgs {
				errs = append(errs, "prefix part "+m)
			}
		}
	default:
		return []string{"a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"}
	}
	if name == "" {
		errs = append(errs, "name part must be non-empty")
	} else if len(name) > qualifiedNameMaxLength {
		errs = append(errs, fmt.Sprintf("name part must be no more than %d characters", qualifiedNameMaxLength))
	}
	if name != "" && !qualifiedNameRE.MatchString(name) {
		errs = append(errs, "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc')")
	}
	return errs
}

// IsValidLabelValue checks a label value: empty, or at most 63
// alphanumerics, '-', '_' or '.', starting and ending alphanumeric.
func IsValidLabelValue(s string) []string {
	var errs []string
	if len(s) > labelValueMaxLength {
		errs = append(errs, fmt.Sprintf("must be no more than %d characters", labelValueMaxLength))
	}
	if s != "" && !labelValueRE.MatchString(s) {
		errs = append(errs, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345')")
	}
	return errs
}

// IsIANASvcName checks a port name: at most 15 lowercase alphanumerics or
// '-', at least one letter, no leading, trailing or double '-'.
func IsIANASvcName(s string) []string {
	var errs []string
	if len(s) > 15 {
		errs = append(errs, "must be no more than 15 characters")
	}
	if !ianaSvcNameRE.MatchString(s) {
		errs = append(errs, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
	}
	if strings.Contains(s, "--") {
		errs = append(errs, "must not contain consecutive hyphens")
	}
	if !strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz") {
		errs = append(errs, "must contain at least one letter (a-z)")
	}
	return errs
}

// IsConfigMapKey checks a ConfigMap/Secret key (a file name): at most 253
// alphanumerics, '-', '_' or '.', not "." or "..".
func IsConfigMapKey(s string) []string {
	var errs []string
	if len(s) > dns1123SubdomainMaxLength {
		errs = append(errs, fmt.Sprintf("must be no more than %d characters", dns1123SubdomainMaxLength))
	}
	if !configMapKeyRE.MatchString(s) {
		errs = append(errs, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name', or 'KEY_NAME', or 'key-name')")
	}
	if s == "." || s == ".." || strings.HasPrefix(s, "..") {
		errs = append(errs, "must not be '.' or '..' or start with '..'")
	}
	return errs
}

// IsEnvVarName checks an environment variable name: non-empty, printable
// ASCII without '='.
func IsEnvVarName(s string) []string {
	if s == "" {
		return []string{"must be non-empty"}
	}
	for _, r := range s {
		if r < 0x20 || r > 0x7e || r == '=' {
			return []string{"a valid environment variable name must consist only of printable ASCII characters other than '='"}
		}
	}
	return nil
}

// NodeLeaseNamespace holds the Lease of every Node, named after it: its
// agent's heartbeat (Kubernetes' kube-node-lease).
const NodeLeaseNamespace = "kube-node-lease"

// SystemNamespaces returns the namespaces every cluster has from the
// start, "default", "kube-system" and "kube-node-lease"
// ([NodeLeaseNamespace]). They are created on first use and cannot be
// deleted.
func SystemNamespaces() []string {
	return []string{DefaultNamespace, "kube-system", NodeLeaseNamespace}
}

// IsSystemNamespace reports whether name is one of SystemNamespaces.
func IsSystemNamespace(name string) bool { return slices.Contains(SystemNamespaces(), name) }

// ValidateLabels checks label keys (qualified names) and values.
func ValidateLabels(labels map[string]string, p Path) FieldErrorList {
	var errs FieldErrorList
	for _, k := range sortedKeys(labels) {
		for _, msg := range IsQualifiedName(k) {
			errs = append(errs, Invalid(p, k, msg))
		}
		for _, msg := range IsValidLabelValue(labels[k]) {
			errs = append(errs, Invalid(p.Key(k), labels[k], msg))
		}
	}
	return errs
}

// ValidateAnnotations checks annotation keys (qualified names, lower-cased)
// and the 256 KiB limit on their total size.
func ValidateAnnotations(annotations map[string]string, p Path) FieldErrorList {
	var errs FieldErrorList
	total := 0
	for _, k := range sortedKeys(annotations) {
		for _, msg := range IsQualifiedName(strings.ToLower(k)) {
			errs = append(errs, Invalid(p, k, msg))
		}
		total += len(k) + len(annotations[k])
	}
	if total > TotalAnnotationSizeLimitB {
		errs = append(errs, TooLong(p, TotalAnnotationSizeLimitB))
	}
	return errs
}

// dns1035LabelRE is RFC 1035's label: a letter first. Compiled once;
// never modified.
var dns1035LabelRE = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

// IsDNS1035Label checks an RFC 1035 label: at most 63 lowercase
// alphanumerics or '-', starting with a letter and ending alphanumeric
// (Service names, which become DNS names).
func IsDNS1035Label(s string) []string {
	var errs []string
	if len(s) > dns1123LabelMaxLength {
		errs = append(errs, fmt.Sprintf("must be no more than %d characters", dns1123LabelMaxLength))
	}
	if !dns1035LabelRE.MatchString(s) {
		errs = append(errs, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')")
	}
	return errs
}
