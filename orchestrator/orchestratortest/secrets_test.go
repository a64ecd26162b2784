package orchestratortest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// Secret values never leave the store but for the runtime: a workload
// that uses Secrets as env, envFrom and volume files (with an update, a
// missing key, a rejected write) runs in a cluster whose every log line,
// at every level, is captured; no log line (message or field) and no
// Event holds a value, while the containers do get them.
func TestSecretValuesNeverLoggedNorInEvents(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	c := orchestratortest.NewCluster(t, 2, orchestratortest.WithLogger(zap.New(core)))
	cl := c.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	values := []string{"pw-3f9a1c77e0", "user-b41d0e22", "token-9c2e77d1aa", "rotated-58be01f3c4"}
	secret := &orchestrator.Secret{ObjectMeta: orchestrator.ObjectMeta{Name: "db", Namespace: "default"},
		StringData: map[string]string{"password": values[0], "user": values[1], "token": values[2]}}
	if err := cl.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	// A rejected write: the error names the key, not the value.
	bad := &orchestrator.Secret{ObjectMeta: orchestrator.ObjectMeta{Name: "bad", Namespace: "default"}, Type: orchestrator.SecretTypeTLS,
		StringData: map[string]string{"tls.crt": values[0], "tls.key": values[1]}}
	err := cl.Create(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), "data[tls.crt]") {
		t.Fatalf("create of a bad TLS Secret: %v, want an error at data[tls.crt]", err)
	}
	for _, v := range values {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error %q holds a Secret value", err)
		}
	}

	ref := orchestrator.LocalObjectReference{Name: "db"}
	labels := map[string]string{"app": "uses-secrets"}
	d := &orchestrator.Deployment{
		ObjectMeta: orchestrator.ObjectMeta{Name: "uses-secrets", Namespace: "default"},
		Spec: orchestrator.DeploymentSpec{
			Replicas: orchestrator.Ptr(int32(2)),
			Selector: &orchestrator.LabelSelector{MatchLabels: labels},
			Template: orchestrator.PodTemplateSpec{
				ObjectMeta: orchestrator.ObjectMeta{Labels: labels},
				Spec: orchestrator.PodSpec{
					Volumes: []orchestrator.Volume{{Name: "creds", VolumeSource: orchestrator.VolumeSource{Secret: &orchestrator.SecretVolumeSource{SecretName: "db"}}}},
					Containers: []orchestrator.Container{{Name: "app", Image: "web:1",
						EnvFrom: []orchestrator.EnvFromSource{{Prefix: "DB_", SecretRef: &orchestrator.SecretEnvSource{LocalObjectReference: ref}}},
						Env: []orchestrator.EnvVar{{Name: "PASSWORD", ValueFrom: &orchestrator.EnvVarSource{
							SecretKeyRef: &orchestrator.SecretKeySelector{LocalObjectReference: ref, Key: "password"}}}},
						VolumeMounts: []orchestrator.VolumeMount{{Name: "creds", MountPath: "/creds"}},
					}},
				},
			},
		},
	}
	if err := cl.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	// A Pod whose required key is missing: a Warning Event and a waiting
	// reason that name the key.
	missing := &orchestrator.Pod{ObjectMeta: orchestrator.ObjectMeta{Name: "missing-key", Namespace: "default"},
		Spec: orchestrator.PodSpec{Containers: []orchestrator.Container{{Name: "app", Image: "web:1",
			Env: []orchestrator.EnvVar{{Name: "X", ValueFrom: &orchestrator.EnvVarSource{
				SecretKeyRef: &orchestrator.SecretKeySelector{LocalObjectReference: ref, Key: "absent"}}}}}}}}
	if err := cl.Create(ctx, missing); err != nil {
		t.Fatal(err)
	}

	// containers returns the running "app" containers of the Deployment.
	containers := func() []*runtime.ContainerConfig {
		var out []*runtime.ContainerConfig
		for i := range c.Len() {
			rt := c.Runtime(i)
			cs, err := rt.ListContainers(ctx, &runtime.ContainerFilter{State: runtime.ContainerRunning})
			if err != nil {
				continue
			}
			for _, s := range cs {
				if cfg, err := rt.Config(s.ID); err == nil && strings.HasPrefix(s.PodName, "uses-secrets-") {
					out = append(out, cfg)
				}
			}
		}
		return out
	}
	fileOf := func(cfg *runtime.ContainerConfig, name string) string {
		for _, m := range cfg.Mounts {
			for _, f := range m.Files {
				if m.Target == "/creds" && f.Path == name {
					return string(f.Data)
				}
			}
		}
		return ""
	}
	c.Eventually(20*time.Second, "two running containers with the Secret", func() bool { return len(containers()) == 2 })
	for _, cfg := range containers() {
		env := map[string]string{}
		for _, e := range cfg.Env {
			env[e.Name] = e.Value
		}
		if env["PASSWORD"] != values[0] || env["DB_user"] != values[1] || fileOf(cfg, "token") != values[2] {
			t.Errorf("container did not get the Secret: env %v", cfg.Env)
		}
	}
	c.Eventually(20*time.Second, "the missing key reported", func() bool {
		return podEvent(t, cl, "missing-key", "Failed", "couldn't find key absent in Secret default/db")
	})

	// Rotate the password: the files follow, in place.
	if err := cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "db"}, secret); err != nil {
		t.Fatal(err)
	}
	secret.StringData = map[string]string{"password": values[3]}
	if err := cl.Update(ctx, secret); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "the rotated password in every container's files", func() bool {
		cs := containers()
		for _, cfg := range cs {
			if fileOf(cfg, "password") != values[3] {
				return false
			}
		}
		return len(cs) == 2
	})
	if got := (&orchestrator.Secret{}); cl.Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: "db"}, got) == nil && got.StringData != nil {
		t.Errorf("stringData was stored: %v", got.StringData)
	}

	// Scan every log line (message, logger name, every field) and Event.
	entries := logs.All()
	if len(entries) == 0 {
		t.Fatal("no log lines captured")
	}
	for _, e := range entries {
		line := fmt.Sprintf("%s %s %s %v", e.LoggerName, e.Message, e.Caller, e.ContextMap())
		for _, v := range values {
			if strings.Contains(line, v) {
				t.Errorf("log line holds Secret value %q: %s", v, line)
			}
		}
	}
	var evs orchestrator.EventList
	if err := cl.List(ctx, &evs); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(evs)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range values {
		if strings.Contains(string(b), v) {
			t.Errorf("an Event holds Secret value %q", v)
		}
	}
	t.Logf("scanned %d log lines and %d Events", len(entries), len(evs.Items))
}
