package strategy

import (
	"slices"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// A Pod runs as written or is not stored. The fields of the Pod spec that
// Flotilla decodes (for compatibility with Kubernetes manifests) but does
// not act on yet are refused here, each with a Forbidden error that says
// so, instead of being accepted and then ignored. A field honoured only
// for some values (dnsPolicy, schedulerName, a protocol) is refused for
// the others.
//
// fields_test.go walks every field of the Pod spec and fails for one that
// is neither honoured (naming the test that shows it) nor refused here,
// so a field added to package api must be placed on one side.

// notSupportedYet is the detail of every refusal made here.
const notSupportedYet = "not supported yet"

func notSupported(p api.Path) *api.FieldError { return api.Forbidden(p, notSupportedYet) }

// defaultSchedulerName is the scheduler every Pod gets: Flotilla's own.
const defaultSchedulerName = "default-scheduler"

// linuxOS is the only operating system of Flotilla's nodes.
const linuxOS = "linux"

// validateNotSupported returns a Forbidden error for every field of spec
// that is set but not implemented, with paths under p.
func validateNotSupported(spec *api.PodSpec, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	refuse := func(set bool, path api.Path) {
		if set {
			errs = append(errs, notSupported(path))
		}
	}
	volumes := map[string]*api.Volume{}
	for i := range spec.Volumes {
		v := &spec.Volumes[i]
		volumes[v.Name] = v
		errs = append(errs, volumeNotSupported(v, p.Child("volumes").Index(i))...)
	}
	for i := range spec.InitContainers {
		errs = append(errs, containerNotSupported(&spec.InitContainers[i], volumes, p.Child("initContainers").Index(i))...)
	}
	for i := range spec.Containers {
		errs = append(errs, containerNotSupported(&spec.Containers[i], volumes, p.Child("containers").Index(i))...)
	}
	refuse(spec.ActiveDeadlineSeconds != nil, p.Child("activeDeadlineSeconds"))
	// Without cluster DNS, ClusterFirst is Default, as the kubelet
	// falls back when it has none; None needs dnsConfig.
	refuse(spec.DNSPolicy == "None", p.Child("dnsPolicy"))
	refuse(spec.DNSConfig != nil, p.Child("dnsConfig"))
	refuse(isTrue(spec.AutomountServiceAccountToken), p.Child("automountServiceAccountToken"))
	refuse(spec.HostNetwork, p.Child("hostNetwork"))
	refuse(spec.HostPID, p.Child("hostPID"))
	refuse(spec.HostIPC, p.Child("hostIPC"))
	if a := spec.Affinity; a != nil {
		refuse(a.PodAffinity != nil, p.Child("affinity", "podAffinity"))
		refuse(a.PodAntiAffinity != nil, p.Child("affinity", "podAntiAffinity"))
	}
	refuse(spec.SchedulerName != "" && spec.SchedulerName != defaultSchedulerName, p.Child("schedulerName"))
	refuse(spec.PriorityClassName != "", p.Child("priorityClassName"))
	refuse(spec.Priority != nil && *spec.Priority != 0, p.Child("priority"))
	if sc := spec.SecurityContext; sc != nil {
		sp := p.Child("securityContext")
		refuse(isLocalhost(sc.SeccompProfile), sp.Child("seccompProfile", "type"))
		// Sysctls are the sandbox's (its network and IPC namespaces),
		// which a warm sandbox was started without.
		refuse(len(sc.Sysctls) > 0, sp.Child("sysctls"))
	}
	refuse(len(spec.ImagePullSecrets) > 0, p.Child("imagePullSecrets"))
	refuse(len(spec.TopologySpreadConstraints) > 0, p.Child("topologySpreadConstraints"))
	refuse(len(spec.HostAliases) > 0, p.Child("hostAliases"))
	refuse(isTrue(spec.ShareProcessNamespace), p.Child("shareProcessNamespace"))
	refuse(spec.RuntimeClassName != nil, p.Child("runtimeClassName"))
	refuse(len(spec.ReadinessGates) > 0, p.Child("readinessGates"))
	refuse(isTrue(spec.SetHostnameAsFQDN), p.Child("setHostnameAsFQDN"))
	refuse(spec.OS != nil && spec.OS.Name != linuxOS, p.Child("os", "name"))
	refuse(spec.HostUsers != nil && !*spec.HostUsers, p.Child("hostUsers"))
	refuse(len(spec.Overhead) > 0, p.Child("overhead"))
	return errs
}

func volumeNotSupported(v *api.Volume, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	refuse := func(set bool, path api.Path) {
		if set {
			errs = append(errs, notSupported(path))
		}
	}
	// Storage does not exist yet.
	refuse(v.PersistentVolumeClaim != nil, p.Child("persistentVolumeClaim"))
	if e := v.EmptyDir; e != nil {
		refuse(strings.HasPrefix(e.Medium, "HugePages"), p.Child("emptyDir", "medium"))
		// A disk emptyDir's size is not enforced (Kubernetes evicts the
		// Pod); a Memory one's bounds its tmpfs.
		refuse(e.SizeLimit != nil && e.Medium != emptyDirMemory, p.Child("emptyDir", "sizeLimit"))
	}
	downward := func(items []api.DownwardAPIVolumeFile, p api.Path) {
		for i, it := range items {
			if r := it.ResourceFieldRef; r != nil {
				refuse(strings.HasSuffix(r.Resource, ".ephemeral-storage"), p.Index(i).Child("resourceFieldRef", "resource"))
			}
		}
	}
	if d := v.DownwardAPI; d != nil {
		downward(d.Items, p.Child("downwardAPI", "items"))
	}
	if pr := v.Projected; pr != nil {
		for i, src := range pr.Sources {
			sp := p.Child("projected", "sources").Index(i)
			refuse(src.ServiceAccountToken != nil, sp.Child("serviceAccountToken"))
			if src.DownwardAPI != nil {
				downward(src.DownwardAPI.Items, sp.Child("downwardAPI", "items"))
			}
		}
	}
	return errs
}

// resourcesHonoured are the resources the scheduler counts (requests) and
// the runtime enforces (limits).
var resourcesHonoured = []api.ResourceName{api.ResourceCPU, api.ResourceMemory}

func containerNotSupported(c *api.Container, volumes map[string]*api.Volume, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	refuse := func(set bool, path api.Path) {
		if set {
			errs = append(errs, notSupported(path))
		}
	}
	for i, port := range c.Ports {
		// The runtimes publish and probe TCP and UDP only.
		refuse(port.Protocol == api.ProtocolSCTP, p.Child("ports").Index(i).Child("protocol"))
	}
	for i, e := range c.Env {
		if vf := e.ValueFrom; vf != nil {
			vp := p.Child("env").Index(i).Child("valueFrom")
			if r := vf.ResourceFieldRef; r != nil {
				refuse(strings.HasSuffix(r.Resource, ".ephemeral-storage"), vp.Child("resourceFieldRef", "resource"))
			}
		}
	}
	for _, list := range []struct {
		rl   api.ResourceList
		name string
	}{{c.Resources.Limits, "limits"}, {c.Resources.Requests, "requests"}} {
		for _, name := range sortedKeys(list.rl) {
			refuse(!slices.Contains(resourcesHonoured, name), p.Child("resources", list.name).Key(string(name)))
		}
	}
	for i, m := range c.VolumeMounts {
		mp := p.Child("volumeMounts").Index(i)
		// A container could replace an emptyDir's directory by a
		// symbolic link that the runtime would follow on the node.
		if v := volumes[m.Name]; v != nil && v.EmptyDir != nil {
			refuse(m.SubPath != "", mp.Child("subPath"))
		}
		refuse(m.SubPathExpr != "", mp.Child("subPathExpr"))
		refuse(m.MountPropagation != nil && *m.MountPropagation != "None", mp.Child("mountPropagation"))
		refuse(m.RecursiveReadOnly != nil && *m.RecursiveReadOnly != "Disabled", mp.Child("recursiveReadOnly"))
	}
	if lc := c.Lifecycle; lc != nil {
		refuse(lc.PostStart != nil, p.Child("lifecycle", "postStart"))
		// Kubernetes keeps tcpSocket hooks for compatibility only: they
		// fail when they run.
		refuse(lc.PreStop != nil && lc.PreStop.TCPSocket != nil, p.Child("lifecycle", "preStop", "tcpSocket"))
	}
	// The agent reads no termination message, not even from Kubernetes'
	// default file (/dev/termination-log, policy File).
	refuse(c.TerminationMessagePath != "", p.Child("terminationMessagePath"))
	refuse(c.TerminationMessagePolicy != "", p.Child("terminationMessagePolicy"))
	if sc := c.SecurityContext; sc != nil {
		sp := p.Child("securityContext")
		refuse(isLocalhost(sc.SeccompProfile), sp.Child("seccompProfile", "type"))
		// An unmasked /proc needs user namespaces.
		refuse(sc.ProcMount != nil && *sc.ProcMount == procMountUnmasked, sp.Child("procMount"))
	}
	refuse(c.Stdin, p.Child("stdin"))
	refuse(c.StdinOnce, p.Child("stdinOnce"))
	refuse(c.TTY, p.Child("tty"))
	refuse(len(c.ResizePolicy) > 0, p.Child("resizePolicy"))
	refuse(len(c.VolumeDevices) > 0, p.Child("volumeDevices"))
	return errs
}

func isTrue(b *bool) bool { return b != nil && *b }

// isLocalhost reports whether p asks for a seccomp profile file on the
// node, which Flotilla does not load yet.
func isLocalhost(p *api.SeccompProfile) bool { return p != nil && p.Type == seccompLocalhost }
