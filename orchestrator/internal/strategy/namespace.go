package strategy

import "github.com/flotilla-io/flotilla/orchestrator/api"

// namespaceStrategy: a Namespace's phase is the server's, derived from its
// deletion state (Active, or Terminating once Delete marked it), whatever
// a client writes. Delete only marks it; the namespace controller deletes
// its content and then removes it (RemoveNamespace). What may be created
// in it is NamespaceLifecycle admission's business, not the strategy's.
type namespaceStrategy struct{}

func (namespaceStrategy) NamespaceScoped() bool { return false }

func (namespaceStrategy) PrepareForCreate(obj api.Object) {
	obj.(*api.Namespace).Status = api.NamespaceStatus{Phase: api.NamespaceActive}
}

func (namespaceStrategy) PrepareForUpdate(obj, old api.Object) {
	ns := obj.(*api.Namespace)
	ns.Status = api.Clone(old.(*api.Namespace).Status)
	setNamespacePhase(ns)
}

func (namespaceStrategy) Default(obj api.Object) {
	if ns := obj.(*api.Namespace); ns.Status.Phase == "" {
		ns.Status.Phase = api.NamespaceActive
	}
}

func (namespaceStrategy) Validate(obj api.Object) api.FieldErrorList {
	// Namespace names are DNS labels: they become parts of DNS names.
	return ValidateObjectMeta(&obj.(*api.Namespace).ObjectMeta, false, api.IsDNS1123Label, api.NewPath("metadata"))
}

func (s namespaceStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	return append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
}

func (namespaceStrategy) BumpsGeneration(obj, old api.Object) bool {
	return !semanticEqual(obj.(*api.Namespace).Spec, old.(*api.Namespace).Spec)
}

func (namespaceStrategy) Status() StatusStrategy { return namespaceStatusStrategy{} }

func (namespaceStrategy) Deletion() Deletion { return DeleteByFinalize }

func (namespaceStrategy) PrepareForDelete(obj api.Object) {
	obj.(*api.Namespace).Status.Phase = api.NamespaceTerminating
}

// setNamespacePhase makes the phase follow the deletion state: only
// RemoveNamespace ends a Terminating Namespace, so no write revives one.
func setNamespacePhase(ns *api.Namespace) {
	ns.Status.Phase = api.NamespaceActive
	if ns.DeletionTimestamp != nil {
		ns.Status.Phase = api.NamespaceTerminating
	}
}

type namespaceStatusStrategy struct{}

func (namespaceStatusStrategy) PrepareForUpdate(obj, old api.Object) {
	ns := obj.(*api.Namespace)
	ns.Spec = api.Clone(old.(*api.Namespace).Spec)
	setNamespacePhase(ns)
}

func (namespaceStatusStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	return namespaceStrategy{}.ValidateUpdate(obj, old)
}
