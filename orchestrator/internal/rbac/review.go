package rbac

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"slices"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
)

// Reviews returns the create-only resources behind `kubectl auth can-i`
// and `kubectl auth whoami`, for apiserver.Config.CreateOnly:
//
//   - authorization.k8s.io/v1 selfsubjectaccessreviews: may the requester
//     do this? decided by authz, the server's own authorizer;
//   - authorization.k8s.io/v1 selfsubjectrulesreviews: what may the
//     requester do in a namespace (kubectl auth can-i --list)? the RBAC
//     rules of z; incomplete for agents, whose permissions the node
//     authorizer decides per object;
//   - authorization.k8s.io/v1 subjectaccessreviews: may this user do
//     this? (for those allowed to create them: cluster-admin);
//   - authentication.k8s.io/v1 selfsubjectreviews: who am I?
//
// Nothing is stored; the answer is the request with its status filled.
func (z *Authorizer) Reviews(authz apiserver.Authorizer) []apiserver.CreateOnly {
	return []apiserver.CreateOnly{
		{Group: "authorization.k8s.io", Version: "v1", Resource: "selfsubjectrulesreviews", Kind: "SelfSubjectRulesReview",
			Create: func(ctx context.Context, _, contentType string, body []byte) (any, error) {
				var in authorizationv1.SelfSubjectRulesReview
				if err := decodeReview(contentType, body, &in, "SelfSubjectRulesReview"); err != nil {
					return nil, err
				}
				u, _ := apiserver.UserFrom(ctx)
				rules, err := z.RulesFor(ctx, u, in.Spec.Namespace)
				if err != nil {
					return nil, err
				}
				in.TypeMeta.APIVersion, in.TypeMeta.Kind = "authorization.k8s.io/v1", "SelfSubjectRulesReview"
				in.Status = authorizationv1.SubjectRulesReviewStatus{
					ResourceRules: []authorizationv1.ResourceRule{}, NonResourceRules: []authorizationv1.NonResourceRule{},
					Incomplete: slices.Contains(u.Groups, trust.GroupNodes) && !z.superuser(u),
				}
				for _, r := range rules {
					if len(r.NonResourceURLs) > 0 {
						in.Status.NonResourceRules = append(in.Status.NonResourceRules,
							authorizationv1.NonResourceRule{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
						continue
					}
					in.Status.ResourceRules = append(in.Status.ResourceRules, authorizationv1.ResourceRule{
						Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames})
				}
				return &in, nil
			}},
		{Group: "authorization.k8s.io", Version: "v1", Resource: "selfsubjectaccessreviews", Kind: "SelfSubjectAccessReview",
			Create: func(ctx context.Context, _, contentType string, body []byte) (any, error) {
				var in authorizationv1.SelfSubjectAccessReview
				if err := decodeReview(contentType, body, &in, "SelfSubjectAccessReview"); err != nil {
					return nil, err
				}
				u, _ := apiserver.UserFrom(ctx)
				st, err := review(ctx, authz, u, in.Spec.ResourceAttributes, in.Spec.NonResourceAttributes, "SelfSubjectAccessReview")
				if err != nil {
					return nil, err
				}
				in.TypeMeta.APIVersion, in.TypeMeta.Kind = "authorization.k8s.io/v1", "SelfSubjectAccessReview"
				in.Status = st
				return &in, nil
			}},
		{Group: "authorization.k8s.io", Version: "v1", Resource: "subjectaccessreviews", Kind: "SubjectAccessReview",
			Create: func(ctx context.Context, _, contentType string, body []byte) (any, error) {
				var in authorizationv1.SubjectAccessReview
				if err := decodeReview(contentType, body, &in, "SubjectAccessReview"); err != nil {
					return nil, err
				}
				if in.Spec.User == "" && len(in.Spec.Groups) == 0 {
					return nil, api.NewInvalid("SubjectAccessReview.authorization.k8s.io", "", api.FieldErrorList{
						api.Invalid(api.NewPath("spec", "user"), in.Spec.User, "at least one of user or group must be specified")})
				}
				u := apiserver.User{Name: in.Spec.User, UID: in.Spec.UID, Groups: in.Spec.Groups}
				st, err := review(ctx, authz, u, in.Spec.ResourceAttributes, in.Spec.NonResourceAttributes, "SubjectAccessReview")
				if err != nil {
					return nil, err
				}
				in.TypeMeta.APIVersion, in.TypeMeta.Kind = "authorization.k8s.io/v1", "SubjectAccessReview"
				in.Status = st
				return &in, nil
			}},
		{Group: "authentication.k8s.io", Version: "v1", Resource: "selfsubjectreviews", Kind: "SelfSubjectReview",
			Create: func(ctx context.Context, _, contentType string, body []byte) (any, error) {
				var in authenticationv1.SelfSubjectReview
				if err := decodeReview(contentType, body, &in, "SelfSubjectReview"); err != nil {
					return nil, err
				}
				u, _ := apiserver.UserFrom(ctx)
				in.TypeMeta.APIVersion, in.TypeMeta.Kind = "authentication.k8s.io/v1", "SelfSubjectReview"
				in.Status.UserInfo = authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
				return &in, nil
			}},
	}
}

// protobufMagic starts Kubernetes' protobuf encoding of an object: a
// runtime.Unknown envelope follows.
var protobufMagic = []byte{'k', '8', 's', 0}

// decodeReview decodes body, of contentType, into into: JSON or YAML, or
// Kubernetes' protobuf (kubectl sends reviews as protobuf).
//
// Errors: UnsupportedMediaType for another type; BadRequest for a body
// that does not decode.
func decodeReview(contentType string, body []byte, into interface{ Unmarshal([]byte) error }, kind string) error {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "", "application/json", "application/yaml", "application/x-yaml", "text/yaml":
		if err := yaml.Unmarshal(body, into); err != nil {
			return api.NewBadRequest(fmt.Sprintf("the body of the %s cannot be decoded: %v", kind, err))
		}
		return nil
	case "application/vnd.kubernetes.protobuf":
		raw, ok := bytes.CutPrefix(body, protobufMagic)
		var env runtime.Unknown
		if !ok || env.Unmarshal(raw) != nil || into.Unmarshal(env.Raw) != nil {
			return api.NewBadRequest(fmt.Sprintf("the body of the %s cannot be decoded as protobuf", kind))
		}
		return nil
	}
	return api.NewUnsupportedMediaType(fmt.Sprintf("the body of the request was in an unknown format (%s) - accepted media types include: "+
		"application/json, application/yaml, application/vnd.kubernetes.protobuf", contentType))
}

// review asks authz whether u may do what ra or nra describe.
func review(ctx context.Context, authz apiserver.Authorizer, u apiserver.User, ra *authorizationv1.ResourceAttributes,
	nra *authorizationv1.NonResourceAttributes, kind string) (authorizationv1.SubjectAccessReviewStatus, error) {
	if (ra == nil) == (nra == nil) {
		return authorizationv1.SubjectAccessReviewStatus{}, api.NewInvalid(kind+".authorization.k8s.io", "", api.FieldErrorList{
			api.Invalid(api.NewPath("spec", "resourceAttributes"), nil, "exactly one of nonResourceAttributes or resourceAttributes must be specified")})
	}
	a := apiserver.Attributes{User: u}
	if ra != nil {
		a.ResourceRequest = true
		a.Verb, a.Namespace, a.APIGroup, a.APIVersion = ra.Verb, ra.Namespace, ra.Group, ra.Version
		a.Resource, a.Subresource, a.Name = ra.Resource, ra.Subresource, ra.Name
	} else {
		a.Verb, a.Path = nra.Verb, nra.Path
	}
	err := authz.Authorize(ctx, a)
	switch {
	case err == nil:
		return authorizationv1.SubjectAccessReviewStatus{Allowed: true}, nil
	case api.IsForbidden(err):
		return authorizationv1.SubjectAccessReviewStatus{Allowed: false}, nil
	}
	return authorizationv1.SubjectAccessReviewStatus{EvaluationError: err.Error()}, nil
}
