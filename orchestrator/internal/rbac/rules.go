package rbac

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
)

// RuleAllows reports whether r grants the request a, with Kubernetes'
// matching: "*" matches every verb, group and resource; a resource
// "pods/log" matches that subresource only and "*/status" the status of
// every resource; resourceNames, when set, match requests naming one of
// them (never a list or a create); a non-resource URL ending in "*"
// matches every path with that prefix.
func RuleAllows(r *api.PolicyRule, a apiserver.Attributes) bool {
	if !verbMatches(r.Verbs, a.Verb) {
		return false
	}
	if !a.ResourceRequest {
		return nonResourceURLMatches(r.NonResourceURLs, a.Path)
	}
	if !has(r.APIGroups, a.APIGroup, api.APIGroupAll) {
		return false
	}
	res := a.Resource
	if a.Subresource != "" {
		res += "/" + a.Subresource
	}
	if !resourceMatches(r.Resources, res, a.Subresource) {
		return false
	}
	return len(r.ResourceNames) == 0 || slices.Contains(r.ResourceNames, a.Name)
}

func verbMatches(verbs []string, verb string) bool { return has(verbs, verb, api.VerbAll) }

// has reports whether list holds v or the wildcard.
func has(list []string, v, wildcard string) bool {
	for _, x := range list {
		if x == v || x == wildcard {
			return true
		}
	}
	return false
}

func resourceMatches(rules []string, res, sub string) bool {
	for _, r := range rules {
		switch {
		case r == api.ResourceAll, r == res:
			return true
		case sub != "" && len(r) == len(sub)+2 && strings.HasPrefix(r, "*/") && strings.HasSuffix(r, sub):
			return true
		}
	}
	return false
}

func nonResourceURLMatches(rules []string, path string) bool {
	for _, u := range rules {
		switch {
		case u == api.NonResourceAll, u == path:
			return true
		case strings.HasSuffix(u, "*") && strings.HasPrefix(path, strings.TrimSuffix(u, "*")):
			return true
		}
	}
	return false
}

// Covers reports whether owner's rules grant everything servant's do,
// and returns what they lack, one rule per missing permission (Kubernetes'
// validation.Covers): escalation prevention checks a requester's rules
// against the rules of a role they write or bind.
func Covers(owner, servant []api.PolicyRule) (bool, []api.PolicyRule) {
	var missing []api.PolicyRule
	for _, s := range servant {
		for _, broken := range breakdown(s) {
			if !slices.ContainsFunc(owner, func(o api.PolicyRule) bool { return ruleCovers(&o, &broken) }) {
				missing = append(missing, broken)
			}
		}
	}
	return len(missing) == 0, missing
}

// breakdown splits r into rules of one verb, one group, one resource and
// one name (or none) each, or one verb and one URL.
func breakdown(r api.PolicyRule) []api.PolicyRule {
	var out []api.PolicyRule
	for _, verb := range r.Verbs {
		for _, u := range r.NonResourceURLs {
			out = append(out, api.PolicyRule{Verbs: []string{verb}, NonResourceURLs: []string{u}})
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				if len(r.ResourceNames) == 0 {
					out = append(out, api.PolicyRule{Verbs: []string{verb}, APIGroups: []string{g}, Resources: []string{res}})
					continue
				}
				for _, n := range r.ResourceNames {
					out = append(out, api.PolicyRule{Verbs: []string{verb}, APIGroups: []string{g}, Resources: []string{res}, ResourceNames: []string{n}})
				}
			}
		}
	}
	return out
}

// ruleCovers reports whether owner grants all of servant.
func ruleCovers(owner, servant *api.PolicyRule) bool {
	if !allCovered(owner.Verbs, servant.Verbs, api.VerbAll) ||
		!allCovered(owner.APIGroups, servant.APIGroups, api.APIGroupAll) ||
		!nonResourceURLsCovered(owner.NonResourceURLs, servant.NonResourceURLs) ||
		!resourcesCovered(owner.Resources, servant.Resources) {
		return false
	}
	if len(owner.ResourceNames) == 0 {
		return true
	}
	if len(servant.ResourceNames) == 0 {
		return false
	}
	return allCovered(owner.ResourceNames, servant.ResourceNames, "")
}

func allCovered(owner, servant []string, wildcard string) bool {
	if wildcard != "" && slices.Contains(owner, wildcard) {
		return true
	}
	for _, s := range servant {
		if !slices.Contains(owner, s) {
			return false
		}
	}
	return true
}

func resourcesCovered(owner, servant []string) bool {
	if slices.Contains(owner, api.ResourceAll) {
		return true
	}
	for _, s := range servant {
		if slices.Contains(owner, s) {
			continue
		}
		if _, sub, ok := strings.Cut(s, "/"); ok && slices.Contains(owner, "*/"+sub) {
			continue
		}
		return false
	}
	return true
}

func nonResourceURLsCovered(owner, servant []string) bool {
	for _, s := range servant {
		if !nonResourceURLMatches(owner, s) {
			return false
		}
	}
	return true
}

// CompactString is Kubernetes' short form of a rule, as in escalation
// errors: {APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}.
func CompactString(r api.PolicyRule) string {
	var parts []string
	add := func(name string, v []string) {
		if len(v) > 0 {
			parts = append(parts, fmt.Sprintf("%s:%q", name, v))
		}
	}
	add("APIGroups", r.APIGroups)
	add("Resources", r.Resources)
	add("NonResourceURLs", r.NonResourceURLs)
	add("ResourceNames", r.ResourceNames)
	add("Verbs", r.Verbs)
	return "{" + strings.Join(parts, ", ") + "}"
}
