package tables

import (
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver"
)

// Convertor is an apiserver.TableConvertor with Kubernetes' columns. It
// holds no state and is safe for concurrent use.
type Convertor struct{}

var _ apiserver.TableConvertor = Convertor{}

// New returns a Convertor.
func New() Convertor { return Convertor{} }

// printer is one kind's columns and row function.
type printer struct {
	columns []metav1.TableColumnDefinition
	row     func(obj api.Object, now time.Time) (cells []any, conds []metav1.TableRowCondition, err error)
}

// ConvertToTable returns the table of objs, all of info's kind, with
// Kubernetes' columns for it (NAME and AGE for kinds without their own).
// Header columns are always set; the server drops them when the request
// asks for none.
//
// Errors: BadRequest when an object is not of info's kind.
func (Convertor) ConvertToTable(info api.KindInfo, objs []api.Object, o apiserver.TableOptions) (*metav1.Table, error) {
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	p, ok := printers[info.Kind]
	if !ok {
		p, ok = servicePrinters[info.Kind]
	}
	if !ok {
		p = genericPrinter
	}
	t := &metav1.Table{ColumnDefinitions: slices.Clone(p.columns), Rows: make([]metav1.TableRow, 0, len(objs))}
	for _, obj := range objs {
		cells, conds, err := p.row(obj, now)
		if err != nil {
			return nil, err
		}
		t.Rows = append(t.Rows, metav1.TableRow{Cells: cells, Conditions: conds})
	}
	return t, nil
}

// wrongKind is the error of an object of another kind than the table's.
func wrongKind(want string, obj api.Object) error {
	return api.NewBadRequest(fmt.Sprintf("tables: a %s table got %T", want, obj))
}

// Column definitions shared by every kind.
var (
	colName = metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]}
	colAge  = metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]}
)

func col(name, typ, desc string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: desc}
}

func wide(name, typ, desc string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Priority: 1, Description: desc}
}

// The template columns of the workload kinds (-o wide).
var templateColumns = []metav1.TableColumnDefinition{
	wide("Containers", "string", "Names of each container in the template."),
	wide("Images", "string", "Images referenced by each container in the template."),
	wide("Selector", "string", "The label selector of the Pods the object manages."),
}

// printers are the kinds with their own columns, by kind. Read-only.
var printers = map[string]printer{
	"Pod": {columns: []metav1.TableColumnDefinition{
		colName,
		col("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
		col("Status", "string", "The aggregate status of the containers in this pod."),
		col("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
		colAge,
		wide("IP", "string", "The IP address allocated to the pod."),
		wide("Node", "string", "The node the pod is bound to."),
		wide("Nominated Node", "string", "The node the scheduler nominated for the pod while it preempts others."),
		wide("Readiness Gates", "string", "How many of the pod's readiness gates are met."),
	}, row: podRow},
	"Deployment": {columns: append([]metav1.TableColumnDefinition{
		colName,
		col("Ready", "string", "Number of the pod with ready state"),
		col("Up-to-date", "integer", "Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
		col("Available", "integer", "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
		colAge,
	}, templateColumns...), row: deploymentRow},
	"ReplicaSet": {columns: append([]metav1.TableColumnDefinition{
		colName,
		col("Desired", "integer", "Replicas is the number of desired pods."),
		col("Current", "integer", "Replicas is the most recently observed number of replicas."),
		col("Ready", "integer", "The number of ready replicas for this replica set."),
		colAge,
	}, templateColumns...), row: replicaSetRow},
	"DaemonSet": {columns: append([]metav1.TableColumnDefinition{
		colName,
		col("Desired", "integer", "The total number of nodes that should be running the daemon pod."),
		col("Current", "integer", "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod."),
		col("Ready", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready."),
		col("Up-to-date", "integer", "The total number of nodes that are running updated daemon pod."),
		col("Available", "integer", "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available."),
		col("Node Selector", "string", "The node selector of the daemon pod's template."),
		colAge,
	}, templateColumns...), row: daemonSetRow},
	"Job": {columns: append([]metav1.TableColumnDefinition{
		colName,
		col("Status", "string", "Status of the job."),
		col("Completions", "string", "The desired number of successfully finished pods the job should be run with."),
		col("Duration", "string", "Time required to complete the job."),
		colAge,
	}, templateColumns...), row: jobRow},
	"Node": {columns: []metav1.TableColumnDefinition{
		colName,
		col("Status", "string", "The status of the node"),
		col("Roles", "string", "The roles of the node"),
		colAge,
		col("Version", "string", "Kubelet Version reported by the node."),
		wide("Internal-IP", "string", "The node's first internal IP address."),
		wide("External-IP", "string", "The node's first external IP address."),
		wide("OS-Image", "string", "OS Image reported by the node."),
		wide("Kernel-Version", "string", "Kernel Version reported by the node."),
		wide("Container-Runtime", "string", "ContainerRuntime Version reported by the node."),
	}, row: nodeRow},
	"Namespace": {columns: []metav1.TableColumnDefinition{
		colName,
		col("Status", "string", "The status of the namespace"),
		colAge,
	}, row: namespaceRow},
	"Event": {columns: []metav1.TableColumnDefinition{
		col("Last Seen", "string", "The time at which the most recent occurrence of this event was recorded."),
		col("Type", "string", "Type of this event (Normal, Warning)."),
		col("Reason", "string", "A short, machine understandable string that gives the reason for the transition into the object's current status."),
		col("Object", "string", "The object that this event is about."),
		wide("Subobject", "string", "The field of the object the event is about, such as a container."),
		wide("Source", "string", "The component reporting this event."),
		col("Message", "string", "A human-readable description of the status of this operation."),
		wide("First Seen", "string", "The time at which the event was first recorded."),
		wide("Count", "string", "The number of times this event has occurred."),
		{Name: "Name", Type: "string", Format: "name", Priority: 1, Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
	}, row: eventRow},
	"ConfigMap": {columns: []metav1.TableColumnDefinition{
		colName,
		col("Data", "integer", "Number of data entries in the config map."),
		colAge,
	}, row: configMapRow},
	"Lease": {columns: []metav1.TableColumnDefinition{
		colName,
		col("Holder", "string", "The identity of the current holder of the lease."),
		colAge,
	}, row: leaseRow},
	"Role":               {columns: roleColumns, row: roleRow},
	"ClusterRole":        {columns: roleColumns, row: roleRow},
	"RoleBinding":        {columns: bindingColumns, row: bindingRow},
	"ClusterRoleBinding": {columns: bindingColumns, row: bindingRow},
	"Secret": {columns: []metav1.TableColumnDefinition{
		colName,
		col("Type", "string", "The type of secret"),
		col("Data", "integer", "Number of data entries in the secret."),
		colAge,
	}, row: secretRow},
}

// The columns of roles and bindings, as kube-apiserver's printers.
var (
	roleColumns = []metav1.TableColumnDefinition{
		colName,
		col("Created At", "date", metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]),
	}
	bindingColumns = []metav1.TableColumnDefinition{
		colName,
		col("Role", "string", "Role of the binding."),
		colAge,
		wide("Users", "string", "Users in the binding."),
		wide("Groups", "string", "Groups in the binding."),
		wide("ServiceAccounts", "string", "ServiceAccounts in the binding."),
	}
)

var genericPrinter = printer{columns: []metav1.TableColumnDefinition{colName, colAge}, row: func(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	return []any{obj.GetName(), age(obj.GetObjectMeta().CreationTimestamp, now)}, nil, nil
}}

// age is kubectl's AGE: "<unknown>" for a zero time.
func age(t api.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// orNone is s, or "<none>" when empty.
func orNone(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

// containerCells are the CONTAINERS and IMAGES cells of a template.
func containerCells(cs []api.Container) (string, string) {
	names := make([]string, len(cs))
	images := make([]string, len(cs))
	for i, c := range cs {
		names[i], images[i] = c.Name, c.Image
	}
	return strings.Join(names, ","), strings.Join(images, ",")
}

// selectorCell is the SELECTOR cell: empty for no selector, "<invalid>"
// for one that does not parse.
func selectorCell(ls *api.LabelSelector) string {
	if ls == nil {
		return ""
	}
	s, err := api.LabelSelectorAsSelector(ls)
	if err != nil {
		return "<invalid>"
	}
	return s.String()
}

func templateCells(spec api.PodSpec, sel *api.LabelSelector) []any {
	names, images := containerCells(spec.Containers)
	return []any{names, images, selectorCell(sel)}
}

// formatLabels is labels.FormatLabels: k=v sorted by key, "<none>" when
// empty.
func formatLabels(m map[string]string) string {
	if len(m) == 0 {
		return "<none>"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

func deref32(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

func deploymentRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	d, ok := obj.(*api.Deployment)
	if !ok {
		return nil, nil, wrongKind("Deployment", obj)
	}
	cells := []any{d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, deref32(d.Spec.Replicas, 1)),
		int64(d.Status.UpdatedReplicas), int64(d.Status.AvailableReplicas), age(d.CreationTimestamp, now)}
	return append(cells, templateCells(d.Spec.Template.Spec, d.Spec.Selector)...), nil, nil
}

func replicaSetRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	rs, ok := obj.(*api.ReplicaSet)
	if !ok {
		return nil, nil, wrongKind("ReplicaSet", obj)
	}
	cells := []any{rs.Name, int64(deref32(rs.Spec.Replicas, 1)), int64(rs.Status.Replicas), int64(rs.Status.ReadyReplicas), age(rs.CreationTimestamp, now)}
	return append(cells, templateCells(rs.Spec.Template.Spec, rs.Spec.Selector)...), nil, nil
}

func daemonSetRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	ds, ok := obj.(*api.DaemonSet)
	if !ok {
		return nil, nil, wrongKind("DaemonSet", obj)
	}
	st := ds.Status
	cells := []any{ds.Name, int64(st.DesiredNumberScheduled), int64(st.CurrentNumberScheduled), int64(st.NumberReady),
		int64(st.UpdatedNumberScheduled), int64(st.NumberAvailable), formatLabels(ds.Spec.Template.Spec.NodeSelector), age(ds.CreationTimestamp, now)}
	return append(cells, templateCells(ds.Spec.Template.Spec, ds.Spec.Selector)...), nil, nil
}

func jobRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	j, ok := obj.(*api.Job)
	if !ok {
		return nil, nil, wrongKind("Job", obj)
	}
	var completions string
	switch par := deref32(j.Spec.Parallelism, 0); {
	case j.Spec.Completions != nil:
		completions = fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	case par > 1:
		completions = fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, par)
	default:
		completions = fmt.Sprintf("%d/1", j.Status.Succeeded)
	}
	var took string
	switch {
	case j.Status.StartTime == nil:
	case j.Status.CompletionTime == nil:
		took = duration.HumanDuration(now.Sub(j.Status.StartTime.Time))
	default:
		took = duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
	}
	has := func(t api.JobConditionType) bool {
		return slices.ContainsFunc(j.Status.Conditions, func(c api.JobCondition) bool { return c.Type == t && c.Status == api.ConditionTrue })
	}
	status := "Running"
	switch {
	case has(api.JobComplete):
		status = "Complete"
	case has(api.JobFailed):
		status = "Failed"
	case j.DeletionTimestamp != nil:
		status = "Terminating"
	case has(api.JobSuspended):
		status = "Suspended"
	case has("FailureTarget"):
		status = "FailureTarget"
	case has("SuccessCriteriaMet"):
		status = "SuccessCriteriaMet"
	}
	cells := []any{j.Name, status, completions, took, age(j.CreationTimestamp, now)}
	return append(cells, templateCells(j.Spec.Template.Spec, j.Spec.Selector)...), nil, nil
}

// Node role labels, as kubectl reads them.
const (
	labelNodeRolePrefix = "node-role.kubernetes.io/"
	labelNodeRole       = "kubernetes.io/role"
)

func nodeRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	n, ok := obj.(*api.Node)
	if !ok {
		return nil, nil, wrongKind("Node", obj)
	}
	var status []string
	for _, c := range n.Status.Conditions {
		if c.Type == api.NodeReady {
			if c.Status == api.ConditionTrue {
				status = append(status, "Ready")
			} else {
				status = append(status, "NotReady")
			}
			break
		}
	}
	if len(status) == 0 {
		status = append(status, "Unknown")
	}
	if n.Spec.Unschedulable {
		status = append(status, "SchedulingDisabled")
	}
	var roles []string
	for k, v := range n.Labels {
		switch {
		case strings.HasPrefix(k, labelNodeRolePrefix):
			if r := strings.TrimPrefix(k, labelNodeRolePrefix); r != "" {
				roles = append(roles, r)
			}
		case k == labelNodeRole && v != "":
			roles = append(roles, v)
		}
	}
	slices.Sort(roles)
	roles = slices.Compact(roles)
	info := n.Status.NodeInfo
	unknown := func(s string) string {
		if s == "" {
			return "<unknown>"
		}
		return s
	}
	address := func(t api.NodeAddressType) string {
		for _, a := range n.Status.Addresses {
			if a.Type == t {
				return a.Address
			}
		}
		return "<none>"
	}
	return []any{n.Name, strings.Join(status, ","), orNone(strings.Join(roles, ",")), age(n.CreationTimestamp, now), info.KubeletVersion,
		address(api.NodeInternalIP), address(api.NodeExternalIP), unknown(info.OSImage), unknown(info.KernelVersion), unknown(info.ContainerRuntimeVersion)}, nil, nil
}

func namespaceRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	ns, ok := obj.(*api.Namespace)
	if !ok {
		return nil, nil, wrongKind("Namespace", obj)
	}
	return []any{ns.Name, string(ns.Status.Phase), age(ns.CreationTimestamp, now)}, nil, nil
}

func configMapRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	cm, ok := obj.(*api.ConfigMap)
	if !ok {
		return nil, nil, wrongKind("ConfigMap", obj)
	}
	return []any{cm.Name, int64(len(cm.Data) + len(cm.BinaryData)), age(cm.CreationTimestamp, now)}, nil, nil
}

func leaseRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	l, ok := obj.(*api.Lease)
	if !ok {
		return nil, nil, wrongKind("Lease", obj)
	}
	holder := ""
	if l.Spec.HolderIdentity != nil {
		holder = *l.Spec.HolderIdentity
	}
	return []any{l.Name, holder, age(l.CreationTimestamp, now)}, nil, nil
}

// secretRow shows a Secret's type and key count, never its data.
func secretRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	s, ok := obj.(*api.Secret)
	if !ok {
		return nil, nil, wrongKind("Secret", obj)
	}
	return []any{s.Name, string(s.Type), int64(len(s.Data)), age(s.CreationTimestamp, now)}, nil, nil
}

func eventRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	e, ok := obj.(*api.Event)
	if !ok {
		return nil, nil, wrongKind("Event", obj)
	}
	first := age(e.FirstTimestamp, now)
	if e.FirstTimestamp.IsZero() {
		first = "<unknown>"
		if e.EventTime != nil {
			first = age(*e.EventTime, now)
		}
	}
	last := age(e.LastTimestamp, now)
	if e.LastTimestamp.IsZero() {
		last = first
	}
	count := e.Count
	if e.Series != nil {
		last = "<unknown>"
		if e.Series.LastObservedTime != nil {
			last = age(*e.Series.LastObservedTime, now)
		}
		count = e.Series.Count
	} else if count == 0 {
		count = 1 // a singleton event of the events.k8s.io API has none
	}
	target := strings.ToLower(e.InvolvedObject.Kind)
	if e.InvolvedObject.Name != "" {
		target += "/" + e.InvolvedObject.Name
	}
	component, instance := e.Source.Component, e.Source.Host
	if component == "" {
		component = e.ReportingController
	}
	if instance == "" {
		instance = e.ReportingInstance
	}
	source := component
	if instance != "" {
		source += ", " + instance
	}
	return []any{last, e.Type, e.Reason, target, e.InvolvedObject.FieldPath, source, strings.TrimSpace(e.Message), first, int64(count), e.Name}, nil, nil
}

// roleRow is a Role's or ClusterRole's row: its name and creation time in
// RFC 3339, UTC.
func roleRow(obj api.Object, _ time.Time) ([]any, []metav1.TableRowCondition, error) {
	switch obj.(type) {
	case *api.Role, *api.ClusterRole:
	default:
		return nil, nil, wrongKind("Role", obj)
	}
	created := obj.GetObjectMeta().CreationTimestamp
	return []any{obj.GetName(), created.UTC().Format(time.RFC3339)}, nil, nil
}

// bindingRow is a RoleBinding's or ClusterRoleBinding's row: ROLE is
// Kind/name, and service accounts are namespace:name.
func bindingRow(obj api.Object, now time.Time) ([]any, []metav1.TableRowCondition, error) {
	var ref api.RoleRef
	var subjects []api.Subject
	switch b := obj.(type) {
	case *api.RoleBinding:
		ref, subjects = b.RoleRef, b.Subjects
	case *api.ClusterRoleBinding:
		ref, subjects = b.RoleRef, b.Subjects
	default:
		return nil, nil, wrongKind("RoleBinding", obj)
	}
	var users, groups, sas []string
	for _, s := range subjects {
		switch s.Kind {
		case api.UserKind:
			users = append(users, s.Name)
		case api.GroupKind:
			groups = append(groups, s.Name)
		case api.ServiceAccountKind:
			sas = append(sas, s.Namespace+":"+s.Name)
		}
	}
	return []any{obj.GetName(), ref.Kind + "/" + ref.Name, age(obj.GetObjectMeta().CreationTimestamp, now),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")}, nil, nil
}
