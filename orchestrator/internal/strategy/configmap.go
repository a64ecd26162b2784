package strategy

import "github.com/flotilla-io/flotilla/orchestrator/api"

// configMapStrategy: no status; the data is the desired state, and an
// immutable ConfigMap keeps it (and its immutability) for good.
type configMapStrategy struct {
	noStatus
	deletedWhenUnheld
}

func (configMapStrategy) NamespaceScoped() bool { return true }

func (configMapStrategy) PrepareForCreate(api.Object) {}

func (configMapStrategy) PrepareForUpdate(api.Object, api.Object) {}

func (configMapStrategy) Default(api.Object) {}

func (configMapStrategy) Validate(obj api.Object) api.FieldErrorList {
	cm := obj.(*api.ConfigMap)
	errs := ValidateObjectMeta(&cm.ObjectMeta, true, api.IsDNS1123Subdomain, api.NewPath("metadata"))
	return append(errs, validateConfigMap(cm)...)
}

func (s configMapStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	errs := append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
	n, o := obj.(*api.ConfigMap), old.(*api.ConfigMap)
	if o.Immutable != nil && *o.Immutable {
		if n.Immutable == nil || !*n.Immutable {
			errs = append(errs, api.Forbidden(api.NewPath("immutable"), "field is immutable when `immutable` is set"))
		}
		if !semanticEqual(o.Data, n.Data) {
			errs = append(errs, api.Forbidden(api.NewPath("data"), "field is immutable when `immutable` is set"))
		}
		if !semanticEqual(o.BinaryData, n.BinaryData) {
			errs = append(errs, api.Forbidden(api.NewPath("binaryData"), "field is immutable when `immutable` is set"))
		}
	}
	return errs
}

func (configMapStrategy) BumpsGeneration(obj, old api.Object) bool {
	n, o := obj.(*api.ConfigMap), old.(*api.ConfigMap)
	return !semanticEqual(n.Immutable, o.Immutable) || !semanticEqual(n.Data, o.Data) || !semanticEqual(n.BinaryData, o.BinaryData)
}
