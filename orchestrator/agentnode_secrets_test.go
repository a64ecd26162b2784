package orchestrator_test

import (
	"context"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// An agent-only node reads, through the HTTPS API with its node
// certificate, the Secrets its Pods use and no other: its Pod gets them
// as env and files, and a rotation reaches the files.
func TestAgentOnlyNodeGetsItsPodsSecrets(t *testing.T) {
	c := agentCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl := c.Client()
	for name, pw := range map[string]string{"db": "pw-1", "unrelated": "pw-x"} {
		s := &orchestrator.Secret{ObjectMeta: orchestrator.ObjectMeta{Name: name, Namespace: "default"}, StringData: map[string]string{"password": pw}}
		if err := cl.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	ref := orchestrator.LocalObjectReference{Name: "db"}
	p := &orchestrator.Pod{ObjectMeta: orchestrator.ObjectMeta{Name: "uses-db", Namespace: "default"}, Spec: orchestrator.PodSpec{
		NodeName: "node-3",
		Volumes:  []orchestrator.Volume{{Name: "creds", VolumeSource: orchestrator.VolumeSource{Secret: &orchestrator.SecretVolumeSource{SecretName: "db"}}}},
		Containers: []orchestrator.Container{{Name: "app", Image: "web:1",
			Env: []orchestrator.EnvVar{{Name: "PASSWORD", ValueFrom: &orchestrator.EnvVarSource{
				SecretKeyRef: &orchestrator.SecretKeySelector{LocalObjectReference: ref, Key: "password"}}}},
			VolumeMounts: []orchestrator.VolumeMount{{Name: "creds", MountPath: "/creds"}}}},
	}}
	if err := cl.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	rt := c.Runtime(3)
	config := func() *runtime.ContainerConfig {
		cs, err := rt.ListContainers(ctx, &runtime.ContainerFilter{State: runtime.ContainerRunning})
		if err != nil || len(cs) != 1 {
			return nil
		}
		cfg, err := rt.Config(cs[0].ID)
		if err != nil {
			return nil
		}
		return cfg
	}
	file := func(cfg *runtime.ContainerConfig) string {
		if cfg == nil || len(cfg.Mounts) != 1 || len(cfg.Mounts[0].Files) != 1 {
			return ""
		}
		return string(cfg.Mounts[0].Files[0].Data)
	}
	c.Eventually(30*time.Second, "the Pod running on node-3 with the Secret", func() bool {
		cfg := config()
		return cfg != nil && len(cfg.Env) >= 1 && cfg.Env[0].Value == "pw-1" && file(cfg) == "pw-1"
	})

	ac := c.Node(3).Client()
	var s orchestrator.Secret
	if err := ac.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "db"}, &s); err != nil {
		t.Errorf("node-3 reads the Secret its Pod uses: %v", err)
	}
	if err := ac.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "unrelated"}, &s); !api.IsForbidden(err) {
		t.Errorf("node-3 reads a Secret no Pod of its uses: %v; want Forbidden", err)
	}
	var list orchestrator.SecretList
	if err := ac.List(ctx, &list, orchestrator.InNamespace("default")); !api.IsForbidden(err) {
		t.Errorf("node-3 lists Secrets: %v; want Forbidden", err)
	}

	if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "db"}, &s); err != nil {
		t.Fatal(err)
	}
	s.StringData = map[string]string{"password": "pw-2"}
	if err := cl.Update(ctx, &s); err != nil {
		t.Fatal(err)
	}
	c.Eventually(30*time.Second, "the rotated password in the files on node-3", func() bool { return file(config()) == "pw-2" })
}
