package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/backoff"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// A container's volumeMounts become runtime mounts: an emptyDir is the
// runtime's Pod-scoped scratch volume (a tmpfs for medium Memory, bounded
// by sizeLimit), a hostPath a bind mount of the node's path after the
// kubelet's type checks (made by the agent on its own filesystem, which
// must be the runtime's node's: a local Docker daemon), and configMap,
// secret, downwardAPI and projected volumes the runtime's Files volumes
// with the files the kubelet would write, always read-only as in
// Kubernetes. A volume with a Secret's files (secret, or projected with a
// secret source) is a Memory one: on tmpfs, never on the node's disk, and
// kept up to date while the Pod runs (see secretvolumes.go).

// mountError is a volume that cannot be set up for a container (its
// ConfigMap or key missing, a hostPath failing its type check): the
// container is not created until it is fixed, and waits as
// ContainerCreating, with a FailedMount Event, as in the kubelet.
type mountError struct {
	volume string
	err    error
}

func (e *mountError) Error() string {
	return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", e.volume, e.err)
}

// containerMounts returns the runtime mounts of container c's
// volumeMounts. Errors: *mountError for a volume that cannot be set up;
// the client's error when a ConfigMap cannot be read.
func (a *Agent) containerMounts(ctx context.Context, info *podInfo, c *api.Container) ([]runtime.Mount, error) {
	pod := info.pod
	var out []runtime.Mount
	for _, vm := range c.VolumeMounts {
		var v *api.Volume
		for i := range pod.Spec.Volumes {
			if pod.Spec.Volumes[i].Name == vm.Name {
				v = &pod.Spec.Volumes[i]
			}
		}
		if v == nil {
			return nil, &mountError{volume: vm.Name, err: errors.New("no such volume in the Pod")}
		}
		m := runtime.Mount{Source: v.Name, Target: vm.MountPath, ReadOnly: vm.ReadOnly, SubPath: vm.SubPath}
		switch {
		case v.EmptyDir != nil:
			m.Type = runtime.MountEmptyDir
			if v.EmptyDir.Medium == "Memory" {
				m.Medium = runtime.MediumMemory
				if q := v.EmptyDir.SizeLimit; q != nil {
					m.SizeBytes = q.Value()
				}
			}
		case v.HostPath != nil:
			typ := ""
			if v.HostPath.Type != nil {
				typ = *v.HostPath.Type
			}
			if err := checkHostPath(v.HostPath.Path, typ); err != nil {
				return nil, &mountError{volume: v.Name, err: err}
			}
			if vm.SubPath != "" {
				// The kubelet makes a missing subPath a directory.
				if err := os.MkdirAll(filepath.Join(v.HostPath.Path, vm.SubPath), 0o755); err != nil {
					return nil, &mountError{volume: v.Name, err: err}
				}
			}
			m.Type, m.Source = runtime.MountBind, v.HostPath.Path
		default:
			files, err := a.volumeFiles(ctx, info, v)
			if err != nil {
				return nil, err
			}
			m.Type, m.Files, m.ReadOnly = runtime.MountFiles, files, true
			if holdsSecret(v) {
				m.Medium = runtime.MediumMemory
			}
		}
		if m.Type != runtime.MountBind {
			m.Group = fsGroupOf(pod) // the kubelet does not own hostPath volumes
		}
		if m.Medium == runtime.MediumMemory && m.Type == runtime.MountFiles && m.SubPath == "" {
			// The runtime writes them for this container's create.
			a.mu.Lock()
			a.delivered[backoff.Key(string(pod.UID), v.Name)] = filesHash(&m)
			a.mu.Unlock()
		}
		out = append(out, m)
	}
	return out, nil
}

// volumeFiles returns the files of a configMap, secret, downwardAPI or
// projected volume. Errors: as containerMounts.
func (a *Agent) volumeFiles(ctx context.Context, info *podInfo, v *api.Volume) ([]runtime.File, error) {
	var files []runtime.File
	add := func(path string, data []byte, mode *int32, def *int32) {
		files = append(files, runtime.File{Path: path, Data: data, Mode: fileMode(mode, def)})
	}
	configMap := func(name string, items []api.KeyToPath, optional *bool, def *int32) error {
		cm, err := info.configMap(ctx, a.cfg.Client, name)
		if err != nil {
			return err
		}
		if cm == nil {
			if isTrue(optional) {
				return nil
			}
			return &mountError{volume: v.Name, err: fmt.Errorf("configmap %q not found", name)}
		}
		if len(items) == 0 {
			for _, k := range sortedKeys(cm.Data) {
				add(k, []byte(cm.Data[k]), nil, def)
			}
			for _, k := range sortedKeys(cm.BinaryData) {
				add(k, cm.BinaryData[k], nil, def)
			}
			return nil
		}
		for _, it := range items {
			if s, ok := cm.Data[it.Key]; ok {
				add(it.Path, []byte(s), it.Mode, def)
			} else if b, ok := cm.BinaryData[it.Key]; ok {
				add(it.Path, b, it.Mode, def)
			} else if !isTrue(optional) {
				return &mountError{volume: v.Name, err: fmt.Errorf("configmap references non-existent config key: %s", it.Key)}
			}
		}
		return nil
	}
	secret := func(name string, items []api.KeyToPath, optional *bool, def *int32) error {
		s, err := info.secret(ctx, a.cfg.Client, name)
		if err != nil {
			return err
		}
		if s == nil {
			if isTrue(optional) {
				return nil
			}
			return &mountError{volume: v.Name, err: fmt.Errorf("secret %q not found", name)}
		}
		if len(items) == 0 {
			for _, k := range sortedKeys(s.Data) {
				add(k, s.Data[k], nil, def)
			}
			return nil
		}
		for _, it := range items {
			if b, ok := s.Data[it.Key]; ok {
				add(it.Path, b, it.Mode, def)
			} else if !isTrue(optional) {
				return &mountError{volume: v.Name, err: fmt.Errorf("references non-existent secret key: %s", it.Key)}
			}
		}
		return nil
	}
	downward := func(items []api.DownwardAPIVolumeFile, def *int32) error {
		for _, it := range items {
			var val string
			var err error
			switch {
			case it.FieldRef != nil:
				val, err = info.fieldValue(it.FieldRef.FieldPath, true)
			case it.ResourceFieldRef != nil:
				val, err = info.resourceValue(it.ResourceFieldRef, "")
			}
			if err != nil {
				return &mountError{volume: v.Name, err: err}
			}
			add(it.Path, []byte(val), it.Mode, def)
		}
		return nil
	}
	var err error
	switch {
	case v.ConfigMap != nil:
		err = configMap(v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional, v.ConfigMap.DefaultMode)
	case v.Secret != nil:
		err = secret(v.Secret.SecretName, v.Secret.Items, v.Secret.Optional, v.Secret.DefaultMode)
	case v.DownwardAPI != nil:
		err = downward(v.DownwardAPI.Items, v.DownwardAPI.DefaultMode)
	case v.Projected != nil:
		for _, src := range v.Projected.Sources {
			switch {
			case src.ConfigMap != nil:
				err = configMap(src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, v.Projected.DefaultMode)
			case src.Secret != nil:
				err = secret(src.Secret.Name, src.Secret.Items, src.Secret.Optional, v.Projected.DefaultMode)
			case src.DownwardAPI != nil:
				err = downward(src.DownwardAPI.Items, v.Projected.DefaultMode)
			}
			if err != nil {
				break
			}
		}
	default:
		err = &mountError{volume: v.Name, err: errors.New("volume type not supported")}
	}
	return files, err
}

// holdsSecret reports whether v's files include a Secret's.
func holdsSecret(v *api.Volume) bool {
	if v.Secret != nil {
		return true
	}
	if v.Projected != nil {
		for _, src := range v.Projected.Sources {
			if src.Secret != nil {
				return true
			}
		}
	}
	return false
}

// fileMode is a file's permission bits: its own mode, else the volume's
// defaultMode, else 0644.
func fileMode(mode, def *int32) uint32 {
	switch {
	case mode != nil:
		return uint32(*mode) & 0o777
	case def != nil:
		return uint32(*def) & 0o777
	}
	return 0o644
}

// checkHostPath makes the kubelet's checks of a hostPath volume of type
// typ, creating what DirectoryOrCreate and FileOrCreate ask for.
func checkHostPath(path, typ string) error {
	fi, err := os.Stat(path)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return err
	}
	want := func(ok bool, what string) error {
		if missing || !ok {
			return fmt.Errorf("hostPath type check failed: %s is not %s", path, what)
		}
		return nil
	}
	switch typ {
	case "":
		// No check; a missing path becomes a directory, as container
		// runtimes make it for a bind mount.
		if missing {
			return os.MkdirAll(path, 0o755)
		}
		return nil
	case "DirectoryOrCreate":
		if missing {
			return os.MkdirAll(path, 0o755)
		}
		return want(fi.IsDir(), "a directory")
	case "Directory":
		return want(fi != nil && fi.IsDir(), "a directory")
	case "FileOrCreate":
		if missing {
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			return f.Close()
		}
		return want(fi.Mode().IsRegular(), "a file")
	case "File":
		return want(fi != nil && fi.Mode().IsRegular(), "a file")
	case "Socket":
		return want(fi != nil && fi.Mode()&fs.ModeSocket != 0, "a socket file")
	case "CharDevice":
		return want(fi != nil && fi.Mode()&fs.ModeCharDevice != 0, "a character device")
	case "BlockDevice":
		return want(fi != nil && fi.Mode()&fs.ModeDevice != 0 && fi.Mode()&fs.ModeCharDevice == 0, "a block device")
	}
	return fmt.Errorf("hostPath type %q is not supported", typ)
}
