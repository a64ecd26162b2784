package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"go.uber.org/zap"
)

// Warm sandboxes.
//
// Most of a Pod's start on Docker is its sandbox: the daemon makes a
// network namespace and connects it to the network (≈250 ms on the
// reference machine), while an application container joining that
// namespace takes ≈90 ms. So the runtime can keep Config.WarmSandboxes
// started sandboxes that belong to no Pod yet, and RunPodSandbox claims one
// when it can instead of starting a new one. It keeps none by default: a
// warm sandbox's hostname is its own, not the Pod's (see the Config).
//
// Docker labels cannot change, so a claim is recorded in the daemon by
// renaming the warm container to the Pod's sandbox name (the name a
// dedicated sandbox of that Pod and attempt would have); a warm sandbox's
// Pod is read from its name. An unclaimed warm sandbox is invisible to
// ListPodSandboxes, PodSandboxStatus and Events: it is not a Pod's.

// labelWarm marks a sandbox made warm (its Pod identity is in its name).
const labelWarm = runtime.LabelPrefix + "sandbox.warm"

const (
	sandboxNamePrefix = "flotilla-sandbox_"
	warmNamePrefix    = "flotilla-warm_"
)

// warmPool holds the IDs of started, unclaimed warm sandboxes.
type warmPool struct {
	mu   sync.Mutex
	idle []string
	wake chan struct{} // a claim or a loss: refill
}

func (p *warmPool) pop() (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.idle) == 0 {
		return "", false
	}
	id := p.idle[0]
	p.idle = p.idle[1:]
	return id, true
}

func (p *warmPool) push(id string) {
	p.mu.Lock()
	p.idle = append(p.idle, id)
	p.mu.Unlock()
}

// drop removes id from the idle list and reports whether it was there.
func (p *warmPool) drop(id string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, x := range p.idle {
		if x == id {
			p.idle = append(p.idle[:i], p.idle[i+1:]...)
			return true
		}
	}
	return false
}

func (p *warmPool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

func (p *warmPool) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := p.idle
	p.idle = nil
	return ids
}

func (p *warmPool) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// warmTarget is how many warm sandboxes the runtime keeps: none unless
// Config.WarmSandboxes asks for some (they cost the Pods their hostname).
func (r *Runtime) warmTarget() int { return max(0, r.cfg.WarmSandboxes) }

// podIdentity returns a sandbox's labels with its Pod identity (namespace,
// name, UID, attempt) filled in, and whether it belongs to a Pod: a
// dedicated sandbox carries it in its labels; a warm one in its name once
// claimed, and none before. The labels given are not modified.
func (r *Runtime) podIdentity(labels map[string]string, name string) (map[string]string, bool) {
	if labels[labelWarm] != "true" {
		return labels, true
	}
	ns, pod, uid, attempt, ok := parseSandboxName(r.cfg.ClusterID, strings.TrimPrefix(name, "/"))
	if !ok {
		return labels, false
	}
	out := make(map[string]string, len(labels)+4)
	for k, v := range labels {
		out[k] = v
	}
	out[runtime.LabelNamespace], out[runtime.LabelPodName], out[runtime.LabelPodUID] = ns, pod, uid
	out[runtime.LabelAttempt] = strconv.Itoa(attempt)
	return out, true
}

// parseSandboxName reverses sandboxName. Namespaces, Pod names and UIDs
// never contain '_' (DNS-1123 names, UUIDs), so the fields split cleanly.
func parseSandboxName(cluster, name string) (ns, pod, uid string, attempt int, ok bool) {
	rest, found := strings.CutPrefix(name, sandboxNamePrefix+cluster+"_")
	if !found {
		return "", "", "", 0, false
	}
	f := strings.Split(rest, "_")
	if len(f) != 4 || f[0] == "" || f[1] == "" || f[2] == "" {
		return "", "", "", 0, false
	}
	attempt, err := strconv.Atoi(f[3])
	if err != nil || attempt < 0 {
		return "", "", "", 0, false
	}
	return f[0], f[1], f[2], attempt, true
}

// warmEligible reports whether a Pod's sandbox can be a warm one: host
// ports and extra labels must be set when the container is created, and a
// warm sandbox's hostname is its own (Docker cannot change it), so a Pod
// asking for a hostname gets a dedicated sandbox.
func warmEligible(cfg *runtime.PodSandboxConfig) bool {
	return len(cfg.PortMappings) == 0 && len(cfg.Labels) == 0 && cfg.Hostname == ""
}

// claimWarm renames an idle warm sandbox to the Pod's sandbox name and
// returns its ID, or "" when none could be claimed (the caller then starts
// a dedicated sandbox, which also adopts one of that name if another claim
// made it meanwhile).
func (r *Runtime) claimWarm(ctx context.Context, cfg *runtime.PodSandboxConfig) (string, error) {
	if r.warm == nil || !warmEligible(cfg) {
		return "", nil
	}
	name := sandboxName(r.cfg.ClusterID, cfg)
	for {
		id, ok := r.warm.pop()
		if !ok {
			return "", nil
		}
		r.warm.poke()
		r.mu.Lock()
		k, seen := r.known[id]
		r.mu.Unlock()
		if seen && k.state != runtime.ContainerRunning {
			r.removeQuietly(id)
			continue
		}
		_, err := r.cli.ContainerRename(ctx, id, client.ContainerRenameOptions{NewName: name})
		if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) && r.renamedTo(id, name) {
			// The daemon renamed it although the call failed (its context
			// ended): it is this Pod's now, and must never go back to the
			// pool, where another Pod could claim it.
			err = nil
		}
		switch {
		case err == nil:
			labels := r.ownLabels(runtime.KindSandbox)
			labels[labelWarm] = "true"
			labels, _ = r.podIdentity(labels, name)
			r.rememberSandbox(id, labels)
			r.mu.Lock()
			k, ok := r.known[id]
			if !ok {
				k.state = runtime.ContainerRunning
			}
			k.labels, k.pod = labels, true
			r.known[id] = k
			r.mu.Unlock()
			return id, nil
		case cerrdefs.IsNotFound(err):
			continue
		case cerrdefs.IsConflict(err):
			// The Pod's sandbox of this attempt exists already.
			r.warm.push(id)
			return "", nil
		default:
			r.removeQuietly(id) // not renamed, or its state is unknown: out of the pool
			return "", r.wrap("RunPodSandbox", id, err)
		}
	}
}

// renamedTo reports whether container id is named name now (a check with
// a context of its own, after a rename whose outcome is unknown).
func (r *Runtime) renamedTo(id, name string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	in, err := r.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	return err == nil && strings.TrimPrefix(in.Container.Name, "/") == name
}

// newWarm creates and starts one warm sandbox and returns its ID. The
// daemon finishes a create whose request was cancelled, so the calls run
// to completion (bounded) even when ctx ends, and a sandbox made after ctx
// ended is removed: Close never leaves one behind.
func (r *Runtime) newWarm(ctx context.Context) (string, error) {
	pause, err := r.ensurePause(ctx)
	if err != nil {
		return "", err
	}
	id, err := r.startWarm(pause)
	if err == nil && ctx.Err() != nil {
		r.removeQuietly(id)
		return "", ctx.Err()
	}
	return id, err
}

func (r *Runtime) startWarm(pause string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b [6]byte
	_, _ = rand.Read(b[:])
	labels := r.ownLabels(runtime.KindSandbox)
	labels[labelWarm] = "true"
	resp, err := r.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:   warmNamePrefix + r.cfg.ClusterID + "_" + r.cfg.NodeName + "_" + hex.EncodeToString(b[:]),
		Config: &container.Config{Image: pause, Labels: labels},
		HostConfig: &container.HostConfig{NetworkMode: r.networkMode(), IpcMode: "shareable",
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyDisabled}}})
	if err != nil {
		return "", r.wrap("WarmSandbox", "", err)
	}
	if _, err := r.cli.ContainerStart(ctx, resp.ID, client.ContainerStartOptions{}); err != nil {
		r.removeQuietly(resp.ID)
		return "", r.wrap("WarmSandbox", resp.ID, err)
	}
	return resp.ID, nil
}

// keepWarm keeps the pool at its target until ctx ends, one sandbox at a
// time so that it never crowds the daemon, backing off while it fails.
func (r *Runtime) keepWarm(ctx context.Context) {
	defer r.wg.Done()
	target := r.warmTarget()
	failures := 0
	for {
		for ctx.Err() == nil && r.warm.size() < target {
			id, err := r.newWarm(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				failures++
				r.log.Debug("warm sandbox not started", zap.Error(err))
				break
			}
			failures = 0
			r.warm.push(id)
		}
		var retry <-chan time.Time
		var t *time.Timer
		if failures > 0 {
			t = time.NewTimer(min(100*time.Millisecond<<min(failures, 6), 5*time.Second))
			retry = t.C
		}
		select {
		case <-ctx.Done():
		case <-r.warm.wake:
		case <-retry:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// adoptWarm takes the unclaimed warm sandboxes found by a list (a runtime
// that stopped without Close left them): running ones up to the target
// join the pool; the others are removed.
func (r *Runtime) adoptWarm(list []container.Summary) {
	target := r.warmTarget()
	for _, c := range list {
		if c.Labels[labelWarm] != "true" || len(c.Names) == 0 {
			continue
		}
		if _, claimed := r.podIdentity(c.Labels, c.Names[0]); claimed {
			continue
		}
		if r.warm != nil && c.State == container.StateRunning && r.warm.size() < target {
			r.warm.push(c.ID)
			continue
		}
		r.removeQuietly(c.ID)
	}
}

// forgetWarm drops a warm sandbox that died or was removed from the pool.
func (r *Runtime) forgetWarm(id string) {
	if r.warm != nil && r.warm.drop(id) {
		r.warm.poke()
	}
}

// drainWarm removes every idle warm sandbox (at Close).
func (r *Runtime) drainWarm() {
	if r.warm == nil {
		return
	}
	var wg sync.WaitGroup
	for _, id := range r.warm.take() {
		wg.Add(1)
		go func() { defer wg.Done(); r.removeQuietly(id) }()
	}
	wg.Wait()
}

// removeQuietly force-removes a container with a bounded context of its
// own (it also runs when the caller's context has ended).
func (r *Runtime) removeQuietly(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := r.cli.ContainerRemove(ctx, id, client.ContainerRemoveOptions{Force: true}); err != nil && !cerrdefs.IsNotFound(err) {
		r.log.Debug("remove container", zap.String("id", id), zap.Error(err))
	}
}

// WarmSandboxes reports how many warm sandboxes are idle now and how many
// the runtime keeps (Config.WarmSandboxes). It never fails.
func (r *Runtime) WarmSandboxes() (idle, target int) {
	if r.warm == nil {
		return 0, 0
	}
	return r.warm.size(), r.warmTarget()
}
