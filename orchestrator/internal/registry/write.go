package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/admission"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
	"github.com/flotilla-io/flotilla/orchestrator/internal/conditions"
	"github.com/flotilla-io/flotilla/orchestrator/internal/strategy"
	"github.com/flotilla-io/flotilla/raftstore"
)

// The write path (see the package documentation for the steps). Every
// write method below runs the same stages in the same order; what differs
// between kinds is behind the kind's strategy and the admission plugins.

// maxAttempts bounds how often a write is tried again because a generated
// name was taken or an object admission required unchanged changed; both
// need bad luck to happen twice in a row.
const maxAttempts = 8

// errPrecondition reports that an object admission required unchanged
// changed before the write was stored; the write is tried again.
var errPrecondition = errors.New("registry: an object admission depends on changed")

// decodeRequest does what decoding a request does on the API server:
// apiVersion and kind come from the object's Go type when both are unset,
// and, when fillNamespace is set, a namespaced object without a namespace
// is in "default" (on the API server, the URL's namespace).
func decodeRequest(info api.KindInfo, obj api.Object, fillNamespace bool) {
	if tm := obj.GetTypeMeta(); tm.APIVersion == "" && tm.Kind == "" {
		tm.APIVersion, tm.Kind = info.APIVersion, info.Kind
	}
	if m := obj.GetObjectMeta(); fillNamespace && info.Namespaced && m.Namespace == "" {
		m.Namespace = api.DefaultNamespace
	}
}

// invalid returns nil or one Invalid error with the problems of obj: an
// apiVersion or kind that does not match its Go type, then the
// strategy's.
func invalid(info api.KindInfo, obj api.Object, errs api.FieldErrorList) error {
	var all api.FieldErrorList
	tm := obj.GetTypeMeta()
	if tm.APIVersion != "" && tm.APIVersion != info.APIVersion {
		all = append(all, api.NotSupported(api.NewPath("apiVersion"), tm.APIVersion, info.APIVersion))
	}
	if tm.Kind != "" && tm.Kind != info.Kind {
		all = append(all, api.NotSupported(api.NewPath("kind"), tm.Kind, info.Kind))
	}
	all = append(all, errs...)
	if len(all) == 0 {
		return nil
	}
	return api.NewInvalid(info.Kind, obj.GetName(), all)
}

// authorize is the hook point for authentication and authorization, run
// by every write before admission: the API server issue makes it refuse
// (Forbidden, in Kubernetes' RBAC wording) what the request's user may not
// do, with the user carried in ctx and then in the Attributes. Until then
// every write comes from inside the cluster and is allowed.
func (r *Registry) authorize(context.Context, *admission.Attributes) error { return nil }

// commit stores op in one transaction with a check of every object in
// pre (what admission required unchanged): each must still exist at the
// resourceVersion it was read at; and with the claim record writes of cs
// (nil: none), so that an object and the values it holds are stored or
// freed together.
//
// Writes of a Fenced view carry the fence after the checks, so the
// indexes of pre stay those of the transaction's ops.
//
// Errors: errPrecondition when a check fails or a claim record moved or
// was taken meanwhile; Invalid naming the field when a value the client
// asked for is held by another object; otherwise op's store error
// (unwrapped from the transaction's), raftstore.ErrFenced for a fenced
// view whose term has ended, or InternalError for a precondition on an
// unregistered type.
func (r *Registry) commit(ctx context.Context, pre []api.Object, cs *claimSet, op raftstore.Op) (int64, error) {
	ops := make([]raftstore.Op, 0, len(pre)+len(cs.opsOrNil())+2)
	for _, p := range pre {
		info, ok := r.scheme.KindFor(p)
		if !ok {
			return 0, api.NewInternalError(fmt.Errorf("registry: admission required an object of unregistered type %T unchanged", p))
		}
		rev, err := client.ParseResourceVersion(p.GetResourceVersion())
		if err != nil {
			return 0, api.NewInternalError(fmt.Errorf("registry: admission required %s %s unchanged: %w", info.Kind, api.KeyOf(p), err))
		}
		ops = append(ops, raftstore.OpCheck(StoreKey(info, p.GetNamespace(), p.GetName()), rev))
	}
	if r.fence != 0 {
		ops = append(ops, raftstore.OpFence(r.fence))
	}
	claimsAt := len(ops)
	ops = append(ops, cs.opsOrNil()...)
	rev, err := r.kv.Txn(ctx, append(ops, op)...)
	var te *raftstore.TxnError
	if errors.As(err, &te) {
		switch {
		case te.Index < len(pre):
			return 0, fmt.Errorf("%w: %w", errPrecondition, te.Err)
		case te.Index >= claimsAt && te.Index < claimsAt+len(cs.opsOrNil()):
			return 0, cs.failed(te.Index-claimsAt, te.Err)
		}
		return 0, te.Err
	}
	return rev, err
}

// commitOutcome says what a write does after commit returned err on its
// attempt-th try: run again on fresh state (an admission precondition
// moved, or the object changed under a write that named no
// resourceVersion, latest), or return the error (nil: stored).
func commitOutcome(err error, attempt int, latest bool, info api.KindInfo, name string) (retry bool, _ error) {
	switch {
	case err == nil:
		return false, nil
	case errors.Is(err, errPrecondition) && attempt < maxAttempts:
		return true, nil
	case errors.Is(err, errPrecondition):
		return false, raced(info, name)
	case latest && raftstore.IsConflict(err):
		return true, nil // written meanwhile: apply to the latest version
	}
	return false, storeErr(err, info, name)
}

// raced is the error of a write whose admission preconditions kept
// changing for maxAttempts attempts.
func raced(info api.KindInfo, name string) error {
	return api.NewConflict(info.Kind, name, errors.New("the objects its admission depends on kept changing; please try again"))
}

// Create stores a new object; on success obj is updated in place to the
// stored object (name, uid, resourceVersion, defaults, ...), and on
// failure it is left as it was. A namespaced object needs its Namespace
// to exist and not be terminating (NamespaceLifecycle admission): the
// check and the write are one transaction. The SystemNamespaces are
// created on first use.
//
// Errors: Invalid listing every bad field path (nothing stored);
// AlreadyExists; NotFound naming the Namespace (`Namespace "x" not
// found`) when it does not exist; Forbidden when it is being deleted or
// an admission plugin refuses; Conflict when what admission decided on
// kept changing; BadRequest for a nil or unregistered type, a bad
// fieldManager, or a metadata.resourceVersion set on obj (Kubernetes'
// "resourceVersion should not be set on objects to be created"); Invalid
// for more replicas than Limits.MaxReplicas; Forbidden when the namespace
// holds Limits.MaxObjectsPerNamespace objects of the kind already;
// ServiceUnavailable when no leader is reachable; ctx.Err().
//
// With o.DryRun every check runs and nothing is stored; obj receives what
// would have been stored, without a resourceVersion.
func (r *Registry) Create(ctx context.Context, obj api.Object, o client.CreateOptions) error {
	info, st, err := r.kind(obj)
	if err != nil {
		return err
	}
	if err := client.CheckFieldManager(o.FieldManager); err != nil {
		return err
	}
	if rv := obj.GetResourceVersion(); rv != "" && rv != "0" {
		// A client that sets it most likely re-creates an object it read:
		// refusing tells it so, as Kubernetes does ("0" means unset there).
		return api.NewBadRequest("resourceVersion should not be set on objects to be created")
	}
	// Each attempt starts again from the caller's object, so that a
	// retry (a generated name taken, or a precondition of admission
	// changed) runs every stage on fresh state, mutating admission
	// included.
	for attempt := 0; ; attempt++ {
		next := obj.DeepCopyObject()
		decodeRequest(info, next, true)
		m := next.GetObjectMeta()
		a := &admission.Attributes{
			Operation: admission.Create, Kind: info, Namespace: m.Namespace, Name: m.Name,
			Object: next, DryRun: o.DryRun, Client: r, Consistent: attempt > 0,
		}
		if err := r.authorize(ctx, a); err != nil {
			return err
		}
		if err := r.admission.Admit(ctx, a); err != nil {
			return err
		}

		generated := m.Name == "" && m.GenerateName != ""
		if generated {
			prefix := m.GenerateName
			if len(prefix) > 58 {
				prefix = prefix[:58]
			}
			m.Name = prefix + randomSuffix(5)
		}
		m.UID = newUID()
		m.CreationTimestamp = api.Now()
		m.Generation = 1
		m.ResourceVersion = ""
		m.DeletionTimestamp = nil
		m.DeletionGracePeriodSeconds = nil
		st.PrepareForCreate(next)
		st.Default(next)
		recordManager(m, o.FieldManager, info.APIVersion, "")
		requested := requestedClaims(st, next)
		allocErrs, err := r.allocate(ctx, st, next, nil, attempt > 0)
		if err != nil {
			return err
		}
		if err := invalid(info, next, append(append(st.Validate(next), r.replicaLimit(st, next, nil)...), allocErrs...)); err != nil {
			return err
		}

		a.Namespace, a.Name = m.Namespace, m.Name
		if err := r.admission.Validate(ctx, a); err != nil {
			return err
		}
		data, err := encode(next)
		if err != nil {
			return err
		}
		done, err := r.admitCreate(ctx, info, m.Namespace, m.Name)
		if err != nil {
			return err
		}
		key := StoreKey(info, m.Namespace, m.Name)
		if o.DryRun {
			err = r.absent(ctx, key)
			done(false)
		} else {
			var rev int64
			var cs *claimSet
			if cs, err = r.claimOps(ctx, st, info, next, nil, requested, attempt > 0); err != nil {
				done(false)
				return err
			}
			rev, err = r.commit(ctx, a.Preconditions(), cs, raftstore.OpCreate(key, data))
			done(err == nil)
			if err == nil {
				m.ResourceVersion = strconv.FormatInt(rev, 10)
			}
		}
		switch {
		case err == nil:
			return client.CopyInto(obj, next)
		case (errors.Is(err, errPrecondition) || generated && raftstore.IsAlreadyExists(err)) && attempt < maxAttempts:
			continue
		case errors.Is(err, errPrecondition):
			return raced(info, m.Name)
		}
		if _, ok := api.AsStatusError(err); ok {
			return err
		}
		return storeErr(err, info, m.Name)
	}
}

// Update replaces the spec and metadata of a stored object with obj's,
// keeping the stored status, uid, creationTimestamp and deletion state.
// With a resourceVersion on obj it is compare-and-swap; without one it
// applies to the latest version. obj is updated to the stored object.
// Removing the last finalizer of an object being deleted deletes it
// (unless its kind is deleted by a finalize step, as a Namespace is).
//
// Errors: NotFound; Conflict for a stale resourceVersion; Invalid with
// every bad field path (including changed immutable fields, and replicas
// raised over Limits.MaxReplicas); Forbidden when an admission plugin
// refuses; BadRequest for a nil or unregistered type;
// ServiceUnavailable; ctx.Err().
//
// With o.DryRun every check runs and nothing is stored.
func (r *Registry) Update(ctx context.Context, obj api.Object, o client.UpdateOptions) error {
	return r.update(ctx, obj, false, o)
}

// UpdateStatus replaces only the status of a stored object with obj's.
// Errors as Update, and BadRequest for a kind without status.
func (r *Registry) UpdateStatus(ctx context.Context, obj api.Object, o client.UpdateOptions) error {
	return r.update(ctx, obj, true, o)
}

func (r *Registry) update(ctx context.Context, obj api.Object, status bool, o client.UpdateOptions) error {
	info, st, err := r.kind(obj)
	if err != nil {
		return err
	}
	if err := client.CheckFieldManager(o.FieldManager); err != nil {
		return err
	}
	var sub string
	var ss strategy.StatusStrategy
	if status {
		if ss = st.Status(); ss == nil {
			return api.NewBadRequest(fmt.Sprintf("%s has no status", info.Kind))
		}
		sub = admission.SubresourceStatus
	}
	m := obj.GetObjectMeta()
	want, err := client.ParseResourceVersion(m.ResourceVersion)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		cur, err := r.get(ctx, info, m.Namespace, m.Name, readOpts{Consistent: want == 0})
		if err != nil && !api.IsNotFound(err) {
			return err
		}
		curRev := int64(0)
		if cur != nil {
			curRev, _ = client.ParseResourceVersion(cur.GetResourceVersion())
		}
		if want != 0 && want != curRev {
			// The local replica may lag behind the caller's version: the
			// stored status and metadata must come from the latest one.
			if cur, err = r.get(ctx, info, m.Namespace, m.Name, readOpts{Consistent: true}); err != nil {
				return err
			}
			curRev, _ = client.ParseResourceVersion(cur.GetResourceVersion())
			if want != curRev {
				return storeErr(raftstore.ErrConflict, info, m.Name)
			}
		} else if err != nil {
			return err
		}
		expected := want
		if expected == 0 {
			expected = curRev
		}
		// The stored form, taken before the stages below see cur, to
		// tell a write that changes nothing.
		stored, err := encode(cur)
		if err != nil {
			return err
		}

		next := obj.DeepCopyObject()
		decodeRequest(info, next, false)
		a := &admission.Attributes{
			Operation: admission.Update, Kind: info, Namespace: m.Namespace, Name: m.Name, Subresource: sub,
			Object: next, OldObject: cur, DryRun: o.DryRun, Client: r, Consistent: attempt > 0,
		}
		if err := r.authorize(ctx, a); err != nil {
			return err
		}
		if err := r.admission.Admit(ctx, a); err != nil {
			return err
		}
		nm, cm := next.GetObjectMeta(), cur.GetObjectMeta()
		var errs api.FieldErrorList
		var sent []api.ManagedFieldsEntry // managedFields before this write's own entry
		var requested map[string]bool
		if status {
			// A status write changes the status and nothing else: the
			// type and metadata are the stored ones, the rest is the
			// strategy's.
			*next.GetTypeMeta() = *cur.GetTypeMeta()
			*nm = api.Clone(*cm)
			ss.PrepareForUpdate(next, cur)
			st.Default(next)
			sent = slices.Clone(nm.ManagedFields)
			recordManager(nm, o.FieldManager, info.APIVersion, admission.SubresourceStatus)
			errs = ss.ValidateUpdate(next, cur)
		} else {
			nm.DeletionTimestamp = cm.DeletionTimestamp
			nm.DeletionGracePeriodSeconds = cm.DeletionGracePeriodSeconds
			nm.Generation = cm.Generation
			if nm.UID == "" {
				nm.UID = cm.UID
			}
			if nm.CreationTimestamp.IsZero() {
				nm.CreationTimestamp = cm.CreationTimestamp
			}
			if nm.ManagedFields == nil {
				nm.ManagedFields = slices.Clone(cm.ManagedFields)
			}
			st.PrepareForUpdate(next, cur)
			st.Default(next)
			requested = requestedClaims(st, next)
			allocErrs, err := r.allocate(ctx, st, next, cur, attempt > 0)
			if err != nil {
				return err
			}
			if st.BumpsGeneration(next, cur) {
				nm.Generation++
			}
			sent = slices.Clone(nm.ManagedFields)
			recordManager(nm, o.FieldManager, info.APIVersion, "")
			errs = append(append(st.ValidateUpdate(next, cur), r.replicaLimit(st, next, cur)...), allocErrs...)
		}
		if err := invalid(info, next, errs); err != nil {
			return err
		}
		if err := r.admission.Validate(ctx, a); err != nil {
			return err
		}
		if o.DryRun {
			next.SetResourceVersion(strconv.FormatInt(curRev, 10))
			return client.CopyInto(obj, next)
		}
		key := StoreKey(info, nm.Namespace, nm.Name)
		removed := nm.DeletionTimestamp != nil && len(nm.Finalizers) == 0 && st.Deletion() == strategy.DeleteWhenUnheld
		if !removed {
			same, err := unchanged(next, sent, stored)
			if err != nil {
				return err
			}
			if same {
				// Nothing to store (Kubernetes' GuaranteedUpdate skips
				// the write too): no revision, no watch event.
				nm.ManagedFields = sent
				next.SetResourceVersion(strconv.FormatInt(curRev, 10))
				return client.CopyInto(obj, next)
			}
		}
		var op raftstore.Op
		var cs *claimSet
		if removed {
			op = raftstore.OpDelete(key, expected)
			cs, err = r.claimOps(ctx, st, info, nil, cur, nil, attempt > 0)
		} else {
			data, err := encode(next)
			if err != nil {
				return err
			}
			op = raftstore.OpUpdate(key, data, expected)
			if !status {
				cs, err = r.claimOps(ctx, st, info, next, cur, requested, attempt > 0)
			}
		}
		if err != nil {
			return err
		}
		rev, err := r.commit(ctx, a.Preconditions(), cs, op)
		if retry, err := commitOutcome(err, attempt, want == 0, info, nm.Name); retry {
			continue
		} else if err != nil {
			return err
		}
		if !removed {
			next.SetResourceVersion(strconv.FormatInt(rev, 10))
		}
		return client.CopyInto(obj, next)
	}
}

// Patch applies a patch of type pt to the stored object named by obj's
// namespace and name and stores the result as Update would (retrying on
// concurrent writes unless the patch names a resourceVersion). obj
// receives the result. pt is MergePatchType (RFC 7386; also for ""),
// JSONPatchType (RFC 6902) or StrategicMergePatchType (lists merged by
// the keys of the kind's patch tags, see api.StrategicMergePatch).
//
// Errors: NotFound; BadRequest for a malformed patch, a malformed
// strategic merge directive or a failed JSON patch test; Invalid when the
// result has unknown fields or fails validation; Conflict;
// UnsupportedMediaType for server-side apply (ApplyPatchType), which is
// not served, and for an unknown patch type; ctx.Err().
func (r *Registry) Patch(ctx context.Context, obj api.Object, pt api.PatchType, patch []byte, o client.PatchOptions) error {
	info, err := r.Info(obj)
	if err != nil {
		return err
	}
	apply, err := patcher(pt, patch, info.New())
	if err != nil {
		return err
	}
	m := obj.GetObjectMeta()
	for {
		cur, err := r.get(ctx, info, m.Namespace, m.Name, readOpts{Consistent: true})
		if err != nil {
			return err
		}
		curJSON, err := json.Marshal(cur)
		if err != nil {
			return api.NewInternalError(err)
		}
		merged, err := apply(curJSON)
		if err != nil {
			return err
		}
		next := info.New()
		if err := r.scheme.DecodeInto(merged, next); err != nil {
			return err
		}
		explicitRV := next.GetResourceVersion() != cur.GetResourceVersion()
		if !explicitRV {
			next.SetResourceVersion(cur.GetResourceVersion())
		}
		err = r.Update(ctx, next, client.UpdateOptions{DryRun: o.DryRun, FieldManager: o.FieldManager})
		if api.IsConflict(err) && !explicitRV {
			continue
		}
		if err != nil {
			return err
		}
		return client.CopyInto(obj, next)
	}
}

// Delete deletes the object of obj's kind with the given name. An object
// with finalizers is only marked (deletionTimestamp); it disappears when
// the last finalizer is removed. A kind deleted by a finalize step (a
// Namespace) is always only marked, with status.phase Terminating: the
// namespace controller deletes its content and then removes it
// (RemoveNamespace); the propagation policy does not apply to it. obj
// receives the last state, with the resourceVersion of the deletion (or
// of the marking write).
//
// Errors: NotFound; Conflict when the precondition fails; Forbidden for a
// system namespace (NamespaceLifecycle) or when another admission plugin
// refuses; BadRequest for an unknown propagation policy;
// ServiceUnavailable; ctx.Err().
//
// With o.DryRun the deletion is checked and nothing changes; obj receives
// what would have been the last state.
func (r *Registry) Delete(ctx context.Context, namespace, name string, obj api.Object, o client.DeleteOptions) error {
	info, st, err := r.kind(obj)
	if err != nil {
		return err
	}
	want, err := client.ParseResourceVersion(o.ResourceVersion)
	if err != nil {
		return err
	}
	var finalizer string
	switch o.Propagation {
	case "", api.DeletePropagationBackground:
	case api.DeletePropagationForeground:
		finalizer = api.FinalizerForegroundDeletion
	case api.DeletePropagationOrphan:
		finalizer = api.FinalizerOrphanDependents
	default:
		return api.NewBadRequest(fmt.Sprintf("unknown propagationPolicy %q: want Background, Foreground or Orphan", o.Propagation))
	}
	for attempt := 0; ; attempt++ {
		cur, curRev, err := r.current(ctx, info, namespace, name, want)
		if err != nil {
			return err
		}
		a := &admission.Attributes{
			Operation: admission.Delete, Kind: info, Namespace: namespace, Name: name,
			OldObject: cur, DryRun: o.DryRun, Client: r, Consistent: attempt > 0,
		}
		if err := r.authorize(ctx, a); err != nil {
			return err
		}
		if err := r.admission.Admit(ctx, a); err != nil {
			return err
		}
		if err := r.admission.Validate(ctx, a); err != nil {
			return err
		}
		cm := cur.GetObjectMeta()
		var was []byte // the stored form of an object already being deleted
		if cm.DeletionTimestamp != nil {
			if was, err = encode(cur); err != nil {
				return err
			}
		}
		byFinalize := st.Deletion() == strategy.DeleteByFinalize
		if finalizer != "" && !byFinalize && !slices.Contains(cm.Finalizers, finalizer) {
			cm.Finalizers = append(cm.Finalizers, finalizer)
		}
		marked := byFinalize || len(cm.Finalizers) > 0
		if marked {
			st.PrepareForDelete(cur)
			if cm.DeletionTimestamp == nil {
				cm.DeletionTimestamp = api.NewTimePtr(api.Now().Time)
				cm.DeletionGracePeriodSeconds = api.Ptr(int64(0))
			}
		}
		if o.DryRun {
			return client.CopyInto(obj, cur)
		}
		key := StoreKey(info, namespace, name)
		op := raftstore.OpDelete(key, curRev)
		var cs *claimSet
		if marked {
			data, err := encode(cur)
			if err != nil {
				return err
			}
			if bytes.Equal(data, was) {
				// Deleted again while being deleted: nothing changes.
				return client.CopyInto(obj, cur)
			}
			op = raftstore.OpUpdate(key, data, curRev)
		} else if cs, err = r.claimOps(ctx, st, info, nil, cur, nil, attempt > 0); err != nil {
			return err
		}
		rev, err := r.commit(ctx, a.Preconditions(), cs, op)
		if retry, err := commitOutcome(err, attempt, want == 0, info, name); retry {
			continue
		} else if err != nil {
			return err
		}
		cur.SetResourceVersion(strconv.FormatInt(rev, 10))
		return client.CopyInto(obj, cur)
	}
}

// RemoveNamespace deletes a Namespace that is being deleted once nothing
// holds it: no finalizers remain and the caller (the namespace controller)
// has seen it empty. rv, if set, must be its resourceVersion. obj
// receives the last state.
//
// Errors: NotFound; Conflict when rv is stale, when the Namespace is not
// being deleted or when finalizers remain; ServiceUnavailable; ctx.Err().
func (r *Registry) RemoveNamespace(ctx context.Context, name, rv string, obj *api.Namespace) error {
	return r.finalize(ctx, "", name, rv, obj)
}

// finalize is the last step of deleting an object of a kind deleted by a
// finalize step (strategy.DeleteByFinalize): its controller removes it
// once Delete marked it and no finalizer holds it (Kubernetes'
// namespaces/finalize subresource). It is admitted as a delete of the
// "finalize" subresource.
//
// Errors: as RemoveNamespace; BadRequest for a kind Delete removes itself.
func (r *Registry) finalize(ctx context.Context, namespace, name, rv string, obj api.Object) error {
	info, st, err := r.kind(obj)
	if err != nil {
		return err
	}
	if st.Deletion() != strategy.DeleteByFinalize {
		return api.NewBadRequest(fmt.Sprintf("%s has no finalize step: Delete removes it", info.Kind))
	}
	want, err := client.ParseResourceVersion(rv)
	if err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		cur, curRev, err := r.current(ctx, info, namespace, name, want)
		if err != nil {
			return err
		}
		cm := cur.GetObjectMeta()
		switch {
		case cm.DeletionTimestamp == nil:
			return api.NewConflict(info.Kind, name, fmt.Errorf("the %s is not being deleted", strings.ToLower(info.Kind)))
		case len(cm.Finalizers) > 0:
			return api.NewConflict(info.Kind, name, fmt.Errorf("finalizers remain: %v", cm.Finalizers))
		}
		a := &admission.Attributes{
			Operation: admission.Delete, Kind: info, Namespace: namespace, Name: name, Subresource: admission.SubresourceFinalize,
			OldObject: cur, Client: r, Consistent: attempt > 0,
		}
		if err := r.authorize(ctx, a); err != nil {
			return err
		}
		if err := r.admission.Admit(ctx, a); err != nil {
			return err
		}
		if err := r.admission.Validate(ctx, a); err != nil {
			return err
		}
		cs, err := r.claimOps(ctx, st, info, nil, cur, nil, attempt > 0)
		if err != nil {
			return err
		}
		rev, err := r.commit(ctx, a.Preconditions(), cs, raftstore.OpDelete(StoreKey(info, namespace, name), curRev))
		if retry, err := commitOutcome(err, attempt, false, info, name); retry {
			continue
		} else if err != nil {
			return err
		}
		cur.SetResourceVersion(strconv.FormatInt(rev, 10))
		return client.CopyInto(obj, cur)
	}
}

// Bind sets spec.nodeName of an unbound Pod and its PodScheduled condition
// in one compare-and-swap write at the Pod's resourceVersion (the
// scheduler's binding, Kubernetes' pods/binding subresource, admitted as
// an update of the "binding" subresource). It is the one write that names
// its kind, because its signature does.
//
// Errors: NotFound; Conflict when the Pod changed or is already bound;
// Forbidden when an admission plugin refuses; ServiceUnavailable;
// ctx.Err().
func (r *Registry) Bind(ctx context.Context, pod *api.Pod, nodeName string, o client.UpdateOptions) (*api.Pod, error) {
	info, err := r.Info(pod)
	if err != nil {
		return nil, err
	}
	if err := client.CheckFieldManager(o.FieldManager); err != nil {
		return nil, err
	}
	rev, err := client.ParseResourceVersion(pod.ResourceVersion)
	if err != nil {
		return nil, err
	}
	if pod.Spec.NodeName != "" {
		return nil, api.NewConflict(info.Kind, pod.Name, fmt.Errorf("pod is already bound to %q", pod.Spec.NodeName))
	}
	next := pod.DeepCopy()
	next.Spec.NodeName = nodeName
	conditions.SetPod(&next.Status, api.PodCondition{Type: api.PodScheduled, Status: api.ConditionTrue}, api.Now())
	recordManager(&next.ObjectMeta, o.FieldManager, info.APIVersion, admission.SubresourceBinding)
	a := &admission.Attributes{
		Operation: admission.Update, Kind: info, Namespace: pod.Namespace, Name: pod.Name, Subresource: admission.SubresourceBinding,
		Object: next, OldObject: pod, DryRun: o.DryRun, Client: r,
	}
	if err := r.authorize(ctx, a); err != nil {
		return nil, err
	}
	if err := r.admission.Admit(ctx, a); err != nil {
		return nil, err
	}
	if err := r.admission.Validate(ctx, a); err != nil {
		return nil, err
	}
	if o.DryRun {
		return next, nil
	}
	data, err := encode(next)
	if err != nil {
		return nil, err
	}
	nrev, err := r.commit(ctx, a.Preconditions(), nil, raftstore.OpUpdate(StoreKey(info, pod.Namespace, pod.Name), data, rev))
	switch {
	case errors.Is(err, errPrecondition):
		// The binding is a compare-and-swap the scheduler retries from a
		// fresh read; it does the same when admission's state moved.
		return nil, raced(info, pod.Name)
	case err != nil:
		return nil, storeErr(err, info, pod.Name)
	}
	next.ResourceVersion = strconv.FormatInt(nrev, 10)
	return next, nil
}

// unchanged reports whether storing next would store again what is
// stored (the encoded stored object). sent is next's managedFields before
// the write recorded its manager: an entry whose only change is this
// write's time does not count (as Kubernetes' field manager keeps the
// stored managedFields of a write that changes nothing), but
// managedFields the caller changed do.
//
// Errors: InternalError when next does not encode.
func unchanged(next api.Object, sent []api.ManagedFieldsEntry, stored []byte) (bool, error) {
	nm := next.GetObjectMeta()
	recorded := nm.ManagedFields
	nm.ManagedFields = sent
	data, err := encode(next)
	nm.ManagedFields = recorded
	if err != nil {
		return false, err
	}
	return bytes.Equal(data, stored), nil
}

// current reads the object a delete or finalize acts on, consistently,
// with its revision, and checks the caller's precondition: want is the
// resourceVersion it requires (0: any).
func (r *Registry) current(ctx context.Context, info api.KindInfo, namespace, name string, want int64) (api.Object, int64, error) {
	cur, err := r.get(ctx, info, namespace, name, readOpts{Consistent: true})
	if err != nil {
		return nil, 0, err
	}
	rev, _ := client.ParseResourceVersion(cur.GetResourceVersion())
	if want != 0 && want != rev {
		return nil, 0, storeErr(raftstore.ErrConflict, info, name)
	}
	return cur, rev, nil
}
