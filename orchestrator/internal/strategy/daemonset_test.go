package strategy

import (
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// newTestDaemonSet is a DaemonSet of the test Deployment's template, not
// defaulted.
func newTestDaemonSet() *api.DaemonSet {
	d := newTestDeployment()
	return &api.DaemonSet{TypeMeta: api.TypeMeta{APIVersion: api.AppsV1, Kind: "DaemonSet"},
		ObjectMeta: api.ObjectMeta{Name: "agent", Namespace: "shop"},
		Spec:       api.DaemonSetSpec{Selector: api.Clone(d.Spec.Selector), Template: api.Clone(d.Spec.Template)}}
}

func TestDaemonSetDefaults(t *testing.T) {
	ds := newTestDaemonSet()
	defaultObject(ds)
	us := ds.Spec.UpdateStrategy
	if us.Type != api.RollingUpdateDaemonSetStrategyType || us.RollingUpdate == nil ||
		*us.RollingUpdate.MaxUnavailable != api.FromInt(1) || *us.RollingUpdate.MaxSurge != api.FromInt(0) {
		t.Errorf("updateStrategy %+v, want RollingUpdate maxUnavailable 1 maxSurge 0", us)
	}
	if ds.Spec.RevisionHistoryLimit == nil || *ds.Spec.RevisionHistoryLimit != 10 {
		t.Errorf("revisionHistoryLimit %v, want 10", ds.Spec.RevisionHistoryLimit)
	}
	if ds.Spec.Template.Spec.RestartPolicy != api.RestartPolicyAlways {
		t.Errorf("template restartPolicy %q, want Always", ds.Spec.Template.Spec.RestartPolicy)
	}
	if err := validate(ds); err != nil {
		t.Fatalf("defaulted DaemonSet: %v", err)
	}

	onDelete := newTestDaemonSet()
	onDelete.Spec.UpdateStrategy.Type = api.OnDeleteDaemonSetStrategyType
	if err := defaultAndValidate(onDelete); err != nil || onDelete.Spec.UpdateStrategy.RollingUpdate != nil {
		t.Errorf("OnDelete: rollingUpdate %+v, err %v; want none", onDelete.Spec.UpdateStrategy.RollingUpdate, err)
	}
}

// TestValidateDaemonSet checks that each invalid field is reported with
// Kubernetes' field path, and only that one.
func TestValidateDaemonSet(t *testing.T) {
	ru := func(unavailable, surge api.IntOrString) func(*api.DaemonSet) {
		return func(ds *api.DaemonSet) {
			ds.Spec.UpdateStrategy.RollingUpdate = &api.RollingUpdateDaemonSet{MaxUnavailable: &unavailable, MaxSurge: &surge}
		}
	}
	const ruPath = "spec.updateStrategy.rollingUpdate."
	tests := []struct {
		name   string
		mutate func(*api.DaemonSet)
		fields []string
	}{
		{"valid", func(*api.DaemonSet) {}, nil},
		{"surge instead of unavailable", ru(api.FromInt(0), api.FromString("10%")), nil},
		{"bad name", func(ds *api.DaemonSet) { ds.Name = "Agent_1" }, []string{"metadata.name"}},
		{"no selector", func(ds *api.DaemonSet) { ds.Spec.Selector = nil }, []string{"spec.selector"}},
		{"empty selector", func(ds *api.DaemonSet) { ds.Spec.Selector = &api.LabelSelector{} }, []string{"spec.selector"}},
		{"selector does not match template", func(ds *api.DaemonSet) { ds.Spec.Template.Labels = map[string]string{"app": "other"} },
			[]string{"spec.template.metadata.labels"}},
		{"restartPolicy Never", func(ds *api.DaemonSet) { ds.Spec.Template.Spec.RestartPolicy = api.RestartPolicyNever },
			[]string{"spec.template.spec.restartPolicy"}},
		{"no image", func(ds *api.DaemonSet) { ds.Spec.Template.Spec.Containers[0].Image = "" },
			[]string{"spec.template.spec.containers[0].image"}},
		{"unknown strategy", func(ds *api.DaemonSet) { ds.Spec.UpdateStrategy.Type = "Recreate" }, []string{"spec.updateStrategy.type"}},
		{"OnDelete with rollingUpdate", func(ds *api.DaemonSet) { ds.Spec.UpdateStrategy.Type = api.OnDeleteDaemonSetStrategyType },
			[]string{"spec.updateStrategy.rollingUpdate"}},
		{"both zero", ru(api.FromInt(0), api.FromInt(0)), []string{ruPath + "maxUnavailable"}},
		{"both set", ru(api.FromInt(1), api.FromInt(1)), []string{ruPath + "maxSurge"}},
		{"negative maxUnavailable", ru(api.FromInt(-1), api.FromInt(0)), []string{ruPath + "maxUnavailable"}},
		{"maxUnavailable over 100%", ru(api.FromString("101%"), api.FromInt(0)), []string{ruPath + "maxUnavailable"}},
		{"maxSurge not a percent", ru(api.FromInt(0), api.FromString("ten")), []string{ruPath + "maxSurge"}},
		{"negative minReadySeconds", func(ds *api.DaemonSet) { ds.Spec.MinReadySeconds = -1 }, []string{"spec.minReadySeconds"}},
		{"negative revisionHistoryLimit", func(ds *api.DaemonSet) { ds.Spec.RevisionHistoryLimit = api.Ptr(int32(-1)) },
			[]string{"spec.revisionHistoryLimit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := newTestDaemonSet()
			defaultObject(ds)
			tt.mutate(ds)
			checkFieldErrors(t, validate(ds), tt.fields)
		})
	}
}

func TestValidateDaemonSetUpdate(t *testing.T) {
	old := newTestDaemonSet()
	old.ResourceVersion, old.UID = "5", "u-1"
	defaultObject(old)
	changed := api.Clone(*old)
	changed.Spec.Selector = &api.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "x"}}
	changed.Spec.Template.Labels["tier"] = "x"
	checkFieldErrors(t, validateUpdate(old, &changed), []string{"spec.selector"})

	img := api.Clone(*old)
	img.Spec.Template.Spec.Containers[0].Image = "web:2"
	if err := validateUpdate(old, &img); err != nil {
		t.Errorf("template change: %v", err)
	}
	_, s := forObject(old)
	if !s.BumpsGeneration(&img, old) {
		t.Error("a template change does not bump the generation")
	}

	status := api.Clone(*old)
	status.Status.NumberReady = -1
	var errs api.FieldErrorList
	errs = s.Status().ValidateUpdate(&status, old)
	checkFieldErrors(t, api.NewInvalid("DaemonSet", old.Name, errs), []string{"status.numberReady"})
}
