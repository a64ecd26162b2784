package api

import (
	"encoding/json"
	"hash/fnv"
	"strconv"
)

// PodTemplateHashLabel is the label a Deployment puts on its ReplicaSets
// and their Pods, as in Kubernetes.
const PodTemplateHashLabel = "pod-template-hash"

// safeEncodeAlphabet avoids vowels and look-alike characters so hashes
// never spell words, as Kubernetes' rand.SafeEncodeString does.
const safeEncodeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// PodTemplateHash returns a short, stable hash of template (and of
// collisionCount, when not nil, to resolve name collisions), suitable for
// the pod-template-hash label and ReplicaSet names: FNV-32a over the
// template's canonical JSON (keys sorted), printed in a vowel-free
// alphabet (e.g. "5d8f7c9b6"). The template's own pod-template-hash label
// is ignored, so a ReplicaSet's template hashes like its Deployment's.
//
// Equal templates hash equally across processes and versions of this
// package as long as the JSON form of the types does not change.
func PodTemplateHash(template *PodTemplateSpec, collisionCount *int32) string {
	t := template
	if _, ok := template.Labels[PodTemplateHashLabel]; ok {
		c := Clone(*template)
		delete(c.Labels, PodTemplateHashLabel)
		t = &c
	}
	h := fnv.New32a()
	// encoding/json sorts map keys and writes struct fields in declaration
	// order: the output is canonical for a given value.
	b, _ := json.Marshal(t) // cannot fail: the types marshal without error
	h.Write(b)
	if collisionCount != nil {
		h.Write([]byte(strconv.FormatInt(int64(*collisionCount), 10)))
	}
	return safeEncode(strconv.FormatUint(uint64(h.Sum32()), 10))
}

func safeEncode(s string) string {
	r := []byte(s)
	for i, c := range r {
		r[i] = safeEncodeAlphabet[int(c)%len(safeEncodeAlphabet)]
	}
	return string(r)
}

// ---- owner references ----

// NewControllerRef returns an owner reference that marks owner as the
// managing controller of a dependent, blocking the owner's foreground
// deletion until the dependent is gone. owner's TypeMeta must be set (or
// its type registered in the default scheme).
func NewControllerRef(owner Object) OwnerReference {
	tm := *owner.GetTypeMeta()
	if tm.APIVersion == "" || tm.Kind == "" {
		if info, ok := defaultScheme.KindFor(owner); ok {
			tm.APIVersion, tm.Kind = info.APIVersion, info.Kind
		}
	}
	return OwnerReference{
		APIVersion:         tm.APIVersion,
		Kind:               tm.Kind,
		Name:               owner.GetName(),
		UID:                owner.GetUID(),
		Controller:         Ptr(true),
		BlockOwnerDeletion: Ptr(true),
	}
}

// GetControllerOf returns the owner reference of obj's managing controller,
// or nil if it has none.
func GetControllerOf(obj Object) *OwnerReference {
	refs := obj.GetObjectMeta().OwnerReferences
	for i := range refs {
		if refs[i].Controller != nil && *refs[i].Controller {
			return &refs[i]
		}
	}
	return nil
}

// IsControlledBy reports whether owner is obj's managing controller
// (matched by UID).
func IsControlledBy(obj, owner Object) bool {
	ref := GetControllerOf(obj)
	return ref != nil && ref.UID == owner.GetUID()
}

// ---- conditions ----

// GetPodCondition returns the condition of the given type, or nil.
func GetPodCondition(status *PodStatus, t PodConditionType) *PodCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}

// SetPodCondition adds or updates a condition. LastTransitionTime is kept
// when the status does not change and set to now (if cond does not carry
// one) when it does. It reports whether anything changed.
func SetPodCondition(status *PodStatus, cond PodCondition, now Time) bool {
	cur := GetPodCondition(status, cond.Type)
	if cur == nil {
		if cond.LastTransitionTime.IsZero() {
			cond.LastTransitionTime = now
		}
		status.Conditions = append(status.Conditions, cond)
		return true
	}
	if cur.Status != cond.Status {
		if cond.LastTransitionTime.IsZero() {
			cond.LastTransitionTime = now
		}
	} else {
		cond.LastTransitionTime = cur.LastTransitionTime
	}
	if podConditionEqual(*cur, cond) {
		return false
	}
	*cur = cond
	return true
}

// The condition comparisons use Time.Equal: the same instant may be held
// with different locations or monotonic readings.
func podConditionEqual(a, b PodCondition) bool {
	return a.Type == b.Type && a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message &&
		a.ObservedGeneration == b.ObservedGeneration && a.LastProbeTime.Equal(b.LastProbeTime) &&
		a.LastTransitionTime.Equal(b.LastTransitionTime)
}

func deploymentConditionEqual(a, b DeploymentCondition) bool {
	return a.Type == b.Type && a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message &&
		a.LastUpdateTime.Equal(b.LastUpdateTime) && a.LastTransitionTime.Equal(b.LastTransitionTime)
}

func replicaSetConditionEqual(a, b ReplicaSetCondition) bool {
	return a.Type == b.Type && a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message &&
		a.LastTransitionTime.Equal(b.LastTransitionTime)
}

func nodeConditionEqual(a, b NodeCondition) bool {
	return a.Type == b.Type && a.Status == b.Status && a.Reason == b.Reason && a.Message == b.Message &&
		a.LastHeartbeatTime.Equal(b.LastHeartbeatTime) && a.LastTransitionTime.Equal(b.LastTransitionTime)
}

// GetDeploymentCondition returns the condition of the given type, or nil.
func GetDeploymentCondition(status *DeploymentStatus, t DeploymentConditionType) *DeploymentCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}

// SetDeploymentCondition adds or updates a condition, keeping
// LastTransitionTime when the status does not change; LastUpdateTime is
// set to now whenever the condition changes. It reports whether anything
// changed.
func SetDeploymentCondition(status *DeploymentStatus, cond DeploymentCondition, now Time) bool {
	cur := GetDeploymentCondition(status, cond.Type)
	if cur == nil {
		if cond.LastTransitionTime.IsZero() {
			cond.LastTransitionTime = now
		}
		if cond.LastUpdateTime.IsZero() {
			cond.LastUpdateTime = now
		}
		status.Conditions = append(status.Conditions, cond)
		return true
	}
	if cur.Status == cond.Status {
		cond.LastTransitionTime = cur.LastTransitionTime
	} else if cond.LastTransitionTime.IsZero() {
		cond.LastTransitionTime = now
	}
	cond.LastUpdateTime = cur.LastUpdateTime
	if deploymentConditionEqual(*cur, cond) {
		return false
	}
	cond.LastUpdateTime = now
	*cur = cond
	return true
}

// RemoveDeploymentCondition removes the condition of the given type and
// reports whether it was present.
func RemoveDeploymentCondition(status *DeploymentStatus, t DeploymentConditionType) bool {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			status.Conditions = append(status.Conditions[:i], status.Conditions[i+1:]...)
			return true
		}
	}
	return false
}

// GetReplicaSetCondition returns the condition of the given type, or nil.
func GetReplicaSetCondition(status *ReplicaSetStatus, t ReplicaSetConditionType) *ReplicaSetCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}

// SetReplicaSetCondition adds or updates a condition, keeping
// LastTransitionTime when the status does not change. It reports whether
// anything changed.
func SetReplicaSetCondition(status *ReplicaSetStatus, cond ReplicaSetCondition, now Time) bool {
	cur := GetReplicaSetCondition(status, cond.Type)
	if cur == nil {
		if cond.LastTransitionTime.IsZero() {
			cond.LastTransitionTime = now
		}
		status.Conditions = append(status.Conditions, cond)
		return true
	}
	if cur.Status == cond.Status {
		cond.LastTransitionTime = cur.LastTransitionTime
	} else if cond.LastTransitionTime.IsZero() {
		cond.LastTransitionTime = now
	}
	if replicaSetConditionEqual(*cur, cond) {
		return false
	}
	*cur = cond
	return true
}

// GetNodeCondition returns the condition of the given type, or nil.
func GetNodeCondition(status *NodeStatus, t NodeConditionType) *NodeCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == t {
			return &status.Conditions[i]
		}
	}
	return nil
}

// SetNodeCondition adds or updates a condition, keeping LastTransitionTime
// when the status does not change (LastHeartbeatTime is taken from cond).
// It reports whether anything changed.
func SetNodeCondition(status *NodeStatus, cond NodeCondition, now Time) bool {
	cur := GetNodeCondition(status, cond.Type)
	if cur == nil {
		if cond.LastTransitionTime.IsZero() {
			cond.LastTransitionTime = now
		}
		status.Conditions = append(status.Conditions, cond)
		return true
	}
	if cur.Status == cond.Status {
		cond.LastTransitionTime = cur.LastTransitionTime
	} else if cond.LastTransitionTime.IsZero() {
		cond.LastTransitionTime = now
	}
	if nodeConditionEqual(*cur, cond) {
		return false
	}
	*cur = cond
	return true
}

// IsNodeReady reports whether the node's Ready condition is True.
func IsNodeReady(n *Node) bool {
	c := GetNodeCondition(&n.Status, NodeReady)
	return c != nil && c.Status == ConditionTrue
}

// ---- pods ----

// IsPodReady reports whether the Pod's Ready condition is True.
func IsPodReady(p *Pod) bool {
	c := GetPodCondition(&p.Status, PodReady)
	return c != nil && c.Status == ConditionTrue
}

// IsPodAvailable reports whether the Pod has been ready for at least
// minReadySeconds at now.
func IsPodAvailable(p *Pod, minReadySeconds int32, now Time) bool {
	c := GetPodCondition(&p.Status, PodReady)
	if c == nil || c.Status != ConditionTrue {
		return false
	}
	if minReadySeconds == 0 {
		return true
	}
	return !c.LastTransitionTime.IsZero() &&
		now.Sub(c.LastTransitionTime.Time).Seconds() >= float64(minReadySeconds)
}

// IsPodTerminal reports whether the Pod reached phase Succeeded or Failed;
// it will not run again.
func IsPodTerminal(p *Pod) bool {
	return p.Status.Phase == PodSucceeded || p.Status.Phase == PodFailed
}

// IsPodActive reports whether the Pod counts towards a controller's
// replicas: not terminal and not being deleted.
func IsPodActive(p *Pod) bool {
	return !IsPodTerminal(p) && p.DeletionTimestamp == nil
}

// IsPodScheduled reports whether the Pod is bound to a Node.
func IsPodScheduled(p *Pod) bool { return p.Spec.NodeName != "" }

// ResourceRequests returns what a Pod asks of a Node: the sum of the
// containers' requests, raised per resource to the largest init container
// request (init containers run one at a time before the others), as the
// Kubernetes scheduler computes it. The result is never nil.
func ResourceRequests(spec *PodSpec) ResourceList {
	out := ResourceList{}
	for i := range spec.Containers {
		out.Add(spec.Containers[i].Resources.Requests)
	}
	for i := range spec.InitContainers {
		for name, q := range spec.InitContainers[i].Resources.Requests {
			if cur, ok := out[name]; !ok || q.Cmp(cur) > 0 {
				out[name] = q
			}
		}
	}
	return out
}

// ResourceLimits returns the sum of the containers' limits (nil entries
// for resources without a limit in some container are omitted: a Pod has
// a limit for a resource only if every container has one).
func ResourceLimits(spec *PodSpec) ResourceList {
	out := ResourceList{}
	if len(spec.Containers) == 0 {
		return out
	}
	for name := range spec.Containers[0].Resources.Limits {
		sum := Quantity{}
		all := true
		for i := range spec.Containers {
			q, ok := spec.Containers[i].Resources.Limits[name]
			if !ok {
				all = false
				break
			}
			sum = sum.Add(q)
		}
		if all {
			out[name] = sum
		}
	}
	return out
}

// FindContainerPort returns the port number a probe's IntOrString port
// refers to in c: the number itself, or the containerPort of the named
// port. ok is false if the name is not declared.
func FindContainerPort(c *Container, port IntOrString) (number int32, ok bool) {
	if port.Type == Int {
		return port.IntVal, true
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort, true
		}
	}
	return 0, false
}
