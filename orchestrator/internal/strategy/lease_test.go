package strategy

import (
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

func TestLeaseValidation(t *testing.T) {
	renew := api.NewMicroTime(time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC))
	good := &api.Lease{TypeMeta: api.TypeMeta{APIVersion: api.CoordinationV1, Kind: "Lease"},
		ObjectMeta: api.ObjectMeta{Name: "node-1", Namespace: api.NodeLeaseNamespace},
		Spec: api.LeaseSpec{HolderIdentity: api.Ptr("node-1"), LeaseDurationSeconds: api.Ptr(int32(40)),
			RenewTime: &renew, LeaseTransitions: api.Ptr(int32(0))}}
	if err := defaultAndValidate(good); err != nil {
		t.Fatalf("good Lease: %v", err)
	}
	if err := validate(&api.Lease{ObjectMeta: api.ObjectMeta{Name: "empty", Namespace: "default"}}); err != nil {
		t.Fatalf("a Lease without spec is valid in Kubernetes: %v", err)
	}
	bad := good.DeepCopy()
	bad.Name = "Not_A_Name"
	bad.Spec.LeaseDurationSeconds = api.Ptr(int32(0))
	bad.Spec.LeaseTransitions = api.Ptr(int32(-1))
	err := validate(bad)
	for _, want := range []string{"metadata.name", "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
		"spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad Lease: %v, want it to name %q", err, want)
		}
	}
	renewed := good.DeepCopy()
	renewed.Spec.RenewTime = api.Ptr(api.NewMicroTime(renew.Add(time.Second)))
	if _, s := forObject(renewed); s.BumpsGeneration(renewed, good) {
		t.Error("a renewal bumps the generation")
	}
}
