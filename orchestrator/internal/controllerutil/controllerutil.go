// Package controllerutil holds what the built-in controllers write onto
// the objects they manage: the controller owner reference of a dependent
// and the pod-template-hash that names a Deployment's ReplicaSets.
//
// Reading ownership (api.GetControllerOf, api.IsControlledBy) and the
// well-known label and annotation names (api.PodTemplateHashLabel,
// api.RevisionAnnotation) stay in package api, because programs built on
// Flotilla read them; building them is the controllers' job.
//
// Usage:
//
//  1. A controller creating a dependent sets
//     OwnerReferences: []api.OwnerReference{controllerutil.NewControllerRef(owner)}.
//  2. The Deployment controller names and labels a ReplicaSet with
//     controllerutil.PodTemplateHash(&d.Spec.Template, d.Status.CollisionCount).
//
// What it does not do: it talks to no store and adopts or releases
// nothing; the controllers decide that.
package controllerutil

import (
	"encoding/json"
	"hash/fnv"
	"strconv"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// safeEncodeAlphabet avoids vowels and look-alike characters so hashes
// never spell words, as Kubernetes' rand.SafeEncodeString does.
const safeEncodeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// PodTemplateHash returns a short, stable hash of template (and of
// collisionCount, when not nil, to resolve name collisions), suitable for
// the pod-template-hash label and ReplicaSet names: FNV-32a over the
// template's canonical JSON (keys sorted), printed in a vowel-free
// alphabet (e.g. "5d8f7c9b6"). The template's own pod-template-hash label
// is ignored, so a ReplicaSet's template hashes like its Deployment's.
//
// Equal templates hash equally across processes and versions as long as
// the JSON form of the types does not change; a change would roll every
// Deployment on upgrade, which the pinned value in the tests guards.
func PodTemplateHash(template *api.PodTemplateSpec, collisionCount *int32) string {
	t := template
	if _, ok := template.Labels[api.PodTemplateHashLabel]; ok {
		c := api.Clone(*template)
		delete(c.Labels, api.PodTemplateHashLabel)
		t = &c
	}
	h := fnv.New32a()
	// encoding/json sorts map keys and writes struct fields in declaration
	// order: the output is canonical for a given value.
	b, _ := json.Marshal(t) // cannot fail: the types marshal without error
	h.Write(b)
	if collisionCount != nil {
		h.Write([]byte(strconv.FormatInt(int64(*collisionCount), 10)))
	}
	return safeEncode(strconv.FormatUint(uint64(h.Sum32()), 10))
}

func safeEncode(s string) string {
	r := []byte(s)
	for i, c := range r {
		r[i] = safeEncodeAlphabet[int(c)%len(safeEncodeAlphabet)]
	}
	return string(r)
}

// NewControllerRef returns an owner reference that marks owner as the
// managing controller of a dependent, blocking the owner's foreground
// deletion until the dependent is gone. owner's TypeMeta is used when set,
// else its kind in the default scheme.
func NewControllerRef(owner api.Object) api.OwnerReference {
	tm := *owner.GetTypeMeta()
	if tm.APIVersion == "" || tm.Kind == "" {
		if info, ok := api.DefaultScheme().KindFor(owner); ok {
			tm.APIVersion, tm.Kind = info.APIVersion, info.Kind
		}
	}
	return api.OwnerReference{
		APIVersion:         tm.APIVersion,
		Kind:               tm.Kind,
		Name:               owner.GetName(),
		UID:                owner.GetUID(),
		Controller:         api.Ptr(true),
		BlockOwnerDeletion: api.Ptr(true),
	}
}
