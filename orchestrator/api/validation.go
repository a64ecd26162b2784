package api

import (
	"net"
	"reflect"
	"strconv"
	"strings"
)

// Validate checks obj with the default scheme; see [Scheme.Validate].
func Validate(obj Object) error { return defaultScheme.Validate(obj) }

// ValidateUpdate checks an update with the default scheme; see
// [Scheme.ValidateUpdate].
func ValidateUpdate(oldObj, newObj Object) error { return defaultScheme.ValidateUpdate(oldObj, newObj) }

// DefaultAndValidate applies Default and then Validate with the default
// scheme, as the API server does on create, and returns Validate's error.
func DefaultAndValidate(obj Object) error {
	Default(obj)
	return Validate(obj)
}

// Validate checks obj and returns nil or one Invalid *StatusError listing
// every bad field path (see FieldErrors and IsInvalid). Like the
// Kubernetes API server, it expects a defaulted object: run Default first
// (an unset restartPolicy or probe periodSeconds is reported as missing).
//
// It checks the object's apiVersion and kind against its Go type (when
// set), metadata (names, generateName, namespace, labels, annotations,
// owner references, finalizers) and the kind's spec. A nil object or one of
// an unregistered type gives a BadRequest error.
func (s *Scheme) Validate(obj Object) error {
	if isNilObject(obj) {
		return NewBadRequest("cannot validate a nil object")
	}
	info, ok := s.KindFor(obj)
	if !ok {
		return NewBadRequest("cannot validate unregistered type " + reflect.TypeOf(obj).String())
	}
	errs := validateObject(info, obj)
	if len(errs) > 0 {
		return NewInvalid(info.Kind, obj.GetName(), errs)
	}
	return nil
}

// ValidateUpdate checks newObj as Validate does and additionally that the
// update from oldObj changes no immutable field: metadata name, namespace,
// uid and creationTimestamp; a Deployment's or ReplicaSet's selector; a
// Pod's spec except containers[*].image, initContainers[*].image,
// activeDeadlineSeconds, added tolerations, and nodeName going from empty
// to set (binding); the data of an immutable ConfigMap. The result is one
// Invalid error listing every problem, or a BadRequest error when the two
// objects are of different or unregistered types.
func (s *Scheme) ValidateUpdate(oldObj, newObj Object) error {
	if isNilObject(oldObj) || isNilObject(newObj) {
		return NewBadRequest("cannot validate an update from or to a nil object")
	}
	info, ok := s.KindFor(newObj)
	if !ok {
		return NewBadRequest("cannot validate unregistered type " + reflect.TypeOf(newObj).String())
	}
	if reflect.TypeOf(oldObj) != reflect.TypeOf(newObj) {
		return NewBadRequest("cannot update a " + reflect.TypeOf(oldObj).String() + " to a " + reflect.TypeOf(newObj).String())
	}
	errs := validateObject(info, newObj)
	errs = append(errs, validateMetaUpdate(oldObj.GetObjectMeta(), newObj.GetObjectMeta())...)
	switch n := newObj.(type) {
	case *Deployment:
		o := oldObj.(*Deployment)
		if !selectorsEqual(o.Spec.Selector, n.Spec.Selector) {
			errs = append(errs, Invalid(NewPath("spec", "selector"), n.Spec.Selector, "field is immutable"))
		}
	case *ReplicaSet:
		o := oldObj.(*ReplicaSet)
		if !selectorsEqual(o.Spec.Selector, n.Spec.Selector) {
			errs = append(errs, Invalid(NewPath("spec", "selector"), n.Spec.Selector, "field is immutable"))
		}
	case *Pod:
		errs = append(errs, validatePodSpecUpdate(&oldObj.(*Pod).Spec, &n.Spec)...)
	case *ConfigMap:
		o := oldObj.(*ConfigMap)
		if o.Immutable != nil && *o.Immutable {
			if n.Immutable == nil || !*n.Immutable {
				errs = append(errs, Forbidden(NewPath("immutable"), "field is immutable when `immutable` is set"))
			}
			if !semanticEqual(o.Data, n.Data) {
				errs = append(errs, Forbidden(NewPath("data"), "field is immutable when `immutable` is set"))
			}
			if !semanticEqual(o.BinaryData, n.BinaryData) {
				errs = append(errs, Forbidden(NewPath("binaryData"), "field is immutable when `immutable` is set"))
			}
		}
	}
	if len(errs) > 0 {
		return NewInvalid(info.Kind, newObj.GetName(), errs)
	}
	return nil
}

func validateMetaUpdate(o, n *ObjectMeta) FieldErrorList {
	var errs FieldErrorList
	p := NewPath("metadata")
	if o.Name != n.Name {
		errs = append(errs, Invalid(p.Child("name"), n.Name, "field is immutable"))
	}
	if o.Namespace != n.Namespace {
		errs = append(errs, Invalid(p.Child("namespace"), n.Namespace, "field is immutable"))
	}
	if o.UID != "" && o.UID != n.UID {
		errs = append(errs, Invalid(p.Child("uid"), string(n.UID), "field is immutable"))
	}
	if !o.CreationTimestamp.IsZero() && !o.CreationTimestamp.Equal(n.CreationTimestamp) {
		errs = append(errs, Invalid(p.Child("creationTimestamp"), n.CreationTimestamp, "field is immutable"))
	}
	return errs
}

func validatePodSpecUpdate(o, n *PodSpec) FieldErrorList {
	p := NewPath("spec")
	var errs FieldErrorList
	if o.NodeName != "" && o.NodeName != n.NodeName {
		errs = append(errs, Invalid(p.Child("nodeName"), n.NodeName, "field is immutable once set"))
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
			errs = append(errs, Forbidden(p.Child("tolerations").Index(i), "existing toleration can not be modified except its tolerationSeconds"))
		}
	}
	// Compare with the mutable fields neutralised.
	a, b := Clone(*o), Clone(*n)
	for _, s := range []*PodSpec{&a, &b} {
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
		errs = append(errs, Forbidden(p, "pod updates may not change fields other than `spec.containers[*].image`, `spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to existing tolerations) or `spec.nodeName` (only when unset)"))
	}
	return errs
}

func validateObject(info KindInfo, obj Object) FieldErrorList {
	var errs FieldErrorList
	tm := obj.GetTypeMeta()
	if tm.APIVersion != "" && tm.APIVersion != info.APIVersion {
		errs = append(errs, NotSupported(NewPath("apiVersion"), tm.APIVersion, info.APIVersion))
	}
	if tm.Kind != "" && tm.Kind != info.Kind {
		errs = append(errs, NotSupported(NewPath("kind"), tm.Kind, info.Kind))
	}
	nameFn := IsDNS1123Subdomain
	if info.Kind == "Namespace" {
		nameFn = IsDNS1123Label
	}
	errs = append(errs, ValidateObjectMeta(obj.GetObjectMeta(), info.Namespaced, nameFn, NewPath("metadata"))...)
	switch o := obj.(type) {
	case *Pod:
		errs = append(errs, ValidatePodSpec(&o.Spec, NewPath("spec"))...)
	case *Deployment:
		errs = append(errs, validateDeploymentSpec(&o.Spec, NewPath("spec"))...)
	case *ReplicaSet:
		errs = append(errs, validateReplicaSetSpec(&o.Spec, NewPath("spec"))...)
	case *ConfigMap:
		errs = append(errs, validateConfigMap(o)...)
	case *Node:
		errs = append(errs, validateNode(o)...)
	case *Event:
		errs = append(errs, validateEvent(o)...)
	}
	return errs
}

// ValidateObjectMeta checks metadata: name (with nameFn, e.g.
// IsDNS1123Subdomain) or generateName, namespace presence for namespaced
// kinds and absence otherwise, labels, annotations, owner references and
// finalizers. Paths are under p.
func ValidateObjectMeta(m *ObjectMeta, namespaced bool, nameFn func(string) []string, p Path) FieldErrorList {
	var errs FieldErrorList
	if m.Name == "" {
		if m.GenerateName == "" {
			errs = append(errs, Required(p.Child("name"), "name or generateName is required"))
		}
	} else {
		for _, msg := range nameFn(m.Name) {
			errs = append(errs, Invalid(p.Child("name"), m.Name, msg))
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
			errs = append(errs, Invalid(p.Child("generateName"), m.GenerateName, msg))
		}
	}
	if namespaced {
		if m.Namespace == "" {
			errs = append(errs, Required(p.Child("namespace"), ""))
		} else {
			for _, msg := range IsDNS1123Label(m.Namespace) {
				errs = append(errs, Invalid(p.Child("namespace"), m.Namespace, msg))
			}
		}
	} else if m.Namespace != "" {
		errs = append(errs, Forbidden(p.Child("namespace"), "not allowed on this type"))
	}
	if m.Generation < 0 {
		errs = append(errs, Invalid(p.Child("generation"), m.Generation, "must be greater than or equal to 0"))
	}
	if m.DeletionGracePeriodSeconds != nil && *m.DeletionGracePeriodSeconds < 0 {
		errs = append(errs, Invalid(p.Child("deletionGracePeriodSeconds"), *m.DeletionGracePeriodSeconds, "must be greater than or equal to 0"))
	}
	errs = append(errs, ValidateLabels(m.Labels, p.Child("labels"))...)
	errs = append(errs, ValidateAnnotations(m.Annotations, p.Child("annotations"))...)
	controllers := 0
	for i, ref := range m.OwnerReferences {
		rp := p.Child("ownerReferences").Index(i)
		if ref.APIVersion == "" {
			errs = append(errs, Required(rp.Child("apiVersion"), ""))
		}
		if ref.Kind == "" {
			errs = append(errs, Required(rp.Child("kind"), ""))
		}
		if ref.Name == "" {
			errs = append(errs, Required(rp.Child("name"), ""))
		}
		if ref.UID == "" {
			errs = append(errs, Required(rp.Child("uid"), ""))
		}
		if ref.Controller != nil && *ref.Controller {
			controllers++
			if controllers == 2 {
				errs = append(errs, Invalid(rp.Child("controller"), true, "only one reference can have Controller set to true"))
			}
		}
	}
	seen := map[string]bool{}
	for i, f := range m.Finalizers {
		fp := p.Child("finalizers").Index(i)
		for _, msg := range IsQualifiedName(f) {
			errs = append(errs, Invalid(fp, f, msg))
		}
		if seen[f] {
			errs = append(errs, Duplicate(fp, f))
		}
		seen[f] = true
	}
	return errs
}

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

func validateNonNegative(v int64, p Path) FieldErrorList {
	if v < 0 {
		return FieldErrorList{Invalid(p, v, "must be greater than or equal to 0")}
	}
	return nil
}

func validatePortNumber(v int32, p Path) FieldErrorList {
	if v < 1 || v > 65535 {
		return FieldErrorList{Invalid(p, v, "must be between 1 and 65535, inclusive")}
	}
	return nil
}

// ValidatePodSpec checks a Pod spec (also used for templates) and returns
// every problem with its path under p. The spec should be defaulted.
func ValidatePodSpec(spec *PodSpec, p Path) FieldErrorList {
	var errs FieldErrorList
	volumes, verrs := validateVolumes(spec.Volumes, p.Child("volumes"))
	errs = append(errs, verrs...)

	if len(spec.Containers) == 0 {
		errs = append(errs, Required(p.Child("containers"), "must have at least one container"))
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
	case RestartPolicyAlways, RestartPolicyOnFailure, RestartPolicyNever:
	case "":
		errs = append(errs, Required(p.Child("restartPolicy"), ""))
	default:
		errs = append(errs, NotSupported(p.Child("restartPolicy"), spec.RestartPolicy,
			RestartPolicyAlways, RestartPolicyOnFailure, RestartPolicyNever))
	}
	if g := spec.TerminationGracePeriodSeconds; g != nil {
		errs = append(errs, validateNonNegative(*g, p.Child("terminationGracePeriodSeconds"))...)
	}
	if d := spec.ActiveDeadlineSeconds; d != nil && *d < 1 {
		errs = append(errs, Invalid(p.Child("activeDeadlineSeconds"), *d, "must be between 1 and 2147483647, inclusive"))
	}
	errs = append(errs, ValidateLabels(spec.NodeSelector, p.Child("nodeSelector"))...)
	if spec.NodeName != "" {
		for _, msg := range IsDNS1123Subdomain(spec.NodeName) {
			errs = append(errs, Invalid(p.Child("nodeName"), spec.NodeName, msg))
		}
	}
	if spec.ServiceAccountName != "" {
		for _, msg := range IsDNS1123Subdomain(spec.ServiceAccountName) {
			errs = append(errs, Invalid(p.Child("serviceAccountName"), spec.ServiceAccountName, msg))
		}
	}
	if spec.Hostname != "" {
		for _, msg := range IsDNS1123Label(spec.Hostname) {
			errs = append(errs, Invalid(p.Child("hostname"), spec.Hostname, msg))
		}
	}
	for i, t := range spec.Tolerations {
		errs = append(errs, validateToleration(t, p.Child("tolerations").Index(i))...)
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil {
		errs = append(errs, validateNodeAffinity(a.NodeAffinity, p.Child("affinity", "nodeAffinity"))...)
	}
	return errs
}

func validateVolumes(vols []Volume, p Path) (map[string]bool, FieldErrorList) {
	var errs FieldErrorList
	names := map[string]bool{}
	for i, v := range vols {
		vp := p.Index(i)
		if v.Name == "" {
			errs = append(errs, Required(vp.Child("name"), ""))
		} else {
			for _, msg := range IsDNS1123Label(v.Name) {
				errs = append(errs, Invalid(vp.Child("name"), v.Name, msg))
			}
			if names[v.Name] {
				errs = append(errs, Duplicate(vp.Child("name"), v.Name))
			}
			names[v.Name] = true
		}
		n := 0
		if s := v.HostPath; s != nil {
			n++
			if s.Path == "" {
				errs = append(errs, Required(vp.Child("hostPath", "path"), ""))
			}
		}
		if s := v.EmptyDir; s != nil {
			n++
			if s.SizeLimit != nil && s.SizeLimit.Sign() < 0 {
				errs = append(errs, Invalid(vp.Child("emptyDir", "sizeLimit"), s.SizeLimit.String(), "must be greater than or equal to 0"))
			}
		}
		if s := v.Secret; s != nil {
			n++
			if s.SecretName == "" {
				errs = append(errs, Required(vp.Child("secret", "secretName"), ""))
			}
			errs = append(errs, validateKeyToPaths(s.Items, vp.Child("secret", "items"))...)
		}
		if s := v.ConfigMap; s != nil {
			n++
			if s.Name == "" {
				errs = append(errs, Required(vp.Child("configMap", "name"), ""))
			}
			errs = append(errs, validateKeyToPaths(s.Items, vp.Child("configMap", "items"))...)
		}
		if v.DownwardAPI != nil {
			n++
		}
		if v.Projected != nil {
			n++
		}
		if s := v.PersistentVolumeClaim; s != nil {
			n++
			if s.ClaimName == "" {
				errs = append(errs, Required(vp.Child("persistentVolumeClaim", "claimName"), ""))
			}
		}
		switch {
		case n == 0:
			errs = append(errs, Required(vp, "must specify a volume type (emptyDir, configMap, secret, hostPath, persistentVolumeClaim, downwardAPI or projected)"))
		case n > 1:
			errs = append(errs, Forbidden(vp, "may not specify more than 1 volume type"))
		}
	}
	return names, errs
}

func validateKeyToPaths(items []KeyToPath, p Path) FieldErrorList {
	var errs FieldErrorList
	for i, it := range items {
		ip := p.Index(i)
		for _, msg := range IsConfigMapKey(it.Key) {
			errs = append(errs, Invalid(ip.Child("key"), it.Key, msg))
		}
		switch {
		case it.Path == "":
			errs = append(errs, Required(ip.Child("path"), ""))
		case strings.HasPrefix(it.Path, "/"):
			errs = append(errs, Invalid(ip.Child("path"), it.Path, "must be a relative path"))
		case slicesContains(strings.Split(it.Path, "/"), ".."):
			errs = append(errs, Invalid(ip.Child("path"), it.Path, "must not contain '..'"))
		}
		if it.Mode != nil && (*it.Mode < 0 || *it.Mode > 0o777) {
			errs = append(errs, Invalid(ip.Child("mode"), *it.Mode, "must be a number between 0 and 0777 (octal), both inclusive"))
		}
	}
	return errs
}

func slicesContains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

var supportedFieldRefs = []string{
	"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations",
	"spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs",
}

var supportedResourceFieldRefs = []string{
	"limits.cpu", "limits.memory", "limits.ephemeral-storage",
	"requests.cpu", "requests.memory", "requests.ephemeral-storage",
}

func validateContainer(c *Container, p Path, volumes, names, hostPorts map[string]bool, hostNetwork, init bool) FieldErrorList {
	var errs FieldErrorList
	if c.Name == "" {
		errs = append(errs, Required(p.Child("name"), ""))
	} else {
		for _, msg := range IsDNS1123Label(c.Name) {
			errs = append(errs, Invalid(p.Child("name"), c.Name, msg))
		}
		if names[c.Name] {
			errs = append(errs, Duplicate(p.Child("name"), c.Name))
		}
		names[c.Name] = true
	}
	if strings.TrimSpace(c.Image) == "" {
		errs = append(errs, Required(p.Child("image"), ""))
	} else if c.Image != strings.TrimSpace(c.Image) {
		errs = append(errs, Invalid(p.Child("image"), c.Image, "must not have leading or trailing whitespace"))
	}
	switch c.ImagePullPolicy {
	case PullAlways, PullNever, PullIfNotPresent:
	case "":
		errs = append(errs, Required(p.Child("imagePullPolicy"), ""))
	default:
		errs = append(errs, NotSupported(p.Child("imagePullPolicy"), c.ImagePullPolicy, PullAlways, PullIfNotPresent, PullNever))
	}

	portNames := map[string]bool{}
	for i, port := range c.Ports {
		pp := p.Child("ports").Index(i)
		if port.Name != "" {
			for _, msg := range IsIANASvcName(port.Name) {
				errs = append(errs, Invalid(pp.Child("name"), port.Name, msg))
			}
			if portNames[port.Name] {
				errs = append(errs, Duplicate(pp.Child("name"), port.Name))
			}
			portNames[port.Name] = true
		}
		errs = append(errs, validatePortNumber(port.ContainerPort, pp.Child("containerPort"))...)
		if port.HostPort != 0 {
			errs = append(errs, validatePortNumber(port.HostPort, pp.Child("hostPort"))...)
			if hostNetwork && port.HostPort != port.ContainerPort {
				errs = append(errs, Invalid(pp.Child("hostPort"), port.HostPort, "must match `containerPort` when `hostNetwork` is true"))
			}
			key := string(port.Protocol) + "/" + port.HostIP + "/" + strconv.Itoa(int(port.HostPort))
			if hostPorts[key] {
				errs = append(errs, Duplicate(pp.Child("hostPort"), port.HostPort))
			}
			hostPorts[key] = true
		}
		switch port.Protocol {
		case ProtocolTCP, ProtocolUDP, ProtocolSCTP:
		case "":
			errs = append(errs, Required(pp.Child("protocol"), ""))
		default:
			errs = append(errs, NotSupported(pp.Child("protocol"), port.Protocol, ProtocolTCP, ProtocolUDP, ProtocolSCTP))
		}
	}

	for i, e := range c.Env {
		ep := p.Child("env").Index(i)
		for _, msg := range IsEnvVarName(e.Name) {
			errs = append(errs, Invalid(ep.Child("name"), e.Name, msg))
		}
		if e.ValueFrom != nil {
			if e.Value != "" {
				errs = append(errs, Invalid(ep.Child("valueFrom"), "", "may not be specified when `value` is not empty"))
			}
			errs = append(errs, validateEnvVarSource(e.ValueFrom, ep.Child("valueFrom"))...)
		}
	}
	for i, e := range c.EnvFrom {
		ep := p.Child("envFrom").Index(i)
		if e.Prefix != "" {
			for _, msg := range IsEnvVarName(e.Prefix) {
				errs = append(errs, Invalid(ep.Child("prefix"), e.Prefix, msg))
			}
		}
		n := 0
		if e.ConfigMapRef != nil {
			n++
			if e.ConfigMapRef.Name == "" {
				errs = append(errs, Required(ep.Child("configMapRef", "name"), ""))
			}
		}
		if e.SecretRef != nil {
			n++
			if e.SecretRef.Name == "" {
				errs = append(errs, Required(ep.Child("secretRef", "name"), ""))
			}
		}
		switch {
		case n == 0:
			errs = append(errs, Required(ep, "must specify one of: `configMapRef` or `secretRef`"))
		case n > 1:
			errs = append(errs, Forbidden(ep, "may not have more than one field specified at a time"))
		}
	}

	errs = append(errs, ValidateResourceRequirements(&c.Resources, p.Child("resources"))...)

	mountPaths := map[string]bool{}
	for i, m := range c.VolumeMounts {
		mp := p.Child("volumeMounts").Index(i)
		if m.Name == "" {
			errs = append(errs, Required(mp.Child("name"), ""))
		} else if !volumes[m.Name] {
			errs = append(errs, NotFound(mp.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, Required(mp.Child("mountPath"), ""))
		} else if mountPaths[m.MountPath] {
			errs = append(errs, Invalid(mp.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPaths[m.MountPath] = true
		if strings.HasPrefix(m.SubPath, "/") || slicesContains(strings.Split(m.SubPath, "/"), "..") {
			errs = append(errs, Invalid(mp.Child("subPath"), m.SubPath, "must be a relative path without '..'"))
		}
	}

	probes := []struct {
		probe *Probe
		name  string
	}{{c.LivenessProbe, "livenessProbe"}, {c.ReadinessProbe, "readinessProbe"}, {c.StartupProbe, "startupProbe"}}
	for _, pr := range probes {
		if pr.probe == nil {
			continue
		}
		if init {
			errs = append(errs, Forbidden(p.Child(pr.name), "may not be set for init containers"))
			continue
		}
		errs = append(errs, validateProbe(pr.probe, p.Child(pr.name), pr.name != "readinessProbe", portNames)...)
	}
	if c.Lifecycle != nil {
		for _, h := range []struct {
			h    *LifecycleHandler
			name string
		}{{c.Lifecycle.PostStart, "postStart"}, {c.Lifecycle.PreStop, "preStop"}} {
			if h.h != nil {
				errs = append(errs, validateLifecycleHandler(h.h, p.Child("lifecycle", h.name), portNames)...)
			}
		}
	}
	return errs
}

func validateEnvVarSource(s *EnvVarSource, p Path) FieldErrorList {
	var errs FieldErrorList
	n := 0
	if r := s.FieldRef; r != nil {
		n++
		fp := r.FieldPath
		base, _, hasSub := strings.Cut(fp, "[")
		switch {
		case fp == "":
			errs = append(errs, Required(p.Child("fieldRef", "fieldPath"), ""))
		case hasSub && (base == "metadata.labels" || base == "metadata.annotations"):
			// metadata.labels['key'] form.
			if !strings.HasSuffix(fp, "']") || !strings.HasPrefix(fp[len(base):], "['") {
				errs = append(errs, Invalid(p.Child("fieldRef", "fieldPath"), fp, "subscript must be of the form ['key']"))
			}
		case !slicesContains(supportedFieldRefs, fp):
			errs = append(errs, NotSupported(p.Child("fieldRef", "fieldPath"), fp, supportedFieldRefs...))
		}
		if r.APIVersion != "" && r.APIVersion != CoreV1 {
			errs = append(errs, NotSupported(p.Child("fieldRef", "apiVersion"), r.APIVersion, CoreV1))
		}
	}
	if r := s.ResourceFieldRef; r != nil {
		n++
		if !slicesContains(supportedResourceFieldRefs, r.Resource) {
			errs = append(errs, NotSupported(p.Child("resourceFieldRef", "resource"), r.Resource, supportedResourceFieldRefs...))
		}
		if r.Divisor != nil && r.Divisor.Sign() <= 0 {
			errs = append(errs, Invalid(p.Child("resourceFieldRef", "divisor"), r.Divisor.String(), "must be greater than 0"))
		}
	}
	if r := s.ConfigMapKeyRef; r != nil {
		n++
		if r.Name == "" {
			errs = append(errs, Required(p.Child("configMapKeyRef", "name"), ""))
		}
		if r.Key == "" {
			errs = append(errs, Required(p.Child("configMapKeyRef", "key"), ""))
		} else {
			for _, msg := range IsConfigMapKey(r.Key) {
				errs = append(errs, Invalid(p.Child("configMapKeyRef", "key"), r.Key, msg))
			}
		}
	}
	if r := s.SecretKeyRef; r != nil {
		n++
		if r.Name == "" {
			errs = append(errs, Required(p.Child("secretKeyRef", "name"), ""))
		}
		if r.Key == "" {
			errs = append(errs, Required(p.Child("secretKeyRef", "key"), ""))
		} else {
			for _, msg := range IsConfigMapKey(r.Key) {
				errs = append(errs, Invalid(p.Child("secretKeyRef", "key"), r.Key, msg))
			}
		}
	}
	switch {
	case n == 0:
		errs = append(errs, Invalid(p, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
	case n > 1:
		errs = append(errs, Invalid(p, "", "may not have more than one field specified at a time"))
	}
	return errs
}

// ValidateResourceRequirements checks resource names, that quantities are
// non-negative, and that each request is at most its limit.
func ValidateResourceRequirements(r *ResourceRequirements, p Path) FieldErrorList {
	var errs FieldErrorList
	for _, list := range []struct {
		rl   ResourceList
		name string
	}{{r.Limits, "limits"}, {r.Requests, "requests"}} {
		for _, name := range sortedKeys(list.rl) {
			rp := p.Child(list.name).Key(string(name))
			for _, msg := range IsQualifiedName(string(name)) {
				errs = append(errs, Invalid(rp, string(name), msg))
			}
			if q := list.rl[name]; q.Sign() < 0 {
				errs = append(errs, Invalid(rp, q.String(), "must be greater than or equal to 0"))
			}
		}
	}
	for _, name := range sortedKeys(r.Requests) {
		req := r.Requests[name]
		if lim, ok := r.Limits[name]; ok && req.Cmp(lim) > 0 {
			errs = append(errs, Invalid(p.Child("requests").Key(string(name)), req.String(),
				"must be less than or equal to "+string(name)+" limit of "+lim.String()))
		}
	}
	return errs
}

// validateCommonHandlers checks the handler kinds probes and lifecycle
// hooks share and counts how many are set.
func validateCommonHandlers(exec *ExecAction, httpGet *HTTPGetAction, tcp *TCPSocketAction, p Path, portNames map[string]bool) (int, FieldErrorList) {
	var errs FieldErrorList
	n := 0
	if exec != nil {
		n++
		if len(exec.Command) == 0 {
			errs = append(errs, Required(p.Child("exec", "command"), ""))
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

func validateProbe(pr *Probe, p Path, mustSucceedOnce bool, portNames map[string]bool) FieldErrorList {
	h := pr.ProbeHandler
	n, errs := validateCommonHandlers(h.Exec, h.HTTPGet, h.TCPSocket, p, portNames)
	if h.GRPC != nil {
		n++
		errs = append(errs, validatePortNumber(h.GRPC.Port, p.Child("grpc", "port"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, Required(p, "must specify a handler type (exec, httpGet, tcpSocket or grpc)"))
	case n > 1:
		errs = append(errs, Forbidden(p, "may not specify more than 1 handler type"))
	}
	errs = append(errs, validateNonNegative(int64(pr.InitialDelaySeconds), p.Child("initialDelaySeconds"))...)
	if pr.PeriodMilliseconds < 0 {
		errs = append(errs, Invalid(p.Child("periodMilliseconds"), pr.PeriodMilliseconds, "must be greater than or equal to 0"))
	}
	if pr.PeriodSeconds < 0 || (pr.PeriodSeconds < 1 && pr.PeriodMilliseconds <= 0) {
		errs = append(errs, Invalid(p.Child("periodSeconds"), pr.PeriodSeconds, "must be greater than or equal to 1"))
	}
	if pr.TimeoutSeconds < 1 {
		errs = append(errs, Invalid(p.Child("timeoutSeconds"), pr.TimeoutSeconds, "must be greater than or equal to 1"))
	}
	if pr.SuccessThreshold < 1 {
		errs = append(errs, Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be greater than or equal to 1"))
	} else if mustSucceedOnce && pr.SuccessThreshold != 1 {
		errs = append(errs, Invalid(p.Child("successThreshold"), pr.SuccessThreshold, "must be 1"))
	}
	if pr.FailureThreshold < 1 {
		errs = append(errs, Invalid(p.Child("failureThreshold"), pr.FailureThreshold, "must be greater than or equal to 1"))
	}
	if g := pr.TerminationGracePeriodSeconds; g != nil {
		if !mustSucceedOnce {
			errs = append(errs, Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must not be set for readinessProbes"))
		} else if *g < 1 {
			errs = append(errs, Invalid(p.Child("terminationGracePeriodSeconds"), *g, "must be greater than 0"))
		}
	}
	return errs
}

func validateLifecycleHandler(h *LifecycleHandler, p Path, portNames map[string]bool) FieldErrorList {
	n, errs := validateCommonHandlers(h.Exec, h.HTTPGet, h.TCPSocket, p, portNames)
	if h.Sleep != nil {
		n++
		if h.Sleep.Seconds < 0 {
			errs = append(errs, Invalid(p.Child("sleep", "seconds"), h.Sleep.Seconds, "must be greater than or equal to 0"))
		}
	}
	switch {
	case n == 0:
		errs = append(errs, Required(p, "must specify a handler type (exec, httpGet, tcpSocket or sleep)"))
	case n > 1:
		errs = append(errs, Forbidden(p, "may not specify more than 1 handler type"))
	}
	return errs
}

func validateHTTPGet(h *HTTPGetAction, p Path, portNames map[string]bool) FieldErrorList {
	var errs FieldErrorList
	errs = append(errs, validatePortRef(h.Port, p.Child("port"), portNames)...)
	switch h.Scheme {
	case URISchemeHTTP, URISchemeHTTPS:
	case "":
		errs = append(errs, Required(p.Child("scheme"), ""))
	default:
		errs = append(errs, NotSupported(p.Child("scheme"), h.Scheme, URISchemeHTTP, URISchemeHTTPS))
	}
	for i, hd := range h.HTTPHeaders {
		if !httpHeaderNameRE.MatchString(hd.Name) {
			errs = append(errs, Invalid(p.Child("httpHeaders").Index(i).Child("name"), hd.Name, "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name')"))
		}
	}
	return errs
}

// validatePortRef checks a probe port: a number 1-65535 or the name of a
// port declared by the container.
func validatePortRef(port IntOrString, p Path, portNames map[string]bool) FieldErrorList {
	if port.Type == Int {
		return validatePortNumber(port.IntVal, p)
	}
	if port.StrVal == "" {
		return FieldErrorList{Required(p, "")}
	}
	if msgs := IsIANASvcName(port.StrVal); len(msgs) > 0 {
		var errs FieldErrorList
		for _, msg := range msgs {
			errs = append(errs, Invalid(p, port.StrVal, msg))
		}
		return errs
	}
	if !portNames[port.StrVal] {
		return FieldErrorList{Invalid(p, port.StrVal, "must be the name of a port declared in the container's ports")}
	}
	return nil
}

func validateToleration(t Toleration, p Path) FieldErrorList {
	var errs FieldErrorList
	if t.Key != "" {
		for _, msg := range IsQualifiedName(t.Key) {
			errs = append(errs, Invalid(p.Child("key"), t.Key, msg))
		}
	}
	switch t.Operator {
	case TolerationOpExists:
		if t.Value != "" {
			errs = append(errs, Invalid(p.Child("value"), t.Value, "value must be empty when `operator` is 'Exists'"))
		}
	case TolerationOpEqual, "":
		if t.Key == "" {
			errs = append(errs, Invalid(p.Child("operator"), t.Operator, "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		for _, msg := range IsValidLabelValue(t.Value) {
			errs = append(errs, Invalid(p.Child("value"), t.Value, msg))
		}
	default:
		errs = append(errs, NotSupported(p.Child("operator"), t.Operator, TolerationOpEqual, TolerationOpExists))
	}
	switch t.Effect {
	case "", TaintEffectNoSchedule, TaintEffectPreferNoSchedule, TaintEffectNoExecute:
	default:
		errs = append(errs, NotSupported(p.Child("effect"), t.Effect, TaintEffectNoSchedule, TaintEffectPreferNoSchedule, TaintEffectNoExecute))
	}
	if t.TolerationSeconds != nil && t.Effect != TaintEffectNoExecute {
		errs = append(errs, Invalid(p.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
	}
	return errs
}

func validateNodeAffinity(na *NodeAffinity, p Path) FieldErrorList {
	var errs FieldErrorList
	if r := na.RequiredDuringSchedulingIgnoredDuringExecution; r != nil {
		rp := p.Child("requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
		if len(r.NodeSelectorTerms) == 0 {
			errs = append(errs, Required(rp, "must have at least one node selector term"))
		}
		for i, t := range r.NodeSelectorTerms {
			errs = append(errs, validateNodeSelectorTerm(t, rp.Index(i))...)
		}
	}
	for i, t := range na.PreferredDuringSchedulingIgnoredDuringExecution {
		tp := p.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i)
		if t.Weight < 1 || t.Weight > 100 {
			errs = append(errs, Invalid(tp.Child("weight"), t.Weight, "must be in the range 1-100"))
		}
		errs = append(errs, validateNodeSelectorTerm(t.Preference, tp.Child("preference"))...)
	}
	return errs
}

func validateNodeSelectorTerm(t NodeSelectorTerm, p Path) FieldErrorList {
	var errs FieldErrorList
	for i, r := range t.MatchExpressions {
		errs = append(errs, validateNodeSelectorRequirement(r, p.Child("matchExpressions").Index(i), false)...)
	}
	for i, r := range t.MatchFields {
		errs = append(errs, validateNodeSelectorRequirement(r, p.Child("matchFields").Index(i), true)...)
	}
	return errs
}

func validateNodeSelectorRequirement(r NodeSelectorRequirement, p Path, field bool) FieldErrorList {
	var errs FieldErrorList
	switch r.Operator {
	case NodeSelectorOpIn, NodeSelectorOpNotIn:
		if len(r.Values) == 0 {
			errs = append(errs, Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
		}
	case NodeSelectorOpExists, NodeSelectorOpDoesNotExist:
		if len(r.Values) > 0 {
			errs = append(errs, Forbidden(p.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
		}
	case NodeSelectorOpGt, NodeSelectorOpLt:
		if len(r.Values) != 1 {
			errs = append(errs, Required(p.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
		} else if _, err := strconv.ParseInt(r.Values[0], 10, 64); err != nil {
			errs = append(errs, Invalid(p.Child("values").Index(0), r.Values[0], "must be an integer"))
		}
	default:
		errs = append(errs, NotSupported(p.Child("operator"), r.Operator,
			NodeSelectorOpIn, NodeSelectorOpNotIn, NodeSelectorOpExists, NodeSelectorOpDoesNotExist, NodeSelectorOpGt, NodeSelectorOpLt))
	}
	if field {
		if r.Key != "metadata.name" {
			errs = append(errs, NotSupported(p.Child("key"), r.Key, "metadata.name"))
		}
		return errs
	}
	for _, msg := range IsQualifiedName(r.Key) {
		errs = append(errs, Invalid(p.Child("key"), r.Key, msg))
	}
	return errs
}

func validateSelectorAndTemplate(sel *LabelSelector, tmpl *PodTemplateSpec, p Path, kind string) FieldErrorList {
	var errs FieldErrorList
	sp := p.Child("selector")
	switch {
	case sel == nil:
		errs = append(errs, Required(sp, ""))
	case len(sel.MatchLabels)+len(sel.MatchExpressions) == 0:
		errs = append(errs, Invalid(sp, sel, "empty selector is invalid for "+kind))
	default:
		errs = append(errs, ValidateLabelSelector(sel, sp)...)
	}
	tp := p.Child("template")
	tm := &tmpl.ObjectMeta
	errs = append(errs, ValidateLabels(tm.Labels, tp.Child("metadata", "labels"))...)
	errs = append(errs, ValidateAnnotations(tm.Annotations, tp.Child("metadata", "annotations"))...)
	if len(errs) == 0 && sel != nil {
		if s, err := LabelSelectorAsSelector(sel); err == nil && !s.Matches(tm.Labels) {
			errs = append(errs, Invalid(tp.Child("metadata", "labels"), tm.Labels, "`selector` does not match template `labels`"))
		}
	}
	errs = append(errs, ValidatePodSpec(&tmpl.Spec, tp.Child("spec"))...)
	// Other values are already reported by ValidatePodSpec.
	if rp := tmpl.Spec.RestartPolicy; rp == RestartPolicyOnFailure || rp == RestartPolicyNever {
		errs = append(errs, NotSupported(tp.Child("spec", "restartPolicy"), rp, RestartPolicyAlways))
	}
	return errs
}

func validateDeploymentSpec(spec *DeploymentSpec, p Path) FieldErrorList {
	var errs FieldErrorList
	if spec.Replicas != nil {
		errs = append(errs, validateNonNegative(int64(*spec.Replicas), p.Child("replicas"))...)
	}
	errs = append(errs, validateSelectorAndTemplate(spec.Selector, &spec.Template, p, "deployment")...)
	sp := p.Child("strategy")
	switch spec.Strategy.Type {
	case RecreateDeploymentStrategyType:
		if spec.Strategy.RollingUpdate != nil {
			errs = append(errs, Forbidden(sp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'Recreate'"))
		}
	case RollingUpdateDeploymentStrategyType:
		if ru := spec.Strategy.RollingUpdate; ru != nil {
			errs = append(errs, validateRollingUpdate(ru, sp.Child("rollingUpdate"))...)
		}
	case "":
		errs = append(errs, Required(sp.Child("type"), ""))
	default:
		errs = append(errs, NotSupported(sp.Child("type"), spec.Strategy.Type,
			RecreateDeploymentStrategyType, RollingUpdateDeploymentStrategyType))
	}
	errs = append(errs, validateNonNegative(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, validateNonNegative(int64(*spec.RevisionHistoryLimit), p.Child("revisionHistoryLimit"))...)
	}
	if d := spec.ProgressDeadlineSeconds; d != nil {
		if *d <= spec.MinReadySeconds {
			errs = append(errs, Invalid(p.Child("progressDeadlineSeconds"), *d, "must be greater than minReadySeconds"))
		}
	}
	return errs
}

func validateIntOrPercent(v *IntOrString, p Path) (FieldErrorList, bool) {
	if v == nil {
		return nil, true
	}
	if v.Type == Int {
		if v.IntVal < 0 {
			return FieldErrorList{Invalid(p, v.IntVal, "must be greater than or equal to 0")}, false
		}
		return nil, true
	}
	if _, err := ParsePercent(v.StrVal); err != nil {
		return FieldErrorList{Invalid(p, v.StrVal, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%', or '93%')")}, false
	}
	return nil, true
}

func isZeroIntOrPercent(v *IntOrString) bool {
	if v == nil {
		return true
	}
	if v.Type == Int {
		return v.IntVal == 0
	}
	n, err := ParsePercent(v.StrVal)
	return err == nil && n == 0
}

func validateRollingUpdate(ru *RollingUpdateDeployment, p Path) FieldErrorList {
	var errs FieldErrorList
	e1, ok1 := validateIntOrPercent(ru.MaxUnavailable, p.Child("maxUnavailable"))
	e2, ok2 := validateIntOrPercent(ru.MaxSurge, p.Child("maxSurge"))
	errs = append(append(errs, e1...), e2...)
	if ok1 && ru.MaxUnavailable != nil && ru.MaxUnavailable.Type == String {
		if n, _ := ParsePercent(ru.MaxUnavailable.StrVal); n > 100 {
			errs = append(errs, Invalid(p.Child("maxUnavailable"), ru.MaxUnavailable.StrVal, "must not be greater than 100%"))
		}
	}
	if ok1 && ok2 && isZeroIntOrPercent(ru.MaxUnavailable) && isZeroIntOrPercent(ru.MaxSurge) {
		errs = append(errs, Invalid(p.Child("maxUnavailable"), ru.MaxUnavailable, "may not be 0 when `maxSurge` is 0"))
	}
	return errs
}

func validateReplicaSetSpec(spec *ReplicaSetSpec, p Path) FieldErrorList {
	var errs FieldErrorList
	if spec.Replicas != nil {
		errs = append(errs, validateNonNegative(int64(*spec.Replicas), p.Child("replicas"))...)
	}
	errs = append(errs, validateNonNegative(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	errs = append(errs, validateSelectorAndTemplate(spec.Selector, &spec.Template, p, "replicaset")...)
	return errs
}

func validateConfigMap(cm *ConfigMap) FieldErrorList {
	var errs FieldErrorList
	total := 0
	for _, k := range sortedKeys(cm.Data) {
		for _, msg := range IsConfigMapKey(k) {
			errs = append(errs, Invalid(NewPath("data").Key(k), k, msg))
		}
		total += len(cm.Data[k])
	}
	for _, k := range sortedKeys(cm.BinaryData) {
		for _, msg := range IsConfigMapKey(k) {
			errs = append(errs, Invalid(NewPath("binaryData").Key(k), k, msg))
		}
		if _, dup := cm.Data[k]; dup {
			errs = append(errs, Invalid(NewPath("binaryData").Key(k), k, "duplicate of key present in data"))
		}
		total += len(cm.BinaryData[k])
	}
	if total > ConfigMapMaxSize {
		errs = append(errs, TooLong(NewPath(""), ConfigMapMaxSize))
	}
	return errs
}

func validateNode(n *Node) FieldErrorList {
	var errs FieldErrorList
	p := NewPath("spec")
	if n.Spec.PodCIDR != "" {
		if _, _, err := net.ParseCIDR(n.Spec.PodCIDR); err != nil {
			errs = append(errs, Invalid(p.Child("podCIDR"), n.Spec.PodCIDR, "must be a valid CIDR"))
		}
	}
	for i, c := range n.Spec.PodCIDRs {
		if _, _, err := net.ParseCIDR(c); err != nil {
			errs = append(errs, Invalid(p.Child("podCIDRs").Index(i), c, "must be a valid CIDR"))
		}
	}
	for i, t := range n.Spec.Taints {
		tp := p.Child("taints").Index(i)
		if t.Key == "" {
			errs = append(errs, Required(tp.Child("key"), ""))
		}
		for _, msg := range IsQualifiedName(t.Key) {
			if t.Key != "" {
				errs = append(errs, Invalid(tp.Child("key"), t.Key, msg))
			}
		}
		for _, msg := range IsValidLabelValue(t.Value) {
			errs = append(errs, Invalid(tp.Child("value"), t.Value, msg))
		}
		switch t.Effect {
		case TaintEffectNoSchedule, TaintEffectPreferNoSchedule, TaintEffectNoExecute:
		case "":
			errs = append(errs, Required(tp.Child("effect"), ""))
		default:
			errs = append(errs, NotSupported(tp.Child("effect"), t.Effect, TaintEffectNoSchedule, TaintEffectPreferNoSchedule, TaintEffectNoExecute))
		}
	}
	sp := NewPath("status")
	for _, l := range []struct {
		rl   ResourceList
		name string
	}{{n.Status.Capacity, "capacity"}, {n.Status.Allocatable, "allocatable"}} {
		for _, name := range sortedKeys(l.rl) {
			if q := l.rl[name]; q.Sign() < 0 {
				errs = append(errs, Invalid(sp.Child(l.name).Key(string(name)), q.String(), "must be greater than or equal to 0"))
			}
		}
	}
	return errs
}

func validateEvent(e *Event) FieldErrorList {
	var errs FieldErrorList
	p := NewPath("involvedObject")
	if e.InvolvedObject.Kind == "" {
		errs = append(errs, Required(p.Child("kind"), ""))
	}
	if e.InvolvedObject.Name == "" {
		errs = append(errs, Required(p.Child("name"), ""))
	}
	if e.InvolvedObject.Namespace != "" && e.Namespace != "" && e.InvolvedObject.Namespace != e.Namespace {
		errs = append(errs, Invalid(p.Child("namespace"), e.InvolvedObject.Namespace, "does not match event.namespace"))
	}
	switch e.Type {
	case "", EventTypeNormal, EventTypeWarning:
	default:
		errs = append(errs, NotSupported(NewPath("type"), e.Type, EventTypeNormal, EventTypeWarning))
	}
	if e.Count < 0 {
		errs = append(errs, Invalid(NewPath("count"), e.Count, "must be greater than or equal to 0"))
	}
	return errs
}
