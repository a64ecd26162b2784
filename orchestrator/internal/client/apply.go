package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// LastAppliedAnnotation holds the manifest of the last Apply, the same
// annotation kubectl's client-side apply keeps, so that kubectl apply and
// Flotilla's Apply take turns on one object without surprises.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// ApplyOptions change an Apply.
type ApplyOptions struct {
	// DryRun and FieldManager: as CreateOptions.
	DryRun       bool
	FieldManager string
}

// Apply makes the object obj names look as obj declares, as kubectl apply
// does: it creates obj if it does not exist; otherwise it patches the
// stored object with a three-way merge of the last applied manifest (kept
// in LastAppliedAnnotation), obj, and the stored object. Fields obj sets
// are set; fields the last manifest set and obj no longer does are
// removed; everything else (labels, annotations, finalizers,
// ownerReferences and status that controllers or other users wrote)
// stays. Applying an unchanged manifest writes nothing. obj receives the
// stored object.
//
// Lists are replaced whole when obj sets them, as JSON merge patch does.
//
// Errors: BadRequest when obj has no name or cannot be encoded; those of
// Create and Patch. A concurrent write is retried against the new state.
func Apply(ctx context.Context, c Interface, obj api.Object, o ApplyOptions) error {
	info, ok := c.Scheme().KindFor(obj)
	if !ok {
		return api.NewBadRequest(fmt.Sprintf("type %T is not a registered kind", obj))
	}
	if obj.GetName() == "" {
		return api.NewInvalid(info.Kind, "", api.FieldErrorList{api.Required(api.NewPath("metadata", "name"), "apply needs a name")})
	}
	manifest, err := appliedManifest(obj, info)
	if err != nil {
		return err
	}
	for {
		cur := info.New()
		err := c.Get(ctx, obj.GetNamespace(), obj.GetName(), cur, GetOptions{Consistent: true})
		if api.IsNotFound(err) {
			next := obj.DeepCopyObject()
			m := next.GetObjectMeta()
			m.ResourceVersion = ""
			if m.Annotations == nil {
				m.Annotations = map[string]string{}
			}
			m.Annotations[LastAppliedAnnotation] = string(manifest)
			err = c.Create(ctx, next, CreateOptions{DryRun: o.DryRun, FieldManager: o.FieldManager})
			if api.IsAlreadyExists(err) {
				continue
			}
			if err != nil {
				return err
			}
			return CopyInto(obj, next)
		}
		if err != nil {
			return err
		}
		patch, err := threeWayPatch(cur, manifest)
		if err != nil {
			return err
		}
		if patch == nil {
			return CopyInto(obj, cur)
		}
		next := cur.DeepCopyObject()
		err = c.Patch(ctx, next, api.MergePatchType, patch, PatchOptions{DryRun: o.DryRun, FieldManager: o.FieldManager})
		if api.IsConflict(err) {
			continue
		}
		if err != nil {
			return err
		}
		return CopyInto(obj, next)
	}
}

// appliedManifest returns obj as JSON without the fields a server sets and
// without status: what the user declared.
func appliedManifest(obj api.Object, info api.KindInfo) ([]byte, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, api.NewBadRequest(fmt.Sprintf("apply: encode %s: %v", info.Kind, err))
	}
	m, err := decodeObject(b)
	if err != nil {
		return nil, api.NewBadRequest(fmt.Sprintf("apply: encode %s: %v", info.Kind, err))
	}
	m["apiVersion"], m["kind"] = info.APIVersion, info.Kind
	delete(m, "status")
	if meta, ok := m["metadata"].(map[string]any); ok {
		for _, f := range []string{"resourceVersion", "uid", "creationTimestamp", "generation",
			"deletionTimestamp", "deletionGracePeriodSeconds", "managedFields"} {
			delete(meta, f)
		}
		if ann, ok := meta["annotations"].(map[string]any); ok {
			delete(ann, LastAppliedAnnotation)
			if len(ann) == 0 {
				delete(meta, "annotations")
			}
		}
	}
	return json.Marshal(m)
}

// threeWayPatch returns the JSON merge patch that takes cur to manifest
// (the new last-applied configuration), or nil when nothing changes.
func threeWayPatch(cur api.Object, manifest []byte) ([]byte, error) {
	live, err := json.Marshal(cur)
	if err != nil {
		return nil, api.NewInternalError(err)
	}
	liveMap, err := decodeObject(live)
	if err != nil {
		return nil, api.NewInternalError(err)
	}
	modified, err := decodeObject(manifest)
	if err != nil {
		return nil, api.NewInternalError(err)
	}
	var original map[string]any
	if last := cur.GetAnnotations()[LastAppliedAnnotation]; last != "" {
		// A last-applied value that is not a JSON object (hand-edited)
		// is treated as absent: nothing is deleted on its account.
		original, _ = decodeObject([]byte(last))
	}
	patch := mergeDiff(original, modified, liveMap)
	if cur.GetAnnotations()[LastAppliedAnnotation] != string(manifest) {
		meta, _ := patch["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			patch["metadata"] = meta
		}
		ann, _ := meta["annotations"].(map[string]any)
		if ann == nil {
			ann = map[string]any{}
			meta["annotations"] = ann
		}
		ann[LastAppliedAnnotation] = string(manifest)
	}
	if len(patch) == 0 {
		return nil, nil
	}
	// Pin the patch to the state it was computed from.
	meta, _ := patch["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		patch["metadata"] = meta
	}
	meta["resourceVersion"] = cur.GetResourceVersion()
	return json.Marshal(patch)
}

// mergeDiff returns the merge patch that sets what modified declares
// (where live differs) and removes what original declared and modified
// no longer does. Removal recurses into objects, so keys that others
// added beside the applied ones survive.
func mergeDiff(original, modified, live map[string]any) map[string]any {
	patch := map[string]any{}
	for k, mv := range modified {
		lv, inLive := live[k]
		mm, mIsMap := mv.(map[string]any)
		lm, lIsMap := lv.(map[string]any)
		if mIsMap && lIsMap {
			om, _ := original[k].(map[string]any)
			if sub := mergeDiff(om, mm, lm); len(sub) > 0 {
				patch[k] = sub
			}
			continue
		}
		if !inLive || !reflect.DeepEqual(mv, lv) {
			patch[k] = mv
		}
	}
	for k, ov := range original {
		if _, kept := modified[k]; kept {
			continue
		}
		lv, inLive := live[k]
		if !inLive {
			continue
		}
		om, oIsMap := ov.(map[string]any)
		lm, lIsMap := lv.(map[string]any)
		if oIsMap && lIsMap {
			if sub := mergeDiff(om, map[string]any{}, lm); len(sub) > 0 {
				patch[k] = sub
			}
			continue
		}
		patch[k] = nil
	}
	return patch
}

func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	return m, nil
}

// copyObject sets *dst to *src (same concrete type).
func CopyInto(dst, src api.Object) error {
	dv, sv := reflect.ValueOf(dst), reflect.ValueOf(src)
	if dv.Type() != sv.Type() {
		return api.NewBadRequest(fmt.Sprintf("want %T, have %T", src, dst))
	}
	dv.Elem().Set(sv.Elem())
	return nil
}
