package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestStatusErrorPredicates(t *testing.T) {
	tests := []struct {
		err    *StatusError
		pred   func(error) bool
		reason StatusReason
		code   int32
		msg    string
	}{
		{NewNotFound("Pod", "web-1"), IsNotFound, ReasonNotFound, http.StatusNotFound, `Pod "web-1" not found`},
		{NewAlreadyExists("Deployment", "web"), IsAlreadyExists, ReasonAlreadyExists, http.StatusConflict, `Deployment "web" already exists`},
		{NewConflict("Pod", "web-1", errors.New("resourceVersion 5 is stale")), IsConflict, ReasonConflict, http.StatusConflict,
			`Operation cannot be fulfilled on Pod "web-1": resourceVersion 5 is stale`},
		{NewInvalid("Pod", "p", FieldErrorList{Required(NewPath("spec", "containers"), "")}), IsInvalid, ReasonInvalid,
			http.StatusUnprocessableEntity, `Pod "p" is invalid: spec.containers: Required value`},
		{NewForbidden("Secret", "db", errors.New(`user "bob" cannot get secrets in namespace "prod"`)), IsForbidden, ReasonForbidden,
			http.StatusForbidden, `Secret "db" is forbidden: user "bob" cannot get secrets in namespace "prod"`},
		{NewTooOld("too old resource version: 5 (10)"), IsTooOld, ReasonExpired, http.StatusGone, "too old resource version: 5 (10)"},
		{NewBadRequest("bad"), IsBadRequest, ReasonBadRequest, http.StatusBadRequest, "bad"},
		{NewTimeout("slow", 2), IsTimeout, ReasonTimeout, http.StatusGatewayTimeout, "slow"},
		{NewServiceUnavailable("no leader"), IsServiceUnavailable, ReasonServiceUnavailable, http.StatusServiceUnavailable, "no leader"},
		{NewUnauthorized("who are you"), IsUnauthorized, ReasonUnauthorized, http.StatusUnauthorized, "who are you"},
		{NewInternalError(errors.New("boom")), func(err error) bool { return ReasonForError(err) == ReasonInternalError },
			ReasonInternalError, http.StatusInternalServerError, "Internal error occurred: boom"},
	}
	preds := []func(error) bool{IsNotFound, IsAlreadyExists, IsConflict, IsInvalid, IsForbidden, IsTooOld, IsBadRequest, IsTimeout, IsServiceUnavailable, IsUnauthorized}
	for _, tt := range tests {
		wrapped := fmt.Errorf("client: get: %w", tt.err)
		if !tt.pred(tt.err) || !tt.pred(wrapped) || !tt.pred(errors.Join(errors.New("x"), wrapped)) {
			t.Errorf("%s: predicate false", tt.reason)
		}
		matches := 0
		for _, p := range preds {
			if p(wrapped) {
				matches++
			}
		}
		if want := map[bool]int{true: 0, false: 1}[tt.reason == ReasonInternalError]; matches != want {
			t.Errorf("%s: %d predicates match, want %d", tt.reason, matches, want)
		}
		if got := tt.err.Error(); got != tt.msg {
			t.Errorf("%s: message %q, want %q", tt.reason, got, tt.msg)
		}
		st := tt.err.Status()
		if st.Code != tt.code || st.Reason != tt.reason || st.Status != "Failure" || st.Kind != "Status" || st.APIVersion != "v1" {
			t.Errorf("%s: status %+v", tt.reason, st)
		}
		// JSON as a Kubernetes Status and back.
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var back Status
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if re := FromStatus(back); !tt.pred(re) || re.Error() != tt.msg {
			t.Errorf("%s: from JSON %s: %v", tt.reason, b, re)
		}
	}
	if IsNotFound(nil) || IsNotFound(errors.New("not found")) {
		t.Error("IsNotFound matched a non-StatusError")
	}
	if FromStatus(Status{Status: "Success"}) != nil {
		t.Error("FromStatus(Success) != nil")
	}
}

func TestIgnoreNotFound(t *testing.T) {
	if IgnoreNotFound(fmt.Errorf("x: %w", NewNotFound("Pod", "a"))) != nil {
		t.Error("IgnoreNotFound kept NotFound")
	}
	other := NewConflict("Pod", "a", nil)
	if IgnoreNotFound(other) != other || IgnoreNotFound(nil) != nil {
		t.Error("IgnoreNotFound changed other errors")
	}
}

func TestStatusErrorIs(t *testing.T) {
	err := fmt.Errorf("wrapped: %w", NewNotFound("Pod", "web-1"))
	if !errors.Is(err, NewNotFound("Pod", "")) || !errors.Is(err, NewNotFound("", "")) || !errors.Is(err, NewNotFound("Pod", "web-1")) {
		t.Error("errors.Is did not match a NotFound pattern")
	}
	if errors.Is(err, NewNotFound("Deployment", "")) || errors.Is(err, NewAlreadyExists("Pod", "web-1")) {
		t.Error("errors.Is matched the wrong kind or reason")
	}
	var se *StatusError
	if !errors.As(err, &se) || se.Reason() != ReasonNotFound {
		t.Error("errors.As failed")
	}
}

func TestInvalidStatusCauses(t *testing.T) {
	errs := FieldErrorList{
		Required(NewPath("spec").Child("containers").Index(0).Child("image"), ""),
		Invalid(NewPath("spec", "replicas"), int32(-1), "must be greater than or equal to 0"),
		NotSupported(NewPath("spec", "strategy", "type"), "BlueGreen", RecreateDeploymentStrategyType, RollingUpdateDeploymentStrategyType),
		Duplicate(NewPath("spec").Child("containers").Index(1).Child("name"), "web"),
		Forbidden(NewPath("spec", "strategy", "rollingUpdate"), "may not be specified"),
		TooLong(NewPath("metadata", "annotations"), 10),
		NotFound(NewPath("spec", "volumes").Key("x"), "x"),
		Unknown(NewPath("spec", "replica")),
	}
	want := []string{
		"spec.containers[0].image: Required value",
		"spec.replicas: Invalid value: -1: must be greater than or equal to 0",
		`spec.strategy.type: Unsupported value: "BlueGreen": supported values: "Recreate", "RollingUpdate"`,
		`spec.containers[1].name: Duplicate value: "web"`,
		"spec.strategy.rollingUpdate: Forbidden: may not be specified",
		"metadata.annotations: Too long: may not be more than 10 bytes",
		`spec.volumes[x]: Not found: "x"`,
		"spec.replica: Unknown field",
	}
	for i, e := range errs {
		if e.Error() != want[i] {
			t.Errorf("error %d = %q, want %q", i, e.Error(), want[i])
		}
	}
	se := NewInvalid("Deployment", "web", errs)
	if !strings.HasPrefix(se.Error(), `Deployment "web" is invalid: [spec.containers[0].image: Required value, `) {
		t.Errorf("message = %q", se.Error())
	}
	b, _ := json.Marshal(se.Status())
	var st Status
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	got := FieldErrors(FromStatus(st))
	if len(got) != len(errs) || got[1].Field != "spec.replicas" || got[1].Type != ErrorTypeInvalid {
		t.Errorf("causes from JSON = %v", got)
	}
	if !strings.Contains(string(b), `"causes":[{"reason":"FieldValueRequired","message":"spec.containers[0].image: Required value","field":"spec.containers[0].image"}`) {
		t.Errorf("status JSON = %s", b)
	}
	// Prefix places errors of an embedded object.
	pre := FieldErrorList{Required(NewPath("image"), ""), Invalid(Path{}.Index(2), 1, "x")}.Prefix(NewPath("spec", "containers"))
	if f := pre.Fields(); f[0] != "spec.containers.image" || f[1] != "spec.containers[2]" {
		t.Errorf("Prefix = %v", f)
	}
}

// The error of a resourceVersion the cluster has not reached is
// Kubernetes': a 504 Timeout with its wording and cause, told apart from
// other timeouts.
func TestTooLargeResourceVersion(t *testing.T) {
	err := error(NewTooLargeResourceVersion(900, 12))
	st := err.(*StatusError).Status()
	if st.Code != 504 || st.Reason != ReasonTimeout || st.Message != "Timeout: Too large resource version: 900, current: 12" ||
		st.Details == nil || st.Details.RetryAfterSeconds != 1 {
		t.Errorf("status %+v", st)
	}
	wrapped := fmt.Errorf("watch: %w", err)
	if !IsTimeout(wrapped) || !IsTooLargeResourceVersion(wrapped) {
		t.Errorf("IsTimeout %v, IsTooLargeResourceVersion %v; want both", IsTimeout(wrapped), IsTooLargeResourceVersion(wrapped))
	}
	if IsTooLargeResourceVersion(NewTimeout("slow", 1)) || IsTooLargeResourceVersion(NewBadRequest("x")) {
		t.Error("other errors taken for a too large resource version")
	}
	if e := NewRequestEntityTooLarge("limit is 3"); e.Status().Code != 413 || e.Error() != "Request entity too large: limit is 3" || !IsRequestEntityTooLarge(e) {
		t.Errorf("RequestEntityTooLarge: %+v", e.Status())
	}
}
