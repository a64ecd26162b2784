package controllerutil

import (
	"regexp"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func template() *api.PodTemplateSpec {
	return &api.PodTemplateSpec{
		ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "web", Image: "web:1",
			Ports: []api.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
	}
}

func TestPodTemplateHash(t *testing.T) {
	tmpl := template()
	h1 := PodTemplateHash(tmpl, nil)
	if !regexp.MustCompile(`^[bcdfghjklmnpqrstvwxz2456789]{1,10}$`).MatchString(h1) {
		t.Errorf("hash %q not in the safe alphabet", h1)
	}
	// Stable across copies and across label map order.
	c := api.Clone(*tmpl)
	if PodTemplateHash(&c, nil) != h1 {
		t.Error("hash differs for an equal template")
	}
	// The pod-template-hash label itself is ignored.
	c.Labels[api.PodTemplateHashLabel] = h1
	if PodTemplateHash(&c, nil) != h1 {
		t.Error("hash changed by the pod-template-hash label")
	}
	if _, ok := tmpl.Labels[api.PodTemplateHashLabel]; ok {
		t.Error("PodTemplateHash modified its input")
	}
	// Any change of the template or the collision count changes it.
	c.Spec.Containers[0].Image = "web:2"
	if PodTemplateHash(&c, nil) == h1 {
		t.Error("hash unchanged after image change")
	}
	if PodTemplateHash(tmpl, api.Ptr(int32(1))) == h1 {
		t.Error("hash unchanged by collision count")
	}
	// Pinned value: the hash must not change between releases for the
	// same template, or Deployments would roll on upgrade.
	fixed := &api.PodTemplateSpec{ObjectMeta: api.ObjectMeta{Labels: map[string]string{"app": "x"}},
		Spec: api.PodSpec{Containers: []api.Container{{Name: "x", Image: "x:1"}}}}
	if got := PodTemplateHash(fixed, nil); got != "c654646" {
		t.Errorf("PodTemplateHash(fixed) = %q, want %q", got, "c654646")
	}
}

func TestNewControllerRef(t *testing.T) {
	d := &api.Deployment{TypeMeta: api.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: api.ObjectMeta{Name: "web", Namespace: "shop", UID: "d-uid"}}
	ref := NewControllerRef(d)
	if ref.APIVersion != "apps/v1" || ref.Kind != "Deployment" || ref.Name != "web" || ref.UID != "d-uid" ||
		!*ref.Controller || !*ref.BlockOwnerDeletion {
		t.Errorf("ref = %+v", ref)
	}
	rs := &api.ReplicaSet{ObjectMeta: api.ObjectMeta{Name: "web-abc", Namespace: "shop",
		OwnerReferences: []api.OwnerReference{{APIVersion: "v1", Kind: "X", Name: "x", UID: "x"}, ref}}}
	if got := api.GetControllerOf(rs); got == nil || got.UID != "d-uid" || !api.IsControlledBy(rs, d) {
		t.Errorf("GetControllerOf = %+v", got)
	}
	// TypeMeta comes from the scheme when unset.
	if ref := NewControllerRef(&api.ReplicaSet{}); ref.Kind != "ReplicaSet" || ref.APIVersion != "apps/v1" {
		t.Errorf("ref from untyped = %+v", ref)
	}
}
