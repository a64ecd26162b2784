package strategy

import "github.com/flotilla-io/flotilla/orchestrator/api"

// deploymentStrategy: the status is the Deployment controller's; the
// selector is immutable (changing it would orphan the ReplicaSets).
type deploymentStrategy struct{ deletedWhenUnheld }

func (deploymentStrategy) NamespaceScoped() bool { return true }

func (deploymentStrategy) PrepareForCreate(obj api.Object) {
	obj.(*api.Deployment).Status = api.DeploymentStatus{}
}

func (deploymentStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*api.Deployment).Status = api.Clone(old.(*api.Deployment).Status)
}

func (deploymentStrategy) Default(obj api.Object) { defaultDeployment(obj.(*api.Deployment)) }

func (deploymentStrategy) Validate(obj api.Object) api.FieldErrorList {
	d := obj.(*api.Deployment)
	errs := ValidateObjectMeta(&d.ObjectMeta, true, api.IsDNS1123Subdomain, api.NewPath("metadata"))
	return append(errs, validateDeploymentSpec(&d.Spec, api.NewPath("spec"))...)
}

func (s deploymentStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	errs := append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
	n := obj.(*api.Deployment)
	if !selectorsEqual(old.(*api.Deployment).Spec.Selector, n.Spec.Selector) {
		errs = append(errs, api.Invalid(api.NewPath("spec", "selector"), n.Spec.Selector, "field is immutable"))
	}
	return errs
}

// Replicas implements Replicated: spec.replicas.
func (deploymentStrategy) Replicas(obj api.Object) (int64, api.Path, bool) {
	r := obj.(*api.Deployment).Spec.Replicas
	if r == nil {
		return 0, api.Path{}, false
	}
	return int64(*r), api.NewPath("spec", "replicas"), true
}

func (deploymentStrategy) BumpsGeneration(obj, old api.Object) bool {
	return !semanticEqual(obj.(*api.Deployment).Spec, old.(*api.Deployment).Spec)
}

func (deploymentStrategy) Status() StatusStrategy { return deploymentStatusStrategy{} }

type deploymentStatusStrategy struct{}

func (deploymentStatusStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*api.Deployment).Spec = api.Clone(old.(*api.Deployment).Spec)
}

func (deploymentStatusStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	return deploymentStrategy{}.ValidateUpdate(obj, old)
}
