package admission

import (
	"context"
	"errors"
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// Operation is the kind of write admission sees, in Kubernetes' words.
type Operation string

// The operations. A status write, a binding and the finalize step are
// updates (or, for finalize, a delete) of a subresource.
const (
	Create Operation = "CREATE"
	Update Operation = "UPDATE"
	Delete Operation = "DELETE"
)

// Subresources a write may address (Attributes.Subresource); "" is the
// object itself.
const (
	SubresourceStatus   = "status"
	SubresourceBinding  = "binding"
	SubresourceFinalize = "finalize"
)

// Attributes describe one write to the plugins. The registry fills them;
// a plugin reads them, a Mutator may change Object, and any plugin may
// make the write conditional with RequireUnchanged.
//
// The request's user will be added here by the authentication issue, for
// plugins (and RBAC) to decide by; until then every write is the
// cluster's own.
type Attributes struct {
	Operation Operation
	// Kind is the object's kind.
	Kind api.KindInfo
	// Namespace and Name locate the object. On a create with
	// generateName, Name is empty for Mutators (the name is generated
	// after them) and set for Validators.
	Namespace string
	Name      string
	// Subresource is "" for the object itself, or one of the
	// Subresource constants.
	Subresource string
	// Object is the incoming object: the one to create, or the update as
	// the client sent it (Mutators) and as it will be stored (Validators).
	// nil on a delete.
	Object api.Object
	// OldObject is the stored object on an update or delete, nil on a
	// create. Plugins must not modify it.
	OldObject api.Object
	// DryRun is set when nothing will be stored: a plugin with side
	// effects of its own must skip them (or, like NamespaceLifecycle's
	// creation of a system namespace, only do what is invisible).
	DryRun bool
	// Client reads (and, for plugins that create what a write implies,
	// writes) the cluster state. On the registry it is the registry
	// itself: a write made through it runs the whole pipeline again.
	Client client.Interface
	// Consistent is set when an earlier attempt of this write lost a race
	// (one of its preconditions changed before the write): reads the
	// decision depends on should then be linearizable, since the serving
	// replica may lag behind what made the attempt fail.
	Consistent bool

	preconditions []api.Object
}

// RequireUnchanged makes the write conditional on obj (as read by the
// plugin, with its resourceVersion) being unchanged when the write is
// stored: the registry checks it in the same store transaction as the
// write. If obj changed or is gone by then, the registry runs admission
// again with Consistent set (a few times), so the plugin decides on fresh
// state, and then reports a Conflict. This is how a decision that depends
// on another object stays true at the moment of the write, without a
// lock: NamespaceLifecycle requires the Namespace unchanged, so no object
// lands in a Namespace deleted meanwhile. obj is read when the write is
// stored: do not modify it afterwards.
func (a *Attributes) RequireUnchanged(obj api.Object) {
	a.preconditions = append(a.preconditions, obj)
}

// Preconditions returns what plugins required unchanged, in order.
func (a *Attributes) Preconditions() []api.Object { return a.preconditions }

// Plugin is one admission step. It implements Mutator, Validator or both;
// Chain finds out which by type assertion.
type Plugin interface {
	// Name identifies the plugin in errors, e.g. "NamespaceLifecycle".
	Name() string
	// Handles reports whether the plugin looks at writes of op at all.
	Handles(op Operation) bool
}

// Mutator may change a write's Object before the kind's strategy
// defaults and validates it (mutating admission).
type Mutator interface {
	Plugin
	// Admit may change a.Object. An error refuses the write.
	Admit(ctx context.Context, a *Attributes) error
}

// Validator checks a write after the strategy validated it, just before
// it is stored (validating admission). It must not change a.Object.
type Validator interface {
	Plugin
	// Validate returns an error to refuse the write.
	Validate(ctx context.Context, a *Attributes) error
}

// Chain is the admission plugins of a registry, in order. The zero value
// admits everything. A Chain is read-only once the registry holds it, so
// it needs no lock; plugins must be safe for concurrent use.
type Chain []Plugin

// Admit runs every Mutator that handles a.Operation, in order, and stops
// at the first refusal.
//
// Errors: the plugin's *api.StatusError as it is; ctx.Err(); any other
// error becomes Forbidden naming the plugin, so a client always gets an
// API error it can test with api.IsForbidden.
func (c Chain) Admit(ctx context.Context, a *Attributes) error {
	for _, p := range c {
		if m, ok := p.(Mutator); ok && p.Handles(a.Operation) {
			if err := m.Admit(ctx, a); err != nil {
				return refusal(ctx, p, a, err)
			}
		}
	}
	return nil
}

// Validate runs every Validator that handles a.Operation, in order, and
// stops at the first refusal. Errors: as Admit.
func (c Chain) Validate(ctx context.Context, a *Attributes) error {
	for _, p := range c {
		if v, ok := p.(Validator); ok && p.Handles(a.Operation) {
			if err := v.Validate(ctx, a); err != nil {
				return refusal(ctx, p, a, err)
			}
		}
	}
	return nil
}

func refusal(ctx context.Context, p Plugin, a *Attributes, err error) error {
	if _, ok := api.AsStatusError(err); ok {
		return err
	}
	if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return err
	}
	return api.NewForbidden(a.Kind.Kind, a.Name, fmt.Errorf("admission plugin %q denied the request: %w", p.Name(), err))
}
