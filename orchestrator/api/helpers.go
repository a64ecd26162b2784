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

// condition is what the condition helpers need of each kind's condition
// type; *PodCondition, *DeploymentCondition, *ReplicaSetCondition and
// *NodeCondition implement it.
type condition[C any] interface {
	*C
	typeName() string
	status() ConditionStatus
	transitionTime() *Time
	equal(*C) bool
}

func getCondition[C any, P condition[C]](conds []C, typ string) *C {
	for i := range conds {
		if P(&conds[i]).typeName() == typ {
			return &conds[i]
		}
	}
	return nil
}

// setCondition adds cond or replaces the condition of its type. The
// transition time is kept when the status stays the same and set to now
// (unless cond carries one) when it changes. prepare, if not nil, adjusts
// cond against the current one (nil when absent) before the comparison. It
// reports whether anything changed.
func setCondition[C any, P condition[C]](conds *[]C, cond C, now Time, prepare func(cur, next *C)) bool {
	next := P(&cond)
	cur := getCondition[C, P](*conds, next.typeName())
	if cur == nil {
		if next.transitionTime().IsZero() {
			*next.transitionTime() = now
		}
		if prepare != nil {
			prepare(nil, &cond)
		}
		*conds = append(*conds, cond)
		return true
	}
	if P(cur).status() == next.status() {
		*next.transitionTime() = *P(cur).transitionTime()
	} else if next.transitionTime().IsZero() {
		*next.transitionTime() = now
	}
	if prepare != nil {
		prepare(cur, &cond)
	}
	if P(cur).equal(&cond) {
		return false
	}
	*cur = cond
	return true
}

func (c *PodCondition) typeName() string        { return string(c.Type) }
func (c *PodCondition) status() ConditionStatus { return c.Status }
func (c *PodCondition) transitionTime() *Time   { return &c.LastTransitionTime }
func (c *DeploymentCondition) typeName() string { return string(c.Type) }
func (c *DeploymentCondition) status() ConditionStatus {
	return c.Status
}
func (c *DeploymentCondition) transitionTime() *Time { return &c.LastTransitionTime }
func (c *ReplicaSetCondition) typeName() string      { return string(c.Type) }
func (c *ReplicaSetCondition) status() ConditionStatus {
	return c.Status
}
func (c *ReplicaSetCondition) transitionTime() *Time { return &c.LastTransitionTime }
func (c *NodeCondition) typeName() string            { return string(c.Type) }
func (c *NodeCondition) status() ConditionStatus     { return c.Status }
func (c *NodeCondition) transitionTime() *Time       { return &c.LastTransitionTime }

// The comparisons use Time.Equal: the same instant may be held with
// different locations or monotonic readings.
func (c *PodCondition) equal(b *PodCondition) bool {
	return c.Type == b.Type && c.Status == b.Status && c.Reason == b.Reason && c.Message == b.Message &&
		c.ObservedGeneration == b.ObservedGeneration && c.LastProbeTime.Equal(b.LastProbeTime) &&
		c.LastTransitionTime.Equal(b.LastTransitionTime)
}

func (c *DeploymentCondition) equal(b *DeploymentCondition) bool {
	return c.Type == b.Type && c.Status == b.Status && c.Reason == b.Reason && c.Message == b.Message &&
		c.LastUpdateTime.Equal(b.LastUpdateTime) && c.LastTransitionTime.Equal(b.LastTransitionTime)
}

func (c *ReplicaSetCondition) equal(b *ReplicaSetCondition) bool {
	return c.Type == b.Type && c.Status == b.Status && c.Reason == b.Reason && c.Message == b.Message &&
		c.LastTransitionTime.Equal(b.LastTransitionTime)
}

func (c *NodeCondition) equal(b *NodeCondition) bool {
	return c.Type == b.Type && c.Status == b.Status && c.Reason == b.Reason && c.Message == b.Message &&
		c.LastHeartbeatTime.Equal(b.LastHeartbeatTime) && c.LastTransitionTime.Equal(b.LastTransitionTime)
}

// GetPodCondition returns the condition of the given type, or nil.
func GetPodCondition(status *PodStatus, t PodConditionType) *PodCondition {
	return getCondition(status.Conditions, string(t))
}

// SetPodCondition adds or updates a condition. LastTransitionTime is kept
// when the status does not change and set to now (if cond does not carry
// one) when it does. It reports whether anything changed.
func SetPodCondition(status *PodStatus, cond PodCondition, now Time) bool {
	return setCondition(&status.Conditions, cond, now, nil)
}

// GetDeploymentCondition returns the condition of the given type, or nil.
func GetDeploymentCondition(status *DeploymentStatus, t DeploymentConditionType) *DeploymentCondition {
	return getCondition(status.Conditions, string(t))
}

// SetDeploymentCondition adds or updates a condition, keeping
// LastTransitionTime when the status does not change; LastUpdateTime is
// set to now whenever the condition changes. It reports whether anything
// changed.
func SetDeploymentCondition(status *DeploymentStatus, cond DeploymentCondition, now Time) bool {
	return setCondition(&status.Conditions, cond, now, func(cur, next *DeploymentCondition) {
		if cur == nil {
			if next.LastUpdateTime.IsZero() {
				next.LastUpdateTime = now
			}
			return
		}
		// Compare without the update time; stamp it only on a change.
		next.LastUpdateTime = cur.LastUpdateTime
		if !cur.equal(next) {
			next.LastUpdateTime = now
		}
	})
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
	return getCondition(status.Conditions, string(t))
}

// SetReplicaSetCondition adds or updates a condition, keeping
// LastTransitionTime when the status does not change. It reports whether
// anything changed.
func SetReplicaSetCondition(status *ReplicaSetStatus, cond ReplicaSetCondition, now Time) bool {
	return setCondition(&status.Conditions, cond, now, nil)
}

// GetNodeCondition returns the condition of the given type, or nil.
func GetNodeCondition(status *NodeStatus, t NodeConditionType) *NodeCondition {
	return getCondition(status.Conditions, string(t))
}

// SetNodeCondition adds or updates a condition, keeping LastTransitionTime
// when the status does not change (LastHeartbeatTime is taken from cond).
// It reports whether anything changed.
func SetNodeCondition(status *NodeStatus, cond NodeCondition, now Time) bool {
	return setCondition(&status.Conditions, cond, now, nil)
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
