package scheduler

import (
	"slices"
	"strconv"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// The placement rules a Pod's spec sets on Nodes: taints and tolerations,
// nodeSelector and node affinity, with Kubernetes' semantics. They were
// methods of the api types; they are the scheduler's to apply, so they
// live here.

// toleratesTaint reports whether t tolerates taint: the effects match (an
// empty toleration effect matches all), and either the operator is Exists
// and the key matches (an empty key matches every key) or the operator is
// Equal (or empty) and key and value match.
func toleratesTaint(t api.Toleration, taint api.Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Key != "" && t.Key != taint.Key {
		return false
	}
	switch t.Operator {
	case api.TolerationOpExists:
		return true
	case api.TolerationOpEqual, "":
		return t.Key != "" && t.Value == taint.Value
	}
	return false
}

// untoleratedTaint returns the first of taints with one of the given
// effects that tolerations do not tolerate, for scheduling (effects
// NoSchedule and NoExecute) or eviction (NoExecute); no effects means
// every taint counts. ok is false if all are tolerated.
func untoleratedTaint(taints []api.Taint, tolerations []api.Toleration, effects ...api.TaintEffect) (taint api.Taint, ok bool) {
	for _, tn := range taints {
		if len(effects) > 0 && !slices.Contains(effects, tn.Effect) {
			continue
		}
		tolerated := false
		for _, t := range tolerations {
			if toleratesTaint(t, tn) {
				tolerated = true
				break
			}
		}
		if !tolerated {
			return tn, true
		}
	}
	return api.Taint{}, false
}

// requirementMatches reports whether r holds for the given labels. Gt and
// Lt compare integers; a value that does not parse fails the requirement.
func requirementMatches(r api.NodeSelectorRequirement, labels map[string]string) bool {
	v, has := labels[r.Key]
	switch r.Operator {
	case api.NodeSelectorOpIn:
		return has && slices.Contains(r.Values, v)
	case api.NodeSelectorOpNotIn:
		return !has || !slices.Contains(r.Values, v)
	case api.NodeSelectorOpExists:
		return has
	case api.NodeSelectorOpDoesNotExist:
		return !has
	case api.NodeSelectorOpGt, api.NodeSelectorOpLt:
		if !has || len(r.Values) != 1 {
			return false
		}
		a, err1 := strconv.ParseInt(v, 10, 64)
		b, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == api.NodeSelectorOpGt {
			return a > b
		}
		return a < b
	}
	return false
}

// termMatches reports whether node satisfies the term: every
// matchExpressions requirement on its labels and every matchFields
// requirement on its fields (only metadata.name). A term with no
// requirements matches nothing, as in Kubernetes.
func termMatches(t api.NodeSelectorTerm, node *api.Node) bool {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return false
	}
	for _, r := range t.MatchExpressions {
		if !requirementMatches(r, node.Labels) {
			return false
		}
	}
	fields := map[string]string{"metadata.name": node.Name}
	for _, r := range t.MatchFields {
		if !requirementMatches(r, fields) {
			return false
		}
	}
	return true
}

// podMatchesNode reports whether node satisfies the Pod's hard placement
// constraints on node labels: spec.nodeSelector and the required node
// affinity (its terms are ORed; nil matches every node). Taints,
// resources and ports are checked separately.
func podMatchesNode(spec *api.PodSpec, node *api.Node) bool {
	for k, v := range spec.NodeSelector {
		if lv, ok := node.Labels[k]; !ok || lv != v {
			return false
		}
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil && a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution != nil {
		for _, t := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
			if termMatches(t, node) {
				return true
			}
		}
		return false
	}
	return true
}

// preferredNodeAffinityScore sums the weights of the preferred node
// affinity terms node satisfies (0 when there are none).
func preferredNodeAffinityScore(spec *api.PodSpec, node *api.Node) int64 {
	if spec.Affinity == nil || spec.Affinity.NodeAffinity == nil {
		return 0
	}
	var score int64
	for _, p := range spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		if termMatches(p.Preference, node) {
			score += int64(p.Weight)
		}
	}
	return score
}

// NodeMatches reports whether node satisfies spec's nodeSelector and
// required node affinity: the rule the scheduler filters Nodes with,
// exported so that the DaemonSet controller decides with the same one.
func NodeMatches(spec *api.PodSpec, node *api.Node) bool { return podMatchesNode(spec, node) }

// UntoleratedTaint returns the first of taints with one of the given
// effects (none: every effect) that tolerations do not tolerate; ok is
// false if all are tolerated. The scheduler refuses a Node with an
// untolerated NoSchedule or NoExecute taint.
func UntoleratedTaint(taints []api.Taint, tolerations []api.Toleration, effects ...api.TaintEffect) (taint api.Taint, ok bool) {
	return untoleratedTaint(taints, tolerations, effects...)
}

// toleratesUnschedulable reports whether the Pod tolerates Kubernetes'
// node.kubernetes.io/unschedulable taint, as DaemonSet Pods do: such a Pod
// may be placed on a cordoned Node.
func toleratesUnschedulable(spec *api.PodSpec) bool {
	taint := api.Taint{Key: api.TaintNodeUnschedulable, Effect: api.TaintEffectNoSchedule}
	_, bad := untoleratedTaint([]api.Taint{taint}, spec.Tolerations)
	return !bad
}
