package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// Pod volumes.
//
// An emptyDir is a Docker volume of the Pod (on disk, or a tmpfs for
// medium Memory), and so is each content of a disk Files mount (ConfigMap,
// downward API and projected volumes; Memory ones, Secrets, are in
// memfiles.go): a volume named by the hash of its
// files, filled once and mounted by every container with that content.
// All carry the Pod UID and LabelEmptyDir, and go with the Pod's sandbox.
//
// A new volume is made ready (its root directory 0777 for an emptyDir,
// its files written, owners and modes set) by one helper container that
// mounts the new volumes of a container create and never starts: the
// files are copied into it with the Engine API. A tmpfs volume loses its
// content when no container mounts it (Docker's local driver unmounts
// it), so a helper container of the Pod, started, holds each Memory
// emptyDir for the Pod's life: what an init container writes is there for
// the app containers. Docker before API 1.45 cannot mount a volume's
// subdirectory, so a Files mount with a subPath is a bind mount of that
// path in the volume's directory on the daemon's host.

// helperNamePrefix starts the names of the helper containers: holders of
// Memory emptyDirs ("holder") and the short-lived fillers of new volumes
// ("fill").
const helperNamePrefix = "flotilla-helper_"

// emptyDirVolume names the Docker volume backing a Pod's emptyDir.
func emptyDirVolume(cluster, uid, name string) string {
	return fmt.Sprintf("flotilla_%s_%s_%s", cluster, uid, name)
}

// filesVolume names the Docker volume holding one content of a Pod's
// Files volume: the emptyDir name and a hash of the files and their owner.
func filesVolume(cluster, uid string, m *runtime.Mount) string {
	h := sha256.New()
	if m.Group != nil {
		fmt.Fprintf(h, "group %d\n", *m.Group)
	}
	files := slices.Clone(m.Files)
	slices.SortFunc(files, func(a, b runtime.File) int { return strings.Compare(a.Path, b.Path) })
	for _, f := range files {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f.Data)))
		fmt.Fprintf(h, "%s\x00%o\x00", f.Path, f.Mode)
		h.Write(n[:])
		h.Write(f.Data)
	}
	return emptyDirVolume(cluster, uid, m.Source) + "_" + hex.EncodeToString(h.Sum(nil)[:6])
}

// fill is what a new volume needs before containers use it.
type fill struct {
	volume string
	mode   int64  // of the root directory
	group  *int64 // owner group, with directories set-group-ID
	files  []runtime.File
	dirs   []string // more (empty) directories: missing subPaths
}

// containerMounts makes the Docker mounts of a container of the sandbox
// with labels sb: it creates the Pod volumes the mounts need (filling new
// ones) and starts the holders of Memory emptyDirs. Errors: as
// CreateContainer (the daemon's, wrapped).
func (r *Runtime) containerMounts(ctx context.Context, sb map[string]string, ms []runtime.Mount) ([]mount.Mount, error) {
	const op = "CreateContainer"
	uid := sb[runtime.LabelPodUID]
	var out []mount.Mount
	var fills []*fill
	for i := range ms {
		m := &ms[i]
		switch m.Type {
		case runtime.MountBind:
			out = append(out, mount.Mount{Type: mount.TypeBind, Source: path.Join(m.Source, m.SubPath), Target: m.Target, ReadOnly: m.ReadOnly})
		case runtime.MountVolume:
			if err := r.ensureVolume(ctx, m.Source, nil); err != nil {
				return nil, err
			}
			out = append(out, mount.Mount{Type: mount.TypeVolume, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
		case runtime.MountEmptyDir:
			name := emptyDirVolume(r.cfg.ClusterID, uid, m.Source)
			var opts map[string]string
			if m.Medium == runtime.MediumMemory {
				o := []string{"mode=1777"}
				if m.Group != nil {
					o = []string{"mode=3777", "gid=" + strconv.FormatInt(*m.Group, 10)}
				}
				if m.SizeBytes > 0 {
					o = append(o, "size="+strconv.FormatInt(m.SizeBytes, 10))
				}
				opts = map[string]string{"type": "tmpfs", "device": "tmpfs", "o": strings.Join(o, ",")}
			}
			_, created, err := r.ensurePodVolume(ctx, name, uid, m.Source, opts)
			if err != nil {
				return nil, err
			}
			if created && m.Medium != runtime.MediumMemory {
				fills = append(fills, &fill{volume: name, mode: 0o777, group: m.Group})
			}
			if m.Medium == runtime.MediumMemory {
				if err := r.ensureHolder(ctx, sb, name, m.Source); err != nil {
					return nil, err
				}
			}
			out = append(out, mount.Mount{Type: mount.TypeVolume, Source: name, Target: m.Target, ReadOnly: m.ReadOnly})
		case runtime.MountFiles:
			if m.Medium == runtime.MediumMemory {
				name, mp, err := r.ensureMemFiles(ctx, op, sb, m)
				if err != nil {
					return nil, err
				}
				dm, err := memMount(op, name, mp, m)
				if err != nil {
					return nil, err
				}
				out = append(out, dm)
				continue
			}
			name := filesVolume(r.cfg.ClusterID, uid, m)
			mp, created, err := r.ensurePodVolume(ctx, name, uid, m.Source, nil)
			if err != nil {
				return nil, err
			}
			f := &fill{volume: name, mode: 0o755, group: m.Group}
			if created {
				f.files = m.Files
			}
			if m.SubPath != "" && !coversPath(m.Files, m.SubPath) {
				f.dirs = []string{m.SubPath}
			}
			if created || len(f.dirs) > 0 {
				fills = append(fills, f)
			}
			if m.SubPath == "" {
				out = append(out, mount.Mount{Type: mount.TypeVolume, Source: name, Target: m.Target, ReadOnly: m.ReadOnly})
				continue
			}
			if mp == "" {
				return nil, runtime.Errorf(op, name, runtime.ErrEngine, "volume %s has no mount point on the daemon's host", name)
			}
			out = append(out, mount.Mount{Type: mount.TypeBind, Source: path.Join(mp, m.SubPath), Target: m.Target, ReadOnly: m.ReadOnly})
		}
	}
	if len(fills) > 0 {
		if err := r.fillVolumes(ctx, sb, fills); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// coversPath reports whether p is one of files or a directory above one.
func coversPath(files []runtime.File, p string) bool {
	for _, f := range files {
		if f.Path == p || strings.HasPrefix(f.Path, p+"/") {
			return true
		}
	}
	return false
}

// ensurePodVolume returns the mount point on the daemon's host of the
// Pod's volume name, creating it (with the local driver's options opts)
// if missing; created says it did. Errors: the daemon's, wrapped.
func (r *Runtime) ensurePodVolume(ctx context.Context, name, uid, source string, opts map[string]string) (mountpoint string, created bool, err error) {
	res, err := r.cli.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
	if err == nil {
		return res.Volume.Mountpoint, false, nil
	}
	if !cerrdefs.IsNotFound(err) {
		return "", false, r.wrap("CreateContainer", name, fmt.Errorf("inspect volume: %w", err))
	}
	labels := r.ownLabels(runtime.KindVolume)
	labels[runtime.LabelPodUID], labels[runtime.LabelEmptyDir] = uid, source
	v, err := r.cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: name, Driver: "local", DriverOpts: opts, Labels: labels})
	if err != nil {
		return "", false, r.wrap("CreateContainer", name, fmt.Errorf("create volume: %w", err))
	}
	return v.Volume.Mountpoint, true, nil
}

// helperLabels are the labels of a helper container of the Pod whose
// sandbox has labels sb.
func (r *Runtime) helperLabels(sb map[string]string) map[string]string {
	labels := r.ownLabels(runtime.KindHelper)
	for _, k := range []string{runtime.LabelNamespace, runtime.LabelPodName, runtime.LabelPodUID} {
		labels[k] = sb[k]
	}
	return labels
}

// fillVolumes makes new volumes ready, with one helper container that
// mounts them and is never started: the tar copied into it sets each
// volume's root directory (mode, group) and writes its files and
// directories. Errors: the daemon's, wrapped; the helper is removed in any
// case.
func (r *Runtime) fillVolumes(ctx context.Context, sb map[string]string, fills []*fill) error {
	const op = "CreateContainer"
	pause, err := r.ensurePause(ctx)
	if err != nil {
		return err
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	hc := &container.HostConfig{NetworkMode: "none"}
	for i, f := range fills {
		hc.Mounts = append(hc.Mounts, mount.Mount{Type: mount.TypeVolume, Source: f.volume, Target: "/v/" + strconv.Itoa(i)})
	}
	name := helperNamePrefix + "fill_" + r.cfg.ClusterID + "_" + sb[runtime.LabelPodUID] + "_" + hex.EncodeToString(b[:])
	resp, err := r.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name,
		Config: &container.Config{Image: pause, Labels: r.helperLabels(sb)}, HostConfig: hc})
	if err != nil {
		return r.wrap(op, name, fmt.Errorf("create volume filler: %w", err))
	}
	defer func() {
		rmCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_, _ = r.cli.ContainerRemove(rmCtx, resp.ID, client.ContainerRemoveOptions{Force: true})
	}()
	tarball, err := fillTar(fills)
	if err != nil {
		return &runtime.Error{Op: op, ID: name, Kind: runtime.ErrInvalid, Err: err}
	}
	if _, err := r.cli.CopyToContainer(ctx, resp.ID, client.CopyToContainerOptions{DestinationPath: "/", Content: bytes.NewReader(tarball)}); err != nil {
		return r.wrap(op, name, fmt.Errorf("fill volumes: %w", err))
	}
	return nil
}

// fillTar is the tar that fills: under v/<i>/ for the i-th, its root
// directory (with its mode and group), then its directories (0755) and
// files (their mode, 0644 by default); with a group, directories are
// set-group-ID and files group-readable, all owned by root and the group.
func fillTar(fills []*fill) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	if err := tw.WriteHeader(&tar.Header{Name: "v/", Mode: 0o755, Typeflag: tar.TypeDir, ModTime: epoch}); err != nil {
		return nil, err
	}
	for i, f := range fills {
		root := "v/" + strconv.Itoa(i)
		gid, dirBits, fileBits := 0, int64(0), int64(0)
		if f.group != nil {
			gid, dirBits, fileBits = int(*f.group), 0o2000, 0o440
		}
		dir := func(name string, mode int64) error {
			return tw.WriteHeader(&tar.Header{Name: name + "/", Mode: mode | dirBits, Gid: gid, Typeflag: tar.TypeDir, ModTime: epoch})
		}
		if err := dir(root, f.mode); err != nil {
			return nil, err
		}
		made := map[string]bool{}
		var mkdirs func(string) error
		mkdirs = func(d string) error {
			if d == "." || made[d] {
				return nil
			}
			if err := mkdirs(path.Dir(d)); err != nil {
				return err
			}
			made[d] = true
			return dir(root+"/"+d, 0o755)
		}
		for _, d := range f.dirs {
			if err := mkdirs(d); err != nil {
				return nil, err
			}
		}
		files := slices.Clone(f.files)
		slices.SortFunc(files, func(a, b runtime.File) int { return strings.Compare(a.Path, b.Path) })
		for _, file := range files {
			if err := mkdirs(path.Dir(file.Path)); err != nil {
				return nil, err
			}
			mode := int64(file.Mode)
			if mode == 0 {
				mode = 0o644
			}
			hdr := &tar.Header{Name: root + "/" + file.Path, Mode: mode | fileBits, Gid: gid, Size: int64(len(file.Data)), Typeflag: tar.TypeReg, ModTime: epoch}
			if err := tw.WriteHeader(hdr); err != nil {
				return nil, err
			}
			if _, err := tw.Write(file.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// holderName names the helper container holding a Pod's Memory emptyDir.
func holderName(cluster, uid, source string) string {
	return helperNamePrefix + "holder_" + cluster + "_" + uid + "_" + source
}

// ensureHolder makes the helper container that holds the tmpfs volume
// (the Pod's Memory emptyDir source) run: created and started if missing,
// started if stopped. Errors: the daemon's, wrapped.
func (r *Runtime) ensureHolder(ctx context.Context, sb map[string]string, volume, source string) error {
	const op = "CreateContainer"
	name := holderName(r.cfg.ClusterID, sb[runtime.LabelPodUID], source)
	pause, err := r.ensurePause(ctx)
	if err != nil {
		return err
	}
	labels := r.helperLabels(sb)
	_, err = r.cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name,
		Config: &container.Config{Image: pause, Labels: labels},
		HostConfig: &container.HostConfig{NetworkMode: "none", RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled},
			Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: volume, Target: "/v"}}}})
	if err != nil && !cerrdefs.IsConflict(err) {
		return r.wrap(op, name, fmt.Errorf("create emptyDir holder: %w", err))
	}
	if _, err := r.cli.ContainerStart(ctx, name, client.ContainerStartOptions{}); err != nil && !cerrdefs.IsNotModified(err) {
		return r.wrap(op, name, fmt.Errorf("start emptyDir holder: %w", err))
	}
	return nil
}

// removeHelpers removes the helper containers of the Pod with UID uid.
// Errors: the daemon's, wrapped.
func (r *Runtime) removeHelpers(ctx context.Context, uid string) error {
	res, err := r.cli.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: r.ownFilter(runtime.KindHelper, map[string]string{runtime.LabelPodUID: uid})})
	if err != nil {
		return r.wrap("RemovePodSandbox", uid, err)
	}
	for _, c := range res.Items {
		if _, err := r.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
			return r.wrap("RemovePodSandbox", c.ID, err)
		}
	}
	return nil
}
