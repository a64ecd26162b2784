package agent

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/backoff"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"go.uber.org/zap"
)

// Secret volumes are updated in place, as the kubelet updates them: every
// SecretSyncInterval one loop of the agent reads again the Secrets (and
// ConfigMaps) of the Memory Files volumes (secret volumes, projected
// volumes with a secret source) of the running Pods bound here, each
// Secret once per round whatever the number of Pods using it, and hands
// a volume whose files changed to the runtime (runtime.FilesUpdater),
// which swaps the new set in under the running containers. Environment
// variables do not change, as in Kubernetes. A Secret that went missing
// leaves the files as they were (the kubelet does the same) and is
// reported at Warn, rate-limited, without a value. A runtime without the
// ability gets no updates: containers keep the files they were created
// with.

// defaultSecretSyncInterval is Config.SecretSyncInterval's default.
const defaultSecretSyncInterval = time.Second

// secretVolumesLoop refreshes the secret volumes every SecretSyncInterval
// until ctx ends.
func (a *Agent) secretVolumesLoop(ctx context.Context) {
	t := time.NewTicker(a.cfg.SecretSyncInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.refreshSecretVolumes(ctx)
		}
	}
}

// refreshSecretVolumes makes one round over the Pods bound here.
func (a *Agent) refreshSecretVolumes(ctx context.Context) {
	// One read of each Secret and ConfigMap per namespace and round.
	secrets := map[string]map[string]*api.Secret{}
	configMaps := map[string]map[string]*api.ConfigMap{}
	for _, o := range a.pods.List() {
		pod := o.(*api.Pod)
		if pod.Spec.NodeName != a.cfg.NodeName || pod.DeletionTimestamp != nil || api.IsPodTerminal(pod) || !slices.ContainsFunc(pod.Spec.Volumes, func(v api.Volume) bool { return holdsSecret(&v) }) {
			continue
		}
		var sb *runtime.PodSandboxStatus
		for _, s := range a.rtc.sandboxesOf(string(pod.UID)) {
			if sb == nil || s.Attempt > sb.Attempt {
				sb = s
			}
		}
		if sb == nil || sb.State != runtime.SandboxReady {
			continue
		}
		if secrets[pod.Namespace] == nil {
			secrets[pod.Namespace], configMaps[pod.Namespace] = map[string]*api.Secret{}, map[string]*api.ConfigMap{}
		}
		info := a.podInfo(pod, sb.IP)
		info.secrets, info.configMaps = secrets[pod.Namespace], configMaps[pod.Namespace]
		a.syncSecretVolumes(ctx, pod, sb, info)
		if ctx.Err() != nil {
			return
		}
	}
}

// syncSecretVolumes updates the Memory Files volumes of the running Pod
// whose files changed since they were last delivered, reading through
// info. Failures are logged, not returned: the next round tries again.
func (a *Agent) syncSecretVolumes(ctx context.Context, pod *api.Pod, sb *runtime.PodSandboxStatus, info *podInfo) {
	up := a.cfg.Runtime.(runtime.FilesUpdater)
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
	uid := string(pod.UID)
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		if !holdsSecret(v) || !mounted[v.Name] {
			continue
		}
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
