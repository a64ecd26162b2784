package rbac_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
)

// BenchmarkAuthorize decides requests against 1,000 Roles and 1,000
// RoleBindings (in 100 namespaces, each binding naming a user and a
// group) plus the built-in policy, and reports the p99 of single
// decisions: allowed ones (the user's own binding), refused ones (no rule
// in another namespace) and non-resource paths, in turn.
func BenchmarkAuthorize(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	const n, namespaces = 1000, 100
	for i := range namespaces {
		if err := e.reg.Create(ctx, &api.Namespace{ObjectMeta: api.ObjectMeta{Name: fmt.Sprintf("ns-%d", i)}}, clientCreate()); err != nil {
			b.Fatal(err)
		}
	}
	var lastRole, lastBinding api.Object
	for i := range n {
		ns := fmt.Sprintf("ns-%d", i%namespaces)
		role := &api.Role{ObjectMeta: api.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("role-%d", i)}, Rules: []api.PolicyRule{
			{Verbs: []string{"get", "list", "watch"}, APIGroups: []string{""}, Resources: []string{"pods", "pods/log", "configmaps"}},
			{Verbs: []string{"update"}, APIGroups: []string{"apps"}, Resources: []string{"deployments", "deployments/scale"}, ResourceNames: []string{fmt.Sprintf("app-%d", i)}},
		}}
		rb := roleBinding(ns, fmt.Sprintf("rb-%d", i), api.RoleRef{Kind: "Role", Name: role.Name},
			user(fmt.Sprintf("user-%d", i)), group(fmt.Sprintf("team-%d", i%50)))
		for _, o := range []api.Object{role, rb} {
			if err := e.reg.Create(ctx, o, clientCreate()); err != nil {
				b.Fatal(err)
			}
		}
		lastRole, lastBinding = role, rb
	}
	for _, o := range []api.Object{lastRole, lastBinding} {
		if err := e.z.WaitFor(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	reqs := make([]apiserver.Attributes, 0, 3*n)
	for i := range n {
		u := apiserver.User{Name: fmt.Sprintf("user-%d", i), Groups: []string{fmt.Sprintf("team-%d", i%50), "system:authenticated"}}
		ns := fmt.Sprintf("ns-%d", i%namespaces)
		other := fmt.Sprintf("ns-%d", (i+1)%namespaces)
		reqs = append(reqs,
			apiserver.Attributes{User: u, Verb: "update", Namespace: ns, APIGroup: "apps", APIVersion: "v1", Resource: "deployments",
				Subresource: "scale", Name: fmt.Sprintf("app-%d", i), ResourceRequest: true},
			apiserver.Attributes{User: u, Verb: "delete", Namespace: other, APIVersion: "v1", Resource: "secrets", Name: "s", ResourceRequest: true},
			apiserver.Attributes{User: u, Verb: "get", Path: "/apis/apps/v1"},
		)
	}
	for i, a := range reqs { // check the mix decides as meant, once
		if err := e.z.Authorize(ctx, a); (err == nil) != (i%3 != 1) {
			b.Fatalf("request %d (%s %s %s): %v", i, a.User.Name, a.Verb, a.Resource+a.Path, err)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		_ = e.z.Authorize(ctx, reqs[i%len(reqs)])
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1000, "p99-µs")
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1000, "p50-µs")
}
