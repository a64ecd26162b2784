package rbac_test

import (
	"fmt"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
	"github.com/flotilla-io/flotilla/orchestrator/internal/rbac"
)

// How one rule matches requests, as Kubernetes matches it.
func ExampleRuleAllows() {
	rule := api.PolicyRule{Verbs: []string{"get", "update"}, APIGroups: []string{"apps"},
		Resources: []string{"deployments", "*/status"}, ResourceNames: []string{"web"}}
	alice := apiserver.User{Name: "alice"}
	for _, a := range []apiserver.Attributes{
		{User: alice, Verb: "get", APIGroup: "apps", Resource: "deployments", Name: "web", ResourceRequest: true},
		{User: alice, Verb: "update", APIGroup: "apps", Resource: "deployments", Subresource: "status", Name: "web", ResourceRequest: true},
		{User: alice, Verb: "update", APIGroup: "apps", Resource: "deployments", Subresource: "scale", Name: "web", ResourceRequest: true},
		{User: alice, Verb: "list", APIGroup: "apps", Resource: "deployments", ResourceRequest: true},
		{User: alice, Verb: "get", APIGroup: "apps", Resource: "deployments", Name: "db", ResourceRequest: true},
	} {
		res := a.Resource
		if a.Subresource != "" {
			res += "/" + a.Subresource
		}
		fmt.Printf("%s %s %q: %v\n", a.Verb, res, a.Name, rbac.RuleAllows(&rule, a))
	}
	// Output:
	// get deployments "web": true
	// update deployments/status "web": true
	// update deployments/scale "web": false
	// list deployments "": false
	// get deployments "db": false
}
