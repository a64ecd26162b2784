package apiserver

import (
	"context"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// request is one resource request being served.
type request struct {
	w         http.ResponseWriter
	r         *http.Request
	ri        requestInfo
	res       *resource
	namespace string // "" for cluster-scoped kinds and cross-namespace lists
	query     url.Values
}

// serveResource serves a request under /api/<v> or /apis/<g>/<v> that
// names a resource.
func (s *Server) serveResource(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	res := s.resources[groupVersionResource{ri.APIGroup, ri.APIVersion, ri.Resource}]
	if res == nil || len(ri.Parts) > 3 {
		s.writeError(w, r, notFoundPath())
		return
	}
	req := &request{w: w, r: r, ri: ri, res: res, query: r.URL.Query()}
	// Where the path puts the object must fit the kind's scope.
	inNamespace := ri.InNamespace
	switch {
	case res.info.Namespaced && inNamespace:
		req.namespace = ri.Namespace
	case res.info.Namespaced:
		// /<resource> lists and watches every namespace; nothing else.
		if ri.Name != "" {
			s.writeError(w, r, notFoundPath())
			return
		}
		if ri.Verb != "list" && ri.Verb != "watch" {
			s.writeError(w, r, methodNotAllowed(r.Method))
			return
		}
	case inNamespace:
		s.writeError(w, r, notFoundPath())
		return
	}
	if res.createOnly != nil {
		s.serveCreateOnly(req)
		return
	}
	if ri.Verb == "watch" && ri.Subresource == "" {
		s.serveWatch(req)
		return
	}
	ctx := r.Context()
	if !(ri.Subresource == "log" && isTrue(req.query.Get("follow"))) {
		timeout := s.cfg.RequestTimeout
		if t := req.query.Get("timeout"); t != "" {
			d, err := time.ParseDuration(t)
			if err != nil || d <= 0 {
				s.writeError(w, r, api.NewBadRequest(fmt.Sprintf("invalid timeout %q: want a duration such as 30s", t)))
				return
			}
			timeout = min(timeout, d)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	req.r = r.WithContext(ctx)
	var err error
	switch ri.Subresource {
	case "":
		err = s.serveObject(req)
	case "status":
		if !res.status {
			err = notFoundPath()
			break
		}
		err = s.serveStatus(req)
	case "scale":
		if !res.scale {
			err = notFoundPath()
			break
		}
		err = s.serveScale(req)
	case "log":
		if !res.pod {
			err = notFoundPath()
			break
		}
		err = s.serveLog(req)
	case "binding":
		if !res.pod {
			err = notFoundPath()
			break
		}
		err = s.serveBinding(req)
	case "eviction":
		if !res.pod {
			err = notFoundPath()
			break
		}
		err = s.serveEviction(req)
	case "finalize":
		if !res.namespace {
			err = notFoundPath()
			break
		}
		err = s.serveFinalize(req)
	default:
		err = notFoundPath()
	}
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded && !api.IsTimeout(err) {
			err = api.NewTimeout(fmt.Sprintf("request did not complete within the allowed duration: %v", err), 0)
		}
		s.writeError(w, req.r, err)
	}
}

// serveObject serves the verbs on a resource or one object.
func (s *Server) serveObject(req *request) error {
	switch req.ri.Verb {
	case "get":
		return s.get(req)
	case "list":
		return s.list(req)
	case "create":
		if req.ri.Name != "" {
			return methodNotAllowed(req.r.Method)
		}
		return s.create(req)
	case "update":
		if req.ri.Name == "" {
			return methodNotAllowed(req.r.Method)
		}
		return s.update(req)
	case "patch":
		if req.ri.Name == "" {
			return methodNotAllowed(req.r.Method)
		}
		return s.patch(req)
	case "delete":
		return s.delete(req)
	case "deletecollection":
		return s.deleteCollection(req)
	}
	return methodNotAllowed(req.r.Method)
}

// format negotiates req's response format; tables only for get and list.
func (req *request) format(tables bool) (format, error) {
	return negotiate(req.r.Header.Get("Accept"), tables)
}

func (s *Server) get(req *request) error {
	f, err := req.format(true)
	if err != nil {
		return err
	}
	obj := req.res.info.New()
	// "0": any state, from the local replica; "" or a revision: at least
	// as new as that, which only a consistent read is sure to be.
	rv := req.query.Get("resourceVersion")
	if rv != "" {
		if _, err := client.ParseResourceVersion(rv); err != nil {
			return err
		}
	}
	if err := s.cfg.Client.Get(req.r.Context(), req.namespace, req.ri.Name, obj, client.GetOptions{Consistent: rv != "0"}); err != nil {
		return err
	}
	if f.table != "" {
		t, err := s.table(req, []api.Object{obj}, tableMeta{})
		if err != nil {
			return err
		}
		s.writeBody(req.w, req.r, http.StatusOK, format{}, t)
		return nil
	}
	s.writeBody(req.w, req.r, http.StatusOK, f, s.typed(obj))
	return nil
}

// typed returns obj with apiVersion and kind set, for the wire. An
// object that has them is not written to: lists and watches hand out
// objects shared with other readers.
func (s *Server) typed(obj api.Object) api.Object {
	info, ok := s.cfg.Client.Scheme().KindFor(obj)
	if tm := obj.GetTypeMeta(); ok && (tm.APIVersion != info.APIVersion || tm.Kind != info.Kind) {
		tm.APIVersion, tm.Kind = info.APIVersion, info.Kind
	}
	return obj
}

// writeOptions reads dryRun and fieldManager, as every write takes them.
//
// Errors: Invalid naming dryRun for a value other than All, as
// kube-apiserver (kind CreateOptions, UpdateOptions, PatchOptions or
// DeleteOptions).
func writeOptions(q url.Values, optionsKind string) (dryRun bool, fieldManager string, err error) {
	for _, v := range q["dryRun"] {
		if v != metav1.DryRunAll {
			return false, "", api.NewInvalid(optionsKind+".meta.k8s.io", "", api.FieldErrorList{
				api.NotSupported(api.NewPath("dryRun"), q["dryRun"], metav1.DryRunAll)})
		}
		dryRun = true
	}
	fieldManager = q.Get("fieldManager")
	if len(fieldManager) > 128 {
		return false, "", api.NewInvalid(optionsKind+".meta.k8s.io", "", api.FieldErrorList{
			api.TooLong(api.NewPath("fieldManager"), 128)})
	}
	return dryRun, fieldManager, nil
}

// decodeRequestBody reads and decodes req's body into a new object of
// req's kind, whose namespace must agree with the URL's (and is set from
// it when empty), and whose name, for a named URL, must agree too.
func (s *Server) decodeRequestBody(req *request) (api.Object, error) {
	directive, err := fieldValidation(req.query.Get("fieldValidation"))
	if err != nil {
		return nil, err
	}
	body, err := s.readObjectBody(req.w, req.r)
	if err != nil {
		return nil, err
	}
	obj := req.res.info.New()
	warnings, err := decodeBody(s.cfg.Client.Scheme(), body, obj, directive)
	if err != nil {
		return nil, err
	}
	addWarnings(req.w, warnings)
	meta := obj.GetObjectMeta()
	if req.res.info.Namespaced {
		switch {
		case meta.Namespace == "":
			meta.Namespace = req.namespace
		case meta.Namespace != req.namespace:
			return nil, api.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
	} else if meta.Namespace != "" {
		return nil, api.NewBadRequest(fmt.Sprintf("%s is cluster-scoped: the object must not set metadata.namespace", req.res.info.Kind))
	}
	if req.ri.Name != "" && meta.Name != req.ri.Name {
		return nil, api.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", meta.Name, req.ri.Name))
	}
	return obj, nil
}

func (s *Server) create(req *request) error {
	f, err := req.format(false)
	if err != nil {
		return err
	}
	dryRun, manager, err := writeOptions(req.query, "CreateOptions")
	if err != nil {
		return err
	}
	obj, err := s.decodeRequestBody(req)
	if err != nil {
		return err
	}
	if err := s.cfg.Client.Create(req.r.Context(), obj, client.CreateOptions{DryRun: dryRun, FieldManager: manager}); err != nil {
		return err
	}
	s.writeBody(req.w, req.r, http.StatusCreated, f, s.typed(obj))
	return nil
}

func (s *Server) update(req *request) error {
	f, err := req.format(false)
	if err != nil {
		return err
	}
	dryRun, manager, err := writeOptions(req.query, "UpdateOptions")
	if err != nil {
		return err
	}
	obj, err := s.decodeRequestBody(req)
	if err != nil {
		return err
	}
	if err := s.cfg.Client.Update(req.r.Context(), obj, client.UpdateOptions{DryRun: dryRun, FieldManager: manager}); err != nil {
		return err
	}
	s.writeBody(req.w, req.r, http.StatusOK, f, s.typed(obj))
	return nil
}

// patchType reads a PATCH request's Content-Type.
//
// Errors: UnsupportedMediaType for apply patches (server-side apply is
// not served) and anything but the three patch types.
func patchType(contentType string) (api.PatchType, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch pt := api.PatchType(mt); pt {
	case api.JSONPatchType, api.MergePatchType, api.StrategicMergePatchType:
		return pt, nil
	case api.ApplyPatchType:
		return "", api.NewUnsupportedMediaType("server-side apply (application/apply-patch+yaml) is not supported: use kubectl apply without --server-side")
	}
	return "", api.NewUnsupportedMediaType(fmt.Sprintf("the body of the request was in an unknown format (%s) - accepted media types include: %s, %s, %s",
		contentType, api.JSONPatchType, api.MergePatchType, api.StrategicMergePatchType))
}

func (s *Server) patch(req *request) error {
	f, err := req.format(false)
	if err != nil {
		return err
	}
	pt, dryRun, manager, body, err := s.readPatch(req)
	if err != nil {
		return err
	}
	obj := req.res.info.New()
	meta := obj.GetObjectMeta()
	meta.Namespace, meta.Name = req.namespace, req.ri.Name
	if err := s.cfg.Client.Patch(req.r.Context(), obj, pt, body, client.PatchOptions{DryRun: dryRun, FieldManager: manager}); err != nil {
		return err
	}
	s.writeBody(req.w, req.r, http.StatusOK, f, s.typed(obj))
	return nil
}

// deleteOptions reads a delete's options from its body (a DeleteOptions,
// optional) and query, the query winning, as kube-apiserver.
func (s *Server) deleteOptions(req *request) (client.DeleteOptions, *metav1.Preconditions, error) {
	var o metav1.DeleteOptions
	body, err := s.readObjectBody(req.w, req.r)
	if err != nil {
		return client.DeleteOptions{}, nil, err
	}
	if len(body) > 0 {
		if err := jsonOrYAML(body, &o); err != nil {
			return client.DeleteOptions{}, nil, api.NewBadRequest(fmt.Sprintf("the body of the request is not a DeleteOptions: %v", err))
		}
	}
	q := req.query
	if v := q.Get("propagationPolicy"); v != "" {
		p := metav1.DeletionPropagation(v)
		o.PropagationPolicy = &p
	}
	if v := q.Get("orphanDependents"); v != "" {
		b := isTrue(v)
		o.OrphanDependents = &b
	}
	if v := q.Get("gracePeriodSeconds"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return client.DeleteOptions{}, nil, api.NewBadRequest(fmt.Sprintf("invalid gracePeriodSeconds %q", v))
		}
		o.GracePeriodSeconds = &n
	}
	if len(q["dryRun"]) > 0 {
		o.DryRun = q["dryRun"]
	}
	var errs api.FieldErrorList
	for _, v := range o.DryRun {
		if v != metav1.DryRunAll {
			errs = append(errs, api.NotSupported(api.NewPath("dryRun"), o.DryRun, metav1.DryRunAll))
			break
		}
	}
	if o.GracePeriodSeconds != nil && *o.GracePeriodSeconds < 0 {
		errs = append(errs, api.Invalid(api.NewPath("gracePeriodSeconds"), *o.GracePeriodSeconds, "must be greater than or equal to 0"))
	}
	if o.OrphanDependents != nil && o.PropagationPolicy != nil {
		errs = append(errs, api.Invalid(api.NewPath("propagationPolicy"), *o.PropagationPolicy, "orphanDependents and deletionPropagation cannot be both set"))
	}
	if len(errs) > 0 {
		return client.DeleteOptions{}, nil, api.NewInvalid("DeleteOptions.meta.k8s.io", "", errs)
	}
	out := client.DeleteOptions{DryRun: len(o.DryRun) > 0}
	switch {
	case o.PropagationPolicy != nil:
		out.Propagation = api.DeletionPropagation(*o.PropagationPolicy)
	case o.OrphanDependents != nil && *o.OrphanDependents:
		out.Propagation = api.DeletePropagationOrphan
	}
	if o.Preconditions != nil && o.Preconditions.ResourceVersion != nil {
		out.ResourceVersion = *o.Preconditions.ResourceVersion
	}
	return out, o.Preconditions, nil
}

func (s *Server) delete(req *request) error {
	f, err := req.format(false)
	if err != nil {
		return err
	}
	o, pre, err := s.deleteOptions(req)
	if err != nil {
		return err
	}
	ctx := req.r.Context()
	if pre != nil && pre.UID != nil {
		// The client seam has no UID precondition: check it on a
		// consistent read. A Delete racing a re-creation under the same
		// name between the two calls is not caught.
		cur := req.res.info.New()
		if err := s.cfg.Client.Get(ctx, req.namespace, req.ri.Name, cur, client.GetOptions{Consistent: true}); err != nil {
			return err
		}
		if string(cur.GetUID()) != string(*pre.UID) {
			return api.NewConflict(req.res.info.Kind, req.ri.Name, fmt.Errorf(
				"Precondition failed: UID in precondition: %s, UID in object meta: %s", *pre.UID, cur.GetUID()))
		}
		if o.ResourceVersion == "" {
			o.ResourceVersion = cur.GetResourceVersion()
		}
	}
	obj := req.res.info.New()
	if err := s.cfg.Client.Delete(ctx, req.namespace, req.ri.Name, obj, o); err != nil {
		return err
	}
	// Only marked (finalizers remain): 202, as kube-apiserver.
	code := http.StatusOK
	if obj.GetObjectMeta().DeletionTimestamp != nil && len(obj.GetObjectMeta().Finalizers) > 0 {
		code = http.StatusAccepted
	}
	s.writeBody(req.w, req.r, code, f, s.typed(obj))
	return nil
}

// readPatch reads a PATCH request: the patch type (Content-Type), the
// dryRun and fieldManager options and the body.
func (s *Server) readPatch(req *request) (pt api.PatchType, dryRun bool, manager string, body []byte, err error) {
	if pt, err = patchType(req.r.Header.Get("Content-Type")); err != nil {
		return "", false, "", nil, err
	}
	if dryRun, manager, err = writeOptions(req.query, "PatchOptions"); err != nil {
		return "", false, "", nil, err
	}
	if body, err = readBody(req.w, req.r, s.cfg.MaxRequestBytes); err != nil {
		return "", false, "", nil, err
	}
	return pt, dryRun, manager, body, nil
}
