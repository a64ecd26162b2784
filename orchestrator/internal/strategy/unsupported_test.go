package strategy

import (
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Fields honoured for some values: the values that mean what Flotilla
// does are accepted (no cluster DNS: ClusterFirst is the node's resolver,
// as the kubelet falls back without one; one scheduler; no priorities, so
// no preemption; no Services, so no service links; Linux nodes), the
// others refused as not supported yet. No termination message is read,
// so even Kubernetes' default file is refused. Fields shown as they are (serviceAccountName, subdomain) are
// accepted, and serviceAccount becomes serviceAccountName.
func TestNotSupportedValues(t *testing.T) {
	const c0 = "spec.containers[0]"
	tests := []struct {
		name   string
		mutate func(p *api.Pod)
		fields []string // refused, each as not supported yet
	}{
		{"accepted values", func(p *api.Pod) {
			s := &p.Spec
			s.DNSPolicy = "ClusterFirst"
			s.SchedulerName = defaultSchedulerName
			s.Priority = api.Ptr(int32(0))
			s.PreemptionPolicy = api.Ptr("PreemptLowerPriority")
			s.EnableServiceLinks = api.Ptr(true)
			s.AutomountServiceAccountToken = api.Ptr(false)
			s.ShareProcessNamespace = api.Ptr(false)
			s.SetHostnameAsFQDN = api.Ptr(false)
			s.OS = &api.PodOS{Name: "linux"}
			s.HostUsers = api.Ptr(true)
			s.ServiceAccountName = "web"
			s.Subdomain = "web"
			s.SecurityContext = &api.PodSecurityContext{}
			c := &s.Containers[0]
			c.SecurityContext = &api.SecurityContext{}
			s.Volumes = []api.Volume{{Name: "cache", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}}}
			c.VolumeMounts = []api.VolumeMount{{Name: "cache", MountPath: "/cache", MountPropagation: api.Ptr("None"), RecursiveReadOnly: api.Ptr("Disabled")}}
		}, nil},
		{"other DNS policies", func(p *api.Pod) { p.Spec.DNSPolicy = "Default" }, nil},
		{"no preemption", func(p *api.Pod) { p.Spec.PreemptionPolicy = api.Ptr("Never") }, nil},
		{"refused values", func(p *api.Pod) {
			s := &p.Spec
			s.DNSPolicy = "None"
			s.SchedulerName = "other-scheduler"
			s.Priority = api.Ptr(int32(1000))
			s.AutomountServiceAccountToken = api.Ptr(true)
			s.ShareProcessNamespace = api.Ptr(true)
			s.SetHostnameAsFQDN = api.Ptr(true)
			s.OS = &api.PodOS{Name: "windows"}
			s.HostUsers = api.Ptr(false)
			c := &s.Containers[0]
			c.TerminationMessagePath = "/dev/termination-log"
			c.TerminationMessagePolicy = "File"
			c.Ports[0].Protocol = api.ProtocolSCTP
			c.Resources.Limits["ephemeral-storage"] = api.MustParse("1Gi")
			c.Resources.Requests["nvidia.com/gpu"] = api.MustParse("1")
			s.Volumes = []api.Volume{{Name: "cache", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{Medium: "HugePages"}}}}
			c.VolumeMounts = []api.VolumeMount{{Name: "cache", MountPath: "/cache", MountPropagation: api.Ptr("Bidirectional"), RecursiveReadOnly: api.Ptr("Enabled")}}
		}, []string{"spec.volumes[0].emptyDir.medium", c0 + ".volumeMounts[0].mountPropagation", c0 + ".volumeMounts[0].recursiveReadOnly",
			"spec.dnsPolicy", "spec.schedulerName", "spec.priority", "spec.automountServiceAccountToken",
			"spec.shareProcessNamespace", "spec.setHostnameAsFQDN", "spec.os.name", "spec.hostUsers",
			c0 + ".terminationMessagePath", c0 + ".terminationMessagePolicy", c0 + ".ports[0].protocol",
			c0 + ".resources.limits[ephemeral-storage]", c0 + ".resources.requests[nvidia.com/gpu]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := validPod()
			tt.mutate(p)
			err := validate(p)
			checkFieldErrors(t, err, tt.fields)
			for _, fe := range api.FieldErrors(err) {
				if fe.Type != api.ErrorTypeForbidden || fe.Detail != notSupportedYet {
					t.Errorf("%s: %v, want Forbidden %q", fe.Field, fe, notSupportedYet)
				}
			}
		})
	}

	p := validPod()
	p.Spec.ServiceAccountName, p.Spec.DeprecatedServiceAccount = "", "web"
	defaultObject(p)
	if p.Spec.ServiceAccountName != "web" {
		t.Errorf("serviceAccount %q did not become serviceAccountName: %q", p.Spec.DeprecatedServiceAccount, p.Spec.ServiceAccountName)
	}
}
