package api

import "strconv"

// Annotations and labels with meaning to controllers, as in Kubernetes.
const (
	// RevisionAnnotation holds a Deployment's and its ReplicaSets'
	// rollout revision number.
	RevisionAnnotation = "deployment.kubernetes.io/revision"
	// DesiredReplicasAnnotation holds, on a Deployment's ReplicaSet, the
	// Deployment's spec.replicas when the ReplicaSet was last scaled.
	DesiredReplicasAnnotation = "deployment.kubernetes.io/desired-replicas"
	// MaxReplicasAnnotation holds, on a Deployment's ReplicaSet, the
	// Deployment's spec.replicas plus maxSurge when the ReplicaSet was
	// last scaled: the base of proportional scaling.
	MaxReplicasAnnotation = "deployment.kubernetes.io/max-replicas"
	// LabelHostname is the node label with the node's name.
	LabelHostname = "kubernetes.io/hostname"
	// LabelTopologyZone is the node label with the node's zone.
	LabelTopologyZone = "topology.kubernetes.io/zone"
)

// ToleratesTaint reports whether t tolerates taint: the effects match (an
// empty toleration effect matches all), and either the operator is Exists
// and the key matches (an empty key matches every key) or the operator is
// Equal (or empty) and key and value match.
func (t Toleration) ToleratesTaint(taint Taint) bool {
	if t.Effect != "" && t.Effect != taint.Effect {
		return false
	}
	if t.Key != "" && t.Key != taint.Key {
		return false
	}
	switch t.Operator {
	case TolerationOpExists:
		return true
	case TolerationOpEqual, "":
		return t.Key != "" && t.Value == taint.Value
	}
	return false
}

// TolerationsTolerateTaint reports whether any of tolerations tolerates
// taint.
func TolerationsTolerateTaint(tolerations []Toleration, taint Taint) bool {
	for _, t := range tolerations {
		if t.ToleratesTaint(taint) {
			return true
		}
	}
	return false
}

// UntoleratedTaint returns the first taint of the node with one of the given
// effects that tolerations do not tolerate, for scheduling (effects
// NoSchedule and NoExecute) or eviction (NoExecute). ok is false if all are
// tolerated.
func UntoleratedTaint(taints []Taint, tolerations []Toleration, effects ...TaintEffect) (taint Taint, ok bool) {
	for _, tn := range taints {
		relevant := len(effects) == 0
		for _, e := range effects {
			if tn.Effect == e {
				relevant = true
				break
			}
		}
		if relevant && !TolerationsTolerateTaint(tolerations, tn) {
			return tn, true
		}
	}
	return Taint{}, false
}

// Matches reports whether r holds for the given labels. Gt and Lt compare
// integers; a value that does not parse fails the requirement.
func (r NodeSelectorRequirement) Matches(labels map[string]string) bool {
	v, has := labels[r.Key]
	switch r.Operator {
	case NodeSelectorOpIn:
		return has && slicesContains(r.Values, v)
	case NodeSelectorOpNotIn:
		return !has || !slicesContains(r.Values, v)
	case NodeSelectorOpExists:
		return has
	case NodeSelectorOpDoesNotExist:
		return !has
	case NodeSelectorOpGt, NodeSelectorOpLt:
		if !has || len(r.Values) != 1 {
			return false
		}
		a, err1 := strconv.ParseInt(v, 10, 64)
		b, err2 := strconv.ParseInt(r.Values[0], 10, 64)
		if err1 != nil || err2 != nil {
			return false
		}
		if r.Operator == NodeSelectorOpGt {
			return a > b
		}
		return a < b
	}
	return false
}

// Matches reports whether node satisfies the term: every matchExpressions
// requirement on its labels and every matchFields requirement on its
// fields (only metadata.name). A term with no requirements matches nothing,
// as in Kubernetes.
func (t NodeSelectorTerm) Matches(node *Node) bool {
	if len(t.MatchExpressions) == 0 && len(t.MatchFields) == 0 {
		return false
	}
	for _, r := range t.MatchExpressions {
		if !r.Matches(node.Labels) {
			return false
		}
	}
	fields := map[string]string{"metadata.name": node.Name}
	for _, r := range t.MatchFields {
		if !r.Matches(fields) {
			return false
		}
	}
	return true
}

// Matches reports whether node satisfies any of the terms (nil matches
// every node).
func (s *NodeSelector) Matches(node *Node) bool {
	if s == nil {
		return true
	}
	for _, t := range s.NodeSelectorTerms {
		if t.Matches(node) {
			return true
		}
	}
	return false
}

// PodMatchesNode reports whether node satisfies the Pod's hard placement
// constraints on node labels: spec.nodeSelector and the required node
// affinity. Taints, resources and ports are checked separately.
func PodMatchesNode(spec *PodSpec, node *Node) bool {
	for k, v := range spec.NodeSelector {
		if lv, ok := node.Labels[k]; !ok || lv != v {
			return false
		}
	}
	if a := spec.Affinity; a != nil && a.NodeAffinity != nil {
		return a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.Matches(node)
	}
	return true
}

// PreferredNodeAffinityScore sums the weights of the preferred node
// affinity terms node satisfies (0 when there are none).
func PreferredNodeAffinityScore(spec *PodSpec, node *Node) int64 {
	if spec.Affinity == nil || spec.Affinity.NodeAffinity == nil {
		return 0
	}
	var score int64
	for _, p := range spec.Affinity.NodeAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
		if p.Preference.Matches(node) {
			score += int64(p.Weight)
		}
	}
	return score
}

// GetContainerStatus returns the status of the named container, or nil.
func GetContainerStatus(status *PodStatus, name string) *ContainerStatus {
	for i := range status.ContainerStatuses {
		if status.ContainerStatuses[i].Name == name {
			return &status.ContainerStatuses[i]
		}
	}
	return nil
}

// NewObjectReference returns a reference to obj for Events, with its type
// information taken from obj or, if unset, from the default scheme.
func NewObjectReference(obj Object) ObjectReference {
	tm := *obj.GetTypeMeta()
	if tm.APIVersion == "" || tm.Kind == "" {
		if info, ok := defaultScheme.KindFor(obj); ok {
			tm.APIVersion, tm.Kind = info.APIVersion, info.Kind
		}
	}
	return ObjectReference{
		Kind:            tm.Kind,
		APIVersion:      tm.APIVersion,
		Namespace:       obj.GetNamespace(),
		Name:            obj.GetName(),
		UID:             obj.GetUID(),
		ResourceVersion: obj.GetResourceVersion(),
	}
}
