package registry_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// TestStrategicMergePatchDeployment patches a Deployment the way kubectl
// set image and kubectl patch do: a container's image by name keeps the
// other container, a container deleted by key goes, and what the patch
// cannot mean is refused with the status Kubernetes answers.
func TestStrategicMergePatchDeployment(t *testing.T) {
	r := newReg(t)
	ctx := context.Background()
	d := deployment("web")
	d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers,
		api.Container{Name: "side", Image: "side:1", Env: []api.EnvVar{{Name: "A", Value: "1"}}})
	if err := r.Create(ctx, d, client.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var cl client.Interface = r
	var got api.Deployment
	got.Namespace, got.Name = "default", "web"
	patch := `{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"img:2"},{"name":"side","env":[{"name":"B","value":"2"}]}]}}}}`
	if err := cl.Patch(ctx, &got, api.StrategicMergePatchType, []byte(patch), client.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	cs := got.Spec.Template.Spec.Containers
	if len(cs) != 2 || cs[0].Name != "c" || cs[0].Image != "img:2" || cs[1].Name != "side" || cs[1].Image != "side:1" {
		t.Fatalf("containers after the patch: %+v", cs)
	}
	// Without $setElementOrder Kubernetes puts the patch's new elements
	// first; the order is not the point here.
	if env := cs[1].Env; len(env) != 2 || !slices.ContainsFunc(env, func(e api.EnvVar) bool { return e.Name == "A" && e.Value == "1" }) ||
		!slices.ContainsFunc(env, func(e api.EnvVar) bool { return e.Name == "B" && e.Value == "2" }) {
		t.Fatalf("env after the patch: %+v", env)
	}
	if got.Generation != 2 {
		t.Errorf("generation %d after a spec patch, want 2", got.Generation)
	}
	var stored api.Deployment
	if err := r.Get(ctx, "default", "web", &stored, client.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if stored.ResourceVersion != got.ResourceVersion || stored.Spec.Template.Spec.Containers[0].Image != "img:2" {
		t.Fatalf("stored %s %+v, patched %s", stored.ResourceVersion, stored.Spec.Template.Spec.Containers, got.ResourceVersion)
	}

	del := `{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"$patch":"delete","name":"side"}]}}}}`
	if err := cl.Patch(ctx, &got, api.StrategicMergePatchType, []byte(del), client.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if cs := got.Spec.Template.Spec.Containers; len(cs) != 1 || cs[0].Name != "c" {
		t.Fatalf("containers after the delete: %+v", cs)
	}

	for _, c := range []struct {
		name, patch string
		want        func(error) bool
	}{
		{"malformed JSON", `{"spec":`, api.IsBadRequest},
		{"bad directive", `{"spec":{"template":{"spec":{"containers":[{"$patch":"explode","name":"c"}]}}}}`, api.IsBadRequest},
		{"unknown field", `{"spec":{"replicaz":3}}`, api.IsInvalid},
		{"invalid result", `{"spec":{"template":{"spec":{"containers":[{"name":"c","image":""}]}}}}`, api.IsInvalid},
	} {
		if err := cl.Patch(ctx, &got, api.StrategicMergePatchType, []byte(c.patch), client.PatchOptions{}); !c.want(err) {
			t.Errorf("%s: error %v", c.name, err)
		}
	}
	err := cl.Patch(ctx, &got, api.ApplyPatchType, []byte(`{}`), client.PatchOptions{})
	if !api.IsUnsupportedMediaType(err) || !strings.Contains(err.Error(), "server-side apply") {
		t.Errorf("server-side apply: error %v, want UnsupportedMediaType naming server-side apply", err)
	}
}
