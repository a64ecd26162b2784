package strategy

import "github.com/flotilla-io/flotilla/orchestrator/api"

// daemonSetStrategy: the status is the DaemonSet controller's; the
// selector is immutable (changing it would orphan the Pods).
type daemonSetStrategy struct{ deletedWhenUnheld }

func (daemonSetStrategy) NamespaceScoped() bool { return true }

func (daemonSetStrategy) PrepareForCreate(obj api.Object) {
	obj.(*api.DaemonSet).Status = api.DaemonSetStatus{}
}

func (daemonSetStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*api.DaemonSet).Status = api.Clone(old.(*api.DaemonSet).Status)
}

// Default sets Kubernetes' defaults: updateStrategy RollingUpdate with
// maxUnavailable 1 and maxSurge 0, revisionHistoryLimit 10, and the Pod
// template's defaults.
func (daemonSetStrategy) Default(obj api.Object) {
	sp := &obj.(*api.DaemonSet).Spec
	us := &sp.UpdateStrategy
	if us.Type == "" {
		us.Type = api.RollingUpdateDaemonSetStrategyType
	}
	if us.Type == api.RollingUpdateDaemonSetStrategyType {
		if us.RollingUpdate == nil {
			us.RollingUpdate = &api.RollingUpdateDaemonSet{}
		}
		if us.RollingUpdate.MaxUnavailable == nil {
			us.RollingUpdate.MaxUnavailable = api.IntOrStringPtr(api.FromInt(api.DefaultDaemonSetMaxUnavailable))
		}
		if us.RollingUpdate.MaxSurge == nil {
			us.RollingUpdate.MaxSurge = api.IntOrStringPtr(api.FromInt(0))
		}
	}
	if sp.RevisionHistoryLimit == nil {
		sp.RevisionHistoryLimit = api.Ptr(api.DefaultRevisionHistoryLimit)
	}
	defaultPodSpec(&sp.Template.Spec)
}

func (daemonSetStrategy) Validate(obj api.Object) api.FieldErrorList {
	ds := obj.(*api.DaemonSet)
	errs := ValidateObjectMeta(&ds.ObjectMeta, true, api.IsDNS1123Subdomain, api.NewPath("metadata"))
	return append(errs, validateDaemonSetSpec(&ds.Spec, api.NewPath("spec"))...)
}

func (s daemonSetStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	errs := append(s.Validate(obj), ValidateObjectMetaUpdate(obj.GetObjectMeta(), old.GetObjectMeta())...)
	n := obj.(*api.DaemonSet)
	if !selectorsEqual(old.(*api.DaemonSet).Spec.Selector, n.Spec.Selector) {
		errs = append(errs, api.Invalid(api.NewPath("spec", "selector"), n.Spec.Selector, "field is immutable"))
	}
	return errs
}

func (daemonSetStrategy) BumpsGeneration(obj, old api.Object) bool {
	return !semanticEqual(obj.(*api.DaemonSet).Spec, old.(*api.DaemonSet).Spec)
}

func (daemonSetStrategy) Status() StatusStrategy { return daemonSetStatusStrategy{} }

type daemonSetStatusStrategy struct{}

func (daemonSetStatusStrategy) PrepareForUpdate(obj, old api.Object) {
	obj.(*api.DaemonSet).Spec = api.Clone(old.(*api.DaemonSet).Spec)
}

func (daemonSetStatusStrategy) ValidateUpdate(obj, old api.Object) api.FieldErrorList {
	errs := daemonSetStrategy{}.ValidateUpdate(obj, old)
	st, p := &obj.(*api.DaemonSet).Status, api.NewPath("status")
	for _, f := range []struct {
		name string
		v    int32
	}{
		{"currentNumberScheduled", st.CurrentNumberScheduled}, {"numberMisscheduled", st.NumberMisscheduled},
		{"desiredNumberScheduled", st.DesiredNumberScheduled}, {"numberReady", st.NumberReady},
		{"updatedNumberScheduled", st.UpdatedNumberScheduled}, {"numberAvailable", st.NumberAvailable},
		{"numberUnavailable", st.NumberUnavailable},
	} {
		errs = append(errs, validateNonNegative(int64(f.v), p.Child(f.name))...)
	}
	return append(errs, validateNonNegative(st.ObservedGeneration, p.Child("observedGeneration"))...)
}

// validateDaemonSetSpec is Kubernetes' ValidateDaemonSetSpec: the
// selector and template as for the other workloads, and an update
// strategy of RollingUpdate (exactly one of maxUnavailable and maxSurge
// non-zero, percentages at most 100%) or OnDelete.
func validateDaemonSetSpec(spec *api.DaemonSetSpec, p api.Path) api.FieldErrorList {
	errs := validateSelectorAndTemplate(spec.Selector, &spec.Template, p, "daemonset")
	sp := p.Child("updateStrategy")
	switch spec.UpdateStrategy.Type {
	case api.OnDeleteDaemonSetStrategyType:
		if spec.UpdateStrategy.RollingUpdate != nil {
			errs = append(errs, api.Forbidden(sp.Child("rollingUpdate"), "may not be specified when strategy `type` is 'OnDelete'"))
		}
	case api.RollingUpdateDaemonSetStrategyType:
		if ru := spec.UpdateStrategy.RollingUpdate; ru == nil {
			errs = append(errs, api.Required(sp.Child("rollingUpdate"), "this should be defaulted and never be nil"))
		} else {
			errs = append(errs, validateRollingUpdateDaemonSet(ru, sp.Child("rollingUpdate"))...)
		}
	case "":
		errs = append(errs, api.Required(sp.Child("type"), ""))
	default:
		errs = append(errs, api.NotSupported(sp.Child("type"), spec.UpdateStrategy.Type,
			api.OnDeleteDaemonSetStrategyType, api.RollingUpdateDaemonSetStrategyType))
	}
	errs = append(errs, validateNonNegative(int64(spec.MinReadySeconds), p.Child("minReadySeconds"))...)
	if spec.RevisionHistoryLimit != nil {
		errs = append(errs, validateNonNegative(int64(*spec.RevisionHistoryLimit), p.Child("revisionHistoryLimit"))...)
	}
	return errs
}

func validateRollingUpdateDaemonSet(ru *api.RollingUpdateDaemonSet, p api.Path) api.FieldErrorList {
	up, sp := p.Child("maxUnavailable"), p.Child("maxSurge")
	e1, ok1 := validateIntOrPercent(ru.MaxUnavailable, up)
	e2, ok2 := validateIntOrPercent(ru.MaxSurge, sp)
	errs := append(e1, e2...)
	for _, f := range []struct {
		v  *api.IntOrString
		p  api.Path
		ok bool
	}{{ru.MaxUnavailable, up, ok1}, {ru.MaxSurge, sp, ok2}} {
		if f.ok && f.v != nil && f.v.Type == api.String {
			if n, _ := api.ParsePercent(f.v.StrVal); n > 100 {
				errs = append(errs, api.Invalid(f.p, f.v.StrVal, "must not be greater than 100%"))
			}
		}
	}
	if !ok1 || !ok2 {
		return errs
	}
	switch zu, zs := isZeroIntOrPercent(ru.MaxUnavailable), isZeroIntOrPercent(ru.MaxSurge); {
	case zu && zs:
		errs = append(errs, api.Required(up, "cannot be 0 when maxSurge is 0"))
	case !zu && !zs:
		errs = append(errs, api.Invalid(sp, ru.MaxSurge, "may not be set when maxUnavailable is non-zero"))
	}
	return errs
}
