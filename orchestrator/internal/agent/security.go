package agent

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// A container's security settings are its securityContext over the Pod's,
// as the kubelet merges them: the container's runAsUser, runAsGroup,
// runAsNonRoot and seccompProfile win over the Pod's; the Pod's fsGroup
// and supplementalGroups are added to its groups, and fsGroup owns its
// emptyDir, configMap, downward API and projected volumes;
// allowPrivilegeEscalation false is no_new_privs.

// containerSecurity returns the runtime settings of container c of pod.
func containerSecurity(pod *api.Pod, c *api.Container) runtime.Security {
	var s runtime.Security
	if psc := pod.Spec.SecurityContext; psc != nil {
		s.RunAsUser, s.RunAsGroup = psc.RunAsUser, psc.RunAsGroup
		if psc.FSGroup != nil {
			s.SupplementalGroups = append(s.SupplementalGroups, *psc.FSGroup)
		}
		s.SupplementalGroups = append(s.SupplementalGroups, psc.SupplementalGroups...)
		s.Seccomp = seccompOf(psc.SeccompProfile, s.Seccomp)
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsUser != nil {
			s.RunAsUser = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			s.RunAsGroup = sc.RunAsGroup
		}
		s.ReadOnlyRootFilesystem = isTrue(sc.ReadOnlyRootFilesystem)
		s.Privileged = isTrue(sc.Privileged)
		s.NoNewPrivileges = sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation
		if caps := sc.Capabilities; caps != nil {
			s.CapAdd, s.CapDrop = capNames(caps.Add), capNames(caps.Drop)
		}
		s.Seccomp = seccompOf(sc.SeccompProfile, s.Seccomp)
	}
	return s
}

// capNames drops the "CAP_" prefix Kubernetes tolerates.
func capNames(caps []string) []string {
	var out []string
	for _, c := range caps {
		out = append(out, strings.TrimPrefix(c, "CAP_"))
	}
	return out
}

// seccompOf is the runtime profile of p, or def when p is nil. Localhost
// profiles are refused by validation.
func seccompOf(p *api.SeccompProfile, def runtime.SeccompProfile) runtime.SeccompProfile {
	switch {
	case p == nil:
		return def
	case p.Type == "Unconfined":
		return runtime.SeccompUnconfined
	}
	return runtime.SeccompRuntimeDefault
}

// fsGroupOf is the Pod's fsGroup, nil if it has none.
func fsGroupOf(pod *api.Pod) *int64 {
	if psc := pod.Spec.SecurityContext; psc != nil {
		return psc.FSGroup
	}
	return nil
}

// verifyRunAsNonRoot makes the kubelet's check of runAsNonRoot (the
// container's, else the Pod's): the user must not be 0, and without
// runAsUser the image's user must be numeric and not 0. Errors:
// *configError with the kubelet's message; the runtime's error reading
// the image's user.
func (a *Agent) verifyRunAsNonRoot(ctx context.Context, pod *api.Pod, c *api.Container) error {
	var nonRoot *bool
	var uid *int64
	if psc := pod.Spec.SecurityContext; psc != nil {
		nonRoot, uid = psc.RunAsNonRoot, psc.RunAsUser
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsNonRoot != nil {
			nonRoot = sc.RunAsNonRoot
		}
		if sc.RunAsUser != nil {
			uid = sc.RunAsUser
		}
	}
	if !isTrue(nonRoot) {
		return nil
	}
	podRef := fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
	if uid != nil {
		if *uid == 0 {
			return configErrorf("container's runAsUser breaks non-root policy (pod: %q, container: %s)", podRef, c.Name)
		}
		return nil
	}
	insp, ok := a.cfg.Runtime.(runtime.ImageInspector)
	if !ok {
		return configErrorf("container has runAsNonRoot and the runtime cannot tell the image's user, cannot verify user is non-root (pod: %q, container: %s)", podRef, c.Name)
	}
	user, err := insp.ImageUser(ctx, c.Image)
	if err != nil {
		return err
	}
	name, _, _ := strings.Cut(user, ":")
	switch n, err := strconv.ParseInt(name, 10, 64); {
	case name == "" || (err == nil && n == 0):
		return configErrorf("container has runAsNonRoot and image will run as root (pod: %q, container: %s)", podRef, c.Name)
	case err != nil:
		return configErrorf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (pod: %q, container: %s)", name, podRef, c.Name)
	}
	return nil
}
