package openapi

import (
	"fmt"
	"reflect"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Title and Version are the info of every document.
const (
	Title   = "Flotilla"
	Version = "v1.32.0"
)

// seed defines what every document needs besides its kinds: Status,
// DeleteOptions, Patch, and (if used) the autoscaling/v1 Scale.
func (s *schemas) seed(scale bool) {
	s.define(reflect.TypeFor[api.Status]())
	s.define(reflect.TypeFor[metav1.DeleteOptions]())
	s.defs[patchName] = spec.Schema{SchemaProps: spec.SchemaProps{
		Type:        []string{"object"},
		Description: "Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.",
	}}
	if scale {
		meta := s.refTo(s.define(reflect.TypeFor[api.ObjectMeta]()))
		if s.v3 {
			meta = spec.Schema{SchemaProps: spec.SchemaProps{AllOf: []spec.Schema{meta}}}
		}
		meta.Description = "Standard object metadata."
		replicas := *spec.Int32Property()
		replicas.Description = "replicas is the desired (spec) or actual (status) number of instances of the scaled object."
		selector := *spec.StringProperty()
		selector.Description = "selector is the label query over pods that should match the replicas count, in the string form of a label selector."
		def := spec.Schema{SchemaProps: spec.SchemaProps{
			Type:        []string{"object"},
			Description: "Scale represents a scaling request for a resource.",
			Properties: map[string]spec.Schema{
				"apiVersion": *spec.StringProperty(),
				"kind":       *spec.StringProperty(),
				"metadata":   meta,
				"spec": {SchemaProps: spec.SchemaProps{Type: []string{"object"}, Description: "spec defines the behavior of the scale.",
					Properties: map[string]spec.Schema{"replicas": replicas}}},
				"status": {SchemaProps: spec.SchemaProps{Type: []string{"object"}, Description: "status is the current status of the scale.",
					Required: []string{"replicas"}, Properties: map[string]spec.Schema{"replicas": replicas, "selector": selector}}},
			},
		}}
		def.AddExtension("x-kubernetes-group-version-kind", []any{gvkExt(metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"})})
		s.defs[scaleName] = def
	}
}

// gvkExt is the value of x-kubernetes-group-version-kind for gvk.
func gvkExt(gvk metav1.GroupVersionKind) map[string]any {
	return map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind}
}

// defineKinds defines the object and list types of the kinds, marked with
// their group, version and kind, and returns whether any has a scale
// subresource.
func (s *schemas) defineKinds(kinds []api.KindInfo) (scale bool) {
	for _, k := range kinds {
		g, v := api.SplitAPIVersion(k.APIVersion)
		for _, kt := range []struct {
			t    reflect.Type
			kind string
		}{{reflect.TypeOf(k.New()).Elem(), k.Kind}, {reflect.TypeOf(k.NewList()).Elem(), k.Kind + "List"}} {
			n := s.define(kt.t)
			def := s.defs[n]
			def.AddExtension("x-kubernetes-group-version-kind", []any{gvkExt(metav1.GroupVersionKind{Group: g, Version: v, Kind: kt.kind})})
			s.defs[n] = def
		}
		if _, sc, _ := subresources(k); sc {
			scale = true
		}
	}
	return scale
}

// defName returns the definition name of t (defined by defineKinds).
func (s *schemas) defName(t reflect.Type) string { return s.names[t] }

// buildV2 returns the OpenAPI v2 document of every kind of the scheme.
func buildV2(scheme *api.Scheme) (*spec.Swagger, error) {
	s := newSchemas(false)
	s.seed(s.defineKinds(scheme.Kinds()))
	doc := &spec.Swagger{SwaggerProps: spec.SwaggerProps{
		Swagger:     "2.0",
		Info:        &spec.Info{InfoProps: spec.InfoProps{Title: Title, Version: Version}},
		Paths:       &spec.Paths{Paths: map[string]spec.PathItem{}},
		Definitions: s.defs,
		SecurityDefinitions: spec.SecurityDefinitions{"BearerToken": &spec.SecurityScheme{SecuritySchemeProps: spec.SecuritySchemeProps{
			Type: "apiKey", Name: "authorization", In: "header", Description: "Bearer Token authentication",
		}}},
		Security: []map[string][]string{{"BearerToken": {}}},
	}}
	for _, gv := range groupVersions(scheme) {
		for _, p := range paths(gv, s.defName) {
			item := spec.PathItem{PathItemProps: spec.PathItemProps{Parameters: v2Params(p.params)}}
			for _, op := range p.ops {
				*methodSlot(op.method, &item.Get, &item.Put, &item.Post, &item.Patch, &item.Delete) = v2Operation(s, gv, op)
			}
			doc.Paths.Paths[p.path] = item
		}
	}
	return doc, s.err()
}

func v2Params(ps []param) []spec.Parameter {
	out := make([]spec.Parameter, 0, len(ps))
	for _, p := range ps {
		out = append(out, spec.Parameter{
			ParamProps:        spec.ParamProps{Name: p.name, In: p.in, Description: p.desc, Required: p.in == "path"},
			SimpleSchema:      spec.SimpleSchema{Type: p.typ},
			CommonValidations: spec.CommonValidations{UniqueItems: true},
		})
	}
	return out
}

func v2Operation(s *schemas, gv groupVersion, op operation) *spec.Operation {
	o := &spec.Operation{OperationProps: spec.OperationProps{
		ID:          op.id,
		Description: op.desc,
		Schemes:     []string{"https"},
		Tags:        []string{tag(gv)},
		Consumes:    []string{"*/*"},
		Produces:    []string{"application/json", "application/yaml"},
		Parameters:  v2Params(op.params),
		Responses: &spec.Responses{ResponsesProps: spec.ResponsesProps{StatusCodeResponses: map[int]spec.Response{
			401: {ResponseProps: spec.ResponseProps{Description: "Unauthorized"}},
		}}},
	}}
	if op.body != "" {
		body := s.refTo(op.body)
		o.Parameters = append([]spec.Parameter{{ParamProps: spec.ParamProps{Name: "body", In: "body", Required: op.body != deleteOptionsName, Schema: &body}}}, o.Parameters...)
	}
	if op.body == patchName {
		o.Consumes = patchContentTypes()
	}
	ok := spec.Response{ResponseProps: spec.ResponseProps{Description: "OK"}}
	if op.response != "" {
		r := s.refTo(op.response)
		ok.Schema = &r
	} else {
		o.Produces = []string{"text/plain", "application/json", "application/yaml"}
		ok.Schema = spec.StringProperty()
	}
	o.Responses.StatusCodeResponses[200] = ok
	if op.created {
		o.Responses.StatusCodeResponses[201] = spec.Response{ResponseProps: spec.ResponseProps{Description: "Created", Schema: ok.Schema}}
	}
	o.AddExtension("x-kubernetes-action", op.action)
	o.AddExtension("x-kubernetes-group-version-kind", gvkExt(op.gvk))
	return o
}

// tag is the operations' tag of a group version ("core_v1", "apps_v1").
func tag(gv groupVersion) string {
	g := gv.group
	if g == "" {
		g = "core"
	}
	return strings.ReplaceAll(g, ".", "_") + "_" + gv.version
}

// buildV3 returns the OpenAPI v3 document of one group version.
func buildV3(gv groupVersion) (*spec3.OpenAPI, error) {
	s := newSchemas(true)
	s.seed(s.defineKinds(gv.kinds))
	doc := &spec3.OpenAPI{
		Version: "3.0.0",
		Info:    &spec.Info{InfoProps: spec.InfoProps{Title: Title, Version: Version}},
		Paths:   &spec3.Paths{Paths: map[string]*spec3.Path{}},
		Components: &spec3.Components{
			Schemas: map[string]*spec.Schema{},
			SecuritySchemes: spec3.SecuritySchemes{"BearerToken": &spec3.SecurityScheme{SecuritySchemeProps: spec3.SecuritySchemeProps{
				Type: "apiKey", Name: "authorization", In: "header", Description: "Bearer Token authentication",
			}}},
		},
		SecurityRequirement: []map[string][]string{{"BearerToken": {}}},
	}
	for _, p := range paths(gv, s.defName) {
		item := &spec3.Path{PathProps: spec3.PathProps{Parameters: v3Params(p.params)}}
		for _, op := range p.ops {
			*methodSlot(op.method, &item.Get, &item.Put, &item.Post, &item.Patch, &item.Delete) = v3Operation(s, gv, op)
		}
		doc.Paths.Paths[p.path] = item
	}
	for n, d := range s.defs {
		doc.Components.Schemas[n] = &d
	}
	if err := s.err(); err != nil {
		return nil, fmt.Errorf("%s: %w", gv.docPath(), err)
	}
	return doc, nil
}

func v3Params(ps []param) []*spec3.Parameter {
	out := make([]*spec3.Parameter, 0, len(ps))
	for _, p := range ps {
		out = append(out, &spec3.Parameter{ParameterProps: spec3.ParameterProps{
			Name: p.name, In: p.in, Description: p.desc, Required: p.in == "path",
			Schema: &spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{p.typ}, UniqueItems: true}},
		}})
	}
	return out
}

func v3Operation(s *schemas, gv groupVersion, op operation) *spec3.Operation {
	content := func(types []string, sc spec.Schema) map[string]*spec3.MediaType {
		m := map[string]*spec3.MediaType{}
		for _, t := range types {
			m[t] = &spec3.MediaType{MediaTypeProps: spec3.MediaTypeProps{Schema: &sc}}
		}
		return m
	}
	o := &spec3.Operation{OperationProps: spec3.OperationProps{
		OperationId: op.id,
		Description: op.desc,
		Tags:        []string{tag(gv)},
		Parameters:  v3Params(op.params),
		Responses: &spec3.Responses{ResponsesProps: spec3.ResponsesProps{StatusCodeResponses: map[int]*spec3.Response{
			401: {ResponseProps: spec3.ResponseProps{Description: "Unauthorized"}},
		}}},
	}}
	if op.body != "" {
		types := []string{"*/*"}
		if op.body == patchName {
			types = patchContentTypes()
		}
		o.RequestBody = &spec3.RequestBody{RequestBodyProps: spec3.RequestBodyProps{
			Content: content(types, s.refTo(op.body)), Required: op.body != deleteOptionsName,
		}}
	}
	var ok map[string]*spec3.MediaType
	if op.response != "" {
		ok = content([]string{"application/json", "application/yaml"}, s.refTo(op.response))
	} else {
		ok = content([]string{"text/plain", "application/json", "application/yaml"}, *spec.StringProperty())
	}
	o.Responses.StatusCodeResponses[200] = &spec3.Response{ResponseProps: spec3.ResponseProps{Description: "OK", Content: ok}}
	if op.created {
		o.Responses.StatusCodeResponses[201] = &spec3.Response{ResponseProps: spec3.ResponseProps{Description: "Created", Content: ok}}
	}
	o.AddExtension("x-kubernetes-action", op.action)
	o.AddExtension("x-kubernetes-group-version-kind", gvkExt(op.gvk))
	return o
}

// methodSlot returns the field of a path item (v2 or v3) that holds the
// operation of method, one of the methods paths uses.
func methodSlot[O any](method string, get, put, post, patch, del *O) *O {
	switch method {
	case "get":
		return get
	case "put":
		return put
	case "post":
		return post
	case "patch":
		return patch
	case "delete":
		return del
	}
	panic("openapi: no path item field for method " + method) // paths only uses the five above
}
