package runtime

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"
	"time"
)

var (
	dnsLabel     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	uidChars     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)
	envName      = regexp.MustCompile(`^[^=\x00]+$`)
	volumeName   = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)
)

// invalid is a field problem; it wraps ErrInvalid.
func invalid(field, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, args...))
}

// ValidateName reports whether s is a usable identifier component (cluster
// ID, node name): a DNS-1123 subdomain of at most 63 characters.
func ValidateName(field, s string) error {
	if s == "" {
		return invalid(field, "must not be empty")
	}
	if len(s) > 63 || !dnsSubdomain.MatchString(s) {
		return invalid(field, "%q must be a lower-case DNS-1123 name of at most 63 characters", s)
	}
	return nil
}

// ValidateSandboxConfig returns every problem of cfg at once (errors.Join),
// each wrapping ErrInvalid and naming its field.
func ValidateSandboxConfig(cfg *PodSandboxConfig) error {
	if cfg == nil {
		return invalid("config", "must not be nil")
	}
	var errs []error
	if cfg.Name == "" || len(cfg.Name) > 253 || !dnsSubdomain.MatchString(cfg.Name) {
		errs = append(errs, invalid("name", "%q must be a DNS-1123 subdomain of at most 253 characters", cfg.Name))
	}
	if cfg.Namespace == "" || len(cfg.Namespace) > 63 || !dnsLabel.MatchString(cfg.Namespace) {
		errs = append(errs, invalid("namespace", "%q must be a DNS-1123 label", cfg.Namespace))
	}
	if cfg.UID == "" || len(cfg.UID) > 64 || !uidChars.MatchString(cfg.UID) {
		errs = append(errs, invalid("uid", "%q must be 1-64 characters of [A-Za-z0-9-]", cfg.UID))
	}
	if cfg.Attempt < 0 {
		errs = append(errs, invalid("attempt", "%d must not be negative", cfg.Attempt))
	}
	if cfg.Hostname != "" && (len(cfg.Hostname) > 63 || !dnsLabel.MatchString(cfg.Hostname)) {
		errs = append(errs, invalid("hostname", "%q must be a DNS-1123 label", cfg.Hostname))
	}
	seen := map[string]bool{}
	for i, p := range cfg.PortMappings {
		f := fmt.Sprintf("portMappings[%d]", i)
		errs = append(errs, validatePort(f+".containerPort", p.ContainerPort), validatePort(f+".hostPort", p.HostPort), validateProtocol(f+".protocol", p.Protocol))
		key := fmt.Sprintf("%s/%s/%d", p.HostIP, protoOrTCP(p.Protocol), p.HostPort)
		if seen[key] {
			errs = append(errs, invalid(f+".hostPort", "%d/%s published twice", p.HostPort, protoOrTCP(p.Protocol)))
		}
		seen[key] = true
	}
	errs = append(errs, validateLabels("labels", cfg.Labels))
	return errors.Join(errs...)
}

// ValidateContainerConfig returns every problem of cfg at once
// (errors.Join), each wrapping ErrInvalid and naming its field.
func ValidateContainerConfig(cfg *ContainerConfig) error {
	if cfg == nil {
		return invalid("config", "must not be nil")
	}
	var errs []error
	if cfg.Name == "" || len(cfg.Name) > 63 || !dnsLabel.MatchString(cfg.Name) {
		errs = append(errs, invalid("name", "%q must be a DNS-1123 label", cfg.Name))
	}
	if strings.TrimSpace(cfg.Image) == "" || strings.ContainsAny(cfg.Image, " \t\n") {
		errs = append(errs, invalid("image", "%q must be a non-empty image reference without spaces", cfg.Image))
	}
	for i, e := range cfg.Env {
		if !envName.MatchString(e.Name) {
			errs = append(errs, invalid(fmt.Sprintf("env[%d].name", i), "%q must be non-empty and contain no '=' or NUL", e.Name))
		}
		if strings.ContainsRune(e.Value, 0) {
			errs = append(errs, invalid(fmt.Sprintf("env[%d].value", i), "must not contain NUL"))
		}
	}
	if cfg.WorkingDir != "" && !path.IsAbs(cfg.WorkingDir) {
		errs = append(errs, invalid("workingDir", "%q must be an absolute path", cfg.WorkingDir))
	}
	if cfg.Resources.CPUMillis < 0 {
		errs = append(errs, invalid("resources.cpuMillis", "%d must not be negative", cfg.Resources.CPUMillis))
	}
	if cfg.Resources.MemoryBytes < 0 || (cfg.Resources.MemoryBytes > 0 && cfg.Resources.MemoryBytes < 6<<20) {
		errs = append(errs, invalid("resources.memoryBytes", "%d must be 0 (unlimited) or at least 6 MiB", cfg.Resources.MemoryBytes))
	}
	for i, p := range cfg.Ports {
		f := fmt.Sprintf("ports[%d]", i)
		errs = append(errs, validatePort(f+".containerPort", p.ContainerPort), validateProtocol(f+".protocol", p.Protocol))
	}
	targets := map[string]bool{}
	for i, m := range cfg.Mounts {
		f := fmt.Sprintf("mounts[%d]", i)
		if !path.IsAbs(m.Target) || path.Clean(m.Target) == "/" {
			errs = append(errs, invalid(f+".target", "%q must be an absolute path other than /", m.Target))
		} else if targets[path.Clean(m.Target)] {
			errs = append(errs, invalid(f+".target", "%q mounted twice", m.Target))
		}
		targets[path.Clean(m.Target)] = true
		switch m.Type {
		case MountVolume, MountEmptyDir, MountFiles:
			if !volumeName.MatchString(m.Source) || len(m.Source) > 63 {
				errs = append(errs, invalid(f+".source", "%q must be a volume name of [a-zA-Z0-9_.-]", m.Source))
			}
		case MountBind:
			if !path.IsAbs(m.Source) {
				errs = append(errs, invalid(f+".source", "%q must be an absolute host path", m.Source))
			}
		default:
			errs = append(errs, invalid(f+".type", "%q must be Volume, Bind, EmptyDir or Files", m.Type))
		}
		for j, file := range m.Files {
			ff := fmt.Sprintf("%s.files[%d]", f, j)
			if m.Type != MountFiles {
				errs = append(errs, invalid(ff, "files are for Files mounts only"))
				break
			}
			if !cleanRelative(file.Path) {
				errs = append(errs, invalid(ff+".path", "%q must be a clean relative path without ..", file.Path))
			} else if m.Medium == MediumMemory && strings.HasPrefix(file.Path, "..") {
				// The runtime's own names (..data) start so.
				errs = append(errs, invalid(ff+".path", "%q must not start with .. in a Memory Files mount", file.Path))
			}
			if file.Mode&^0o777 != 0 {
				errs = append(errs, invalid(ff+".mode", "%o must hold permission bits only", file.Mode))
			}
		}
		if m.SubPath != "" {
			if m.Type != MountBind && m.Type != MountFiles {
				errs = append(errs, invalid(f+".subPath", "is supported on Bind and Files mounts only"))
			} else if !cleanRelative(m.SubPath) {
				errs = append(errs, invalid(f+".subPath", "%q must be a clean relative path without ..", m.SubPath))
			}
		}
		switch {
		case m.Medium != MediumDisk && m.Medium != MediumMemory:
			errs = append(errs, invalid(f+".medium", "%q must be empty (disk) or Memory", m.Medium))
		case m.Medium != MediumDisk && m.Type != MountEmptyDir && m.Type != MountFiles:
			errs = append(errs, invalid(f+".medium", "is for EmptyDir and Files mounts only"))
		}
		if m.SizeBytes < 0 || (m.SizeBytes > 0 && m.Medium != MediumMemory) {
			errs = append(errs, invalid(f+".sizeBytes", "%d must be 0, or positive for a Memory emptyDir", m.SizeBytes))
		}
		if m.Group != nil && (*m.Group < 0 || (m.Type != MountEmptyDir && m.Type != MountFiles)) {
			errs = append(errs, invalid(f+".group", "%d must be a group ID for an EmptyDir or Files mount", *m.Group))
		}
	}
	errs = append(errs, validateSecurity(&cfg.Security))
	if cfg.RestartCount < 0 {
		errs = append(errs, invalid("restartCount", "%d must not be negative", cfg.RestartCount))
	}
	if cfg.StopSignal != "" && !strings.HasPrefix(cfg.StopSignal, "SIG") {
		errs = append(errs, invalid("stopSignal", "%q must be a signal name such as SIGTERM", cfg.StopSignal))
	}
	errs = append(errs, validateLabels("labels", cfg.Labels))
	return errors.Join(errs...)
}

// ValidateFilesUpdate checks the mount given to
// [FilesUpdater.UpdateFiles]: a MediumMemory Files mount with a volume
// name and clean file paths (its target is not looked at).
func ValidateFilesUpdate(m *Mount) error {
	if m == nil || m.Type != MountFiles || m.Medium != MediumMemory {
		return invalid("mount", "must be a Files mount of medium Memory")
	}
	c := m.Target
	if c == "" {
		c = "/files"
	}
	cp := *m
	cp.Target = c
	return ValidateContainerConfig(&ContainerConfig{Name: "files", Image: "files", Mounts: []Mount{cp}})
}

// ValidateGrace checks a StopContainer grace period.
func ValidateGrace(grace time.Duration) error {
	if grace < 0 {
		return invalid("grace", "%v must not be negative", grace)
	}
	return nil
}

func validatePort(field string, p int) error {
	if p < 1 || p > 65535 {
		return invalid(field, "%d must be in 1-65535", p)
	}
	return nil
}

func validateProtocol(field string, p Protocol) error {
	switch p {
	case "", ProtocolTCP, ProtocolUDP:
		return nil
	}
	return invalid(field, "%q must be TCP or UDP", p)
}

func protoOrTCP(p Protocol) Protocol {
	if p == "" {
		return ProtocolTCP
	}
	return p
}

func validateLabels(field string, labels map[string]string) error {
	var errs []error
	for k := range labels {
		if k == "" {
			errs = append(errs, invalid(field, "empty key"))
		} else if strings.HasPrefix(k, LabelPrefix) {
			errs = append(errs, invalid(field+"["+k+"]", "keys with prefix %q are reserved", LabelPrefix))
		}
	}
	return errors.Join(errs...)
}

// cleanRelative reports whether p is a non-empty, clean, relative path
// that does not climb out with "..".
func cleanRelative(p string) bool {
	return p != "" && !path.IsAbs(p) && path.Clean(p) == p && p != ".." && !strings.HasPrefix(p, "../")
}

// capabilityName is a Linux capability as runtimes take it: upper case
// letters, digits and '_' (without the "CAP_" prefix), or ALL.
var capabilityName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

func validateSecurity(s *Security) error {
	var errs []error
	for _, id := range []struct {
		field string
		v     *int64
	}{{"security.runAsUser", s.RunAsUser}, {"security.runAsGroup", s.RunAsGroup}} {
		if id.v != nil && (*id.v < 0 || *id.v > 1<<32-2) {
			errs = append(errs, invalid(id.field, "%d must be an ID between 0 and 4294967294", *id.v))
		}
	}
	for i, g := range s.SupplementalGroups {
		if g < 0 || g > 1<<32-2 {
			errs = append(errs, invalid(fmt.Sprintf("security.supplementalGroups[%d]", i), "%d must be an ID between 0 and 4294967294", g))
		}
	}
	for _, list := range []struct {
		field string
		caps  []string
	}{{"security.capAdd", s.CapAdd}, {"security.capDrop", s.CapDrop}} {
		for i, c := range list.caps {
			if !capabilityName.MatchString(c) || strings.HasPrefix(c, "CAP_") {
				errs = append(errs, invalid(fmt.Sprintf("%s[%d]", list.field, i), "%q must be a capability name without CAP_, or ALL", c))
			}
		}
	}
	if s.Seccomp != SeccompRuntimeDefault && s.Seccomp != SeccompUnconfined {
		errs = append(errs, invalid("security.seccomp", "%q must be empty (the runtime's default) or Unconfined", s.Seccomp))
	}
	return errors.Join(errs...)
}
