package api

// ---- owner references ----

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

// conditionType is what the getters need of each kind's condition type;
// *PodCondition, *DeploymentCondition, *ReplicaSetCondition and
// *NodeCondition implement it. (Setting conditions is the controllers'
// job: see orchestrator/internal/conditions.)
type conditionType[C any] interface {
	*C
	typeName() string
}

func getCondition[C any, P conditionType[C]](conds []C, typ string) *C {
	for i := range conds {
		if P(&conds[i]).typeName() == typ {
			return &conds[i]
		}
	}
	return nil
}

func (c *PodCondition) typeName() string        { return string(c.Type) }
func (c *DeploymentCondition) typeName() string { return string(c.Type) }
func (c *ReplicaSetCondition) typeName() string { return string(c.Type) }
func (c *NodeCondition) typeName() string       { return string(c.Type) }
func (c *JobCondition) typeName() string        { return string(c.Type) }

// GetPodCondition returns the condition of the given type, or nil.
func GetPodCondition(status *PodStatus, t PodConditionType) *PodCondition {
	return getCondition(status.Conditions, string(t))
}

// GetDeploymentCondition returns the condition of the given type, or nil.
func GetDeploymentCondition(status *DeploymentStatus, t DeploymentConditionType) *DeploymentCondition {
	return getCondition(status.Conditions, string(t))
}

// GetReplicaSetCondition returns the condition of the given type, or nil.
func GetReplicaSetCondition(status *ReplicaSetStatus, t ReplicaSetConditionType) *ReplicaSetCondition {
	return getCondition(status.Conditions, string(t))
}

// GetJobCondition returns the condition of the given type, or nil.
func GetJobCondition(status *JobStatus, t JobConditionType) *JobCondition {
	return getCondition(status.Conditions, string(t))
}

// IsJobFinished reports whether the Job has condition Complete or Failed
// with status True: its controller does nothing more with it but delete it
// when its ttlSecondsAfterFinished has passed.
func IsJobFinished(j *Job) bool {
	for _, t := range []JobConditionType{JobComplete, JobFailed} {
		if c := GetJobCondition(&j.Status, t); c != nil && c.Status == ConditionTrue {
			return true
		}
	}
	return false
}

// GetNodeCondition returns the condition of the given type, or nil.
func GetNodeCondition(status *NodeStatus, t NodeConditionType) *NodeCondition {
	return getCondition(status.Conditions, string(t))
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

// ResourceRequests returns what a Pod asks of a Node, as the Kubernetes
// scheduler computes it: the sum of the containers' and sidecars'
// requests (sidecars are init containers with restartPolicy Always, which
// keep running), raised per resource to what any init container needs
// while it runs (its request plus those of the sidecars started before
// it). The result is never nil.
func ResourceRequests(spec *PodSpec) ResourceList {
	out := ResourceList{}
	for i := range spec.Containers {
		out.Add(spec.Containers[i].Resources.Requests)
	}
	sidecars, peak := ResourceList{}, ResourceList{}
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		need := ResourceList{}
		if c.RestartPolicy != nil && *c.RestartPolicy == string(RestartPolicyAlways) {
			out.Add(c.Resources.Requests)
			sidecars.Add(c.Resources.Requests)
			need.Add(sidecars)
		} else {
			need.Add(c.Resources.Requests)
			need.Add(sidecars)
		}
		raise(peak, need)
	}
	raise(out, peak)
	return out
}

// raise sets each resource of l to the larger of its value and by's.
func raise(l, by ResourceList) {
	for name, q := range by {
		if cur, ok := l[name]; !ok || q.Cmp(cur) > 0 {
			l[name] = q
		}
	}
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
