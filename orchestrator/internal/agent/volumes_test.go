package agent_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

// The runtime is asked for the mounts the volumeMounts say: emptyDirs
// (Memory with its size), hostPaths after their type checks (with
// subPath), and configMap, downwardAPI and projected volumes as the files
// the kubelet writes, with their modes, always read-only.
func TestVolumesAsMounts(t *testing.T) {
	e := newEnv(t, fake.Config{})
	e.run(t)
	ctx := context.Background()
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "cfg", Namespace: "default"},
		Data: map[string]string{"app.conf": "listen :8080", "level": "debug"}, BinaryData: map[string][]byte{"blob": {0, 1}}}
	if err := e.reg.Create(ctx, cm, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	host := t.TempDir()
	made := filepath.Join(host, "made")
	mode := func(m int32) *int32 { return &m }
	q := func(s string) *api.Quantity { v := api.MustParse(s); return &v }
	ref := api.LocalObjectReference{Name: "cfg"}
	p := e.create(t, &api.Pod{
		ObjectMeta: api.ObjectMeta{Name: "p", Labels: map[string]string{"app": "web", "tier": "front"}, Annotations: map[string]string{"note": "hi"}},
		Spec: api.PodSpec{
			Volumes: []api.Volume{
				{Name: "cache", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{}}},
				{Name: "mem", VolumeSource: api.VolumeSource{EmptyDir: &api.EmptyDirVolumeSource{Medium: "Memory", SizeLimit: q("16Mi")}}},
				{Name: "made", VolumeSource: api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: made, Type: api.Ptr("DirectoryOrCreate")}}},
				{Name: "all", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: ref}}},
				{Name: "some", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: ref, DefaultMode: mode(0o440),
					Items: []api.KeyToPath{{Key: "app.conf", Path: "conf/app.conf", Mode: mode(0o600)}, {Key: "level", Path: "level"}}}}},
				{Name: "none", VolumeSource: api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{
					LocalObjectReference: api.LocalObjectReference{Name: "absent"}, Optional: api.Ptr(true)}}},
				{Name: "info", VolumeSource: api.VolumeSource{DownwardAPI: &api.DownwardAPIVolumeSource{Items: []api.DownwardAPIVolumeFile{
					{Path: "name", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}},
					{Path: "labels", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.labels"}},
					{Path: "app", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}},
					{Path: "cpu", ResourceFieldRef: &api.ResourceFieldSelector{ContainerName: "main", Resource: "limits.cpu", Divisor: q("1m")}, Mode: mode(0o400)},
				}}}},
				{Name: "both", VolumeSource: api.VolumeSource{Projected: &api.ProjectedVolumeSource{DefaultMode: mode(0o444), Sources: []api.VolumeProjection{
					{ConfigMap: &api.ConfigMapProjection{LocalObjectReference: ref, Items: []api.KeyToPath{{Key: "level", Path: "level"}}}},
					{DownwardAPI: &api.DownwardAPIProjection{Items: []api.DownwardAPIVolumeFile{
						{Path: "annotations", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.annotations"}}}}},
				}}}},
			},
			Containers: []api.Container{{Name: "main", Image: "app:1",
				Resources: api.ResourceRequirements{Limits: api.ResourceList{api.ResourceCPU: api.MustParse("500m")}},
				VolumeMounts: []api.VolumeMount{
					{Name: "cache", MountPath: "/cache"},
					{Name: "mem", MountPath: "/mem"},
					{Name: "made", MountPath: "/made", ReadOnly: true},
					{Name: "made", MountPath: "/made-sub", SubPath: "sub/dir"},
					{Name: "all", MountPath: "/etc/all"},
					{Name: "some", MountPath: "/etc/some"},
					{Name: "some", MountPath: "/etc/app.conf", SubPath: "conf/app.conf"},
					{Name: "none", MountPath: "/etc/none"},
					{Name: "info", MountPath: "/etc/info"},
					{Name: "both", MountPath: "/etc/both"},
				}}},
		}})
	e.waitPod(t, "p", "running", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning })
	some := []runtime.File{{Path: "conf/app.conf", Data: []byte("listen :8080"), Mode: 0o600}, {Path: "level", Data: []byte("debug"), Mode: 0o440}}
	want := []runtime.Mount{
		{Type: runtime.MountEmptyDir, Source: "cache", Target: "/cache"},
		{Type: runtime.MountEmptyDir, Source: "mem", Target: "/mem", Medium: runtime.MediumMemory, SizeBytes: 16 << 20},
		{Type: runtime.MountBind, Source: made, Target: "/made", ReadOnly: true},
		{Type: runtime.MountBind, Source: made, Target: "/made-sub", SubPath: "sub/dir"},
		{Type: runtime.MountFiles, Source: "all", Target: "/etc/all", ReadOnly: true, Files: []runtime.File{
			{Path: "app.conf", Data: []byte("listen :8080"), Mode: 0o644}, {Path: "level", Data: []byte("debug"), Mode: 0o644},
			{Path: "blob", Data: []byte{0, 1}, Mode: 0o644}}},
		{Type: runtime.MountFiles, Source: "some", Target: "/etc/some", ReadOnly: true, Files: some},
		{Type: runtime.MountFiles, Source: "some", Target: "/etc/app.conf", ReadOnly: true, SubPath: "conf/app.conf", Files: some},
		{Type: runtime.MountFiles, Source: "none", Target: "/etc/none", ReadOnly: true},
		{Type: runtime.MountFiles, Source: "info", Target: "/etc/info", ReadOnly: true, Files: []runtime.File{
			{Path: "name", Data: []byte("p"), Mode: 0o644},
			{Path: "labels", Data: []byte("app=\"web\"\ntier=\"front\""), Mode: 0o644},
			{Path: "app", Data: []byte("web"), Mode: 0o644},
			{Path: "cpu", Data: []byte("500"), Mode: 0o400}}},
		{Type: runtime.MountFiles, Source: "both", Target: "/etc/both", ReadOnly: true, Files: []runtime.File{
			{Path: "level", Data: []byte("debug"), Mode: 0o444}, {Path: "annotations", Data: []byte(`note="hi"`), Mode: 0o444}}},
	}
	got := e.containerConfig(t, p, "main").Mounts
	if len(got) != len(want) {
		t.Fatalf("%d mounts, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("mount %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
	for _, dir := range []string{made, filepath.Join(made, "sub", "dir")} {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			t.Errorf("%s not made a directory: %v", dir, err)
		}
	}
}

// A volume that cannot be set up keeps its container from being created,
// waiting as ContainerCreating with the kubelet's message and a
// FailedMount Event, until it can.
func TestVolumeMountFailures(t *testing.T) {
	e := newEnv(t, fake.Config{})
	e.run(t)
	host := t.TempDir()
	file := filepath.Join(host, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pod := func(name string, v api.VolumeSource) {
		e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: name}, Spec: api.PodSpec{
			Volumes:    []api.Volume{{Name: "v", VolumeSource: v}},
			Containers: []api.Container{{Name: "main", Image: "app:1", VolumeMounts: []api.VolumeMount{{Name: "v", MountPath: "/v"}}}},
		}})
	}
	ref := api.LocalObjectReference{Name: "late"}
	pod("no-map", api.VolumeSource{ConfigMap: &api.ConfigMapVolumeSource{LocalObjectReference: ref}})
	pod("no-key", api.VolumeSource{Projected: &api.ProjectedVolumeSource{Sources: []api.VolumeProjection{{ConfigMap: &api.ConfigMapProjection{
		LocalObjectReference: api.LocalObjectReference{Name: "present"}, Items: []api.KeyToPath{{Key: "k", Path: "k"}}}}}}})
	pod("not-dir", api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: file, Type: api.Ptr("Directory")}})
	pod("no-socket", api.VolumeSource{HostPath: &api.HostPathVolumeSource{Path: filepath.Join(host, "missing.sock"), Type: api.Ptr("Socket")}})
	e.configMap(t, "present", map[string]string{"other": "1"})
	waiting := func(name, msg string) {
		t.Helper()
		p := e.waitPod(t, name, "waiting with "+msg, func(p *api.Pod) bool {
			cs := p.Status.ContainerStatuses
			return len(cs) == 1 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == "ContainerCreating" && cs[0].State.Waiting.Message == msg
		})
		if n := len(e.instances(t, p, "main")); n != 0 || p.Status.Phase != api.PodPending {
			t.Errorf("%s: %d containers, phase %s", name, n, p.Status.Phase)
		}
	}
	waiting("no-map", `MountVolume.SetUp failed for volume "v" : configmap "late" not found`)
	waiting("no-key", `MountVolume.SetUp failed for volume "v" : configmap references non-existent config key: k`)
	waiting("not-dir", `MountVolume.SetUp failed for volume "v" : hostPath type check failed: `+file+` is not a directory`)
	waiting("no-socket", `MountVolume.SetUp failed for volume "v" : hostPath type check failed: `+filepath.Join(host, "missing.sock")+` is not a socket file`)
	e.waitEvent(t, "no-map", "FailedMount", `configmap "late" not found`)
	e.configMap(t, "late", map[string]string{"x": "1"})
	e.waitPod(t, "no-map", "running once the ConfigMap exists", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning })
}
