package strategy

import (
	"fmt"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Validation shared by the built-in kinds' strategies: metadata, Pod
// specs (for Pods and templates) and the workload specs. Every function
// returns all the problems it finds, each with its field path, so a
// client learns every mistake of a manifest at once.

// ValidateObjectMetaUpdate checks what an update may not change in
// metadata: name, namespace, uid and creationTimestamp (the last two
// only once set, since a client may omit them).
func ValidateObjectMetaUpdate(n, o *api.ObjectMeta) api.FieldErrorList {
	var errs api.FieldErrorList
	p := api.NewPath("metadata")
	if o.Name != n.Name {
		errs = append(errs, api.Invalid(p.Child("name"), n.Name, "field is immutable"))
	}
	if o.Namespace != n.Namespace {
		errs = append(errs, api.Invalid(p.Child("namespace"), n.Namespace, "field is immutable"))
	}
	if o.UID != "" && o.UID != n.UID {
		errs = append(errs, api.Invalid(p.Child("uid"), string(n.UID), "field is immutable"))
	}
	if !o.CreationTimestamp.IsZero() && !o.CreationTimestamp.Equal(n.CreationTimestamp) {
		errs = append(errs, api.Invalid(p.Child("creationTimestamp"), n.CreationTimestamp, "field is immutable"))
	}
	return errs
}

func validatePodSpecUpdate(o, n *api.PodSpec) api.FieldErrorList {
	p := api.NewPath("spec")
	var errs api.FieldErrorList
	if o.NodeName != "" && o.NodeName != n.NodeName {
		errs = append(errs, api.Invalid(p.Child("nodeName"), n.NodeName, "field is immutable once set"))
	}
	// Tolerations may only be added.
	for i, t := range o.Tolerations {
		found := false
		for _, nt := range n.Tolerations {
			if semanticEqual(t, nt) {
				found = true
				break
			}
		}
		if !found {
			errs = append(errs, api.Forbidden(p.Child("tolerations").Index(i), "existing toleration can not be modified except its tolerationSeconds"))
		}
	}
	// Compare with the mutable fields neutralised.
	a, b := api.Clone(*o), api.Clone(*n)
	for _, s := range []*api.PodSpec{&a, &b} {
		s.ActiveDeadlineSeconds = nil
		s.Tolerations = nil
		s.NodeName = ""
		for i := range s.Containers {
			s.Containers[i].Image = ""
		}
		for i := range s.InitContainers {
			s.InitContainers[i].Image = ""
		}
	}
	if !semanticEqual(a, b) {
		errs = append(errs, api.Forbidden(p, "pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.nodeName` (only when unset)"))
	}
	return errs
}

// ValidateObjectMeta checks metadata: name (with nameFn, e.g.
// IsDNS1123Subdomain) or generateName, namespace presence for namespaced
// kinds and absence otherwise, labels, annotations, owner references and
// finalizers. Paths are under p.
func ValidateObjectMeta(m *api.ObjectMeta, namespaced bool, nameFn func(string) []string, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	if m.Name == "" {
		if m.GenerateName == "" {
			errs = append(errs, api.Required(p.Child("name"), "name or generateName is required"))
		}
	} else {
		for _, msg := range nameFn(m.Name) {
			errs = append(errs, api.Invalid(p.Child("name"), m.Name, msg))
		}
	}
	if m.GenerateName != "" {
		// The server appends an alphanumeric suffix (truncating a long
		// prefix), so a trailing '-' is fine: check the prefix with that
		// dash masked, as Kubernetes does.
		prefix := m.GenerateName
		if strings.HasSuffix(prefix, "-") {
			prefix = prefix[:len(prefix)-1] + "a"
		}
		for _, msg := range nameFn(prefix) {
			errs = append(errs, api.Invalid(p.Child("generateName"), m.GenerateName, msg))
		}
	}
	if namespaced {
		if m.Namespace == "" {
			errs = append(errs, api.Required(p.Child("namespace"), ""))
		} else {
			for _, msg := range api.IsDNS1123Label(m.Namespace) {
				errs = append(errs, api.Invalid(p.Child("namespace"), m.Namespace, msg))
			}
		}
	} else if m.Namespace != "" {
		errs = append(errs, api.Forbidden(p.Child("namespace"), "not allowed on this type"))
	}
	if m.Generation < 0 {
		errs = append(errs, api.Invalid(p.Child("generation"), m.Generation, "must be greater than or equal to 0"))
	}
	if m.DeletionGracePeriodSeconds != nil && *m.DeletionGracePeriodSeconds < 0 {
		errs = append(errs, api.Invalid(p.Child("deletionGracePeriodSeconds"), *m.DeletionGracePeriodSeconds, "must be greater than or equal to 0"))
	}
	errs = append(errs, api.ValidateLabels(m.Labels, p.Child("labels"))...)
	errs = append(errs, api.ValidateAnnotations(m.Annotations, p.Child("annotations"))...)
	controllers := 0
	for i, ref := range m.OwnerReferences {
		rp := p.Child("ownerReferences").Index(i)
		if ref.APIVersion == "" {
			errs = append(errs, api.Required(rp.Child("apiVersion"), ""))
		}
		if ref.Kind == "" {
			errs = append(errs, api.Required(rp.Child("kind"), ""))
		}
		if ref.Name == "" {
			errs = append(errs, api.Required(rp.Child("name"), ""))
		}
		if ref.UID == "" {
			errs = append(errs, api.Required(rp.Child("uid"), ""))
		}
		if ref.Controller != nil && *ref.Controller {
			controllers++
			if controllers == 2 {
				errs = append(errs, api.Invalid(rp.Child("controller"), true, "only one reference can have Controller set to true"))
			}
		}
	}
	seen := map[string]bool{}
	for i, f := range m.Finalizers {
		fp := p.Child("finalizers").Index(i)
		for _, msg := range api.IsQualifiedName(f) {
			errs = append(errs, api.Invalid(fp, f, msg))
		}
		if seen[f] {
			errs = append(errs, api.Duplicate(fp, f))
		}
		seen[f] = true
	}
	return errs
}

// maxDurationSeconds is the longest time in seconds a time.Duration holds
// (about 292 years): a grace period or sleep beyond it would overflow when
// the agent turns it into a Duration (2^62 s became no grace at all).
const maxDurationSeconds = math.MaxInt64 / int64(time.Second)

// validateSeconds checks a duration in seconds that the agent waits for:
// 0 to maxDurationSeconds.
func validateSeconds(v int64, p api.Path) api.FieldErrorList {
	if v > maxDurationSeconds {
		return api.FieldErrorList{api.Invalid(p, v, fmt.Sprintf("must be less than or equal to %d (about 292 years, the longest wait the agent can keep)", maxDurationSeconds))}
	}
	return validateNonNegative(v, p)
}

func validateNonNegative(v int64, p api.Path) api.FieldErrorList {
	if v < 0 {
		return api.FieldErrorList{api.Invalid(p, v, "must be greater than or equal to 0")}
	}
	return nil
}

func validatePortNumber(v int32, p api.Path) api.FieldErrorList {
	if v < 1 || v > 65535 {
		return api.FieldErrorList{api.Invalid(p, v, "must be between 1 and 65535, inclusive")}
	}
	return nil
}

// ValidatePodSpec checks a Pod spec (also used for templates) and returns
// every problem with its path under p, including a Forbidden error "not
// supported yet" for each field set that Flotilla does not implement (see
// unsupported.go). The spec should be defaulted.
func ValidatePodSpec(spec *api.PodSpec, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	containers := map[string]bool{}
	for _, list := range [][]api.Container{spec.InitContainers, spec.Containers} {
		for _, c := range list {
			containers[c.Name] = true
		}
	}
	volumes, verrs := validateVolumes(spec.Volumes, containers, p.Child("volumes"))
	errs = append(errs, verrs...)

	if len(spec.Containers) == 0 {
		errs = append(errs, api.Required(p.Child("containers"), "must have at least one container"))
	}
	names := map[string]bool{}
	hostPorts := map[string]bool{}
	for i := range spec.InitContainers {
		errs = append(errs, validateContainer(&spec.InitContainers[i], p.Child("initContainers").Index(i), volumes, names, hostPorts, spec.HostNetwork, true)...)
	}
	for i := range spec.Containers {
		errs = append(errs, validateContainer(&spec.Containers[i], p.Child("containers").Index(i), volumes, names, hostPorts, spec.HostNetwork, false)...)
	}

	switch spec.RestartPolicy {
	case api.RestartPolicyAlways, api.RestartPolicyOnFailure, api.RestartPolicyNever:
	case "":
		errs = append(errs, api.Required(p.Child("restartPolicy"), ""))
	default:
		errs = append(errs, api.NotSupported(p.Child("restartPolicy"), spec.RestartPolicy,
			api.RestartPolicyAlways, api.RestartPolicyOnFailure, api.RestartPolicyNever))
	}
	if g := spec.TerminationGracePeriodSeconds; g != nil {
		errs = append(errs, validateSeconds(*g, p.Child("terminationGracePeriodSeconds"))...)
	}
	// activeDeadlineSeconds is refused as not supported yet (unsupported.go);
	// when it is built, validate 1 to 2^31-1 here, as Kubernetes does.
	errs = append(errs, api.ValidateLabels(spec.NodeSelector, p.Child("nodeSelector"))...)
	if spec.NodeName != "" {
		for _, msg := range api.IsDNS1123Subdomain(spec.NodeName) {
			errs = append(errs, api.Invalid(p.Child("nodeName"), spec.NodeName, msg))
		}
	}
	if spec.ServiceAccountName != "" {
		for _, msg := range api.IsDNS1123Subdomain(spec.ServiceAccountName) {
			errs = append(errs, api.Invalid(p.Child("serviceAccountName"), spec.ServiceAccountName, msg))
		}
	}
	if spec.Hostname != "" {
		for _, msg := range api.IsDNS1123Label(spec.Hostname) {
			errs = append(errs, api.Invalid(p.Child("hostname"), spec.Hostname, msg))
		}
	}
	if sc := spec.SecurityContext; sc != nil {
		errs = append(errs, validatePodSecurityContext(sc, p.Child("securityContext"))...)
	}
	for i, t := range spec.Tolerations {
		errs = append(errs, validateToleration(t, p.Child("tolerations").Index(i))...)
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil {
		errs = append(errs, validateNodeAffinity(a.NodeAffinity, p.Child("affinity", "nodeAffinity"))...)
	}
	return append(errs, validateNotSupported(spec, p)...)
}

// validateKeyRef checks a {name, key} reference to a ConfigMap or Secret
// key (configMapKeyRef, secretKeyRef).
func validateKeyRef(name, key string, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	if name == "" {
		errs = append(errs, api.Required(p.Child("name"), ""))
	}
	if key == "" {
		return append(errs, api.Required(p.Child("key"), ""))
	}
	for _, msg := range api.IsConfigMapKey(key) {
		errs = append(errs, api.Invalid(p.Child("key"), key, msg))
	}
	return errs
}

// validateUniqueName checks a required DNS-1123 label that must be
// unique among its siblings (volumes, containers), recording it in seen.
func validateUniqueName(name string, p api.Path, seen map[string]bool) api.FieldErrorList {
	if name == "" {
		return api.FieldErrorList{api.Required(p, "")}
	}
	var errs api.FieldErrorList
	for _, msg := range api.IsDNS1123Label(name) {
		errs = append(errs, api.Invalid(p, name, msg))
	}
	if seen[name] {
		errs = append(errs, api.Duplicate(p, name))
	}
	seen[name] = true
	return errs
}

func validateVolumes(vols []api.Volume, containers map[string]bool, p api.Path) (map[string]bool, api.FieldErrorList) {
	var errs api.FieldErrorList
	names := map[string]bool{}
	for i, v := range vols {
		vp := p.Index(i)
		errs = append(errs, validateUniqueName(v.Name, vp.Child("name"), names)...)
		n := 0
		if s := v.HostPath; s != nil {
			n++
			hp := vp.Child("hostPath")
			if s.Path == "" {
				errs = append(errs, api.Required(hp.Child("path"), ""))
			} else if !strings.HasPrefix(s.Path, "/") {
				errs = append(errs, api.Invalid(hp.Child("path"), s.Path, "must be an absolute path"))
			}
			if t := s.Type; t != nil && !slices.Contains(hostPathTypes, *t) {
				errs = append(errs, api.NotSupported(hp.Child("type"), *t, hostPathTypes...))
			}
		}
		if s := v.EmptyDir; s != nil {
			n++
			if s.SizeLimit != nil && s.SizeLimit.Sign() < 0 {
				errs = append(errs, api.Invalid(vp.Child("emptyDir", "sizeLimit"), s.SizeLimit.String(), "must be greater than or equal to 0"))
			}
			if m := s.Medium; m != "" && m != emptyDirMemory && !strings.HasPrefix(m, "HugePages") {
				errs = append(errs, api.NotSupported(vp.Child("emptyDir", "medium"), m, "", emptyDirMemory))
			}
		}
		if s := v.Secret; s != nil {
			n++
			if s.SecretName == "" {
				errs = append(errs, api.Required(vp.Child("secret", "secretName"), ""))
			}
			errs = append(errs, validateKeyToPaths(s.Items, vp.Child("secret", "items"))...)
			errs = append(errs, validateMode(s.DefaultMode, vp.Child("secret", "defaultMode"))...)
		}
		if s := v.ConfigMap; s != nil {
			n++
			if s.Name == "" {
				errs = append(errs, api.Required(vp.Child("configMap", "name"), ""))
			}
			errs = append(errs, validateKeyToPaths(s.Items, vp.Child("configMap", "items"))...)
			errs = append(errs, validateMode(s.DefaultMode, vp.Child("configMap", "defaultMode"))...)
		}
		if s := v.DownwardAPI; s != nil {
			n++
			errs = append(errs, validateDownwardAPIFiles(s.Items, containers, vp.Child("downwardAPI", "items"))...)
			errs = append(errs, validateMode(s.DefaultMode, vp.Child("downwardAPI", "defaultMode"))...)
		}
		if s := v.Projected; s != nil {
			n++
			errs = append(errs, validateProjected(s, containers, vp.Child("projected"))...)
		}
		if s := v.PersistentVolumeClaim; s != nil {
			n++
			if s.ClaimName == "" {
				errs = append(errs, api.Required(vp.Child("persistentVolumeClaim", "claimName"), ""))
			}
		}
		switch {
		case n == 0:
			errs = append(errs, api.Required(vp, "must specify a volume type (emptyDir, configMap, secret, hostPath, persistentVolumeClaim, downwardAPI or projected)"))
		case n > 1:
			errs = append(errs, api.Forbidden(vp, "may not specify more than 1 volume type"))
		}
	}
	return names, errs
}

// emptyDirMemory is the emptyDir medium backed by memory (a tmpfs).
const emptyDirMemory = "Memory"

// hostPathTypes are the values of hostPath.type ("" does no check).
var hostPathTypes = []string{"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice"}

// volumeFieldRefs are the fieldRef paths a downward API file may name,
// besides metadata.labels['key'] and metadata.annotations['key'].
var volumeFieldRefs = []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations"}

func validateMode(mode *int32, p api.Path) api.FieldErrorList {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		return api.FieldErrorList{api.Invalid(p, *mode, "must be a number between 0 and 0777 (octal), both inclusive")}
	}
	return nil
}

// validateFilePath checks the path of a file in a volume: relative,
// without "..".
func validateFilePath(path string, p api.Path) api.FieldErrorList {
	switch {
	case path == "":
		return api.FieldErrorList{api.Required(p, "")}
	case strings.HasPrefix(path, "/"):
		return api.FieldErrorList{api.Invalid(p, path, "must be a relative path")}
	case slices.Contains(strings.Split(path, "/"), ".."):
		return api.FieldErrorList{api.Invalid(p, path, "must not contain '..'")}
	}
	return nil
}

// validateDownwardAPIFiles checks the files of a downward API volume or
// projection; resourceFieldRef must name one of containers.
func validateDownwardAPIFiles(items []api.DownwardAPIVolumeFile, containers map[string]bool, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	for i, it := range items {
		ip := p.Index(i)
		errs = append(errs, validateFilePath(it.Path, ip.Child("path"))...)
		errs = append(errs, validateMode(it.Mode, ip.Child("mode"))...)
		switch {
		case it.FieldRef != nil && it.ResourceFieldRef != nil:
			errs = append(errs, api.Invalid(ip, "", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		case it.FieldRef != nil:
			errs = append(errs, validateFieldRef(it.FieldRef, volumeFieldRefs, ip.Child("fieldRef"))...)
		case it.ResourceFieldRef != nil:
			r := it.ResourceFieldRef
			rp := ip.Child("resourceFieldRef")
			if r.ContainerName == "" {
				errs = append(errs, api.Required(rp.Child("containerName"), ""))
			} else if !containers[r.ContainerName] {
				errs = append(errs, api.NotFound(rp.Child("containerName"), r.ContainerName))
			}
			errs = append(errs, validateResourceFieldRef(r, rp)...)
		default:
			errs = append(errs, api.Required(ip, "one of fieldRef and resourceFieldRef is required"))
		}
	}
	return errs
}

// validateProjected checks a projected volume: one kind per source, and
// no path written twice.
func validateProjected(s *api.ProjectedVolumeSource, containers map[string]bool, p api.Path) api.FieldErrorList {
	errs := validateMode(s.DefaultMode, p.Child("defaultMode"))
	paths := map[string]bool{}
	seen := func(path string, fp api.Path) {
		if paths[path] {
			errs = append(errs, api.Invalid(fp, path, "conflicting duplicate paths"))
		}
		paths[path] = true
	}
	for i, src := range s.Sources {
		sp := p.Child("sources").Index(i)
		n := 0
		if c := src.ConfigMap; c != nil {
			n++
			if c.Name == "" {
				errs = append(errs, api.Required(sp.Child("configMap", "name"), ""))
			}
			errs = append(errs, validateKeyToPaths(c.Items, sp.Child("configMap", "items"))...)
			for j, it := range c.Items {
				seen(it.Path, sp.Child("configMap", "items").Index(j).Child("path"))
			}
		}
		if d := src.DownwardAPI; d != nil {
			n++
			errs = append(errs, validateDownwardAPIFiles(d.Items, containers, sp.Child("downwardAPI", "items"))...)
			for j, it := range d.Items {
				seen(it.Path, sp.Child("downwardAPI", "items").Index(j).Child("path"))
			}
		}
		if c := src.Secret; c != nil {
			n++
			if c.Name == "" {
				errs = append(errs, api.Required(sp.Child("secret", "name"), ""))
			}
			errs = append(errs, validateKeyToPaths(c.Items, sp.Child("secret", "items"))...)
			for j, it := range c.Items {
				seen(it.Path, sp.Child("secret", "items").Index(j).Child("path"))
			}
		}
		if t := src.ServiceAccountToken; t != nil {
			n++
			errs = append(errs, validateFilePath(t.Path, sp.Child("serviceAccountToken", "path"))...)
		}
		switch {
		case n == 0:
			errs = append(errs, api.Required(sp, "must specify exactly 1 of: secret, configMap, downwardAPI, serviceAccountToken"))
		case n > 1:
			errs = append(errs, api.Forbidden(sp, "may not specify more than 1 volume type"))
		}
	}
	return errs
}

func validateKeyToPaths(items []api.KeyToPath, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	for i, it := range items {
		ip := p.Index(i)
		for _, msg := range api.IsConfigMapKey(it.Key) {
			errs = append(errs, api.Invalid(ip.Child("key"), it.Key, msg))
		}
		errs = append(errs, validateFilePath(it.Path, ip.Child("path"))...)
		errs = append(errs, validateMode(it.Mode, ip.Child("mode"))...)
	}
	return errs
}

// envFieldRefs are the fieldRef paths an env var may name, besides
// metadata.labels['key'] and metadata.annotations['key'].
var envFieldRefs = []string{
	"metadata.name", "metadata.namespace", "metadata.uid",
	"spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
}

var supportedResourceFieldRefs = []string{
	"limits.cpu", "limits.memory", "limits.ephemeral-storage",
	"requests.cpu", "requests.memory", "requests.ephemeral-storage",
}

func validateContainer(c *api.Container, p api.Path, volumes, names, hostPorts map[string]bool, hostNetwork, init bool) api.FieldErrorList {
	var errs api.FieldErrorList
	errs = append(errs, validateUniqueName(c.Name, p.Child("name"), names)...)
	if strings.TrimSpace(c.Image) == "" {
		errs = append(errs, api.Required(p.Child("image"), ""))
	} else if c.Image != strings.TrimSpace(c.Image) {
		errs = append(errs, api.Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	switch c.ImagePullPolicy {
	case api.PullAlways, api.PullNever, api.PullIfNotPresent:
	case "":
		errs = append(errs, api.Required(p.Child("imagePullPolicy"), ""))
	default:
		errs = append(errs, api.NotSupported(p.Child("imagePullPolicy"), c.ImagePullPolicy, api.PullAlways, api.PullIfNotPresent, api.PullNever))
	}

	portNames := map[string]bool{}
	for i, port := range c.Ports {
		pp := p.Child("ports").Index(i)
		if port.Name != "" {
			for _, msg := range api.IsIANASvcName(port.Name) {
				errs = append(errs, api.Invalid(pp.Child("name"), port.Name, msg))
			}
			if portNames[port.Name] {
				errs = append(errs, api.Duplicate(pp.Child("name"), port.Name))
			}
			portNames[port.Name] = true
		}
		errs = append(errs, validatePortNumber(port.ContainerPort, pp.Child("containerPort"))...)
		if port.HostPort != 0 {
			errs = append(errs, validatePortNumber(port.HostPort, pp.Child("hostPort"))...)
			if hostNetwork && port.HostPort != port.ContainerPort {
				errs = append(errs, api.Invalid(pp.Child("hostPort"), port.HostPort, "must match `containerPort` when `hostNetwork` is true"))
			}
			key := string(port.Protocol) + "/" + port.HostIP + "/" + strconv.Itoa(int(port.HostPort))
			if hostPorts[key] {
				errs = append(errs, api.Duplicate(pp.Child("hostPort"), port.HostPort))
			}
			hostPorts[key] = true
		}
		switch port.Protocol {
		case api.ProtocolTCP, api.ProtocolUDP, api.ProtocolSCTP:
		case "":
			errs = append(errs, api.Required(pp.Child("protocol"), ""))
		default:
			errs = append(errs, api.NotSupported(pp.Child("protocol"), port.Protocol, api.ProtocolTCP, api.ProtocolUDP, api.ProtocolSCTP))
		}
	}

	for i, e := range c.Env {
		ep := p.Child("env").Index(i)
		for _, msg := range api.IsEnvVarName(e.Name) {
			errs = append(errs, api.Invalid(ep.Child("name"), e.Name, msg))
		}
		if e.ValueFrom != nil {
			if e.Value != "" {
				errs = append(errs, api.Invalid(ep.Child("valueFrom"), "", "may not be specified when `value` is not empty"))
			}
			errs = append(errs, validateEnvVarSource(e.ValueFrom, ep.Child("valueFrom"))...)
		}
	}
	for i, e := range c.EnvFrom {
		ep := p.Child("envFrom").Index(i)
		if e.Prefix != "" {
			for _, msg := range api.IsEnvVarName(e.Prefix) {
				errs = append(errs, api.Invalid(ep.Child("prefix"), e.Prefix, msg))
			}
		}
		n := 0
		if e.ConfigMapRef != nil {
			n++
			if e.ConfigMapRef.Name == "" {
				errs = append(errs, api.Required(ep.Child("configMapRef", "name"), ""))
			}
		}
		if e.SecretRef != nil {
			n++
			if e.SecretRef.Name == "" {
				errs = append(errs, api.Required(ep.Child("secretRef", "name"), ""))
			}
		}
		switch {
		case n == 0:
			errs = append(errs, api.Required(ep, "must specify one of: `configMapRef` or `secretRef`"))
		case n > 1:
			errs = append(errs, api.Forbidden(ep, "may not have more than one field specified at a time"))
		}
	}

	errs = append(errs, ValidateResourceRequirements(&c.Resources, p.Child("resources"))...)

	mountPaths := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := p.Child("volumeMounts").Index(i)
		if m.Name == "" {
			errs = append(errs, api.Required(mp.Child("name"), ""))
		} else if !volumes[m.Name] {
			errs = append(errs, api.NotFound(mp.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, api.Required(mp.Child("mountPath"), ""))
		} else if mountPaths[m.MountPath] {
			errs = append(errs, api.Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPaths[m.MountPath] = true
		if strings.HasPrefix(m.SubPath, "/") || slices.Contains(strings.Split(m.SubPath, "/"), "..") {
			errs = append(errs, api.Invalid(mp.Child("subPath"), m.SubPath, "must be a relative path without '..'"))
		}
	}

	// A sidecar (an init container with restartPolicy Always) runs beside
	// the app containers: it may have probes and hooks; other init
	// containers run to completion and may not.
	sidecar := false
	if rp := c.RestartPolicy; rp != nil {
		switch {
		case !init:
			errs = append(errs, api.Forbidden(p.Child("restartPolicy"), "may not be set for non-init containers"))
		case *rp != string(api.RestartPolicyAlways):
			errs = append(errs, api.NotSupported(p.Child("restartPolicy"), *rp, api.RestartPolicyAlways))
		default:
			sidecar = true
		}
	}
	if sc := c.SecurityContext; sc != nil {
		errs = append(errs, validateSecurityContext(sc, p.Child("securityContext"))...)
	}
	probes := []struct {
		probe *api.Probe
		name  string
	}{{c.LivenessProbe, "livenessProbe"}, {c.ReadinessProbe, "readinessProbe"}, {c.StartupProbe, "startupProbe"}}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		if init && !sidecar {
			errs = append(errs, api.Forbidden(p.Child(pr.name), "may not be set for init containers without restartPolicy=Always"))
			continue
		}
		errs = append(errs, validateProbe(pr.probe, p.Child(pr.name), pr.name != "readinessProbe", portNames)...)
	}
	if c.Lifecycle != nil && init && !sidecar {
		errs = append(errs, api.Forbidden(p.Child("lifecycle"), "may not be set for init containers without restartPolicy=Always"))
	} else if c.Lifecycle != nil {
		for _, h := range []struct {
			h    *api.LifecycleHandler
			name string
		}{{c.Lifecycle.PostStart, "postStart"}, {c.Lifecycle.PreStop, "preStop"}} {
			if h.h != nil {
				errs = append(errs, validateLifecycleHandler(h.h, p.Child("lifecycle", h.name), portNames)...)
			}
		}
	}
	return errs
}

func validateEnvVarSource(s *api.EnvVarSource, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	n := 0
	if r := s.FieldRef; r != nil {
		n++
		errs = append(errs, validateFieldRef(r, envFieldRefs, p.Child("fieldRef"))...)
	}
	if r := s.ResourceFieldRef; r != nil {
		n++
		errs = append(errs, validateResourceFieldRef(r, p.Child("resourceFieldRef"))...)
	}
	if r := s.ConfigMapKeyRef; r != nil {
		n++
		errs = append(errs, validateKeyRef(r.Name, r.Key, p.Child("configMapKeyRef"))...)
	}
	if r := s.SecretKeyRef; r != nil {
		n++
		errs = append(errs, validateKeyRef(r.Name, r.Key, p.Child("secretKeyRef"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, api.Invalid(p, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
	case n > 1:
		errs = append(errs, api.Invalid(p, "", "may not have more than one field specified at a time"))
	}
	return errs
}

// validateFieldRef checks a downward API fieldRef: one of paths, or a
// label or annotation by key (metadata.labels['key']).
func validateFieldRef(r *api.ObjectFieldSelector, paths []string, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	fp := r.FieldPath
	base, _, hasSub := strings.Cut(fp, "[")
	switch {
	case fp == "":
		errs = append(errs, api.Required(p.Child("fieldPath"), ""))
	case hasSub && (base == "metadata.labels" || base == "metadata.annotations"):
		if !strings.HasSuffix(fp, "']") || !strings.HasPrefix(fp[len(base):], "['") {
			errs = append(errs, api.Invalid(p.Child("fieldPath"), fp, "subscript must be of the form ['key']"))
		}
	case !slices.Contains(paths, fp):
		errs = append(errs, api.NotSupported(p.Child("fieldPath"), fp, paths...))
	}
	if r.APIVersion != "" && r.APIVersion != api.CoreV1 {
		errs = append(errs, api.NotSupported(p.Child("apiVersion"), r.APIVersion, api.CoreV1))
	}
	return errs
}

func validateResourceFieldRef(r *api.ResourceFieldSelector, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	if !slices.Contains(supportedResourceFieldRefs, r.Resource) {
		errs = append(errs, api.NotSupported(p.Child("resource"), r.Resource, supportedResourceFieldRefs...))
	}
	if r.Divisor != nil && r.Divisor.Sign() <= 0 {
		errs = append(errs, api.Invalid(p.Child("divisor"), r.Divisor.String(), "must be greater than 0"))
	}
	return errs
}

// ValidateResourceRequirements checks resource names, that quantities are
// non-negative, and that each request is at most its limit.
func ValidateResourceRequirements(r *api.ResourceRequirements, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	for _, list := range []struct {
		rl   api.ResourceList
		name string
	}{{r.Limits, "limits"}, {r.Requests, "requests"}} {
		for _, name := range sortedKeys(list.rl) {
			rp := p.Child(list.name).Key(string(name))
			for _, msg := range api.IsQualifiedName(string(name)) {
				errs = append(errs, api.Invalid(rp, string(name), msg))
			}
			if q := list.rl[name]; q.Sign() < 0 {
				errs = append(errs, api.Invalid(rp, q.String(), "must be greater than or equal to 0"))
			}
		}
	}
	for _, name := range sortedKeys(r.Requests) {
		req := r.Requests[name]
		if lim, ok := r.Limits[name]; ok && req.Cmp(lim) > 0 {
			errs = append(errs, api.Invalid(p.Child("requests").Key(string(name)), req.String(),
				"must be less than or equal to "+string(name)+" limit of "+lim.String()))
		}
	}
	return errs
}

// validateCommonHandlers checks the handler kinds probes and lifecycle
// hooks share and counts how many are set.
func validateCommonHandlers(exec *api.ExecAction, httpGet *api.HTTPGetAction, tcp *api.TCPSocketAction, p api.Path, portNames map[string]bool) (int, api.FieldErrorList) {
	var errs api.FieldErrorList
	n := 0
	if exec != nil {
		n++
		if len(exec.Command) == 0 {
			errs = append(errs, api.Required(p.Child("exec", "command"), ""))
		}
	}
	if httpGet != nil {
		n++
		errs = append(errs, validateHTTPGet(httpGet, p.Child("httpGet"), portNames)...)
	}
	if tcp != nil {
		n++
		errs = append(errs, validatePortRef(tcp.Port, p.Child("tcpSocket", "port"), portNames)...)
	}
	return n, errs
}

func validateProbe(pr *api.Probe, p api.Path, mustSucceedOnce bool, portNames map[string]bool) api.FieldErrorList {
	h := pr.ProbeHandler
	n, errs := validateCommonHandlers(h.Exec, h.HTTPGet, h.TCPSocket, p, portNames)
	if h.GRPC != nil {
		n++
		errs = append(errs, validatePortNumber(h.GRPC.Port, p.Child("grpc", "port"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, api.Required(p, "must specify a handler type (exec, httpGet, tcpSocket or grpc)"))
	case n > 1:
		errs = append(errs, api.Forbidden(p, "may not specify more than 1 handler type"))
	}
	errs = append(errs, validateNonNegative(int64(pr.InitialDelaySeconds), p.Child("initialDelaySeconds"))...)
	if pr.PeriodMilliseconds < 0 {
		errs = append(errs, api.Invalid(p.Child("periodMilliseconds"), pr.PeriodMilliseconds, "must be greater than or equal to 0"))
	}
	if pr.PeriodSeconds < 0 || (pr.PeriodSeconds < 1 && pr.PeriodMilliseconds <= 0) {
		errs = append(errs, api.Invalid(p.Child("periodSeconds"), pr.PeriodSeconds, "must be greater than or equal to 1"))
	}
	if pr.TimeoutSeconds < 1 {
		errs = append(errs, api.Invalid(p.Child("timeoutSeconds"), pr.TimeoutSeconds, "must be greater than or equal to 1"))
	}
	if pr.SuccessThreshold < 1 {
		errs = append(errs, api.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be greater than or equal to 1"))
	} else if mustSucceedOnce && pr.SuccessThreshold != 1 {
		errs = append(errs, api.Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	if pr.FailureThreshold < 1 {
		errs = append(errs, api.Invalid(p.Child("failureThreshold"), pr.FailureThreshold, "must be greater than or equal to 1"))
	}
	if g := pr.TerminationGracePeriodSeconds; g != nil {
		if !mustSucceedOnce {
			errs = append(errs, api.Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must not be set for readinessProbes"))
		} else if *g < 1 {
			errs = append(errs, api.Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
		} else {
			errs = append(errs, validateSeconds(*g, p.Child("terminationGracePeriodSeconds"))...)
		}
	}
	return errs
}

func validateLifecycleHandler(h *api.LifecycleHandler, p api.Path, portNames map[string]bool) api.FieldErrorList {
	n, errs := validateCommonHandlers(h.Exec, h.HTTPGet, h.TCPSocket, p, portNames)
	if h.Sleep != nil {
		n++
		errs = append(errs, validateSeconds(h.Sleep.Seconds, p.Child("sleep", "seconds"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, api.Required(p, "must specify a handler type (exec, httpGet, tcpSocket or sleep)"))
	case n > 1:
		errs = append(errs, api.Forbidden(p, "may not specify more than 1 handler type"))
	}
	return errs
}

func validateHTTPGet(h *api.HTTPGetAction, p api.Path, portNames map[string]bool) api.FieldErrorList {
	var errs api.FieldErrorList
	errs = append(errs, validatePortRef(h.Port, p.Child("port"), portNames)...)
	switch h.Scheme {
	case api.URISchemeHTTP, api.URISchemeHTTPS:
	case "":
		errs = append(errs, api.Required(p.Child("scheme"), ""))
	default:
		errs = append(errs, api.NotSupported(p.Child("scheme"), h.Scheme, api.URISchemeHTTP, api.URISchemeHTTPS))
	}
	for i, hd := range h.HTTPHeaders {
		if !httpHeaderNameRE.MatchString(hd.Name) {
			errs = append(errs, api.Invalid(p.Child("httpHeaders").Index(i).Child("name"), hd.Name, "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name')"))
		}
	}
	return errs
}

// validatePortRef checks a probe port: a number 1-65535 or the name of a
// port declared by the container.
func validatePortRef(port api.IntOrString, p api.Path, portNames map[string]bool) api.FieldErrorList {
	if port.Type == api.Int {
		return validatePortNumber(port.IntVal, p)
	}
	if port.StrVal == "" {
		return api.FieldErrorList{api.Required(p, "")}
	}
	if msgs := api.IsIANASvcName(port.StrVal); len(msgs) > 0 {
		var errs api.FieldErrorList
		for _, msg := range msgs {
			errs = append(errs, api.Invalid(p, port.StrVal, msg))
		}
		return errs
	}
	if !portNames[port.StrVal] {
		return api.FieldErrorList{api.Invalid(p, port.StrVal, "must be the name of a port declared in the container's ports")}
	}
	return nil
}

func validateToleration(t api.Toleration, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	if t.Key != "" {
		for _, msg := range api.IsQualifiedName(t.Key) {
			errs = append(errs, api.Invalid(p.Child("key"), t.Key, msg))
		}
	}
	switch t.Operator {
	case api.TolerationOpExists:
		if t.Value != "" {
			errs = append(errs, api.Invalid(p.Child("value"), t.Value, "value must be empty when `operator` is 'Exists'"))
		}
	case api.TolerationOpEqual, "":
		if t.Key == "" {
			errs = append(errs, api.Invalid(p.Child("operator"), t.Operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		for _, msg := range api.IsValidLabelValue(t.Value) {
			errs = append(errs, api.Invalid(p.Child("value"), t.Value, msg))
		}
	default:
		errs = append(errs, api.NotSupported(p.Child("operator"), t.Operator, api.TolerationOpEqual, api.TolerationOpExists))
	}
	switch t.Effect {
	case "", api.TaintEffectNoSchedule, api.TaintEffectPreferNoSchedule, api.TaintEffectNoExecute:
	default:
		errs = append(errs, api.NotSupported(p.Child("effect"), t.Effect, api.TaintEffectNoSchedule, api.TaintEffectPreferNoSchedule, api.TaintEffectNoExecute))
	}
	if t.TolerationSeconds != nil && t.Effect != api.TaintEffectNoExecute {
		errs = append(errs, api.Invalid(p.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
	}
	return errs
}

func validateNodeAffinity(na *api.NodeAffinity, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	if r := na.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
		rp := p.Child("requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
		if len(r.NodeSelectorTerms) == 0 {
			errs = append(errs, api.Required(rp, "must have at least one node selector term"))
		}
		for i, t := range r.NodeSelectorTerms {
			errs = append(errs, validateNodeSelectorTerm(t, rp.Index(i))...)
		}
	}
	for i, t := range na.PreferredDuringSchedulingIgnoredDuringExecution {
		tp := p.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
		if t.Weight < 1 || t.Weight > 100 {
			errs = append(errs, api.Invalid(tp.Child("weight"), t.Weight, "must be in the range 1-100"))
		}
		errs = append(errs, validateNodeSelectorTerm(t.Preference, tp.Child("preference"))...)
	}
	return errs
}

func validateNodeSelectorTerm(t api.NodeSelectorTerm, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	for i, r := range t.MatchExpressions {
		errs = append(errs, validateNodeSelectorRequirement(r, p.Child("matchExpressions").Index(i), false)...)
	}
	for i, r := range t.MatchFields {
		errs = append(errs, validateNodeSelectorRequirement(r, p.Child("matchFields").Index(i), true)...)
	}
	return errs
}

func validateNodeSelectorRequirement(r api.NodeSelectorRequirement, p api.Path, field bool) api.FieldErrorList {
	var errs api.FieldErrorList
	switch r.Operator {
	case api.NodeSelectorOpIn, api.NodeSelectorOpNotIn:
		if len(r.Values) == 0 {
			errs = append(errs, api.Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
		}
	case api.NodeSelectorOpExists, api.NodeSelectorOpDoesNotExist:
		if len(r.Values) > 0 {
			errs = append(errs, api.Forbidden(p.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
		}
	case api.NodeSelectorOpGt, api.NodeSelectorOpLt:
		if len(r.Values) != 1 {
			errs = append(errs, api.Required(p.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
		} else if _, err := strconv.ParseInt(r.Values[0], 10, 64); err != nil {
			errs = append(errs, api.Invalid(p.Child("values").Index(0), r.Values[0], "must be an integer"))
		}
	default:
		errs = append(errs, api.NotSupported(p.Child("operator"), r.Operator,
			api.NodeSelectorOpIn, api.NodeSelectorOpNotIn, api.NodeSelectorOpExists, api.NodeSelectorOpDoesNotExist, api.NodeSelectorOpGt, api.NodeSelectorOpLt))
	}
	if field {
		if r.Key != "metadata.name" {
			errs = append(errs, api.NotSupported(p.Child("key"), r.Key, "metadata.name"))
		}
		return errs
	}
	for _, msg := range api.IsQualifiedName(r.Key) {
		errs = append(errs, api.Invalid(p.Child("key"), r.Key, msg))
	}
	return errs
}

func validateSelectorAndTemplate(sel *api.LabelSelector, tmpl *api.PodTemplateSpec, p api.Path, kind string) api.FieldErrorList {
	errs := validateSelectorAndPodTemplate(sel, tmpl, p, kind)
	// Other values are already reported by ValidatePodSpec.
	if rp := tmpl.Spec.RestartPolicy; rp == api.RestartPolicyOnFailure || rp == api.RestartPolicyNever {
		errs = append(errs, api.NotSupported(p.Child("template", "spec", "restartPolicy"), rp, api.RestartPolicyAlways))
	}
	return errs
}

// validateSelectorAndPodTemplate is validateSelectorAndTemplate without
// the rule on restartPolicy, which differs by kind.
func validateSelectorAndPodTemplate(sel *api.LabelSelector, tmpl *api.PodTemplateSpec, p api.Path, kind string) api.FieldErrorList {
	var errs api.FieldErrorList
	sp := p.Child("selector")
	switch {
	case sel == nil:
		errs = append(errs, api.Required(sp, ""))
	case len(sel.MatchLabels)+len(sel.MatchExpressions) == 0:
		errs = append(errs, api.Invalid(sp, sel, "empty selector is invalid for "+kind))
	default:
		errs = append(errs, api.ValidateLabelSelector(sel, sp)...)
	}
	tp := p.Child("template")
	tm := &tmpl.ObjectMeta
	errs = append(errs, api.ValidateLabels(tm.Labels, tp.Child("metadata", "labels"))...)
	errs = append(errs, api.ValidateAnnotations(tm.Annotations, tp.Child("metadata", "annotations"))...)
	if len(errs) == 0 && sel != nil {
		if s, err := api.LabelSelectorAsSelector(sel); err == nil && !s.Matches(tm.Labels) {
			errs = append(errs, api.Invalid(tp.Child("metadata", "labels"), tm.Labels, "`selector` does not match template `labels`"))
		}
	}
	return append(errs, ValidatePodSpec(&tmpl.Spec, tp.Child("spec"))...)
}

func validateDeploymentSpec(spec *api.DeploymentSpec, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	if spec.Replicas != nil {
		errs = append(errs, validateNonNegative(int64(*spec.Replicas), p.Child("replicas"))...)
	}
	errs = append(errs, validateSelectorAndTemplate(spec.Selector, &spec.Template, p, "deployment")...)
	sp := p.Child("strategy")
	switch spec.Strategy.Type {
	case api.RecreateDeploymentStrategyType:
		if spec.Strategy.RollingUpdate != nil {
			errs = append(errs, api.Forbidden(sp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case api.RollingUpdateDeploymentStrategyType:
		if ru := spec.Strategy.RollingUpdate; ru != nil {
			errs = append(errs, validateRollingUpdate(ru, sp.Child("rollingUpdate"))...)
		}
	case "":
		errs = append(errs, api.Required(sp.Child("type"), ""))
	default:
		errs = append(errs, api.NotSupported(sp.Child("type"), spec.Strategy.Type,
			api.RecreateDeploymentStrategyType, api.RollingUpdateDeploymentStrategyType))
	}
	errs = append(errs, validateNonNegative(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, validateNonNegative(int64(*spec.RevisionHistoryLimit), p.Child("revisionHistoryLimit"))...)
	}
	if d := spec.ProgressDeadlineSeconds; d != nil {
		if *d <= spec.MinReadySeconds {
			errs = append(errs, api.Invalid(p.Child("progressDeadlineSeconds"), *d, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateIntOrPercent(v *api.IntOrString, p api.Path) (api.FieldErrorList, bool) {
	if v == nil {
		return nil, true
	}
	if v.Type == api.Int {
		if v.IntVal < 0 {
			return api.FieldErrorList{api.Invalid(p, v.IntVal, "must be greater than or equal to 0")}, false
		}
		return nil, true
	}
	if _, err := api.ParsePercent(v.StrVal); err != nil {
		return api.FieldErrorList{api.Invalid(p, v.StrVal, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%')")}, false
	}
	return nil, true
}

func isZeroIntOrPercent(v *api.IntOrString) bool {
	if v == nil {
		return true
	}
	if v.Type == api.Int {
		return v.IntVal == 0
	}
	n, err := api.ParsePercent(v.StrVal)
	return err == nil && n == 0
}

func validateRollingUpdate(ru *api.RollingUpdateDeployment, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	e1, ok1 := validateIntOrPercent(ru.MaxUnavailable, p.Child("maxUnavailable"))
	e2, ok2 := validateIntOrPercent(ru.MaxSurge, p.Child("maxSurge"))
	errs = append(append(errs, e1...), e2...)
	if ok1 && ru.MaxUnavailable != nil && ru.MaxUnavailable.Type == api.String {
		if n, _ := api.ParsePercent(ru.MaxUnavailable.StrVal); n > 100 {
			errs = append(errs, api.Invalid(p.Child("maxUnavailable"), ru.MaxUnavailable.StrVal, "must not be greater than 100%"))
		}
	}
	if ok1 && ok2 && isZeroIntOrPercent(ru.MaxUnavailable) && isZeroIntOrPercent(ru.MaxSurge) {
		errs = append(errs, api.Invalid(p.Child("maxUnavailable"), ru.MaxUnavailable, "may not be 0 when `maxSurge` is 0"))
	}
	return errs
}

func validateReplicaSetSpec(spec *api.ReplicaSetSpec, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	if spec.Replicas != nil {
		errs = append(errs, validateNonNegative(int64(*spec.Replicas), p.Child("replicas"))...)
	}
	errs = append(errs, validateNonNegative(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, validateSelectorAndTemplate(spec.Selector, &spec.Template, p, "replicaset")...)
	return errs
}

func validateConfigMap(cm *api.ConfigMap) api.FieldErrorList {
	var errs api.FieldErrorList
	total := 0
	for _, k := range sortedKeys(cm.Data) {
		for _, msg := range api.IsConfigMapKey(k) {
			errs = append(errs, api.Invalid(api.NewPath("data").Key(k), k, msg))
		}
		total += len(cm.Data[k])
	}
	for _, k := range sortedKeys(cm.BinaryData) {
		for _, msg := range api.IsConfigMapKey(k) {
			errs = append(errs, api.Invalid(api.NewPath("binaryData").Key(k), k, msg))
		}
		if _, dup := cm.Data[k]; dup {
			errs = append(errs, api.Invalid(api.NewPath("binaryData").Key(k), k, "duplicate of key present in data"))
		}
		total += len(cm.BinaryData[k])
	}
	if total > api.ConfigMapMaxSize {
		errs = append(errs, api.TooLong(api.NewPath(""), api.ConfigMapMaxSize))
	}
	return errs
}

func validateNode(n *api.Node) api.FieldErrorList {
	var errs api.FieldErrorList
	p := api.NewPath("spec")
	if n.Spec.PodCIDR != "" {
		if _, _, err := net.ParseCIDR(n.Spec.PodCIDR); err != nil {
			errs = append(errs, api.Invalid(p.Child("podCIDR"), n.Spec.PodCIDR, "must be a valid CIDR"))
		}
	}
	for i, c := range n.Spec.PodCIDRs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			errs = append(errs, api.Invalid(p.Child("podCIDRs").Index(i), c, "must be a valid CIDR"))
		}
	}
	for i, t := range n.Spec.Taints {
		tp := p.Child("taints").Index(i)
		if t.Key == "" {
			errs = append(errs, api.Required(tp.Child("key"), ""))
		}
		for _, msg := range api.IsQualifiedName(t.Key) {
			if t.Key != "" {
				errs = append(errs, api.Invalid(tp.Child("key"), t.Key, msg))
			}
		}
		for _, msg := range api.IsValidLabelValue(t.Value) {
			errs = append(errs, api.Invalid(tp.Child("value"), t.Value, msg))
		}
		switch t.Effect {
		case api.TaintEffectNoSchedule, api.TaintEffectPreferNoSchedule, api.TaintEffectNoExecute:
		case "":
			errs = append(errs, api.Required(tp.Child("effect"), ""))
		default:
			errs = append(errs, api.NotSupported(tp.Child("effect"), t.Effect, api.TaintEffectNoSchedule, api.TaintEffectPreferNoSchedule, api.TaintEffectNoExecute))
		}
	}
	sp := api.NewPath("status")
	for _, l := range []struct {
		rl   api.ResourceList
		name string
	}{{n.Status.Capacity, "capacity"}, {n.Status.Allocatable, "allocatable"}} {
		for _, name := range sortedKeys(l.rl) {
			if q := l.rl[name]; q.Sign() < 0 {
				errs = append(errs, api.Invalid(sp.Child(l.name).Key(string(name)), q.String(), "must be greater than or equal to 0"))
			}
		}
	}
	return errs
}

func validateEvent(e *api.Event) api.FieldErrorList {
	var errs api.FieldErrorList
	p := api.NewPath("involvedObject")
	if e.InvolvedObject.Kind == "" {
		errs = append(errs, api.Required(p.Child("kind"), ""))
	}
	if e.InvolvedObject.Name == "" {
		errs = append(errs, api.Required(p.Child("name"), ""))
	}
	if e.InvolvedObject.Namespace != "" && e.Namespace != "" && e.InvolvedObject.Namespace != e.Namespace {
		errs = append(errs, api.Invalid(p.Child("namespace"), e.InvolvedObject.Namespace, "does not match event.namespace"))
	}
	switch e.Type {
	case "", api.EventTypeNormal, api.EventTypeWarning:
	default:
		errs = append(errs, api.NotSupported(api.NewPath("type"), e.Type, api.EventTypeNormal, api.EventTypeWarning))
	}
	if e.Count < 0 {
		errs = append(errs, api.Invalid(api.NewPath("count"), e.Count, "must be greater than or equal to 0"))
	}
	return errs
}

// Seccomp profile types, fsGroup change policies and /proc mounts.
const (
	seccompRuntimeDefault = "RuntimeDefault"
	seccompUnconfined     = "Unconfined"
	seccompLocalhost      = "Localhost"
	procMountDefault      = "Default"
	procMountUnmasked     = "Unmasked"
)

// capabilities are the Linux capabilities a container may add or drop
// (without the "CAP_" prefix, which is tolerated), besides ALL.
var capabilities = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
	"LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
	"SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
	"SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
	"MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
	"CHECKPOINT_RESTORE", "ALL",
}

// validateID checks a user or group ID.
func validateID(id int64, p api.Path) api.FieldErrorList {
	if id < 0 || id > math.MaxInt32 {
		return api.FieldErrorList{api.Invalid(p, id, "must be between 0 and 2147483647, inclusive")}
	}
	return nil
}

func validateSeccompProfile(sp *api.SeccompProfile, p api.Path) api.FieldErrorList {
	if sp == nil {
		return nil
	}
	var errs api.FieldErrorList
	switch sp.Type {
	case seccompRuntimeDefault, seccompUnconfined:
		if sp.LocalhostProfile != nil {
			errs = append(errs, api.Invalid(p.Child("localhostProfile"), *sp.LocalhostProfile, "can only be set if type is Localhost"))
		}
	case seccompLocalhost:
		if sp.LocalhostProfile == nil || *sp.LocalhostProfile == "" {
			errs = append(errs, api.Required(p.Child("localhostProfile"), "must be set when seccomp type is Localhost"))
		}
	default:
		errs = append(errs, api.NotSupported(p.Child("type"), sp.Type, seccompRuntimeDefault, seccompUnconfined, seccompLocalhost))
	}
	return errs
}

func validatePodSecurityContext(sc *api.PodSecurityContext, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	for _, id := range []struct {
		v    *int64
		name string
	}{{sc.RunAsUser, "runAsUser"}, {sc.RunAsGroup, "runAsGroup"}, {sc.FSGroup, "fsGroup"}} {
		if id.v != nil {
			errs = append(errs, validateID(*id.v, p.Child(id.name))...)
		}
	}
	for i, g := range sc.SupplementalGroups {
		errs = append(errs, validateID(g, p.Child("supplementalGroups").Index(i))...)
	}
	if fp := sc.FSGroupChangePolicy; fp != nil && *fp != "OnRootMismatch" && *fp != "Always" {
		errs = append(errs, api.NotSupported(p.Child("fsGroupChangePolicy"), *fp, "OnRootMismatch", "Always"))
	}
	return append(errs, validateSeccompProfile(sc.SeccompProfile, p.Child("seccompProfile"))...)
}

func validateSecurityContext(sc *api.SecurityContext, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	for _, id := range []struct {
		v    *int64
		name string
	}{{sc.RunAsUser, "runAsUser"}, {sc.RunAsGroup, "runAsGroup"}} {
		if id.v != nil {
			errs = append(errs, validateID(*id.v, p.Child(id.name))...)
		}
	}
	sysAdmin := false
	if caps := sc.Capabilities; caps != nil {
		for _, list := range []struct {
			caps []string
			name string
		}{{caps.Add, "add"}, {caps.Drop, "drop"}} {
			for i, c := range list.caps {
				name := strings.TrimPrefix(c, "CAP_")
				if !slices.Contains(capabilities, name) {
					errs = append(errs, api.Invalid(p.Child("capabilities", list.name).Index(i), c, "must be a Linux capability (e.g. NET_ADMIN) or ALL"))
				}
				sysAdmin = sysAdmin || (list.name == "add" && name == "SYS_ADMIN")
			}
		}
	}
	if ape := sc.AllowPrivilegeEscalation; ape != nil && !*ape {
		if isTrue(sc.Privileged) {
			errs = append(errs, api.Invalid(p.Child("allowPrivilegeEscalation"), false, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
		}
		if sysAdmin {
			errs = append(errs, api.Invalid(p.Child("allowPrivilegeEscalation"), false, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
		}
	}
	if pm := sc.ProcMount; pm != nil && *pm != procMountDefault && *pm != procMountUnmasked {
		errs = append(errs, api.NotSupported(p.Child("procMount"), *pm, procMountDefault, procMountUnmasked))
	}
	return append(errs, validateSeccompProfile(sc.SeccompProfile, p.Child("seccompProfile"))...)
}
