// Code written for each kind; keep in step with the registry in scheme.go.
package api

import "fmt"

// DeepCopy returns an independent copy of o (nil for nil).
func (o *Namespace) DeepCopy() *Namespace {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *Namespace) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *NamespaceList) DeepCopy() *NamespaceList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *NamespaceList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *NamespaceList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *Namespace.
func (l *NamespaceList) SetItems(items []Object) error {
	out := make([]Namespace, len(items))
	for i, it := range items {
		o, ok := it.(*Namespace)
		if !ok || o == nil {
			return fmt.Errorf("api: NamespaceList.SetItems: item %d is %T, want *Namespace", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *Node) DeepCopy() *Node {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *Node) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *NodeList) DeepCopy() *NodeList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *NodeList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *NodeList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *Node.
func (l *NodeList) SetItems(items []Object) error {
	out := make([]Node, len(items))
	for i, it := range items {
		o, ok := it.(*Node)
		if !ok || o == nil {
			return fmt.Errorf("api: NodeList.SetItems: item %d is %T, want *Node", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *Pod) DeepCopy() *Pod {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *Pod) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *PodList) DeepCopy() *PodList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *PodList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *PodList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *Pod.
func (l *PodList) SetItems(items []Object) error {
	out := make([]Pod, len(items))
	for i, it := range items {
		o, ok := it.(*Pod)
		if !ok || o == nil {
			return fmt.Errorf("api: PodList.SetItems: item %d is %T, want *Pod", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *Deployment) DeepCopy() *Deployment {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *Deployment) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *DeploymentList) DeepCopy() *DeploymentList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *DeploymentList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *DeploymentList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *Deployment.
func (l *DeploymentList) SetItems(items []Object) error {
	out := make([]Deployment, len(items))
	for i, it := range items {
		o, ok := it.(*Deployment)
		if !ok || o == nil {
			return fmt.Errorf("api: DeploymentList.SetItems: item %d is %T, want *Deployment", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *ReplicaSet) DeepCopy() *ReplicaSet {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *ReplicaSet) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *ReplicaSetList) DeepCopy() *ReplicaSetList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *ReplicaSetList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *ReplicaSetList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *ReplicaSet.
func (l *ReplicaSetList) SetItems(items []Object) error {
	out := make([]ReplicaSet, len(items))
	for i, it := range items {
		o, ok := it.(*ReplicaSet)
		if !ok || o == nil {
			return fmt.Errorf("api: ReplicaSetList.SetItems: item %d is %T, want *ReplicaSet", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *DaemonSet) DeepCopy() *DaemonSet {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *DaemonSet) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *DaemonSetList) DeepCopy() *DaemonSetList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *DaemonSetList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *DaemonSetList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *DaemonSet.
func (l *DaemonSetList) SetItems(items []Object) error {
	out := make([]DaemonSet, len(items))
	for i, it := range items {
		o, ok := it.(*DaemonSet)
		if !ok || o == nil {
			return fmt.Errorf("api: DaemonSetList.SetItems: item %d is %T, want *DaemonSet", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *ConfigMap) DeepCopy() *ConfigMap {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *ConfigMap) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *ConfigMapList) DeepCopy() *ConfigMapList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *ConfigMapList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *ConfigMapList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *ConfigMap.
func (l *ConfigMapList) SetItems(items []Object) error {
	out := make([]ConfigMap, len(items))
	for i, it := range items {
		o, ok := it.(*ConfigMap)
		if !ok || o == nil {
			return fmt.Errorf("api: ConfigMapList.SetItems: item %d is %T, want *ConfigMap", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *Event) DeepCopy() *Event {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *Event) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *EventList) DeepCopy() *EventList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *EventList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *EventList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *Event.
func (l *EventList) SetItems(items []Object) error {
	out := make([]Event, len(items))
	for i, it := range items {
		o, ok := it.(*Event)
		if !ok || o == nil {
			return fmt.Errorf("api: EventList.SetItems: item %d is %T, want *Event", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *Job) DeepCopy() *Job {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *Job) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *JobList) DeepCopy() *JobList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *JobList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *JobList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *Job.
func (l *JobList) SetItems(items []Object) error {
	out := make([]Job, len(items))
	for i, it := range items {
		o, ok := it.(*Job)
		if !ok || o == nil {
			return fmt.Errorf("api: JobList.SetItems: item %d is %T, want *Job", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *Lease) DeepCopy() *Lease {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *Lease) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *LeaseList) DeepCopy() *LeaseList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *LeaseList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *LeaseList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *Lease.
func (l *LeaseList) SetItems(items []Object) error {
	out := make([]Lease, len(items))
	for i, it := range items {
		o, ok := it.(*Lease)
		if !ok || o == nil {
			return fmt.Errorf("api: LeaseList.SetItems: item %d is %T, want *Lease", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *Role) DeepCopy() *Role {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *Role) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *RoleList) DeepCopy() *RoleList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *RoleList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *RoleList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *Role.
func (l *RoleList) SetItems(items []Object) error {
	out := make([]Role, len(items))
	for i, it := range items {
		o, ok := it.(*Role)
		if !ok || o == nil {
			return fmt.Errorf("api: RoleList.SetItems: item %d is %T, want *Role", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *ClusterRole) DeepCopy() *ClusterRole {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *ClusterRole) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *ClusterRoleList) DeepCopy() *ClusterRoleList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *ClusterRoleList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *ClusterRoleList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *ClusterRole.
func (l *ClusterRoleList) SetItems(items []Object) error {
	out := make([]ClusterRole, len(items))
	for i, it := range items {
		o, ok := it.(*ClusterRole)
		if !ok || o == nil {
			return fmt.Errorf("api: ClusterRoleList.SetItems: item %d is %T, want *ClusterRole", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *RoleBinding) DeepCopy() *RoleBinding {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *RoleBinding) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *RoleBindingList) DeepCopy() *RoleBindingList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *RoleBindingList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *RoleBindingList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *RoleBinding.
func (l *RoleBindingList) SetItems(items []Object) error {
	out := make([]RoleBinding, len(items))
	for i, it := range items {
		o, ok := it.(*RoleBinding)
		if !ok || o == nil {
			return fmt.Errorf("api: RoleBindingList.SetItems: item %d is %T, want *RoleBinding", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}

// DeepCopy returns an independent copy of o (nil for nil).
func (o *ClusterRoleBinding) DeepCopy() *ClusterRoleBinding {
	if o == nil {
		return nil
	}
	c := Clone(*o)
	return &c
}

// DeepCopyObject implements [Object].
func (o *ClusterRoleBinding) DeepCopyObject() Object { return o.DeepCopy() }

// DeepCopy returns an independent copy of l (nil for nil).
func (l *ClusterRoleBindingList) DeepCopy() *ClusterRoleBindingList {
	if l == nil {
		return nil
	}
	c := Clone(*l)
	return &c
}

// DeepCopyList implements [ObjectList].
func (l *ClusterRoleBindingList) DeepCopyList() ObjectList { return l.DeepCopy() }

// GetItems implements [ObjectList]; the elements point into l.Items.
func (l *ClusterRoleBindingList) GetItems() []Object {
	out := make([]Object, len(l.Items))
	for i := range l.Items {
		out[i] = &l.Items[i]
	}
	return out
}

// SetItems implements [ObjectList]. It returns an error, leaving l
// unchanged, if an item is not a *ClusterRoleBinding.
func (l *ClusterRoleBindingList) SetItems(items []Object) error {
	out := make([]ClusterRoleBinding, len(items))
	for i, it := range items {
		o, ok := it.(*ClusterRoleBinding)
		if !ok || o == nil {
			return fmt.Errorf("api: ClusterRoleBindingList.SetItems: item %d is %T, want *ClusterRoleBinding", i, it)
		}
		out[i] = *o
	}
	l.Items = out
	return nil
}
