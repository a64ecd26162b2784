package remote

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// Client is client.Interface over the HTTPS Kubernetes API. It is safe for
// concurrent use.
type Client struct {
	scheme *api.Scheme
	t      *transport
}

var _ client.Interface = (*Client)(nil)

// New returns a Client for cfg. It starts no goroutine and opens no
// connection until the first request.
//
// Errors: cfg.Validate's, each naming the field.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	t, err := newTransport(cfg)
	if err != nil {
		return nil, err
	}
	return &Client{scheme: cfg.Scheme, t: t}, nil
}

// Close releases the Client's idle connections. Requests and watches in
// flight are not interrupted; the Client stays usable (a later request
// opens a new connection). It may be called more than once.
func (c *Client) Close() error {
	c.t.close()
	return nil
}

// Scheme returns the kinds the Client serves.
func (c *Client) Scheme() *api.Scheme { return c.scheme }

// kind returns the KindInfo of obj (an object or a list).
func (c *Client) kind(obj any) (api.KindInfo, error) {
	if obj == nil {
		return api.KindInfo{}, api.NewBadRequest("nil object")
	}
	if v := reflect.ValueOf(obj); v.Kind() == reflect.Pointer && v.IsNil() {
		return api.KindInfo{}, api.NewBadRequest(fmt.Sprintf("nil %T", obj))
	}
	info, ok := c.scheme.KindFor(obj)
	if !ok {
		return api.KindInfo{}, api.NewBadRequest(fmt.Sprintf("type %T is not a registered kind", obj))
	}
	return info, nil
}

// segments returns the path segments of info's resource in namespace
// (a namespaced kind with no namespace: every namespace), and then of the
// object name and subresource when given.
func segments(info api.KindInfo, namespace, name, sub string) []string {
	var segs []string
	if info.Group() == "" {
		segs = []string{"api", info.APIVersion}
	} else {
		group, version := api.SplitAPIVersion(info.APIVersion)
		segs = []string{"apis", group, version}
	}
	if info.Namespaced && namespace != "" {
		segs = append(segs, "namespaces", namespace)
	}
	segs = append(segs, info.Resource)
	if name != "" {
		segs = append(segs, name)
		if sub != "" {
			segs = append(segs, sub)
		}
	}
	return segs
}

// objectNamespace returns the namespace of obj's URL: its own, or
// "default" for a namespaced kind without one (the registry does the
// same); "" for a cluster-scoped kind.
func objectNamespace(info api.KindInfo, obj api.Object) string {
	if !info.Namespaced {
		return ""
	}
	if ns := obj.GetNamespace(); ns != "" {
		return ns
	}
	return api.DefaultNamespace
}

// writeQuery returns the query of a write with these options.
func writeQuery(dryRun bool, fieldManager string) url.Values {
	q := url.Values{}
	if dryRun {
		q.Set("dryRun", metav1.DryRunAll)
	}
	if fieldManager != "" {
		q.Set("fieldManager", fieldManager)
	}
	return q
}

// decodeInto reads a response body holding one object of info's kind into
// out, replacing everything out held. Reading is lenient: a field this
// client does not know (from a newer server) is ignored.
func decodeInto(info api.KindInfo, body []byte, out api.Object) error {
	fresh := info.New()
	if err := json.Unmarshal(body, fresh); err != nil {
		return api.NewInternalError(fmt.Errorf("decoding the server's %s: %w", info.Kind, err))
	}
	if tm := fresh.GetTypeMeta(); tm.Kind != "" && tm.Kind != info.Kind {
		return api.NewInternalError(fmt.Errorf("the server answered a %s where a %s was expected", tm.Kind, info.Kind))
	}
	return client.CopyInto(out, fresh)
}

// kindOf returns the kind a response body names.
func kindOf(body []byte) string {
	var tm api.TypeMeta
	_ = json.Unmarshal(body, &tm)
	return tm.Kind
}

// Get reads namespace/name of out's kind into out. Consistent reads are
// GET without resourceVersion (a linearizable read, as Kubernetes
// serves it); others send resourceVersion=0 (any replica's state).
//
// Errors: NotFound; BadRequest for an unregistered type;
// ServiceUnavailable when no server answers or none has a leader;
// ctx.Err().
func (c *Client) Get(ctx context.Context, namespace, name string, out api.Object, o client.GetOptions) error {
	info, err := c.kind(out)
	if err != nil {
		return err
	}
	if name == "" {
		return api.NewNotFound(info.Kind, name)
	}
	q := url.Values{}
	if !o.Consistent {
		q.Set("resourceVersion", "0")
	}
	body, err := c.t.call(ctx, request{method: http.MethodGet, segs: segments(info, namespace, name, ""), query: q})
	if err != nil {
		return err
	}
	return decodeInto(info, body, out)
}

// listQuery returns the query of a list or watch with o.
func listQuery(o client.ListOptions) url.Values {
	q := url.Values{}
	if !o.Labels.Empty() {
		if len(o.Labels.Requirements()) == 0 {
			// api.Nothing(): a selector no object matches.
			q.Set("labelSelector", nothingSelector)
		} else {
			q.Set("labelSelector", o.Labels.String())
		}
	}
	if !o.Fields.Empty() {
		q.Set("fieldSelector", o.Fields.String())
	}
	return q
}

// nothingSelector matches no object: a label both present and absent.
const nothingSelector = "flotilla.io/nothing,!flotilla.io/nothing"

// List reads the objects of list's kind matching o into list and sets its
// resourceVersion. A consistent List sends no resourceVersion (a
// linearizable read); otherwise resourceVersion=0.
//
// Errors: BadRequest for an unregistered type, or as the server refuses
// a selector or namespace; ServiceUnavailable; ctx.Err().
func (c *Client) List(ctx context.Context, list api.ObjectList, o client.ListOptions) error {
	info, err := c.kind(list)
	if err != nil {
		return err
	}
	fresh, err := c.list(ctx, info, o)
	if err != nil {
		return err
	}
	dst := reflect.ValueOf(list)
	src := reflect.ValueOf(fresh)
	if dst.Type() != src.Type() {
		return api.NewInternalError(fmt.Errorf("list type %T is not %s's list type %T", list, info.Kind, fresh))
	}
	dst.Elem().Set(src.Elem())
	return nil
}

func (c *Client) list(ctx context.Context, info api.KindInfo, o client.ListOptions) (api.ObjectList, error) {
	if err := client.CheckListOptions(info, o); err != nil {
		return nil, err
	}
	q := listQuery(o)
	if !o.Consistent {
		q.Set("resourceVersion", "0")
	}
	body, err := c.t.call(ctx, request{method: http.MethodGet, segs: segments(info, o.Namespace, "", ""), query: q})
	if err != nil {
		return nil, err
	}
	list := info.NewList()
	if err := json.Unmarshal(body, list); err != nil {
		return nil, api.NewInternalError(fmt.Errorf("decoding the server's %sList: %w", info.Kind, err))
	}
	if k := list.GetTypeMeta().Kind; k != "" && k != info.Kind+"List" {
		return nil, api.NewInternalError(fmt.Errorf("the server answered a %s where a %sList was expected", k, info.Kind))
	}
	tm := list.GetTypeMeta()
	tm.APIVersion, tm.Kind = info.APIVersion, info.Kind+"List"
	return list, nil
}

// ListObjects returns the objects of info's kind matching o and the
// revision they are consistent at. Errors as List, and InternalError
// for a list whose resourceVersion is not a revision.
func (c *Client) ListObjects(ctx context.Context, info api.KindInfo, o client.ListOptions) ([]api.Object, int64, error) {
	list, err := c.list(ctx, info, o)
	if err != nil {
		return nil, 0, err
	}
	rev, err := strconv.ParseInt(list.GetListMeta().ResourceVersion, 10, 64)
	if err != nil {
		return nil, 0, api.NewInternalError(fmt.Errorf("the server's %sList has resourceVersion %q, not a revision", info.Kind, list.GetListMeta().ResourceVersion))
	}
	items := list.GetItems()
	objs := make([]api.Object, len(items))
	for i, it := range items {
		objs[i] = it
	}
	return objs, rev, nil
}

// encode returns obj's JSON. Unset apiVersion and kind are filled in on
// obj from its Go type, as the local registry does with what it is
// given (and obj receives the server's answer anyway).
func (c *Client) encode(info api.KindInfo, obj api.Object) ([]byte, error) {
	if tm := obj.GetTypeMeta(); tm.APIVersion == "" && tm.Kind == "" {
		tm.APIVersion, tm.Kind = info.APIVersion, info.Kind
	}
	b, err := c.scheme.EncodeJSON(obj)
	if err != nil {
		return nil, api.NewBadRequest(err.Error())
	}
	return b, nil
}

// Create stores a new object (POST to its collection); obj receives the
// stored object.
//
// Errors: Invalid listing every bad field path; AlreadyExists; NotFound
// naming a missing Namespace; Forbidden; BadRequest for an unregistered
// type; ServiceUnavailable; ctx.Err().
func (c *Client) Create(ctx context.Context, obj api.Object, o client.CreateOptions) error {
	info, err := c.kind(obj)
	if err != nil {
		return err
	}
	if err := client.CheckFieldManager(o.FieldManager); err != nil {
		return err
	}
	b, err := c.encode(info, obj)
	if err != nil {
		return err
	}
	body, err := c.t.call(ctx, request{
		method: http.MethodPost, segs: segments(info, objectNamespace(info, obj), "", ""),
		query: writeQuery(o.DryRun, o.FieldManager), body: b, contentType: "application/json",
	})
	if err != nil {
		return err
	}
	return decodeInto(info, body, obj)
}

// Update replaces obj's spec and metadata (PUT); with a resourceVersion
// on obj it is compare-and-swap. obj receives the stored object.
//
// Errors: NotFound; Conflict for a stale resourceVersion; Invalid;
// Forbidden; ServiceUnavailable; ctx.Err().
func (c *Client) Update(ctx context.Context, obj api.Object, o client.UpdateOptions) error {
	return c.put(ctx, obj, "", o)
}

// UpdateStatus replaces only obj's status (PUT .../status). Errors as
// Update, and NotFound for a kind without a status subresource.
func (c *Client) UpdateStatus(ctx context.Context, obj api.Object, o client.UpdateOptions) error {
	return c.put(ctx, obj, "status", o)
}

func (c *Client) put(ctx context.Context, obj api.Object, sub string, o client.UpdateOptions) error {
	info, err := c.kind(obj)
	if err != nil {
		return err
	}
	if obj.GetName() == "" {
		return api.NewInvalid(info.Kind, "", api.FieldErrorList{api.Required(api.NewPath("metadata", "name"), "name is required")})
	}
	if err := client.CheckFieldManager(o.FieldManager); err != nil {
		return err
	}
	b, err := c.encode(info, obj)
	if err != nil {
		return err
	}
	body, err := c.t.call(ctx, request{
		method: http.MethodPut, segs: segments(info, objectNamespace(info, obj), obj.GetName(), sub),
		query: writeQuery(o.DryRun, o.FieldManager), body: b, contentType: "application/json",
	})
	if err != nil {
		return err
	}
	return decodeInto(info, body, obj)
}

// Patch applies patch of type pt (sent as the Content-Type) to the object
// named by obj's namespace and name; obj receives the result.
//
// Errors: NotFound; BadRequest for a malformed patch; Invalid; Conflict;
// UnsupportedMediaType for a patch type the server does not apply;
// ServiceUnavailable; ctx.Err().
func (c *Client) Patch(ctx context.Context, obj api.Object, pt api.PatchType, patch []byte, o client.PatchOptions) error {
	info, err := c.kind(obj)
	if err != nil {
		return err
	}
	if obj.GetName() == "" {
		return api.NewNotFound(info.Kind, "")
	}
	if err := client.CheckFieldManager(o.FieldManager); err != nil {
		return err
	}
	if patch == nil {
		patch = []byte{}
	}
	body, err := c.t.call(ctx, request{
		method: http.MethodPatch, segs: segments(info, objectNamespace(info, obj), obj.GetName(), ""),
		query: writeQuery(o.DryRun, o.FieldManager), body: patch, contentType: string(pt),
	})
	if err != nil {
		return err
	}
	return decodeInto(info, body, obj)
}

// Delete deletes namespace/name of obj's kind (DELETE with a
// DeleteOptions body: propagationPolicy, preconditions.resourceVersion,
// dryRun). obj receives the last state when the server returns it;
// when it answers with a Success Status instead (as Kubernetes does for
// an object deleted at once), obj keeps what it held.
//
// Errors: NotFound; Conflict when the precondition fails; Forbidden;
// BadRequest for an unknown propagation policy; ServiceUnavailable;
// ctx.Err().
func (c *Client) Delete(ctx context.Context, namespace, name string, obj api.Object, o client.DeleteOptions) error {
	info, err := c.kind(obj)
	if err != nil {
		return err
	}
	if name == "" {
		return api.NewNotFound(info.Kind, name)
	}
	if info.Namespaced && namespace == "" {
		namespace = api.DefaultNamespace
	}
	opts := metav1.DeleteOptions{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "DeleteOptions"}}
	if o.Propagation != "" {
		p := metav1.DeletionPropagation(o.Propagation)
		opts.PropagationPolicy = &p
	}
	if o.ResourceVersion != "" {
		rv := o.ResourceVersion
		opts.Preconditions = &metav1.Preconditions{ResourceVersion: &rv}
	}
	if o.DryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	b, err := json.Marshal(&opts)
	if err != nil {
		return api.NewInternalError(err)
	}
	body, err := c.t.call(ctx, request{
		method: http.MethodDelete, segs: segments(info, namespace, name, ""),
		body: b, contentType: "application/json",
	})
	if err != nil {
		return err
	}
	if kindOf(body) == "Status" {
		return nil
	}
	return decodeInto(info, body, obj)
}

// Bind binds the unbound pod to nodeName (POST pods/<name>/binding with a
// v1 Binding carrying the Pod's uid and resourceVersion) and returns the
// stored Pod: the server's answer when it is the Pod, otherwise the Pod
// read back.
//
// Errors: NotFound; Conflict when the Pod changed or is bound;
// ServiceUnavailable; ctx.Err().
func (c *Client) Bind(ctx context.Context, pod *api.Pod, nodeName string, o client.UpdateOptions) (*api.Pod, error) {
	info, err := c.kind(pod)
	if err != nil {
		return nil, err
	}
	if pod.Name == "" {
		return nil, api.NewNotFound(info.Kind, "")
	}
	if err := client.CheckFieldManager(o.FieldManager); err != nil {
		return nil, err
	}
	ns := objectNamespace(info, pod)
	binding := corev1.Binding{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Binding"},
		ObjectMeta: metav1.ObjectMeta{
			Name: pod.Name, Namespace: ns,
			UID: types.UID(pod.UID), ResourceVersion: pod.ResourceVersion,
		},
		Target: corev1.ObjectReference{APIVersion: "v1", Kind: "Node", Name: nodeName},
	}
	b, err := json.Marshal(&binding)
	if err != nil {
		return nil, api.NewInternalError(err)
	}
	body, err := c.t.call(ctx, request{
		method: http.MethodPost, segs: segments(info, ns, pod.Name, "binding"),
		query: writeQuery(o.DryRun, o.FieldManager), body: b, contentType: "application/json",
	})
	if err != nil {
		return nil, err
	}
	out := &api.Pod{}
	if kindOf(body) == info.Kind {
		if err := decodeInto(info, body, out); err != nil {
			return nil, err
		}
		return out, nil
	}
	if o.DryRun {
		// Nothing was stored to read back: the Pod as it would be.
		out = pod.DeepCopy()
		out.Spec.NodeName = nodeName
		return out, nil
	}
	if err := c.Get(ctx, ns, pod.Name, out, client.GetOptions{Consistent: true}); err != nil {
		return nil, err
	}
	return out, nil
}

// RemoveNamespace ends the Namespace name's deletion (PUT
// namespaces/<name>/finalize with no finalizers left, at rv when set);
// obj receives the last state the server returns.
//
// Errors: NotFound; Conflict when rv is stale, the Namespace is not being
// deleted or finalizers remain; ServiceUnavailable; ctx.Err().
func (c *Client) RemoveNamespace(ctx context.Context, name, rv string, obj *api.Namespace) error {
	info, err := c.kind(obj)
	if err != nil {
		return err
	}
	if name == "" {
		return api.NewNotFound(info.Kind, "")
	}
	ns := &api.Namespace{}
	ns.Name, ns.ResourceVersion = name, rv
	ns.Spec.Finalizers = []string{}
	b, err := c.encode(info, ns)
	if err != nil {
		return err
	}
	body, err := c.t.call(ctx, request{
		method: http.MethodPut, segs: segments(info, "", name, "finalize"),
		body: b, contentType: "application/json",
	})
	if err != nil {
		return err
	}
	if kindOf(body) == "Status" {
		return nil
	}
	return decodeInto(info, body, obj)
}
