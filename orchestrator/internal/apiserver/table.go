package apiserver

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// tableMeta is the list metadata a table carries.
type tableMeta struct {
	revision  int64
	cont      string
	remaining *int64
}

// tableOptions reads includeObject.
//
// Errors: BadRequest for a value other than None, Metadata or Object.
func tableOptions(req *request) (TableOptions, error) {
	o := TableOptions{IncludeObject: metav1.IncludeMetadata, Now: time.Now()}
	switch p := metav1.IncludeObjectPolicy(req.query.Get("includeObject")); p {
	case "":
	case metav1.IncludeNone, metav1.IncludeMetadata, metav1.IncludeObject:
		o.IncludeObject = p
	default:
		return o, api.NewBadRequest(fmt.Sprintf("includeObject must be one of None, Metadata or Object, not %q", p))
	}
	return o, nil
}

// table converts objs, all of req's kind, to the Table the request's
// Accept asked for. Rows the convertor left without an object get one
// as includeObject says.
func (s *Server) table(req *request, objs []api.Object, tm tableMeta) (*metav1.Table, error) {
	o, err := tableOptions(req)
	if err != nil {
		return nil, err
	}
	f, _ := req.format(true)
	return s.convertTable(req.res, objs, o, f.table, tm)
}

func (s *Server) convertTable(res *resource, objs []api.Object, o TableOptions, version string, tm tableMeta) (*metav1.Table, error) {
	var t *metav1.Table
	var err error
	if s.cfg.Tables != nil {
		t, err = s.cfg.Tables.ConvertToTable(res.info, objs, o)
	} else {
		t, err = defaultTable(objs, o)
	}
	if err != nil {
		return nil, err
	}
	if o.NoHeaders {
		t.ColumnDefinitions = nil
	}
	if len(t.Rows) == len(objs) {
		for i := range t.Rows {
			if t.Rows[i].Object.Raw == nil && t.Rows[i].Object.Object == nil {
				raw, err := rowObject(s.typed(objs[i]), o.IncludeObject)
				if err != nil {
					return nil, err
				}
				t.Rows[i].Object = raw
			}
		}
	}
	if version == "" {
		version = "v1"
	}
	t.TypeMeta = metav1.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/" + version}
	if tm.revision > 0 {
		t.ResourceVersion = strconv.FormatInt(tm.revision, 10)
	}
	t.Continue, t.RemainingItemCount = tm.cont, tm.remaining
	return t, nil
}

// defaultTable is the table of a kind without a convertor: NAME and AGE.
func defaultTable(objs []api.Object, o TableOptions) (*metav1.Table, error) {
	t := &metav1.Table{
		ColumnDefinitions: []metav1.TableColumnDefinition{
			{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
			{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
		},
		Rows: make([]metav1.TableRow, 0, len(objs)),
	}
	for _, obj := range objs {
		t.Rows = append(t.Rows, metav1.TableRow{Cells: []any{obj.GetName(), age(obj.GetObjectMeta().CreationTimestamp, o.Now)}})
	}
	return t, nil
}

// age is kubectl's AGE cell.
func age(created api.Time, now time.Time) string {
	if created.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(created.Time))
}

// rowObject is the object of a table row: none, the object's metadata as
// a PartialObjectMetadata, or the object.
func rowObject(obj api.Object, p metav1.IncludeObjectPolicy) (runtime.RawExtension, error) {
	var v any
	switch p {
	case metav1.IncludeNone:
		return runtime.RawExtension{}, nil
	case metav1.IncludeObject:
		v = obj
	default:
		v = struct {
			APIVersion string          `json:"apiVersion"`
			Kind       string          `json:"kind"`
			Metadata   *api.ObjectMeta `json:"metadata"`
		}{"meta.k8s.io/v1", "PartialObjectMetadata", obj.GetObjectMeta()}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return runtime.RawExtension{}, api.NewInternalError(err)
	}
	return runtime.RawExtension{Raw: b}, nil
}
