package strategy

import "github.com/flotilla-io/flotilla/orchestrator/api"

// replicaSetStrategy: the status is the ReplicaSet controller's; the
// selector is immutable (changing it would orphan the Pods).
type replicaSetStrategy struct{ deletedWhenUnheld }

func (replicaSetStrategy) NamespaceScoped() bool { return true }

func (replicaSetStrategy) PrepareForCreate(obj api.Object) {
	obj.(*api.ReplicaSet).Status = api.ReplicaSetStatus{}
}

func (replicaSetStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*api.ReplicaSet).Status = api.Clone(old.(*api.ReplicaSet).Status)
}

// Default sets replicas 1 and the Pod template's defaults.
func (replicaSetStrategy) Default(obj api.Object) {
	rs := obj.(*api.ReplicaSet)
	if rs.Spec.Replicas == nil {
		rs.Spec.Replicas = api.Ptr(api.DefaultDeploymentReplicas)
	}
	defaultPodSpec(&rs.Spec.Template.Spec)
}

func (replicaSetStrategy) Validate(obj api.Object) api.FieldErrorList {
	rs := obj.(*api.ReplicaSet)
	errs := ValidateObjectMeta(&rs.ObjectMeta, true, api.IsDNS1123Subdomain, api.NewPath("metadata"))
	return append(errs, validateReplicaSetSpec(&rs.Spec, api.NewPath("spec"))...)
}

// Replicas implements Replicated: spec.replicas.
func (replicaSetStrategy) Replicas(obj api.Object) (int64, api.Path, bool) {
	r := obj.(*api.ReplicaSet).Spec.Replicas
	if r == nil {
		return 0, api.Path{}, false
	}
	return int64(*r), api.NewPath("spec", "replicas"), true
}

func (s replicaSetStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	errs := append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
	n := obj.(*api.ReplicaSet)
	if !selectorsEqual(old.(*api.ReplicaSet).Spec.Selector, n.Spec.Selector) {
		errs = append(errs, api.Invalid(api.NewPath("spec", "selector"), n.Spec.Selector, "field is immutable"))
	}
	return errs
}

func (replicaSetStrategy) BumpsGeneration(obj, old api.Object) bool {
	return !semanticEqual(obj.(*api.ReplicaSet).Spec, old.(*api.ReplicaSet).Spec)
}

func (replicaSetStrategy) Status() StatusStrategy { return replicaSetStatusStrategy{} }

func (replicaSetStrategy) WeakRef(obj api.Object) func() api.Object {
	return weakRef[api.ReplicaSet](obj)
}

type replicaSetStatusStrategy struct{}

func (replicaSetStatusStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*api.ReplicaSet).Spec = api.Clone(old.(*api.ReplicaSet).Spec)
}

func (replicaSetStatusStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	return replicaSetStrategy{}.ValidateUpdate(obj, old)
}
