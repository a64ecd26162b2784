package rbac_test

import (
	"context"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
)

func TestReviews(t *testing.T) {
	e := newEnv(t)
	e.create(t, roleBinding("dev", "alice-view", clusterRole("view"), user("alice")))
	byResource := map[string]apiserver.CreateOnly{}
	for _, r := range e.z.Reviews(e.z) {
		byResource[r.Resource] = r
	}
	alice := apiserver.WithUser(context.Background(), apiserver.User{Name: "alice", UID: "u1", Groups: []string{"system:authenticated"}})

	ssar := byResource["selfsubjectaccessreviews"]
	out, err := ssar.Create(alice, "", "application/json",
		[]byte(`{"spec":{"resourceAttributes":{"namespace":"dev","verb":"list","resource":"pods"}}}`))
	if r, ok := out.(*authorizationv1.SelfSubjectAccessReview); err != nil || !ok || !r.Status.Allowed || r.Kind != "SelfSubjectAccessReview" {
		t.Errorf("SSAR list pods in dev: %+v %v", out, err)
	}
	// kubectl sends protobuf.
	in := authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: "dev", Verb: "delete", Resource: "pods"}}}
	raw, err := in.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	env, err := (&runtime.Unknown{Raw: raw, ContentType: "application/vnd.kubernetes.protobuf"}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out, err = ssar.Create(alice, "", "application/vnd.kubernetes.protobuf", append([]byte("k8s\x00"), env...))
	if r, ok := out.(*authorizationv1.SelfSubjectAccessReview); err != nil || !ok || r.Status.Allowed ||
		r.Spec.ResourceAttributes == nil || r.Spec.ResourceAttributes.Verb != "delete" {
		t.Errorf("SSAR delete pods (protobuf): %+v %v", out, err)
	}
	if _, err := ssar.Create(alice, "", "application/json", []byte(`{"spec":{}}`)); !api.IsInvalid(err) ||
		!strings.Contains(err.Error(), "exactly one of nonResourceAttributes or resourceAttributes must be specified") {
		t.Errorf("SSAR without attributes: %v", err)
	}
	if _, err := ssar.Create(alice, "", "text/plain", []byte(`x`)); api.ReasonForError(err) != api.ReasonUnsupportedMedia {
		t.Errorf("SSAR as text: %v", err)
	}
	if _, err := ssar.Create(alice, "", "application/json", []byte(`{"spec":`)); !api.IsBadRequest(err) {
		t.Errorf("SSAR malformed: %v", err)
	}

	sar := byResource["subjectaccessreviews"]
	out, err = sar.Create(context.Background(), "", "", []byte(`{"spec":{"user":"alice","nonResourceAttributes":{"path":"/version","verb":"get"}}}`))
	if r, ok := out.(*authorizationv1.SubjectAccessReview); err != nil || !ok || r.Status.Allowed {
		// alice named without her groups is not in system:authenticated.
		t.Errorf("SAR /version for bare alice: %+v %v", out, err)
	}
	if _, err := sar.Create(context.Background(), "", "", []byte(`{"spec":{"resourceAttributes":{"verb":"get"}}}`)); !api.IsInvalid(err) {
		t.Errorf("SAR without user: %v", err)
	}

	out, err = byResource["selfsubjectreviews"].Create(alice, "", "", []byte(`{}`))
	if r, ok := out.(*authenticationv1.SelfSubjectReview); err != nil || !ok || r.Status.UserInfo.Username != "alice" ||
		r.Status.UserInfo.UID != "u1" || len(r.Status.UserInfo.Groups) != 1 {
		t.Errorf("SelfSubjectReview: %+v %v", out, err)
	}

	out, err = byResource["selfsubjectrulesreviews"].Create(alice, "", "", []byte(`{"spec":{"namespace":"dev"}}`))
	r, ok := out.(*authorizationv1.SelfSubjectRulesReview)
	if err != nil || !ok || r.Status.Incomplete || len(r.Status.ResourceRules) == 0 || len(r.Status.NonResourceRules) == 0 {
		t.Fatalf("SelfSubjectRulesReview: %+v %v", out, err)
	}
	var pods bool
	for _, rr := range r.Status.ResourceRules {
		for _, res := range rr.Resources {
			pods = pods || (res == "pods" && strings.Join(rr.Verbs, ",") == "get,list,watch")
		}
	}
	if !pods {
		t.Errorf("rules of view in dev lack reading pods: %+v", r.Status.ResourceRules)
	}
}
