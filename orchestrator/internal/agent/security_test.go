package agent_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// The runtime is asked for each container's securityContext over the
// Pod's: the container's user, group and seccomp profile win; fsGroup and
// supplementalGroups are its groups, and fsGroup owns its emptyDir and
// file volumes (not hostPaths); capabilities, read-only root, privileged
// and allowPrivilegeEscalation (no_new_privs) are the container's.
func TestSecurityContextAsWritten(t *testing.T) {
	e := newEnv(t, fake.Config{})
	e.run(t)
	id := func(v int64) *int64 { return &v }
	p := e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p"}, Spec: api.PodSpec{
		SecurityContext: &api.PodSecurityContext{RunAsUser: id(1000), RunAsGroup: id(3000), FSGroup: id(2000),
			SupplementalGroups: []int64{4000}, SeccompProfile: &api.SeccompProfile{Type: "Unconfined"}},
		Volumes: []api.Volume{
			{Name: "cache", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}},
			{Name: "root", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: "/"}}},
		},
		Containers: []api.Container{
			{Name: "a", Image: "app:1", SecurityContext: &api.SecurityContext{
				RunAsUser: id(1001), ReadOnlyRootFilesystem: api.Ptr(true), AllowPrivilegeEscalation: api.Ptr(false),
				Capabilities:   &api.Capabilities{Add: []string{"NET_BIND_SERVICE", "CAP_NET_RAW"}, Drop: []string{"ALL"}},
				SeccompProfile: &api.SeccompProfile{Type: "RuntimeDefault"}},
				VolumeMounts: []api.VolumeMount{{Name: "cache", MountPath: "/cache"}, {Name: "root", MountPath: "/host"}}},
			{Name: "b", Image: "app:1"},
			{Name: "c", Image: "app:1", SecurityContext: &api.SecurityContext{Privileged: api.Ptr(true)},
				VolumeMounts: []api.VolumeMount{{Name: "root", MountPath: "/host"}}},
		},
	}})
	e.waitPod(t, "p", "running", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning })
	groups := []int64{2000, 4000}
	want := map[string]runtime.Security{
		"a": {RunAsUser: id(1001), RunAsGroup: id(3000), SupplementalGroups: groups, ReadOnlyRootFilesystem: true,
			CapAdd: []string{"NET_BIND_SERVICE", "NET_RAW"}, CapDrop: []string{"ALL"}, NoNewPrivileges: true},
		"b": {RunAsUser: id(1000), RunAsGroup: id(3000), SupplementalGroups: groups, Seccomp: runtime.SeccompUnconfined},
		"c": {RunAsUser: id(1000), RunAsGroup: id(3000), SupplementalGroups: groups, Privileged: true, Seccomp: runtime.SeccompUnconfined},
	}
	for name, w := range want {
		if got := e.containerConfig(t, p, name).Security; !reflect.DeepEqual(got, w) {
			t.Errorf("%s: security\n got %+v\nwant %+v", name, got, w)
		}
	}
	mounts := e.containerConfig(t, p, "a").Mounts
	if len(mounts) != 2 || mounts[0].Group == nil || *mounts[0].Group != 2000 || mounts[1].Type != runtime.MountBind || mounts[1].Group != nil ||
		mounts[1].Source != "/" {
		t.Errorf("mounts of a: %+v", mounts)
	}
}

// runAsNonRoot is checked as the kubelet checks it, against runAsUser or
// else the image's user: a container that would run as root, or whose
// image's user is a name, does not start (CreateContainerConfigError);
// the container's runAsNonRoot wins over the Pod's.
func TestRunAsNonRoot(t *testing.T) {
	e := newEnv(t, fake.Config{ImageUsers: map[string]string{"named:1": "app", "numeric:1": "1000:1000", "zero:1": "0:0"}})
	e.run(t)
	id := func(v int64) *int64 { return &v }
	yes := api.Ptr(true)
	tests := []struct {
		name, image string
		pod         *api.PodSecurityContext
		c           *api.SecurityContext
		msg         string // "" when it runs
	}{
		{"image-root", "root:1", nil, &api.SecurityContext{RunAsNonRoot: yes}, "container has runAsNonRoot and image will run as root"},
		{"image-zero", "zero:1", &api.PodSecurityContext{RunAsNonRoot: yes}, nil, "container has runAsNonRoot and image will run as root"},
		{"image-named", "named:1", nil, &api.SecurityContext{RunAsNonRoot: yes},
			"container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root"},
		{"user-zero", "numeric:1", &api.PodSecurityContext{RunAsUser: id(0)}, &api.SecurityContext{RunAsNonRoot: yes},
			"container's runAsUser breaks non-root policy"},
		{"image-numeric", "numeric:1", nil, &api.SecurityContext{RunAsNonRoot: yes}, ""},
		{"user-set", "root:1", &api.PodSecurityContext{RunAsNonRoot: yes, RunAsUser: id(1000)}, nil, ""},
		{"container-wins", "root:1", &api.PodSecurityContext{RunAsNonRoot: yes}, &api.SecurityContext{RunAsNonRoot: api.Ptr(false)}, ""},
	}
	uids := map[string]string{}
	for _, tt := range tests {
		p := e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: tt.name}, Spec: api.PodSpec{SecurityContext: tt.pod,
			Containers: []api.Container{{Name: "main", Image: tt.image, SecurityContext: tt.c}}}})
		uids[tt.name] = string(p.UID)
	}
	for _, tt := range tests {
		if tt.msg == "" {
			e.waitPod(t, tt.name, "running", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning })
			continue
		}
		msg := fmt.Sprintf("%s (pod: %q, container: main)", tt.msg, tt.name+"_default("+uids[tt.name]+")")
		e.waitPod(t, tt.name, "refused: "+msg, func(p *api.Pod) bool {
			cs := p.Status.ContainerStatuses
			return len(cs) == 1 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == "CreateContainerConfigError" &&
				cs[0].State.Waiting.Message == msg
		})
	}
}
