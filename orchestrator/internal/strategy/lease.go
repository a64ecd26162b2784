package strategy

import "github.com/flotilla-io/flotilla/orchestrator/api"

// leaseStrategy: coordination.k8s.io/v1 Lease, a spec without status;
// validation as Kubernetes' ValidateLease.
type leaseStrategy struct {
	noStatus
	deletedWhenUnheld
}

func (leaseStrategy) NamespaceScoped() bool { return true }

func (leaseStrategy) PrepareForCreate(api.Object) {}

func (leaseStrategy) PrepareForUpdate(api.Object, api.Object) {}

func (leaseStrategy) Default(api.Object) {}

func (leaseStrategy) Validate(obj api.Object) api.FieldErrorList {
	l := obj.(*api.Lease)
	errs := ValidateObjectMeta(&l.ObjectMeta, true, api.IsDNS1123Subdomain, api.NewPath("metadata"))
	return append(errs, validateLeaseSpec(&l.Spec, api.NewPath("spec"))...)
}

func (s leaseStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	return append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
}

// BumpsGeneration: a Lease has no status, and its renewals are its
// purpose; Kubernetes leaves its generation alone.
func (leaseStrategy) BumpsGeneration(api.Object, api.Object) bool { return false }

func validateLeaseSpec(spec *api.LeaseSpec, p api.Path) api.FieldErrorList {
	var errs api.FieldErrorList
	if d := spec.LeaseDurationSeconds; d != nil && *d <= 0 {
		errs = append(errs, api.Invalid(p.Child("leaseDurationSeconds"), *d, "must be greater than 0"))
	}
	if n := spec.LeaseTransitions; n != nil && *n < 0 {
		errs = append(errs, api.Invalid(p.Child("leaseTransitions"), *n, "must be greater than or equal to 0"))
	}
	return errs
}
