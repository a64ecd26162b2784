package agent_test

import (
	"context"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
)

func (e *env) secret(t *testing.T, name string, data map[string]string) {
	t.Helper()
	s := &api.Secret{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}, StringData: data}
	if err := e.reg.Create(context.Background(), s, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// A Secret's keys become variables as a ConfigMap's do (envFrom with its
// prefix, secretKeyRef), optional ones may be missing, and a missing
// required Secret or key keeps the container from being created with the
// kubelet's CreateContainerConfigError and message, naming the key only.
func TestSecretEnv(t *testing.T) {
	e := newEnv(t, fake.Config{})
	e.run(t)
	e.secret(t, "db", map[string]string{"user": "admin", "password": "s3cr3t"})
	keyRef := func(name, key string, optional bool) *api.EnvVarSource {
		return &api.EnvVarSource{SecretKeyRef: &api.SecretKeySelector{LocalObjectReference: api.LocalObjectReference{Name: name}, Key: key, Optional: api.Ptr(optional)}}
	}
	p := e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p"}, Spec: api.PodSpec{Containers: []api.Container{{
		Name: "main", Image: "app:1",
		EnvFrom: []api.EnvFromSource{{Prefix: "DB_", SecretRef: &api.SecretEnvSource{LocalObjectReference: api.LocalObjectReference{Name: "db"}}},
			{SecretRef: &api.SecretEnvSource{LocalObjectReference: api.LocalObjectReference{Name: "absent"}, Optional: api.Ptr(true)}}},
		Env: []api.EnvVar{
			{Name: "PASSWORD", ValueFrom: keyRef("db", "password", false)},
			{Name: "GONE", ValueFrom: keyRef("db", "gone", true)},
			{Name: "NONE", ValueFrom: keyRef("absent", "x", true)},
			{Name: "URL", Value: "postgres://$(DB_user):$(PASSWORD)@db"},
		},
	}}}})
	p = e.waitPod(t, "p", "running", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning })
	want := []runtime.EnvVar{
		{Name: "DB_password", Value: "s3cr3t"}, {Name: "DB_user", Value: "admin"},
		{Name: "PASSWORD", Value: "s3cr3t"}, {Name: "URL", Value: "postgres://admin:s3cr3t@db"},
	}
	if got := e.containerConfig(t, p, "main").Env; !slices.Equal(got, want) {
		t.Errorf("env\n got %v\nwant %v", got, want)
	}

	for _, c := range []struct{ pod, name, key string }{{"no-secret", "late", "x"}, {"no-key", "db", "missing"}} {
		e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: c.pod}, Spec: api.PodSpec{Containers: []api.Container{{
			Name: "main", Image: "app:1", Env: []api.EnvVar{{Name: "X", ValueFrom: keyRef(c.name, c.key, false)}}}}}})
	}
	e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "no-env-from"}, Spec: api.PodSpec{Containers: []api.Container{{
		Name: "main", Image: "app:1", EnvFrom: []api.EnvFromSource{{SecretRef: &api.SecretEnvSource{LocalObjectReference: api.LocalObjectReference{Name: "late"}}}}}}}})
	waiting := func(name, msg string) {
		t.Helper()
		e.waitPod(t, name, "waiting with "+msg, func(p *api.Pod) bool {
			cs := p.Status.ContainerStatuses
			return len(cs) == 1 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == "CreateContainerConfigError" &&
				cs[0].State.Waiting.Message == msg
		})
	}
	waiting("no-secret", `secret "late" not found`)
	waiting("no-key", "couldn't find key missing in Secret default/db")
	waiting("no-env-from", `secret "late" not found`)
	e.secret(t, "late", map[string]string{"x": "1"})
	for _, name := range []string{"no-secret", "no-env-from"} {
		e.waitPod(t, name, "running once the Secret exists", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning })
	}
}

// Secret volumes (all keys, items with modes, defaultMode, optional) and
// projected secret sources are Memory Files mounts (tmpfs in the
// runtime); a Secret change reaches the running containers' files (not
// their environment) through the runtime's UpdateFiles, an optional
// Secret that appears fills its volume, a deleted one leaves the files as
// they were, and a missing required Secret or key is a FailedMount.
func TestSecretVolumes(t *testing.T) {
	e := newEnv(t, fake.Config{})
	e.run(t)
	e.secret(t, "tls", map[string]string{"tls.crt": "CERT", "tls.key": "KEY"})
	e.configMap(t, "cfg", map[string]string{"level": "debug"})
	mode := func(m int32) *int32 { return &m }
	ref := api.LocalObjectReference{Name: "tls"}
	p := e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: "p"}, Spec: api.PodSpec{
		Volumes: []api.Volume{
			{Name: "all", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "tls", DefaultMode: mode(0o400)}}},
			{Name: "some", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "tls",
				Items: []api.KeyToPath{{Key: "tls.key", Path: "private/key.pem", Mode: mode(0o600)}}}}},
			{Name: "none", VolumeSource: api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "absent", Optional: api.Ptr(true)}}},
			{Name: "both", VolumeSource: api.VolumeSource{Projected: &api.ProjectedVolumeSource{DefaultMode: mode(0o440), Sources: []api.VolumeProjection{
				{Secret: &api.SecretProjection{LocalObjectReference: ref, Items: []api.KeyToPath{{Key: "tls.crt", Path: "crt"}}}},
				{ConfigMap: &api.ConfigMapProjection{LocalObjectReference: api.LocalObjectReference{Name: "cfg"}}},
			}}}},
		},
		Containers: []api.Container{{Name: "main", Image: "app:1",
			Env: []api.EnvVar{{Name: "KEY", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.SecretKeySelector{LocalObjectReference: ref, Key: "tls.key"}}}},
			VolumeMounts: []api.VolumeMount{
				{Name: "all", MountPath: "/tls"},
				{Name: "some", MountPath: "/some"},
				{Name: "none", MountPath: "/none"},
				{Name: "both", MountPath: "/both"},
			}}},
	}})
	p = e.waitPod(t, "p", "running", func(p *api.Pod) bool { return p.Status.Phase == api.PodRunning })
	mem := func(source, target string, files ...runtime.File) runtime.Mount {
		return runtime.Mount{Type: runtime.MountFiles, Medium: runtime.MediumMemory, Source: source, Target: target, ReadOnly: true, Files: files}
	}
	want := []runtime.Mount{
		mem("all", "/tls", runtime.File{Path: "tls.crt", Data: []byte("CERT"), Mode: 0o400}, runtime.File{Path: "tls.key", Data: []byte("KEY"), Mode: 0o400}),
		mem("some", "/some", runtime.File{Path: "private/key.pem", Data: []byte("KEY"), Mode: 0o600}),
		mem("none", "/none"),
		mem("both", "/both", runtime.File{Path: "crt", Data: []byte("CERT"), Mode: 0o440}, runtime.File{Path: "level", Data: []byte("debug"), Mode: 0o440}),
	}
	if got := e.containerConfig(t, p, "main").Mounts; !reflect.DeepEqual(got, want) {
		t.Errorf("mounts\n got %+v\nwant %+v", got, want)
	}

	// An update reaches the files of the running container, not its env.
	ctx := context.Background()
	var s api.Secret
	if err := e.reg.Get(ctx, "default", "tls", &s, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	s.StringData = map[string]string{"tls.key": "KEY2"}
	if err := e.reg.Update(ctx, &s, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	id := e.instances(t, p, "main")[0].ID
	testutil.Eventually(t, 10*time.Second, "the new key in the running container's files", func() bool {
		cfg, err := e.rt.Config(id)
		if err != nil {
			return false
		}
		return string(cfg.Mounts[0].Files[1].Data) == "KEY2" && string(cfg.Mounts[1].Files[0].Data) == "KEY2"
	})
	cfg, err := e.rt.Config(id)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.Env, []runtime.EnvVar{{Name: "KEY", Value: "KEY"}}) {
		t.Errorf("env %v changed, want the value at creation", cfg.Env)
	}
	if n := len(e.instances(t, p, "main")); n != 1 {
		t.Errorf("%d instances of the container, want 1 (updated in place)", n)
	}

	// An optional Secret that appears fills its volume; a Secret deleted
	// leaves the files as they were, as the kubelet does.
	e.secret(t, "absent", map[string]string{"late": "here"})
	testutil.Eventually(t, 10*time.Second, "the optional Secret's files", func() bool {
		cfg, err := e.rt.Config(id)
		return err == nil && len(cfg.Mounts[2].Files) == 1 && string(cfg.Mounts[2].Files[0].Data) == "here"
	})
	if err := e.reg.Delete(ctx, "default", "tls", &api.Secret{}, client.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	// A later change of another Secret shows a round ran after the delete.
	var late api.Secret
	if err := e.reg.Get(ctx, "default", "absent", &late, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	late.StringData = map[string]string{"late": "again"}
	if err := e.reg.Update(ctx, &late, client.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, "a round after the delete", func() bool {
		cfg, err := e.rt.Config(id)
		return err == nil && len(cfg.Mounts[2].Files) == 1 && string(cfg.Mounts[2].Files[0].Data) == "again"
	})
	if cfg, err := e.rt.Config(id); err != nil || string(cfg.Mounts[0].Files[1].Data) != "KEY2" {
		t.Errorf("files after the Secret's deletion: %+v %v, want them kept", cfg, err)
	}

	// Missing required Secret and key: FailedMount, naming no value.
	for _, c := range []struct {
		pod string
		v   api.VolumeSource
	}{
		{"no-secret", api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "late"}}},
		{"no-key", api.VolumeSource{Secret: &api.SecretVolumeSource{SecretName: "absent", Items: []api.KeyToPath{{Key: "k", Path: "k"}}}}},
	} {
		e.create(t, &api.Pod{ObjectMeta: api.ObjectMeta{Name: c.pod}, Spec: api.PodSpec{
			Volumes:    []api.Volume{{Name: "v", VolumeSource: c.v}},
			Containers: []api.Container{{Name: "main", Image: "app:1", VolumeMounts: []api.VolumeMount{{Name: "v", MountPath: "/v"}}}},
		}})
	}
	waiting := func(name, msg string) {
		t.Helper()
		e.waitPod(t, name, "waiting with "+msg, func(p *api.Pod) bool {
			cs := p.Status.ContainerStatuses
			return len(cs) == 1 && cs[0].State.Waiting != nil && cs[0].State.Waiting.Reason == "ContainerCreating" && cs[0].State.Waiting.Message == msg
		})
	}
	waiting("no-secret", `MountVolume.SetUp failed for volume "v" : secret "late" not found`)
	waiting("no-key", `MountVolume.SetUp failed for volume "v" : references non-existent secret key: k`)
	e.waitEvent(t, "no-secret", "FailedMount", `secret "late" not found`)
}
