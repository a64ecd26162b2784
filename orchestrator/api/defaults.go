package api

// Default values, as Kubernetes sets them (and Flotilla's documented
// deviations).
const (
	DefaultNamespace                     = "default"
	DefaultTerminationGracePeriodSeconds = int64(30)
	DefaultProbePeriodSeconds            = int32(10)
	DefaultProbeTimeoutSeconds           = int32(1)
	DefaultProbeSuccessThreshold         = int32(1)
	DefaultProbeFailureThreshold         = int32(3)
	DefaultDeploymentReplicas            = int32(1)
	DefaultRevisionHistoryLimit          = int32(10)
	DefaultProgressDeadlineSeconds       = int32(600)
	DefaultMaxSurge                      = "25%"
	DefaultMaxUnavailable                = "25%"
	DefaultVolumeMode                    = int32(0o644)
)

// Default fills unset fields of obj with their defaults, using the default
// scheme; see [Scheme.Default].
func Default(obj Object) { defaultScheme.Default(obj) }

// Default fills unset fields of obj in place, as the Kubernetes API server
// does before validation. It is idempotent and never fails; a nil object is
// left alone.
//
//   - metadata.namespace: "default" for namespaced kinds.
//   - Pod spec (also in templates): restartPolicy Always,
//     terminationGracePeriodSeconds 30; per container imagePullPolicy
//     IfNotPresent (Flotilla deviation: also for ":latest" images, since no
//     registry is assumed), port protocol TCP, requests copied from limits
//     where a request is missing, probe timeoutSeconds 1, periodSeconds 10,
//     successThreshold 1, failureThreshold 3, httpGet scheme HTTP and path
//     "/", fieldRef apiVersion v1; configMap/secret volume defaultMode 0644.
//   - Deployment: replicas 1, strategy RollingUpdate with maxSurge and
//     maxUnavailable 25%, revisionHistoryLimit 10, progressDeadlineSeconds
//     600.
//   - ReplicaSet: replicas 1.
//   - Namespace: status.phase Active.
//   - Event: type Normal, count 1.
func (s *Scheme) Default(obj Object) {
	if isNilObject(obj) {
		return
	}
	if info, ok := s.KindFor(obj); ok {
		m := obj.GetObjectMeta()
		if info.Namespaced && m.Namespace == "" {
			m.Namespace = DefaultNamespace
		}
		tm := obj.GetTypeMeta()
		if tm.APIVersion == "" && tm.Kind == "" {
			tm.APIVersion, tm.Kind = info.APIVersion, info.Kind
		}
	}
	switch o := obj.(type) {
	case *Pod:
		DefaultPodSpec(&o.Spec)
	case *Deployment:
		defaultDeployment(o)
	case *ReplicaSet:
		if o.Spec.Replicas == nil {
			o.Spec.Replicas = ptrTo(DefaultDeploymentReplicas)
		}
		DefaultPodSpec(&o.Spec.Template.Spec)
	case *Namespace:
		if o.Status.Phase == "" {
			o.Status.Phase = NamespaceActive
		}
	case *Event:
		if o.Type == "" {
			o.Type = EventTypeNormal
		}
		if o.Count == 0 {
			o.Count = 1
		}
	}
}

func defaultDeployment(d *Deployment) {
	sp := &d.Spec
	if sp.Replicas == nil {
		sp.Replicas = ptrTo(DefaultDeploymentReplicas)
	}
	if sp.Strategy.Type == "" {
		sp.Strategy.Type = RollingUpdateDeploymentStrategyType
	}
	if sp.Strategy.Type == RollingUpdateDeploymentStrategyType {
		if sp.Strategy.RollingUpdate == nil {
			sp.Strategy.RollingUpdate = &RollingUpdateDeployment{}
		}
		ru := sp.Strategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = IntOrStringPtr(FromString(DefaultMaxUnavailable))
		}
		if ru.MaxSurge == nil {
			ru.MaxSurge = IntOrStringPtr(FromString(DefaultMaxSurge))
		}
	}
	if sp.RevisionHistoryLimit == nil {
		sp.RevisionHistoryLimit = ptrTo(DefaultRevisionHistoryLimit)
	}
	if sp.ProgressDeadlineSeconds == nil {
		sp.ProgressDeadlineSeconds = ptrTo(DefaultProgressDeadlineSeconds)
	}
	DefaultPodSpec(&sp.Template.Spec)
}

// DefaultPodSpec applies the Pod spec defaults listed on [Scheme.Default]
// to spec in place.
func DefaultPodSpec(spec *PodSpec) {
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = RestartPolicyAlways
	}
	if spec.TerminationGracePeriodSeconds == nil {
		spec.TerminationGracePeriodSeconds = ptrTo(DefaultTerminationGracePeriodSeconds)
	}
	if spec.ServiceAccountName == "" && spec.DeprecatedServiceAccount != "" {
		spec.ServiceAccountName = spec.DeprecatedServiceAccount
	}
	for i := range spec.InitContainers {
		defaultContainer(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		defaultContainer(&spec.Containers[i])
	}
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		if v.ConfigMap != nil && v.ConfigMap.DefaultMode == nil {
			v.ConfigMap.DefaultMode = ptrTo(DefaultVolumeMode)
		}
		if v.Secret != nil && v.Secret.DefaultMode == nil {
			v.Secret.DefaultMode = ptrTo(DefaultVolumeMode)
		}
	}
	for i := range spec.Tolerations {
		t := &spec.Tolerations[i]
		if t.Operator == "" {
			t.Operator = TolerationOpEqual
		}
	}
}

func defaultContainer(c *Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = PullIfNotPresent
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = ProtocolTCP
		}
	}
	for i := range c.Env {
		if vf := c.Env[i].ValueFrom; vf != nil && vf.FieldRef != nil && vf.FieldRef.APIVersion == "" {
			vf.FieldRef.APIVersion = CoreV1
		}
	}
	// A limit without a request means the request equals the limit.
	for name, q := range c.Resources.Limits {
		if _, ok := c.Resources.Requests[name]; !ok {
			if c.Resources.Requests == nil {
				c.Resources.Requests = ResourceList{}
			}
			c.Resources.Requests[name] = q
		}
	}
	for _, p := range []*Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p == nil {
			continue
		}
		if p.TimeoutSeconds == 0 {
			p.TimeoutSeconds = DefaultProbeTimeoutSeconds
		}
		if p.PeriodSeconds == 0 {
			p.PeriodSeconds = DefaultProbePeriodSeconds
		}
		if p.SuccessThreshold == 0 {
			p.SuccessThreshold = DefaultProbeSuccessThreshold
		}
		if p.FailureThreshold == 0 {
			p.FailureThreshold = DefaultProbeFailureThreshold
		}
		defaultHTTPGet(p.HTTPGet)
	}
	if c.Lifecycle != nil {
		for _, h := range []*LifecycleHandler{c.Lifecycle.PreStop, c.Lifecycle.PostStart} {
			if h != nil {
				defaultHTTPGet(h.HTTPGet)
			}
		}
	}
}

func defaultHTTPGet(h *HTTPGetAction) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = URISchemeHTTP
	}
}

func ptrTo[T any](v T) *T { return &v }

// Ptr returns a pointer to v, for optional fields such as
// DeploymentSpec.Replicas: Ptr(int32(3)).
func Ptr[T any](v T) *T { return &v }
