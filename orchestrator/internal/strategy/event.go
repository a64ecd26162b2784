package strategy

import "github.com/flotilla-io/flotilla/orchestrator/api"

// eventStrategy: an Event is all fields and no spec or status; the event
// TTL controller expires it.
type eventStrategy struct {
	noStatus
	deletedWhenUnheld
}

func (eventStrategy) NamespaceScoped() bool { return true }

func (eventStrategy) PrepareForCreate(api.Object) {}

func (eventStrategy) PrepareForUpdate(api.Object, api.Object) {}

// Default sets type Normal and count 1, as Kubernetes' recorders do.
func (eventStrategy) Default(obj api.Object) {
	e := obj.(*api.Event)
	if e.Type == "" {
		e.Type = api.EventTypeNormal
	}
	if e.Count == 0 {
		e.Count = 1
	}
}

func (eventStrategy) Validate(obj api.Object) api.FieldErrorList {
	e := obj.(*api.Event)
	errs := ValidateObjectMeta(&e.ObjectMeta, true, api.IsDNS1123Subdomain, api.NewPath("metadata"))
	return append(errs, validateEvent(e)...)
}

func (s eventStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	return append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
}

// BumpsGeneration compares every field but the metadata: shallow copies
// with it cleared are only encoded, never modified.
func (eventStrategy) BumpsGeneration(obj, old api.Object) bool {
	n, o := *obj.(*api.Event), *old.(*api.Event)
	n.TypeMeta, o.TypeMeta = api.TypeMeta{}, api.TypeMeta{}
	n.ObjectMeta, o.ObjectMeta = api.ObjectMeta{}, api.ObjectMeta{}
	return !semanticEqual(n, o)
}
