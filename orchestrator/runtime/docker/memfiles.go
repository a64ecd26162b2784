package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
)

// Memory Files volumes (Secrets).
//
// A MediumMemory Files mount is a tmpfs Docker volume of the Pod (the
// local driver's type=tmpfs), one per Source, so its files are never on a
// disk of the node: not in the container's writable layer, not under the
// daemon's volume directory. A tmpfs volume loses its content when no
// container mounts it, so a started helper container of the Pod (a
// holder, as for Memory emptyDirs) mounts it for the Pod's life, and the
// files are copied into that running holder with the Engine API, which
// writes them through the volume's tmpfs mount point.
//
// The files are laid out as the kubelet's atomic writer lays them out:
// the data in one of two directories, ..a or ..b, a symbolic link ..data
// to the current one, and for each top-level name a link name ->
// ..data/name. An update writes the other directory (first replacing it
// by an empty file, which removes what it held, then the directory and
// its files) and then points ..data at it, so a reader sees the old set
// or the new one. Docker's archive extraction replaces a link by
// removing it and creating the new one, so for that instant a path is
// missing (a read then fails with ENOENT rather than returning a mix).
// A top-level name that leaves the set keeps a dangling link. A mount
// with a subPath is a bind mount of that path in a snapshot directory,
// ..snap-<hash of the files>, written once and never rewritten (a bind
// mount whose source is removed under a running container stops it): it
// keeps the version it was created with, as in Kubernetes, and lives as
// long as the Pod.

// memVolume names the tmpfs Docker volume of a Pod's Memory Files mount.
func memVolume(cluster, uid, source string) string {
	return emptyDirVolume(cluster, uid, source) + "_tmpfs"
}

// memHolderSource is the holder's name part for a Memory Files source,
// apart from those of Memory emptyDirs.
func memHolderSource(source string) string { return source + ".tmpfs" }

// ensureMemFiles creates (if missing) the tmpfs volume of the Memory Files
// mount m of the Pod with sandbox labels sb, makes its holder run, and
// writes m.Files into it. It returns the volume's name and mount point
// (for a mount with a subPath, that of its snapshot directory).
// Errors: the daemon's, wrapped; ErrInvalid for files that cannot be laid
// out.
func (r *Runtime) ensureMemFiles(ctx context.Context, op string, sb map[string]string, m *runtime.Mount) (name, mountpoint string, err error) {
	uid := sb[runtime.LabelPodUID]
	name = memVolume(r.cfg.ClusterID, uid, m.Source)
	o := []string{"mode=0755"}
	if m.Group != nil {
		o = []string{"mode=2755", "gid=" + strconv.FormatInt(*m.Group, 10)}
	}
	opts := map[string]string{"type": "tmpfs", "device": "tmpfs", "o": strings.Join(o, ",")}
	mountpoint, _, err = r.ensurePodVolume(ctx, name, uid, m.Source, opts)
	if err != nil {
		return "", "", err
	}
	source := memHolderSource(m.Source)
	if err := r.ensureHolder(ctx, sb, name, source); err != nil {
		return "", "", err
	}
	holder := holderName(r.cfg.ClusterID, uid, source)
	next := "..a"
	st, err := r.cli.ContainerStatPath(ctx, holder, client.ContainerStatPathOptions{Path: "/v/..data"})
	switch {
	case err == nil && path.Base(st.Stat.LinkTarget) == "..a":
		next = "..b"
	case err != nil && !cerrdefs.IsNotFound(err):
		return "", "", r.wrap(op, holder, fmt.Errorf("stat secret volume: %w", err))
	}
	snapshot := ""
	if m.SubPath != "" {
		snapshot = "..snap-" + filesVolume("", "", m)[len(emptyDirVolume("", "", m.Source))+1:]
	}
	tarball, err := memFilesTar(next, snapshot, m.Files, m.Group)
	if err != nil {
		return "", "", &runtime.Error{Op: op, ID: name, Kind: runtime.ErrInvalid, Err: err}
	}
	if _, err := r.cli.CopyToContainer(ctx, holder, client.CopyToContainerOptions{DestinationPath: "/v",
		Content: bytes.NewReader(tarball), AllowOverwriteDirWithFile: true}); err != nil {
		return "", "", r.wrap(op, holder, fmt.Errorf("write secret volume: %w", err))
	}
	if snapshot != "" {
		mountpoint = path.Join(mountpoint, snapshot)
	}
	return name, mountpoint, nil
}

// memMount is the Docker mount of the Memory Files mount m whose volume
// is name with mount point mp. Errors: ErrEngine when a subPath needs a
// mount point the daemon did not give.
func memMount(op, name, mp string, m *runtime.Mount) (mount.Mount, error) {
	if m.SubPath == "" {
		return mount.Mount{Type: mount.TypeVolume, Source: name, Target: m.Target, ReadOnly: m.ReadOnly}, nil
	}
	if mp == "" {
		return mount.Mount{}, runtime.Errorf(op, name, runtime.ErrEngine, "volume %s has no mount point on the daemon's host", name)
	}
	return mount.Mount{Type: mount.TypeBind, Source: path.Join(mp, m.SubPath), Target: m.Target, ReadOnly: m.ReadOnly}, nil
}

// memFilesTar is the tar that writes files into directory dir (..a or
// ..b) of a Memory Files volume and switches ..data and the top-level
// links to it (see the layout above); with snapshot, it also writes them
// into that directory, which it leaves alone if it exists. With a group,
// directories are set-group-ID and files group-readable, owned by root
// and the group.
func memFilesTar(dir, snapshot string, files []runtime.File, group *int64) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	gid, dirBits, fileBits := 0, int64(0), int64(0)
	if group != nil {
		gid, dirBits, fileBits = int(*group), 0o2000, 0o440
	}
	// An empty file in place of dir removes what it held.
	if err := tw.WriteHeader(&tar.Header{Name: dir, Mode: 0o600, Typeflag: tar.TypeReg, ModTime: epoch}); err != nil {
		return nil, err
	}
	mkdir := func(name string) error {
		return tw.WriteHeader(&tar.Header{Name: name + "/", Mode: 0o755 | dirBits, Gid: gid, Typeflag: tar.TypeDir, ModTime: epoch})
	}
	sorted := slices.Clone(files)
	slices.SortFunc(sorted, func(a, b runtime.File) int { return strings.Compare(a.Path, b.Path) })
	var top []string
	for _, f := range sorted {
		if strings.HasPrefix(f.Path, "..") {
			return nil, fmt.Errorf("file path %q must not start with ..", f.Path)
		}
		first, _, _ := strings.Cut(f.Path, "/")
		if !slices.Contains(top, first) {
			top = append(top, first)
		}
	}
	writeTree := func(dir string) error {
		if err := mkdir(dir); err != nil {
			return err
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
			return mkdir(dir + "/" + d)
		}
		for _, f := range sorted {
			if err := mkdirs(path.Dir(f.Path)); err != nil {
				return err
			}
			mode := int64(f.Mode)
			if mode == 0 {
				mode = 0o644
			}
			hdr := &tar.Header{Name: dir + "/" + f.Path, Mode: mode | fileBits, Gid: gid, Size: int64(len(f.Data)), Typeflag: tar.TypeReg, ModTime: epoch}
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			if _, err := tw.Write(f.Data); err != nil {
				return err
			}
		}
		return nil
	}
	if err := writeTree(dir); err != nil {
		return nil, err
	}
	if snapshot != "" {
		if err := writeTree(snapshot); err != nil {
			return nil, err
		}
	}
	link := func(name, target string) error {
		return tw.WriteHeader(&tar.Header{Name: name, Linkname: target, Mode: 0o777, Typeflag: tar.TypeSymlink, ModTime: epoch})
	}
	if err := link("..data", dir); err != nil {
		return nil, err
	}
	for _, name := range top {
		if err := link(name, "..data/"+name); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// UpdateFiles implements runtime.FilesUpdater: it rewrites the tmpfs
// volume of the Memory Files mount m.Source of the sandbox's Pod, which
// every container mounting it sees at once. Errors: as the interface's;
// the daemon's, wrapped.
func (r *Runtime) UpdateFiles(ctx context.Context, sandboxID string, m *runtime.Mount) error {
	const op = "UpdateFiles"
	if err := runtime.ValidateFilesUpdate(m); err != nil {
		return &runtime.Error{Op: op, ID: sandboxID, Kind: runtime.ErrInvalid, Err: err}
	}
	sb, err := r.sandboxLabels(ctx, op, sandboxID)
	if err != nil {
		return err
	}
	st, err := r.PodSandboxStatus(ctx, sandboxID)
	if err != nil {
		return err
	}
	if st.State != runtime.SandboxReady {
		return runtime.Errorf(op, sandboxID, runtime.ErrSandboxNotReady, "sandbox is not running")
	}
	_, _, err = r.ensureMemFiles(ctx, op, sb, m)
	return err
}
