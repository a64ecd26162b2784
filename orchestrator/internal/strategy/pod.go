package strategy

import "github.com/flotilla-io/flotilla/orchestrator/api"

// podStrategy: a Pod's status belongs to the scheduler and the agent; a
// new Pod starts Pending. Its spec is immutable but for images, the
// active deadline, added tolerations and the one-time binding of
// spec.nodeName.
type podStrategy struct{ deletedWhenUnheld }

func (podStrategy) NamespaceScoped() bool { return true }

func (podStrategy) PrepareForCreate(obj api.Object) {
	obj.(*api.Pod).Status = api.PodStatus{Phase: api.PodPending}
}

func (podStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*api.Pod).Status = api.Clone(old.(*api.Pod).Status)
}

func (podStrategy) Default(obj api.Object) { defaultPodSpec(&obj.(*api.Pod).Spec) }

func (podStrategy) Validate(obj api.Object) api.FieldErrorList {
	p := obj.(*api.Pod)
	errs := ValidateObjectMeta(&p.ObjectMeta, true, api.IsDNS1123Subdomain, api.NewPath("metadata"))
	return append(errs, ValidatePodSpec(&p.Spec, api.NewPath("spec"))...)
}

func (s podStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	errs := append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
	return append(errs, validatePodSpecUpdate(&old.(*api.Pod).Spec, &obj.(*api.Pod).Spec)...)
}

func (podStrategy) BumpsGeneration(obj, old api.Object) bool {
	return !semanticEqual(obj.(*api.Pod).Spec, old.(*api.Pod).Spec)
}

func (podStrategy) Status() StatusStrategy { return podStatusStrategy{} }

func (podStrategy) WeakRef(obj api.Object) func() api.Object { return weakRef[api.Pod](obj) }

type podStatusStrategy struct{}

func (podStatusStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*api.Pod).Spec = api.Clone(old.(*api.Pod).Spec)
}

func (podStatusStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	return podStrategy{}.ValidateUpdate(obj, old)
}
