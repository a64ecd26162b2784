package agent

import (
	"cmp"
	"context"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/prober"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"go.uber.org/zap"
)

// Stopping a container runs its preStop hook and waits up to its grace
// period, which can be minutes. Stops therefore run in goroutines of their
// own (goStop), never in a sync worker, so a slow stop holds back only its
// own Pod. What a stop needs is also recorded on the container as labels,
// so a Pod deleted while the agent was down is still stopped as its spec
// said.

// Container labels set by the agent (not by the runtime, whose keys have
// runtime.LabelPrefix).
const (
	// labelGrace is the Pod's terminationGracePeriodSeconds, when not the
	// default 30.
	labelGrace = "agent.flotilla.io/termination-grace-period-seconds"
	// labelPreStop is the container's preStop hook and ports (for named
	// httpGet ports) as JSON, when it has a hook.
	labelPreStop = "agent.flotilla.io/pre-stop"
	// labelSidecar is the index of a sidecar among the Pod's init
	// containers: sidecars stop after the app containers, in reverse
	// order.
	labelSidecar = "agent.flotilla.io/sidecar"
)

// defaultGrace is Kubernetes' terminationGracePeriodSeconds default.
const defaultGrace = 30 * time.Second

// minGraceAfterHook is the least time a container gets between SIGTERM and
// SIGKILL after its preStop hook used up the grace period, as the kubelet
// gives.
const minGraceAfterHook = 2 * time.Second

// stopSpec is what labelPreStop holds.
type stopSpec struct {
	Ports   []api.ContainerPort   `json:"ports,omitempty"`
	PreStop *api.LifecycleHandler `json:"preStop"`
}

// stopLabels returns the labels recording how to stop container c of pod.
func stopLabels(pod *api.Pod, c *api.Container) map[string]string {
	var l map[string]string
	if g := graceOf(pod); g != defaultGrace {
		l = map[string]string{labelGrace: strconv.FormatInt(int64(g/time.Second), 10)}
	}
	set := func(k, v string) {
		if l == nil {
			l = map[string]string{}
		}
		l[k] = v
	}
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil {
		if b, err := json.Marshal(stopSpec{Ports: c.Ports, PreStop: c.Lifecycle.PreStop}); err == nil {
			set(labelPreStop, string(b))
		}
	}
	for i := range pod.Spec.InitContainers {
		if ic := &pod.Spec.InitContainers[i]; ic.Name == c.Name && isSidecar(ic) {
			set(labelSidecar, strconv.Itoa(i))
		}
	}
	return l
}

// stopLabelsOf keeps only the agent's stop labels of a container's labels
// (nil when it has none).
func stopLabelsOf(labels map[string]string) map[string]string {
	var out map[string]string
	for _, k := range [...]string{labelGrace, labelPreStop, labelSidecar} {
		if v, ok := labels[k]; ok {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// stopFromLabels is how to stop container c of a Pod the agent does not
// know, from its labels: its spec (name, ports, preStop) and grace period.
func stopFromLabels(c *runtime.ContainerStatus) (*api.Container, time.Duration) {
	grace := defaultGrace
	if n, err := strconv.ParseInt(c.Labels[labelGrace], 10, 64); err == nil && n >= 0 {
		grace = seconds(n)
	}
	var ss stopSpec
	if err := json.Unmarshal([]byte(c.Labels[labelPreStop]), &ss); err != nil || ss.PreStop == nil {
		return nil, grace
	}
	return &api.Container{Name: c.Name, Ports: ss.Ports, Lifecycle: &api.Lifecycle{PreStop: ss.PreStop}}, grace
}

// claimStop marks id (a Pod UID, a sandbox or a container ID) as being
// stopped and returns the function that ends the claim. If a stop of id
// already runs, it returns a nil function and a channel closed when that
// stop ends.
func (a *Agent) claimStop(id string) (release func(), running <-chan struct{}) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ch, ok := a.stopping[id]; ok {
		return nil, ch
	}
	ch := make(chan struct{})
	a.stopping[id] = ch
	return func() {
		a.mu.Lock()
		delete(a.stopping, id)
		a.mu.Unlock()
		close(ch)
	}, nil
}

// goStop runs stop in a goroutine that Run waits for, unless a stop of id
// already runs; when it returns, the Pod key is synced again: at once, or,
// if stop failed, after BackoffBase doubling with each failure of id up to
// BackoffMax (a runtime that keeps failing is not retried in a tight
// loop, and the preStop hook not rerun at that pace).
func (a *Agent) goStop(ctx context.Context, id, key string, stop func(context.Context) error) {
	release, _ := a.claimStop(id)
	if release == nil {
		return
	}
	a.stops.Go(func() {
		err := stop(ctx)
		release()
		a.mu.Lock()
		if err == nil || ctx.Err() != nil {
			delete(a.stopFailures, id)
			a.mu.Unlock()
			a.queue.Add(key)
			return
		}
		n := min(a.stopFailures[id], 16)
		a.stopFailures[id]++
		a.mu.Unlock()
		delay := min(a.cfg.BackoffBase<<n, a.cfg.BackoffMax)
		a.log.Debug("stop failed", zap.String("pod", key), zap.String("id", id), zap.Int("failures", n+1),
			zap.Duration("retry", delay), zap.Error(err))
		a.queue.AddAfter(key, delay)
	})
}

// isStopping reports whether a stop of id runs.
func (a *Agent) isStopping(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.stopping[id]
	return ok
}

// stopPod stops every sandbox of the Pod UID uid (its last known object
// is last, nil if unknown) and forgets it. Errors: the first failure to
// stop a container or remove a sandbox (what it could stop is stopped; the
// Pod is forgotten all the same, and a resync finds what is left).
func (a *Agent) stopPod(ctx context.Context, uid string, last *api.Pod) error {
	a.prober.RemovePod(uid)
	var first error
	for _, sb := range a.rtc.sandboxesOf(uid) {
		if err := a.killSandbox(ctx, sb, last); err != nil && first == nil {
			first = err
		}
	}
	a.forgetPod(uid)
	return first
}

// stopAll stops every Pod sandbox on the node, all at once, each with its
// grace period.
func (a *Agent) stopAll(ctx context.Context) {
	seq := a.rtc.next()
	sbs, err := a.cfg.Runtime.ListPodSandboxes(ctx, nil)
	if err != nil {
		return
	}
	cs, err := a.cfg.Runtime.ListContainers(ctx, nil)
	if err != nil {
		return
	}
	a.rtc.replace(sbs, cs, seq)
	var wg sync.WaitGroup
	for _, sb := range sbs {
		wg.Go(func() {
			if err := a.killSandbox(ctx, sb, a.knownPod(sb.UID)); err != nil {
				a.log.Info("pod not stopped at shutdown", zap.String("pod", sb.Namespace+"/"+sb.Name), zap.Error(err))
			}
			a.forgetPod(sb.UID)
		})
	}
	wg.Wait()
}

// shutdownBudget bounds stopAll: the longest grace period of the Pods
// known here (at least the default), plus time to remove what stopped.
func (a *Agent) shutdownBudget() time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	longest := defaultGrace
	for _, p := range a.known {
		longest = max(longest, graceOf(p))
	}
	return longest + minGraceAfterHook + 10*time.Second
}

// killSandbox stops the sandbox's running containers (running their
// preStop hooks and honouring the grace period of pod, the sandbox's Pod;
// of each container's labels when pod is nil) and removes the sandbox.
// The app containers stop first, in parallel; then the sidecars, in
// reverse order, each once those before it have stopped, with what is left
// of the grace period (at least minGraceAfterHook). A container whose stop
// already runs (a failed probe) is not stopped twice: killSandbox waits
// for that stop. Errors: the first failure to stop a container, or to
// remove the sandbox.
func (a *Agent) killSandbox(ctx context.Context, sb *runtime.PodSandboxStatus, pod *api.Pod) error {
	if pod != nil && string(pod.UID) != sb.UID {
		pod = nil
	}
	// Stop groups: the app containers (and regular init containers), then
	// each sidecar, last started first.
	groups := map[int][]*runtime.ContainerStatus{}
	for _, c := range a.rtc.containersOf(sb.UID) {
		if c.SandboxID != sb.ID || c.State == runtime.ContainerExited {
			continue
		}
		order := -1
		if n, err := strconv.Atoi(c.Labels[labelSidecar]); err == nil && n >= 0 {
			order = n
		}
		groups[order] = append(groups[order], c)
	}
	orders := slices.Collect(maps.Keys(groups))
	slices.SortFunc(orders, func(x, y int) int {
		switch {
		case x == y:
			return 0
		case x == -1:
			return -1
		case y == -1:
			return 1
		}
		return y - x
	})
	start := time.Now()
	var first error
	for i, order := range orders {
		var spent time.Duration
		if i > 0 {
			spent = time.Since(start)
		}
		first = cmp.Or(first, a.stopGroup(ctx, sb, pod, groups[order], spent))
	}
	seq := a.rtc.next()
	if err := a.cfg.Runtime.RemovePodSandbox(ctx, sb.ID); err != nil && !runtime.IsNotFound(err) {
		return cmp.Or(first, err)
	}
	a.rtc.delSandbox(sb.ID, seq)
	return first
}

// stopGroup stops containers of sandbox sb in parallel (see killSandbox),
// each with its grace period less spent, the time earlier groups took (but
// at least minGraceAfterHook then). Errors: the first failure.
func (a *Agent) stopGroup(ctx context.Context, sb *runtime.PodSandboxStatus, pod *api.Pod, group []*runtime.ContainerStatus, spent time.Duration) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for _, c := range group {
		release, running := a.claimStop(c.ID)
		if release == nil {
			wg.Go(func() {
				select {
				case <-running:
				case <-ctx.Done():
				}
			})
			continue
		}
		spec, grace := specOf(pod, c.Name), graceOf(pod)
		if pod == nil {
			spec, grace = stopFromLabels(c)
		}
		if spent > 0 && grace > 0 {
			grace = max(minGraceAfterHook, grace-spent)
		}
		wg.Go(func() {
			defer release()
			err := a.stopContainer(ctx, pod, spec, sb.IP, c.ID, grace)
			if err != nil && !runtime.IsNotFound(err) {
				mu.Lock()
				first = cmp.Or(first, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}

// stopContainer runs the container's preStop hook (if spec has one) within
// the grace period, then stops it with what is left of the grace period,
// but at least minGraceAfterHook. pod may be nil (a Pod no longer known:
// a failed hook is logged, not recorded as an Event).
func (a *Agent) stopContainer(ctx context.Context, pod *api.Pod, spec *api.Container, podIP, id string, grace time.Duration) error {
	if spec != nil && spec.Lifecycle != nil && spec.Lifecycle.PreStop != nil && grace > 0 {
		start := time.Now()
		hctx, cancel := context.WithTimeout(ctx, grace)
		uid := ""
		if pod != nil {
			uid = string(pod.UID)
		}
		err := a.prober.RunHook(hctx, prober.Container{PodUID: uid, ContainerID: id, PodIP: podIP, Spec: *spec}, prober.PreStop)
		cancel()
		if err != nil && ctx.Err() == nil {
			if pod != nil {
				a.cfg.Recorder.Eventf(pod, api.EventTypeWarning, "FailedPreStopHook", "PreStopHook failed for container %s: %v", spec.Name, err)
			} else {
				a.log.Info("preStop hook failed", zap.String("container", id), zap.Error(err))
			}
		}
		grace = max(minGraceAfterHook, grace-time.Since(start))
	}
	return a.cfg.Runtime.StopContainer(ctx, id, grace)
}

// specOf returns the Pod's container (app or init) named name, nil if
// there is none (or pod is nil).
func specOf(pod *api.Pod, name string) *api.Container {
	if pod == nil {
		return nil
	}
	for _, list := range [][]api.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
}

// graceOf is the Pod's termination grace period (the default for nil).
func graceOf(p *api.Pod) time.Duration {
	if p != nil && p.Spec.TerminationGracePeriodSeconds != nil {
		return seconds(*p.Spec.TerminationGracePeriodSeconds)
	}
	return defaultGrace
}

// seconds converts a grace period in seconds to a Duration, clamped at the
// longest Duration (about 292 years): validation refuses longer ones now,
// but a Pod stored before must not overflow to no grace at all.
func seconds(n int64) time.Duration {
	const most = int64(math.MaxInt64 / int64(time.Second))
	return time.Duration(min(max(n, 0), most)) * time.Second
}

// probeGrace is the grace period for killing container c of pod after its
// probe of the given kind failed: the probe's own
// terminationGracePeriodSeconds when set (liveness and startup probes
// only, as validation allows), else the Pod's.
func probeGrace(pod *api.Pod, c *api.Container, kind prober.Kind) time.Duration {
	var pr *api.Probe
	switch kind {
	case prober.Liveness:
		pr = c.LivenessProbe
	case prober.Startup:
		pr = c.StartupProbe
	}
	if pr != nil && pr.TerminationGracePeriodSeconds != nil {
		return seconds(*pr.TerminationGracePeriodSeconds)
	}
	return graceOf(pod)
}
