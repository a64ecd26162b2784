package strategy

import "github.com/flotilla-io/flotilla/orchestrator/api"

func defaultDeployment(d *api.Deployment) {
	sp := &d.Spec
	if sp.Replicas == nil {
		sp.Replicas = api.Ptr(api.DefaultDeploymentReplicas)
	}
	if sp.Strategy.Type == "" {
		sp.Strategy.Type = api.RollingUpdateDeploymentStrategyType
	}
	if sp.Strategy.Type == api.RollingUpdateDeploymentStrategyType {
		if sp.Strategy.RollingUpdate == nil {
			sp.Strategy.RollingUpdate = &api.RollingUpdateDeployment{}
		}
		ru := sp.Strategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = api.IntOrStringPtr(api.FromString(api.DefaultMaxUnavailable))
		}
		if ru.MaxSurge == nil {
			ru.MaxSurge = api.IntOrStringPtr(api.FromString(api.DefaultMaxSurge))
		}
	}
	if sp.RevisionHistoryLimit == nil {
		sp.RevisionHistoryLimit = api.Ptr(api.DefaultRevisionHistoryLimit)
	}
	if sp.ProgressDeadlineSeconds == nil {
		sp.ProgressDeadlineSeconds = api.Ptr(api.DefaultProgressDeadlineSeconds)
	}
	defaultPodSpec(&sp.Template.Spec)
}

// defaultPodSpec fills a Pod spec (a Pod's or a template's) in place:
// restartPolicy Always, terminationGracePeriodSeconds 30,
// enableServiceLinks true; per container
// imagePullPolicy IfNotPresent (Flotilla deviation: also for ":latest"
// images, since no registry is assumed), port protocol TCP, requests
// copied from limits where a request is missing, probe timeoutSeconds 1,
// periodSeconds 10, successThreshold 1, failureThreshold 3, httpGet
// scheme HTTP and path "/", fieldRef apiVersion v1 (env and downward API
// files); configMap, secret, downwardAPI and projected volume defaultMode
// 0644, hostPath type ""; toleration operator Equal.
func defaultPodSpec(spec *api.PodSpec) {
	if spec.RestartPolicy == "" {
		spec.RestartPolicy = api.RestartPolicyAlways
	}
	if spec.TerminationGracePeriodSeconds == nil {
		spec.TerminationGracePeriodSeconds = api.Ptr(api.DefaultTerminationGracePeriodSeconds)
	}
	if spec.EnableServiceLinks == nil {
		spec.EnableServiceLinks = api.Ptr(true)
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
			v.ConfigMap.DefaultMode = api.Ptr(api.DefaultVolumeMode)
		}
		if v.Secret != nil && v.Secret.DefaultMode == nil {
			v.Secret.DefaultMode = api.Ptr(api.DefaultVolumeMode)
		}
		if v.DownwardAPI != nil && v.DownwardAPI.DefaultMode == nil {
			v.DownwardAPI.DefaultMode = api.Ptr(api.DefaultVolumeMode)
		}
		if v.Projected != nil && v.Projected.DefaultMode == nil {
			v.Projected.DefaultMode = api.Ptr(api.DefaultVolumeMode)
		}
		if v.HostPath != nil && v.HostPath.Type == nil {
			v.HostPath.Type = api.Ptr("")
		}
		for _, list := range [][]api.DownwardAPIVolumeFile{downwardItems(v.DownwardAPI), projectedDownwardItems(v.Projected)} {
			for j := range list {
				if r := list[j].FieldRef; r != nil && r.APIVersion == "" {
					r.APIVersion = api.CoreV1
				}
			}
		}
	}
	for i := range spec.Tolerations {
		t := &spec.Tolerations[i]
		if t.Operator == "" {
			t.Operator = api.TolerationOpEqual
		}
	}
}

func defaultContainer(c *api.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = api.PullIfNotPresent
	}
	for i := range c.Ports {
		if c.Ports[i].Protocol == "" {
			c.Ports[i].Protocol = api.ProtocolTCP
		}
	}
	for i := range c.Env {
		if vf := c.Env[i].ValueFrom; vf != nil && vf.FieldRef != nil && vf.FieldRef.APIVersion == "" {
			vf.FieldRef.APIVersion = api.CoreV1
		}
	}
	// A limit without a request means the request equals the limit.
	for name, q := range c.Resources.Limits {
		if _, ok := c.Resources.Requests[name]; !ok {
			if c.Resources.Requests == nil {
				c.Resources.Requests = api.ResourceList{}
			}
			c.Resources.Requests[name] = q
		}
	}
	for _, p := range []*api.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p == nil {
			continue
		}
		if p.TimeoutSeconds == 0 {
			p.TimeoutSeconds = api.DefaultProbeTimeoutSeconds
		}
		if p.PeriodSeconds == 0 {
			p.PeriodSeconds = api.DefaultProbePeriodSeconds
		}
		if p.SuccessThreshold == 0 {
			p.SuccessThreshold = api.DefaultProbeSuccessThreshold
		}
		if p.FailureThreshold == 0 {
			p.FailureThreshold = api.DefaultProbeFailureThreshold
		}
		defaultHTTPGet(p.HTTPGet)
	}
	if c.Lifecycle != nil {
		for _, h := range []*api.LifecycleHandler{c.Lifecycle.PreStop, c.Lifecycle.PostStart} {
			if h != nil {
				defaultHTTPGet(h.HTTPGet)
			}
		}
	}
}

func defaultHTTPGet(h *api.HTTPGetAction) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = api.URISchemeHTTP
	}
}

func downwardItems(s *api.DownwardAPIVolumeSource) []api.DownwardAPIVolumeFile {
	if s == nil {
		return nil
	}
	return s.Items
}

// projectedDownwardItems returns the downward API files of every source of
// a projected volume, as one slice sharing nothing with it but the
// FieldRef pointers (what defaulting changes).
func projectedDownwardItems(s *api.ProjectedVolumeSource) []api.DownwardAPIVolumeFile {
	if s == nil {
		return nil
	}
	var out []api.DownwardAPIVolumeFile
	for _, src := range s.Sources {
		if src.DownwardAPI != nil {
			out = append(out, src.DownwardAPI.Items...)
		}
	}
	return out
}
