package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// maxPatchRetries bounds the read-patch-write rounds of a subresource
// patch that keeps meeting concurrent writes.
const maxPatchRetries = 5

// applyPatch applies a JSON, merge or (with dataStruct, a Go type with
// Kubernetes' patch tags) strategic merge patch to doc.
//
// Errors: BadRequest for a malformed patch or one that does not apply;
// UnsupportedMediaType for a strategic patch without dataStruct.
func applyPatch(doc []byte, pt api.PatchType, patch []byte, dataStruct any) ([]byte, error) {
	var out []byte
	var err error
	switch pt {
	case api.JSONPatchType:
		var p jsonpatch.Patch
		if p, err = jsonpatch.DecodePatch(patch); err == nil {
			out, err = p.Apply(doc)
		}
	case api.MergePatchType:
		out, err = jsonpatch.MergePatch(doc, patch)
	case api.StrategicMergePatchType:
		if dataStruct == nil {
			return nil, api.NewUnsupportedMediaType("strategic merge patch is not supported on this subresource: use application/merge-patch+json or application/json-patch+json")
		}
		out, err = strategicpatch.StrategicMergePatch(doc, patch, dataStruct)
	}
	if err != nil {
		return nil, api.NewBadRequest(fmt.Sprintf("the patch does not apply: %v", err))
	}
	return out, nil
}

// patchSetsResourceVersion reports whether a patch names a
// resourceVersion (then a conflict is the caller's, not retried).
func patchSetsResourceVersion(pt api.PatchType, patch []byte) bool {
	if pt == api.JSONPatchType {
		var ops []struct {
			Path string `json:"path"`
		}
		_ = json.Unmarshal(patch, &ops)
		for _, op := range ops {
			if op.Path == "/metadata/resourceVersion" {
				return true
			}
		}
		return false
	}
	var p struct {
		Metadata struct {
			ResourceVersion *string `json:"resourceVersion"`
		} `json:"metadata"`
	}
	_ = json.Unmarshal(patch, &p)
	return p.Metadata.ResourceVersion != nil
}

// serveStatus serves the status subresource: get, update and patch
// through UpdateStatus.
func (s *Server) serveStatus(req *request) error {
	f, err := req.format(false)
	if err != nil {
		return err
	}
	ctx := req.r.Context()
	switch req.ri.Verb {
	case "get":
		obj := req.res.info.New()
		if err := s.cfg.Client.Get(ctx, req.namespace, req.ri.Name, obj, client.GetOptions{Consistent: req.query.Get("resourceVersion") != "0"}); err != nil {
			return err
		}
		s.writeBody(req.w, req.r, http.StatusOK, f, s.typed(obj))
		return nil
	case "update":
		dryRun, manager, err := writeOptions(req.query, "UpdateOptions")
		if err != nil {
			return err
		}
		obj, err := s.decodeRequestBody(req)
		if err != nil {
			return err
		}
		if err := s.cfg.Client.UpdateStatus(ctx, obj, client.UpdateOptions{DryRun: dryRun, FieldManager: manager}); err != nil {
			return err
		}
		s.writeBody(req.w, req.r, http.StatusOK, f, s.typed(obj))
		return nil
	case "patch":
		pt, dryRun, manager, patch, err := s.readPatch(req)
		if err != nil {
			return err
		}
		pinned := patchSetsResourceVersion(pt, patch)
		for attempt := 0; ; attempt++ {
			cur := req.res.info.New()
			if err := s.cfg.Client.Get(ctx, req.namespace, req.ri.Name, cur, client.GetOptions{Consistent: true}); err != nil {
				return err
			}
			doc, err := json.Marshal(s.typed(cur))
			if err != nil {
				return api.NewInternalError(err)
			}
			patched, err := applyPatch(doc, pt, patch, nil)
			if err != nil {
				return err
			}
			obj := req.res.info.New()
			if err := s.cfg.Client.Scheme().DecodeInto(patched, obj); err != nil {
				return err
			}
			if obj.GetName() != req.ri.Name || obj.GetNamespace() != req.namespace {
				return api.NewBadRequest("a patch must not change metadata.name or metadata.namespace")
			}
			if !pinned {
				obj.SetResourceVersion(cur.GetResourceVersion())
			}
			err = s.cfg.Client.UpdateStatus(ctx, obj, client.UpdateOptions{DryRun: dryRun, FieldManager: manager})
			if api.IsConflict(err) && !pinned && attempt < maxPatchRetries {
				continue
			}
			if err != nil {
				return err
			}
			s.writeBody(req.w, req.r, http.StatusOK, f, s.typed(obj))
			return nil
		}
	}
	return methodNotAllowed(req.r.Method)
}

// replicated is the part of a scalable kind the scale subresource reads.
type replicated struct {
	Spec struct {
		Replicas *int32             `json:"replicas"`
		Selector *api.LabelSelector `json:"selector"`
	} `json:"spec"`
	Status struct {
		Replicas int32 `json:"replicas"`
	} `json:"status"`
}

// scaleOf returns obj's autoscaling/v1 Scale.
func scaleOf(obj api.Object) (*autoscalingv1.Scale, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, api.NewInternalError(err)
	}
	var r replicated
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, api.NewInternalError(err)
	}
	sel, err := api.LabelSelectorAsSelector(r.Spec.Selector)
	if err != nil {
		return nil, api.NewInternalError(err)
	}
	m := obj.GetObjectMeta()
	sc := &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: apiUID(m.UID),
			ResourceVersion: m.ResourceVersion, CreationTimestamp: metav1.NewTime(m.CreationTimestamp.Time)},
		Status: autoscalingv1.ScaleStatus{Replicas: r.Status.Replicas, Selector: sel.String()},
	}
	if r.Spec.Replicas != nil {
		sc.Spec.Replicas = *r.Spec.Replicas
	}
	return sc, nil
}

// serveScale serves the scale subresource (autoscaling/v1 Scale) of a
// kind with spec.replicas: get, and update and patch, which write only
// spec.replicas, at the resourceVersion the Scale carries (update) or
// that was read (patch, retried on conflicts unless it names one).
func (s *Server) serveScale(req *request) error {
	f, err := req.format(false)
	if err != nil {
		return err
	}
	ctx := req.r.Context()
	get := func() (api.Object, *autoscalingv1.Scale, error) {
		obj := req.res.info.New()
		if err := s.cfg.Client.Get(ctx, req.namespace, req.ri.Name, obj, client.GetOptions{Consistent: true}); err != nil {
			return nil, nil, err
		}
		sc, err := scaleOf(obj)
		return obj, sc, err
	}
	switch req.ri.Verb {
	case "get":
		_, sc, err := get()
		if err != nil {
			return err
		}
		s.writeBody(req.w, req.r, http.StatusOK, f, sc)
		return nil
	case "update":
		dryRun, manager, err := writeOptions(req.query, "UpdateOptions")
		if err != nil {
			return err
		}
		body, err := s.readObjectBody(req.w, req.r)
		if err != nil {
			return err
		}
		var sc autoscalingv1.Scale
		if err := jsonOrYAML(body, &sc); err != nil {
			return api.NewBadRequest(fmt.Sprintf("the body of the request is not a Scale: %v", err))
		}
		if sc.Name != req.ri.Name {
			return api.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", sc.Name, req.ri.Name))
		}
		out, err := s.setReplicas(ctx, req, sc.Spec.Replicas, sc.ResourceVersion, dryRun, manager)
		if err != nil {
			return err
		}
		s.writeBody(req.w, req.r, http.StatusOK, f, out)
		return nil
	case "patch":
		pt, dryRun, manager, patch, err := s.readPatch(req)
		if err != nil {
			return err
		}
		pinned := patchSetsResourceVersion(pt, patch)
		for attempt := 0; ; attempt++ {
			_, cur, err := get()
			if err != nil {
				return err
			}
			doc, err := json.Marshal(cur)
			if err != nil {
				return api.NewInternalError(err)
			}
			patched, err := applyPatch(doc, pt, patch, &autoscalingv1.Scale{})
			if err != nil {
				return err
			}
			var sc autoscalingv1.Scale
			if err := json.Unmarshal(patched, &sc); err != nil {
				return api.NewBadRequest(fmt.Sprintf("the patched Scale does not decode: %v", err))
			}
			rv := cur.ResourceVersion
			if pinned {
				rv = sc.ResourceVersion
			}
			out, err := s.setReplicas(ctx, req, sc.Spec.Replicas, rv, dryRun, manager)
			if api.IsConflict(err) && !pinned && attempt < maxPatchRetries {
				continue
			}
			if err != nil {
				return err
			}
			s.writeBody(req.w, req.r, http.StatusOK, f, out)
			return nil
		}
	}
	return methodNotAllowed(req.r.Method)
}

// setReplicas writes spec.replicas of req's object (at rv, if set) and
// returns its Scale.
func (s *Server) setReplicas(ctx context.Context, req *request, replicas int32, rv string, dryRun bool, manager string) (*autoscalingv1.Scale, error) {
	if replicas < 0 {
		return nil, api.NewInvalid("Scale.autoscaling", req.ri.Name, api.FieldErrorList{
			api.Invalid(api.NewPath("spec", "replicas"), replicas, "must be greater than or equal to 0")})
	}
	patch := map[string]any{"spec": map[string]any{"replicas": replicas}}
	if rv != "" {
		patch["metadata"] = map[string]any{"resourceVersion": rv}
	}
	b, _ := json.Marshal(patch)
	obj := req.res.info.New()
	meta := obj.GetObjectMeta()
	meta.Namespace, meta.Name = req.namespace, req.ri.Name
	if err := s.cfg.Client.Patch(ctx, obj, api.MergePatchType, b, client.PatchOptions{DryRun: dryRun, FieldManager: manager}); err != nil {
		return nil, err
	}
	return scaleOf(obj)
}

// serveLog streams pods/log as text/plain, flushed as it arrives.
func (s *Server) serveLog(req *request) error {
	if req.ri.Verb != "get" {
		return methodNotAllowed(req.r.Method)
	}
	if s.cfg.Logs == nil {
		return api.NewServiceUnavailable("pod logs are not served by this node")
	}
	o, err := logOptions(req)
	if err != nil {
		return err
	}
	pod := &api.Pod{}
	if err := s.cfg.Client.Get(req.r.Context(), req.namespace, req.ri.Name, pod, client.GetOptions{}); err != nil {
		return err
	}
	lw := &logWriter{w: req.w}
	err = s.cfg.Logs.StreamLogs(req.r.Context(), pod, o, lw)
	if err != nil && !lw.started {
		return err
	}
	if !lw.started {
		lw.start()
	}
	return nil
}

// logWriter sends the header on the first write and flushes every write.
type logWriter struct {
	w       http.ResponseWriter
	started bool
}

func (l *logWriter) start() {
	l.started = true
	l.w.Header().Set("Content-Type", "text/plain")
	l.w.WriteHeader(http.StatusOK)
}

func (l *logWriter) Write(b []byte) (int, error) {
	if !l.started {
		l.start()
	}
	n, err := l.w.Write(b)
	flush(l.w)
	return n, err
}

// logOptions reads the PodLogOptions query parameters.
//
// Errors: BadRequest naming a malformed parameter; Invalid for
// sinceSeconds with sinceTime, or a non-positive number.
func logOptions(req *request) (LogOptions, error) {
	q := req.query
	o := LogOptions{Container: q.Get("container"), Follow: isTrue(q.Get("follow")),
		Previous: isTrue(q.Get("previous")), Timestamps: isTrue(q.Get("timestamps"))}
	var errs api.FieldErrorList
	num := func(name string, min int64) *int64 {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < min {
			errs = append(errs, api.Invalid(api.NewPath(name), v, fmt.Sprintf("must be an integer greater than or equal to %d", min)))
			return nil
		}
		return &n
	}
	o.TailLines = num("tailLines", 0)
	o.SinceSeconds = num("sinceSeconds", 1)
	o.LimitBytes = num("limitBytes", 1)
	if v := q.Get("sinceTime"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			errs = append(errs, api.Invalid(api.NewPath("sinceTime"), v, "must be an RFC 3339 time"))
		} else {
			o.SinceTime = &t
		}
	}
	if o.SinceSeconds != nil && o.SinceTime != nil {
		errs = append(errs, api.Forbidden(api.NewPath("sinceTime"), "at most one of sinceTime or sinceSeconds may be specified"))
	}
	if len(errs) > 0 {
		return o, api.NewInvalid("PodLogOptions", "", errs)
	}
	return o, nil
}

func apiUID(u api.UID) types.UID { return types.UID(u) }

// serveBinding binds a Pod to a Node (POST pods/binding, a Binding body
// naming the Node as target), through client.Bind at the Pod's current
// resourceVersion, or the Binding's when it carries one. It answers a
// Success Status with 201, as kube-apiserver.
func (s *Server) serveBinding(req *request) error {
	b, dryRun, manager, err := readCreate[corev1.Binding](s, req, "a Binding")
	if err != nil {
		return err
	}
	var errs api.FieldErrorList
	if b.Name != "" && b.Name != req.ri.Name {
		errs = append(errs, api.Invalid(api.NewPath("metadata", "name"), b.Name, "must be the Pod's name, "+req.ri.Name))
	}
	if b.Target.Kind != "" && b.Target.Kind != "Node" {
		errs = append(errs, api.NotSupported(api.NewPath("target", "kind"), b.Target.Kind, "Node"))
	}
	if b.Target.Name == "" {
		errs = append(errs, api.Required(api.NewPath("target", "name"), "the Node to bind to"))
	}
	if len(errs) > 0 {
		return api.NewInvalid("Binding", req.ri.Name, errs)
	}
	ctx := req.r.Context()
	pod := &api.Pod{}
	if err := s.cfg.Client.Get(ctx, req.namespace, req.ri.Name, pod, client.GetOptions{Consistent: true}); err != nil {
		return err
	}
	if b.UID != "" && string(b.UID) != string(pod.UID) {
		return api.NewConflict("Pod", req.ri.Name, fmt.Errorf("the Binding's uid %s is not the Pod's, %s", b.UID, pod.UID))
	}
	if b.ResourceVersion != "" {
		pod.ResourceVersion = b.ResourceVersion
	}
	if _, err := s.cfg.Client.Bind(ctx, pod, b.Target.Name, client.UpdateOptions{DryRun: dryRun, FieldManager: manager}); err != nil {
		return err
	}
	writeJSON(req.w, http.StatusCreated, api.Status{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Success", Code: http.StatusCreated})
	return nil
}

// serveFinalize ends a Namespace's deletion (PUT namespaces/finalize)
// through client.RemoveNamespace: the body is the Namespace with no
// finalizers left in spec.finalizers (what the namespace controller sends
// once the Namespace is empty), at its resourceVersion if it carries one.
// Flotilla removes the Namespace then, so a body that keeps finalizers is
// refused. It answers the last state of the Namespace.
func (s *Server) serveFinalize(req *request) error {
	if req.ri.Verb != "update" {
		return methodNotAllowed(req.r.Method)
	}
	f, err := req.format(false)
	if err != nil {
		return err
	}
	obj, err := s.decodeRequestBody(req)
	if err != nil {
		return err
	}
	ns, ok := obj.(*api.Namespace)
	if !ok {
		return api.NewInternalError(fmt.Errorf("finalize decoded a %T", obj))
	}
	if len(ns.Spec.Finalizers) > 0 {
		return api.NewInvalid("Namespace", ns.Name, api.FieldErrorList{api.Forbidden(api.NewPath("spec", "finalizers"),
			"finalize removes the Namespace: send it once no finalizers remain")})
	}
	out := &api.Namespace{}
	if err := s.cfg.Client.RemoveNamespace(req.r.Context(), ns.Name, ns.ResourceVersion, out); err != nil {
		return err
	}
	s.writeBody(req.w, req.r, http.StatusOK, f, s.typed(out))
	return nil
}

// serveEviction evicts a Pod (POST pods/eviction, a policy/v1 Eviction
// body, as kubectl drain sends): the Pod is deleted with the Eviction's
// delete options. Flotilla has no PodDisruptionBudgets, so nothing
// refuses an eviction (kube-apiserver answers 429 when a budget would be
// broken). It answers a Success Status with 201, as kube-apiserver.
func (s *Server) serveEviction(req *request) error {
	ev, dryRun, _, err := readCreate[policyv1.Eviction](s, req, "an Eviction")
	if err != nil {
		return err
	}
	if ev.Name != req.ri.Name {
		return api.NewBadRequest(fmt.Sprintf("name in URL does not match name in Eviction object: %q, %q", req.ri.Name, ev.Name))
	}
	o := client.DeleteOptions{DryRun: dryRun}
	if d := ev.DeleteOptions; d != nil {
		if d.PropagationPolicy != nil {
			o.Propagation = api.DeletionPropagation(*d.PropagationPolicy)
		}
		if d.Preconditions != nil && d.Preconditions.ResourceVersion != nil {
			o.ResourceVersion = *d.Preconditions.ResourceVersion
		}
		for _, v := range d.DryRun {
			if v != metav1.DryRunAll {
				return api.NewInvalid("Eviction.policy", ev.Name, api.FieldErrorList{
					api.NotSupported(api.NewPath("deleteOptions", "dryRun"), d.DryRun, metav1.DryRunAll)})
			}
			o.DryRun = true
		}
	}
	if err := s.cfg.Client.Delete(req.r.Context(), req.namespace, req.ri.Name, &api.Pod{}, o); err != nil {
		return err
	}
	writeJSON(req.w, http.StatusCreated, api.Status{TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"}, Status: "Success", Code: http.StatusCreated})
	return nil
}

// readCreate reads the POST of a create-only subresource (binding,
// eviction): its create options and its body, a T (what names it in the
// error).
func readCreate[T any](s *Server, req *request, what string) (body T, dryRun bool, manager string, err error) {
	if req.ri.Verb != "create" {
		return body, false, "", methodNotAllowed(req.r.Method)
	}
	if dryRun, manager, err = writeOptions(req.query, "CreateOptions"); err != nil {
		return body, false, "", err
	}
	raw, err := s.readObjectBody(req.w, req.r)
	if err != nil {
		return body, false, "", err
	}
	if err := jsonOrYAML(raw, &body); err != nil {
		return body, false, "", api.NewBadRequest(fmt.Sprintf("the body of the request is not %s: %v", what, err))
	}
	return body, dryRun, manager, nil
}
