// Package tables renders kubectl's server-side tables (meta.k8s.io/v1
// Table) for the API server: it implements apiserver.TableConvertor with
// Kubernetes' columns for each kind — the same names, order and types as
// kube-apiserver's printers, priority 1 for the columns `kubectl get -o
// wide` adds — and cells formatted as kubectl shows them (READY "1/1",
// kubectl's Pod STATUS reasoning, RESTARTS "3 (5m ago)", AGE as
// apimachinery's duration.HumanDuration).
//
// # Using it
//
//  1. Give New() to apiserver.Config.Tables.
//  2. The server calls ConvertToTable with the objects of one kind and
//     TableOptions.Now, the time AGE counts from (so output is
//     deterministic in tests).
//
// Kinds with their own columns: Pod, Deployment, ReplicaSet, DaemonSet,
// Job, Node, Namespace, Event, ConfigMap, Role, ClusterRole, RoleBinding,
// ClusterRoleBinding. Every other kind gets NAME and
// AGE.
//
// # What it does not do
//
//   - Row objects: rows leave Object empty and the API server fills it as
//     the request's includeObject asks (metadata by default), with the
//     object's apiVersion and kind set.
//   - Columns of kinds Flotilla does not serve (Services' PORT(S) and the
//     like come with those kinds).
package tables
