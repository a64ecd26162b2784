package agent

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/backoff"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"go.uber.org/zap"
)

// Secret volumes are updated in place, as the kubelet updates them: while
// a Pod runs, every SecretSyncInterval the agent reads again the Secrets
// of its Memory Files volumes (secret volumes, projected volumes with a
// secret source) and, when a volume's files changed, hands the new set to
// the runtime (runtime.FilesUpdater), which swaps it in under the running
// containers. Environment variables do not change, as in Kubernetes. A
// Secret that went missing leaves the files as they were (the kubelet
// does the same) and is reported at Warn, rate-limited, without a value.
// A runtime without the ability gets no updates: containers keep the
// files they were created with.

// defaultSecretSyncInterval is Config.SecretSyncInterval's default.
const defaultSecretSyncInterval = time.Second

// syncSecretVolumes updates the Memory Files volumes of the running Pod
// whose files changed since they were last delivered, and returns when
// the Pod should be looked at again for that (0: never, it has none).
// Failures are logged, not returned: a Pod's sync does not fail because
// a Secret cannot be read now.
func (a *Agent) syncSecretVolumes(ctx context.Context, pod *api.Pod, sb *runtime.PodSandboxStatus) time.Duration {
	up, ok := a.cfg.Runtime.(runtime.FilesUpdater)
	if !ok || sb == nil || sb.State != runtime.SandboxReady {
		return 0
	}
	mounted := map[string]bool{}
	for _, list := range [][]api.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			for _, vm := range list[i].VolumeMounts {
				if vm.SubPath == "" {
					mounted[vm.Name] = true
				}
			}
		}
	}
	info := a.podInfo(pod, sb.IP)
	uid := string(pod.UID)
	has := false
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if !holdsSecret(v) || !mounted[v.Name] {
			continue
		}
		has = true
		files, err := a.volumeFiles(ctx, info, v)
		if err != nil {
			a.failures.Warn("secretvolume", "cannot refresh a secret volume; its files stay as they are",
				zap.String("pod", pod.Namespace+"/"+pod.Name), zap.String("volume", v.Name), zap.Error(err))
			continue
		}
		m := &runtime.Mount{Type: runtime.MountFiles, Medium: runtime.MediumMemory, Source: v.Name, ReadOnly: true,
			Files: files, Group: fsGroupOf(pod)}
		sum := filesHash(m)
		key := backoff.Key(uid, v.Name)
		a.mu.Lock()
		same := a.delivered[key] == sum
		a.mu.Unlock()
		if same {
			continue
		}
		if err := up.UpdateFiles(ctx, sb.ID, m); err != nil {
			a.failures.Warn("secretvolume", "cannot update a secret volume",
				zap.String("pod", pod.Namespace+"/"+pod.Name), zap.String("volume", v.Name), zap.Error(err))
			continue
		}
		a.mu.Lock()
		_, had := a.delivered[key]
		a.delivered[key] = sum
		a.mu.Unlock()
		if had {
			a.log.Debug("secret volume updated", zap.String("pod", pod.Namespace+"/"+pod.Name), zap.String("volume", v.Name))
		}
	}
	if !has {
		return 0
	}
	return a.cfg.SecretSyncInterval
}

// filesHash identifies the content of a Files mount: paths, modes, data
// and owner group.
func filesHash(m *runtime.Mount) string {
	h := sha256.New()
	if m.Group != nil {
		fmt.Fprintf(h, "group %d\n", *m.Group)
	}
	for _, f := range m.Files {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f.Data)))
		fmt.Fprintf(h, "%s\x00%o\x00", f.Path, f.Mode)
		h.Write(n[:])
		h.Write(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}
