package agent

import (
	"context"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// Init containers, with the kubelet's rules. In a Pod's sandbox they run
// in order, each to success before the next starts; a failed one is
// restarted with back-off (whatever its exit code) unless the Pod's
// restartPolicy is Never, which fails the Pod. A sidecar (an init
// container with restartPolicy Always) is started in its turn, and the
// next init container starts once it is started (running, and past its
// startup probe if it has one); it keeps running beside the app
// containers, is restarted whenever it exits, has its probes run and
// counts for the Pod's readiness, and is stopped after the app containers.
// The app containers start once every init container is done; then the
// Pod is Initialized, and stays so in that sandbox. A new sandbox runs the
// init containers again.

// isSidecar reports whether c is a restartable init container.
func isSidecar(c *api.Container) bool {
	return c.RestartPolicy != nil && *c.RestartPolicy == string(api.RestartPolicyAlways)
}

// restartPolicyOf is the restart policy of the Pod container name: Always
// for a sidecar; for another init container OnFailure, or Never when the
// Pod's is Never; for an app container the Pod's.
func restartPolicyOf(pod *api.Pod, name string) api.RestartPolicy {
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		if c.Name != name {
			continue
		}
		switch {
		case isSidecar(c):
			return api.RestartPolicyAlways
		case pod.Spec.RestartPolicy == api.RestartPolicyNever:
			return api.RestartPolicyNever
		}
		return api.RestartPolicyOnFailure
	}
	return pod.Spec.RestartPolicy
}

// longRunning returns the Pod's sidecars and app containers: those whose
// probes run.
func longRunning(pod *api.Pod) []*api.Container {
	var out []*api.Container
	for i := range pod.Spec.InitContainers {
		if c := &pod.Spec.InitContainers[i]; isSidecar(c) {
			out = append(out, c)
		}
	}
	for i := range pod.Spec.Containers {
		out = append(out, &pod.Spec.Containers[i])
	}
	return out
}

// inSandbox returns the newest of list (newest first) if it belongs to
// sandbox sb, else nil.
func inSandbox(list []*runtime.ContainerStatus, sb *runtime.PodSandboxStatus) *runtime.ContainerStatus {
	if len(list) > 0 && list[0].SandboxID == sb.ID {
		return list[0]
	}
	return nil
}

// appsCreated reports whether an app container of pod was created in sb:
// the Pod was initialized there.
func appsCreated(pod *api.Pod, sb *runtime.PodSandboxStatus, all []*runtime.ContainerStatus) bool {
	for i := range pod.Spec.Containers {
		if inSandbox(byName(all, pod.Spec.Containers[i].Name), sb) != nil {
			return true
		}
	}
	return false
}

// sidecarStarted reports whether sidecar c's instance cur runs and is
// past its startup probe, if it has one.
func (a *Agent) sidecarStarted(pod *api.Pod, c *api.Container, cur *runtime.ContainerStatus) bool {
	if cur == nil || cur.State != runtime.ContainerRunning {
		return false
	}
	if c.StartupProbe == nil {
		return true
	}
	return a.probedAs(string(pod.UID), c.Name, cur.ID) && a.prober.Started(string(pod.UID), c.Name)
}

// initDone reports whether the regular init container instance cur
// succeeded.
func initDone(cur *runtime.ContainerStatus) bool {
	return cur != nil && cur.State == runtime.ContainerExited && cur.ExitCode == 0
}

// syncInit takes the next step of the Pod's init containers in sandbox sb
// (all are the Pod's container instances) and reports whether the Pod is
// initialized, so its app containers may run. Sidecars are kept running
// (and restarted) after that too. What the containers' syncs ask for is
// added to r. Errors: the runtime's.
func (a *Agent) syncInit(ctx context.Context, pod *api.Pod, sb *runtime.PodSandboxStatus, all []*runtime.ContainerStatus, r *syncResult) (bool, error) {
	initialized := appsCreated(pod, sb, all)
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		list := byName(all, c.Name)
		if isSidecar(c) {
			if err := a.syncInto(ctx, pod, sb, c, list, r); err != nil {
				return false, err
			}
			cur := inSandbox(byName(a.rtc.containersOf(string(pod.UID)), c.Name), sb)
			if !initialized && !a.sidecarStarted(pod, c, cur) {
				return false, nil
			}
			continue
		}
		cur := inSandbox(list, sb)
		if initialized || initDone(cur) {
			continue
		}
		if cur != nil && cur.State == runtime.ContainerExited && restartPolicyOf(pod, c.Name) == api.RestartPolicyNever {
			return false, nil // the Pod failed
		}
		if err := a.syncInto(ctx, pod, sb, c, list, r); err != nil {
			return false, err
		}
		return false, nil
	}
	return true, nil
}

// initState is where a Pod's init containers stand in a sandbox.
type initState struct {
	// initialized: every init container is done (a regular one
	// succeeded, a sidecar started), or app containers were created.
	initialized bool
	// pending names the init containers not done, in order.
	pending []string
	// failed names a regular init container that failed in a Pod whose
	// restartPolicy is Never: the Pod failed.
	failed string
}

// initProgress returns where the Pod's init containers stand in sb.
func (a *Agent) initProgress(pod *api.Pod, sb *runtime.PodSandboxStatus, all []*runtime.ContainerStatus) initState {
	var st initState
	apps := appsCreated(pod, sb, all)
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		cur := inSandbox(byName(all, c.Name), sb)
		if isSidecar(c) {
			if !a.sidecarStarted(pod, c, cur) {
				st.pending = append(st.pending, c.Name)
			}
			continue
		}
		if initDone(cur) {
			continue
		}
		st.pending = append(st.pending, c.Name)
		if st.failed == "" && cur != nil && cur.State == runtime.ContainerExited && restartPolicyOf(pod, c.Name) == api.RestartPolicyNever {
			st.failed = c.Name
		}
	}
	st.initialized = apps || len(st.pending) == 0
	if apps {
		st.pending = nil
	}
	return st
}

// finishTerminal stops what still runs in the sandbox of a Pod that
// succeeded or failed (its sidecars, once the app containers are done) and
// writes its status, whose phase stays as it is.
func (a *Agent) finishTerminal(ctx context.Context, pod *api.Pod, sb *runtime.PodSandboxStatus) error {
	if sb == nil {
		return nil
	}
	all := a.rtc.containersOf(string(pod.UID))
	for _, cs := range all {
		if cs.SandboxID != sb.ID || cs.State != runtime.ContainerRunning {
			continue
		}
		id, ip, spec := cs.ID, sb.IP, specOf(pod, cs.Name)
		a.goStop(ctx, id, api.KeyOf(pod), func(ctx context.Context) error {
			err := a.stopContainer(ctx, pod, spec, ip, id, graceOf(pod))
			a.refreshContainer(ctx, id)
			if runtime.IsNotFound(err) {
				return nil
			}
			return err
		})
	}
	return a.writeStatus(ctx, pod, sb, all, nil)
}
