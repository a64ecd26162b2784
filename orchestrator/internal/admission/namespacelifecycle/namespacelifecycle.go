// Package namespacelifecycle is the NamespaceLifecycle admission plugin:
// content is created only in a Namespace that exists and is not being
// deleted, and the system namespaces ("default", "kube-system",
// "kube-node-lease") cannot be
// deleted. The system namespaces exist implicitly: the first write into
// one creates it.
//
// The check and the write it admits are one store transaction: the
// plugin requires the Namespace it read unchanged (Attributes.
// RequireUnchanged), so a Namespace deleted between the check and the
// write refuses the write instead of leaving an object in it, and the
// registry asks the plugin again on fresh state.
//
// Usage: it is in the registry's default chain
// (registry.DefaultAdmission); build another with New.
//
// What it does not do: it checks only creates (updates and deletes of
// existing content proceed, so the namespace controller can empty a
// Terminating Namespace), and it ignores kinds of a scheme without
// Namespaces.
package namespacelifecycle

import (
	"context"
	"errors"
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/admission"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// Name is the plugin's name, as in Kubernetes.
const Name = "NamespaceLifecycle"

// Plugin is the NamespaceLifecycle validating admission plugin. It holds
// no state; the zero value is ready.
type Plugin struct{}

var _ admission.Validator = Plugin{}

// New returns the plugin.
func New() Plugin { return Plugin{} }

// Name implements admission.Plugin.
func (Plugin) Name() string { return Name }

// Handles implements admission.Plugin: creates and deletes.
func (Plugin) Handles(op admission.Operation) bool {
	return op == admission.Create || op == admission.Delete
}

// Validate refuses:
//   - deleting a system namespace: Forbidden, "this namespace may not be
//     deleted";
//   - creating a namespaced object in a missing Namespace: NotFound,
//     `Namespace "x" not found`;
//   - creating it in a Namespace being deleted: Forbidden, "unable to
//     create new content in namespace x because it is being terminated".
//
// A missing system namespace is created (also on a dry run: it exists
// implicitly anyway). Otherwise the Namespace read is required unchanged
// until the write is stored.
//
// Errors: those above; errors reading or creating the Namespace.
func (Plugin) Validate(ctx context.Context, a *admission.Attributes) error {
	nsInfo, ok := a.Client.Scheme().KindFor(&api.Namespace{})
	if !ok {
		return nil
	}
	switch {
	case a.Operation == admission.Delete && a.Subresource == "" && a.Kind.Kind == nsInfo.Kind && a.Kind.APIVersion == nsInfo.APIVersion:
		if api.IsSystemNamespace(a.Name) {
			return api.NewForbidden(a.Kind.Kind, a.Name, errors.New("this namespace may not be deleted"))
		}
	case a.Operation == admission.Create && a.Kind.Namespaced:
		ns, err := namespace(ctx, a)
		if err != nil {
			return err
		}
		if ns.DeletionTimestamp != nil || ns.Status.Phase == api.NamespaceTerminating {
			return api.NewForbidden(a.Kind.Kind, a.Name,
				fmt.Errorf("unable to create new content in namespace %s because it is being terminated", a.Namespace))
		}
		a.RequireUnchanged(ns)
	}
	return nil
}

// namespace reads the write's Namespace, creating a missing system
// namespace.
func namespace(ctx context.Context, a *admission.Attributes) (*api.Namespace, error) {
	consistent := a.Consistent
	for attempt := 0; ; attempt++ {
		var ns api.Namespace
		err := a.Client.Get(ctx, "", a.Namespace, &ns, client.GetOptions{Consistent: consistent})
		switch {
		case err == nil:
			return &ns, nil
		case !api.IsNotFound(err):
			return nil, err
		case !consistent:
			// The serving replica answers the common case; a miss may be
			// lag, so it is confirmed by a linearizable read.
			consistent = true
		case api.IsSystemNamespace(a.Namespace) && attempt < 3:
			err := a.Client.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: a.Namespace}}, client.CreateOptions{})
			if err != nil && !api.IsAlreadyExists(err) {
				return nil, err
			}
		default:
			return nil, api.NewNotFound("Namespace", a.Namespace)
		}
	}
}
