// Package registry stores typed API objects in a raftstore.Store: the
// part of an API server between the request and etcd.
//
// Every object lives under /registry/<resource>/<namespace>/<name> (or
// /registry/<resource>/<name> for cluster-scoped kinds) as its JSON form
// without resourceVersion; the resourceVersion is the key's raftstore
// ModRevision, as a decimal string.
//
// # The write path
//
// Every write (Create, Update, UpdateStatus, Patch, Delete, Bind and the
// finalize step RemoveNamespace) runs the same pipeline, whatever the
// kind:
//
//  1. Decode: the object's kind comes from its Go type (apiVersion and
//     kind are filled when unset and must match when set); a namespaced
//     object without a namespace is in "default".
//  2. Authentication and authorization: the hook point is authorize,
//     which the API server issue fills (RBAC, the node authorizer); until
//     then every write is the cluster's own and allowed.
//  3. Mutating admission: the Mutators of the admission chain may change
//     the object (admission.Chain.Admit).
//  4. The kind's strategy (strategy.Strategy): the server-owned fields
//     (uid, creationTimestamp, generation 1 on create; on update the
//     stored uid, creationTimestamp, deletion state and generation), then
//     PrepareForCreate or PrepareForUpdate (a spec write keeps the stored
//     status, a status write the stored spec), Default, and Validate or
//     ValidateUpdate, whose every problem becomes one Invalid error;
//     generation + 1 when BumpsGeneration; generateName is resolved here.
//  5. Validating admission: the Validators accept or refuse the write as
//     it will be stored (admission.Chain.Validate); NamespaceLifecycle
//     refuses content in a missing or terminating Namespace.
//  6. Store: one raftstore transaction holds the write (compare-and-swap
//     on resourceVersion for updates and deletes) and a check of every
//     object admission required unchanged. If one changed, the write runs
//     again from step 1 on fresh state, admission reading linearizably,
//     up to 8 times (then Conflict). With dry run, nothing is stored.
//     An update, status update, patch or repeated delete whose result
//     encodes as the stored object does (a field manager's new time
//     aside) stores nothing, as Kubernetes' GuaranteedUpdate: the caller
//     gets the stored object and its resourceVersion, watchers no event.
//
// Kinds whose strategy is a strategy.Allocator (Services: cluster IPs and
// node ports) hold values unique across the cluster. After Default, the
// registry reads the pools' records (ClaimPrefix) and lets the strategy
// fill unset values with free ones; a value the client asked for that
// another object holds is Invalid with its field path. Step 6 then
// creates a record per value new to the object and deletes those it no
// longer holds, in the object's own transaction: a concurrent write that
// took a value fails the transaction and runs again (a value the client
// asked for becomes Invalid), and removing the object frees its values in
// the same step.
//
// Delete and the finalize step read the stored object and run steps 2,
// 3, 5 and 6 on it; in between, the strategy's Deletion decides: objects
// are removed once no finalizer holds them (the propagation policy adds
// the garbage collector's finalizer), except kinds deleted by a finalize
// step (Namespace), which are only marked; the namespace controller
// empties a Terminating Namespace and calls RemoveNamespace. Bind (the
// scheduler's binding) runs steps 2, 3, 5 and 6: it sets only
// spec.nodeName and the PodScheduled condition, which need no strategy.
//
// Usage:
//
//  1. New(store, Config{}) serves the built-in kinds with their strategies
//     and the default admission chain; Config names other kinds
//     (Scheme, Strategies) or plugins (Admission).
//  2. Use it through client.Interface, as every component does.
//
// Before the store, a create also checks the safety limits (Limits): the
// replicas a workload asks for, and the objects of one kind a namespace
// holds.
//
// Reads (Get, List, Scan) and Watch bypass the pipeline; Watch turns
// raftstore events into ADDED/MODIFIED/DELETED as seen through the
// watcher's selectors (an object leaving them is DELETED). A stored value
// that cannot be read (it does not decrypt, or is not its kind's JSON) is
// left out of List and Scan and reported (Config.OnUnreadable), so one bad
// value does not stop every reader of its kind; Get of it returns the
// error, and a watch that meets it ends with that error (re-listing then
// leaves it out).
//
// Watchers share work: each event is decoded once for all watchers of the
// registry (a bounded cache of recent events); Shared watchers (informers,
// the API server) get that object itself, which they must not modify, and
// the others a deep copy. A paged read (ListOptions.Limit and After) reads
// the store only from its resume key, as far as the page needs.
//
// What it does not do: no graceful Pod deletion (a Pod is removed at once;
// its agent then stops the containers), no cluster-wide name uniqueness
// beyond the key, no event TTL (the controller package expires Events
// through Scan), no authentication or authorization yet.
package registry
