package strategy

import "github.com/flotilla-io/flotilla/orchestrator/api"

// nodeStrategy: the agent registers its Node with its status (capacity,
// addresses, Ready), so unlike the workload kinds a new Node keeps the
// status it is created with, as in Kubernetes.
type nodeStrategy struct{ deletedWhenUnheld }

func (nodeStrategy) NamespaceScoped() bool { return false }

func (nodeStrategy) PrepareForCreate(api.Object) {}

func (nodeStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*api.Node).Status = api.Clone(old.(*api.Node).Status)
}

func (nodeStrategy) Default(api.Object) {}

func (nodeStrategy) Validate(obj api.Object) api.FieldErrorList {
	n := obj.(*api.Node)
	errs := ValidateObjectMeta(&n.ObjectMeta, false, api.IsDNS1123Subdomain, api.NewPath("metadata"))
	return append(errs, validateNode(n)...)
}

func (s nodeStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	return append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
}

func (nodeStrategy) BumpsGeneration(obj, old api.Object) bool {
	return !semanticEqual(obj.(*api.Node).Spec, old.(*api.Node).Spec)
}

func (nodeStrategy) Status() StatusStrategy { return nodeStatusStrategy{} }

func (nodeStrategy) WeakRef(obj api.Object) func() api.Object { return weakRef[api.Node](obj) }

type nodeStatusStrategy struct{}

func (nodeStatusStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*api.Node).Spec = api.Clone(old.(*api.Node).Spec)
}

func (nodeStatusStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	return nodeStrategy{}.ValidateUpdate(obj, old)
}
