package registry

import (
	"context"

	"fmt"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/raftstore"
)

// recordManager notes in metadata.managedFields that manager wrote the
// object (operation Update; subresource "" for the main resource): one
// entry per manager and subresource, its time the latest write. The
// entry has no fieldsV1: Flotilla records who wrote, not which fields.
func recordManager(m *api.ObjectMeta, manager, apiVersion, subresource string) {
	if manager == "" {
		return
	}
	now := api.Now()
	for i := range m.ManagedFields {
		e := &m.ManagedFields[i]
		if e.Manager == manager && e.Subresource == subresource && e.Operation == "Update" {
			e.Time, e.APIVersion = &now, apiVersion
			return
		}
	}
	m.ManagedFields = append(m.ManagedFields, api.ManagedFieldsEntry{
		Manager: manager, Operation: "Update", APIVersion: apiVersion, Time: &now, Subresource: subresource,
	})
}

// patcher returns the function that applies patch of type pt to the JSON
// of an object like obj.
//
// Errors: BadRequest for a malformed JSON patch; UnsupportedMediaType for
// server-side apply and for a type not served.
func patcher(pt api.PatchType, patch []byte, obj api.Object) (func(cur []byte) ([]byte, error), error) {
	switch pt {
	case "", api.MergePatchType:
		return func(cur []byte) ([]byte, error) {
			out, err := api.MergePatch(cur, patch)
			if err != nil {
				return nil, api.NewBadRequest(err.Error())
			}
			return out, nil
		}, nil
	case api.JSONPatchType:
		p, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return nil, api.NewBadRequest(fmt.Sprintf("invalid JSON patch: %v", err))
		}
		return func(cur []byte) ([]byte, error) {
			out, err := p.Apply(cur)
			if err != nil {
				return nil, api.NewBadRequest(fmt.Sprintf("the JSON patch could not be applied: %v", err))
			}
			return out, nil
		}, nil
	case api.StrategicMergePatchType:
		return func(cur []byte) ([]byte, error) {
			out, err := api.StrategicMergePatch(cur, patch, obj)
			if err != nil {
				return nil, api.NewBadRequest(err.Error())
			}
			return out, nil
		}, nil
	case api.ApplyPatchType:
		return nil, api.NewUnsupportedMediaType(fmt.Sprintf("patch type %q (server-side apply) is not supported: use kubectl apply without --server-side, or %q, %q or %q",
			pt, api.StrategicMergePatchType, api.MergePatchType, api.JSONPatchType))
	}
	return nil, api.NewUnsupportedMediaType(fmt.Sprintf("unknown patch type %q: want %q, %q, %q or %q",
		pt, api.MergePatchType, api.JSONPatchType, api.StrategicMergePatchType, api.ApplyPatchType))
}

// absent checks that key is free, for a dry-run create.
//
// Errors: the store's AlreadyExists, or a read error.
func (r *Registry) absent(ctx context.Context, key string) error {
	_, err := r.kv.Get(ctx, key, raftRead(true)...)
	switch {
	case err == nil:
		return raftstore.ErrAlreadyExists
	case raftstore.IsNotFound(err):
		return nil
	}
	return err
}
