package apiserver

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// selectors reads labelSelector and fieldSelector into list options for
// req's namespace.
//
// Errors: BadRequest naming the selector that does not parse.
func (req *request) listOptions() (client.ListOptions, error) {
	o := client.ListOptions{Namespace: req.namespace}
	var err error
	if o.Labels, err = api.ParseSelector(req.query.Get("labelSelector")); err != nil {
		return o, api.NewBadRequest(fmt.Sprintf("unable to parse requirement: labelSelector %q: %v", req.query.Get("labelSelector"), err))
	}
	if o.Fields, err = api.ParseFieldSelector(req.query.Get("fieldSelector")); err != nil {
		return o, api.NewBadRequest(fmt.Sprintf("invalid field selector %q: %v", req.query.Get("fieldSelector"), err))
	}
	fields := api.SelectableFields(req.res.info.New())
	for _, r := range o.Fields.Requirements() {
		if _, ok := fields[r.Field]; !ok {
			supported := slices.Sorted(maps.Keys(fields))
			return o, api.NewBadRequest(fmt.Sprintf("field label not supported: %s (%s supports %s)",
				r.Field, req.res.info.Kind, strings.Join(supported, ", ")))
		}
	}
	return o, nil
}

// continueToken is the opaque position of a paginated list: the revision
// of its first page and the key of the last object sent.
type continueToken struct {
	Version  int    `json:"v"`
	Revision int64  `json:"rv"`
	After    string `json:"after"`
}

func (t continueToken) encode() string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeContinue(s string) (continueToken, error) {
	var t continueToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.Version != 1 || t.Revision <= 0 {
		return t, api.NewBadRequest("continue key is not valid: use the continue value of the previous page, unchanged")
	}
	return t, nil
}

// page is one page of a list.
type page struct {
	items     []api.Object
	revision  int64
	cont      string
	remaining *int64
}

// readPage lists req's objects and cuts the page limit and continue ask
// for.
//
// Pages are cut in the store's key order (namespace + "/" + name), and a
// local store reads only the page asked for: the objects after the last
// one sent, up to limit, so that paging through a kind costs about one
// full list, not one per page.
//
// Consistency: a list without a continue token is one read (consistent
// with resourceVersion "", from the local replica with "0"). A later page
// is a new consistent read of the objects after the last key sent; every
// page reports the first page's resourceVersion, so that a watch from it
// replays every change made while the pages were read (Kubernetes reads
// all pages at that revision instead: objects changed in between appear
// here in their newer state, and the watch then repeats the change). No
// object that exists throughout is lost or sent twice.
//
// Errors: BadRequest for a malformed limit, continue, selector or
// resourceVersion, or a continue with a resourceVersion; Invalid for an
// unsupported resourceVersionMatch; the client's List errors.
func (s *Server) readPage(req *request) (page, error) {
	q := req.query
	o, err := req.listOptions()
	if err != nil {
		return page{}, err
	}
	limit := int64(0)
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.ParseInt(v, 10, 64); err != nil || limit < 0 {
			return page{}, api.NewBadRequest(fmt.Sprintf("invalid limit %q: want a non-negative integer", v))
		}
	}
	rv, rvm := q.Get("resourceVersion"), q.Get("resourceVersionMatch")
	if rv != "" {
		if _, err := client.ParseResourceVersion(rv); err != nil {
			return page{}, err
		}
	}
	switch metav1.ResourceVersionMatch(rvm) {
	case "":
	case metav1.ResourceVersionMatchNotOlderThan:
		if rv == "" {
			return page{}, api.NewInvalid("ListOptions.meta.k8s.io", "", api.FieldErrorList{api.Forbidden(api.NewPath("resourceVersionMatch"), "resourceVersionMatch is forbidden unless resourceVersion is provided")})
		}
	default:
		return page{}, api.NewInvalid("ListOptions.meta.k8s.io", "", api.FieldErrorList{api.NotSupported(api.NewPath("resourceVersionMatch"), rvm, metav1.ResourceVersionMatchNotOlderThan)})
	}
	var tok continueToken
	if c := q.Get("continue"); c != "" {
		if tok, err = decodeContinue(c); err != nil {
			return page{}, err
		}
		if rv != "" && rv != "0" {
			return page{}, api.NewBadRequest("specifying resource version is not allowed when using continue")
		}
	}
	// A read at or after a given revision needs the latest state: only a
	// consistent read is sure to be that new.
	o.Consistent = rv == "" || (rv != "0" && rvm == "") || rvm == string(metav1.ResourceVersionMatchNotOlderThan) || tok.After != ""
	o.Shared = true // read-only: the objects are only encoded
	// A local store reads only the page (and one object more, which says
	// whether there is a next page); another client may return every
	// object, which is cut below.
	o.After = tok.After
	if limit > 0 && limit < math.MaxInt32 {
		o.Limit = int(limit) + 1
	}
	ctx := req.r.Context()
	objs, rev, err := s.cfg.Client.ListObjects(ctx, req.res.info, o)
	if err != nil {
		return page{}, err
	}
	// In key order (namespace + "/" + name): the order pages are cut in.
	// The store lists in key order already, so this is usually only a
	// check.
	if !slices.IsSortedFunc(objs, compareKeys) {
		slices.SortFunc(objs, compareKeys)
	}
	p := page{revision: rev}
	if tok.After != "" {
		p.revision = tok.Revision
		ns, name, _ := strings.Cut(tok.After, "/")
		i, _ := slices.BinarySearchFunc(objs, true, func(o api.Object, _ bool) int {
			if compareKey(o.GetNamespace(), o.GetName(), ns, name) > 0 {
				return 1
			}
			return -1
		})
		objs = objs[i:]
	}
	if limit > 0 && int64(len(objs)) > limit {
		rest := int64(len(objs)) - limit
		objs = objs[:limit]
		last := objs[len(objs)-1]
		after := last.GetNamespace() + "/" + last.GetName()
		p.cont = continueToken{Version: 1, Revision: p.revision, After: after}.encode()
		// What is left: known when every object was returned; else
		// counted (without selectors only, as Kubernetes: with them the
		// count would need every object read).
		if o.Limit == 0 || rest > 1 {
			p.remaining = &rest
		} else if c, ok := s.cfg.Client.(client.Counter); ok && o.Labels.Empty() && o.Fields.Empty() {
			n, err := c.CountAfter(ctx, req.res.info, o.Namespace, after)
			if err != nil {
				return page{}, err
			}
			if n > 0 {
				rest = int64(n)
				p.remaining = &rest
			}
		}
	}
	p.items = objs
	return p, nil
}

func (s *Server) list(req *request) error {
	f, err := req.format(true)
	if err != nil {
		return err
	}
	p, err := s.readPage(req)
	if err != nil {
		return err
	}
	if f.table != "" {
		t, err := s.table(req, p.items, tableMeta{revision: p.revision, cont: p.cont, remaining: p.remaining})
		if err != nil {
			return err
		}
		s.writeBody(req.w, req.r, http.StatusOK, format{}, t)
		return nil
	}
	list, err := s.newList(req.res, p.items)
	if err != nil {
		return err
	}
	lm := list.GetListMeta()
	lm.ResourceVersion = strconv.FormatInt(p.revision, 10)
	lm.Continue, lm.RemainingItemCount = p.cont, p.remaining
	s.writeBody(req.w, req.r, http.StatusOK, f, list)
	return nil
}

// compareKeys orders objects as the store orders their keys: by
// namespace + "/" + name, byte by byte.
func compareKeys(a, b api.Object) int {
	return compareKey(a.GetNamespace(), a.GetName(), b.GetNamespace(), b.GetName())
}

// compareKey compares ns1 + "/" + name1 with ns2 + "/" + name2. Namespace
// names hold no "/", so when they differ, ns + "/" decides (namespaces
// "a" and "a-b" order as "a-b/..." < "a/...").
func compareKey(ns1, name1, ns2, name2 string) int {
	if ns1 == ns2 {
		return strings.Compare(name1, name2)
	}
	return strings.Compare(ns1+"/", ns2+"/")
}

// newList returns the list kind of res holding items.
func (s *Server) newList(res *resource, items []api.Object) (api.ObjectList, error) {
	list := res.info.NewList()
	if err := list.SetItems(items); err != nil {
		return nil, api.NewInternalError(err)
	}
	tm := list.GetTypeMeta()
	tm.APIVersion, tm.Kind = res.info.APIVersion, res.info.Kind+"List"
	return list, nil
}

// deleteCollection deletes every object the selectors match and returns
// them as a list, as kube-apiserver. Objects deleted meanwhile by others
// are skipped.
func (s *Server) deleteCollection(req *request) error {
	f, err := req.format(false)
	if err != nil {
		return err
	}
	o, pre, err := s.deleteOptions(req)
	if err != nil {
		return err
	}
	if pre != nil && (pre.UID != nil || pre.ResourceVersion != nil) {
		return api.NewBadRequest("preconditions are not supported on a collection delete")
	}
	lo, err := req.listOptions()
	if err != nil {
		return err
	}
	lo.Consistent = true
	ctx := req.r.Context()
	objs, rev, err := s.cfg.Client.ListObjects(ctx, req.res.info, lo)
	if err != nil {
		return err
	}
	deleted := make([]api.Object, 0, len(objs))
	for _, cur := range objs {
		obj := req.res.info.New()
		err := s.cfg.Client.Delete(ctx, cur.GetNamespace(), cur.GetName(), obj, o)
		if api.IsNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		deleted = append(deleted, obj)
	}
	list, err := s.newList(req.res, deleted)
	if err != nil {
		return err
	}
	list.GetListMeta().ResourceVersion = strconv.FormatInt(rev, 10)
	s.writeBody(req.w, req.r, http.StatusOK, f, list)
	return nil
}

// jsonOrYAML decodes a JSON or YAML document into v, leniently (options
// bodies such as DeleteOptions).
func jsonOrYAML(data []byte, v any) error {
	return yaml.Unmarshal(data, v)
}
