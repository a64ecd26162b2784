package openapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// flotillaPrefix names the definitions of api types that have no
// Kubernetes counterpart.
const flotillaPrefix = "com.github.flotilla-io.flotilla.api."

// Definition names of the types with their own JSON form, as Kubernetes
// names them.
const (
	timeName        = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
	microTimeName   = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
	quantityName    = "io.k8s.apimachinery.pkg.api.resource.Quantity"
	intOrStringName = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
)

var (
	apiPath         = reflect.TypeFor[api.Pod]().PkgPath()
	timeType        = reflect.TypeFor[api.Time]()
	microTimeType   = reflect.TypeFor[api.MicroTime]()
	quantityType    = reflect.TypeFor[api.Quantity]()
	intOrStringType = reflect.TypeFor[api.IntOrString]()
	rawJSONType     = reflect.TypeFor[api.RawJSON]()
	jsonMarshaler   = reflect.TypeFor[json.Marshaler]()
)

// schemas turns Go types into OpenAPI schemas by reflection, reading json
// tags as encoding/json does, and collects the definitions it references.
// One schemas builds one document.
type schemas struct {
	// v3 selects OpenAPI v3 forms: references under
	// #/components/schemas/ wrapped in allOf when a field describes them,
	// and anyOf/oneOf for int-or-string and quantities.
	v3    bool
	defs  spec.Definitions
	names map[reflect.Type]string
	errs  []string
}

func newSchemas(v3 bool) *schemas {
	return &schemas{v3: v3, defs: spec.Definitions{}, names: map[reflect.Type]string{}}
}

// err returns the problems met, if any, as one error.
func (s *schemas) err() error {
	if len(s.errs) == 0 {
		return nil
	}
	slices.Sort(s.errs)
	return fmt.Errorf("openapi: %s", strings.Join(slices.Compact(s.errs), "; "))
}

// refTo returns a schema referring to the definition name.
func (s *schemas) refTo(name string) spec.Schema {
	prefix := "#/definitions/"
	if s.v3 {
		prefix = "#/components/schemas/"
	}
	return spec.Schema{SchemaProps: spec.SchemaProps{Ref: spec.MustCreateRef(prefix + name)}}
}

// definitionName is the name of t's definition.
func definitionName(t reflect.Type) string {
	if t.PkgPath() == apiPath {
		if n := kubernetesName(t.Name()); n != "" {
			return n
		}
		return flotillaPrefix + t.Name()
	}
	host, rest, _ := strings.Cut(t.PkgPath(), "/")
	parts := strings.Split(host, ".")
	slices.Reverse(parts)
	n := strings.Join(parts, ".")
	if rest != "" {
		n += "." + strings.ReplaceAll(rest, "/", ".")
	}
	return n + "." + t.Name()
}

// define makes sure named struct type t has its definition and returns
// its name.
func (s *schemas) define(t reflect.Type) string {
	if n, ok := s.names[t]; ok {
		return n
	}
	n := definitionName(t)
	s.names[t] = n
	var def spec.Schema
	switch t {
	case timeType:
		def = *spec.StringProperty()
		def.Format = "date-time"
	case microTimeType:
		def = *spec.StringProperty()
		def.Format = "date-time"
	case quantityType:
		if s.v3 {
			def.OneOf = []spec.Schema{*spec.StringProperty(), {SchemaProps: spec.SchemaProps{Type: []string{"number"}}}}
		} else {
			def = *spec.StringProperty()
		}
	case intOrStringType:
		if s.v3 {
			def.AnyOf = []spec.Schema{{SchemaProps: spec.SchemaProps{Type: []string{"integer"}}}, *spec.StringProperty()}
			def.AddExtension("x-kubernetes-int-or-string", true)
		} else {
			def = *spec.StringProperty()
			def.Format = "int-or-string"
		}
	default:
		def = s.structSchema(t)
	}
	if t.PkgPath() == apiPath {
		def.Description = description(t.Name())
	}
	s.defs[n] = def
	return n
}

// schema returns the schema of a value of type t: a reference for named
// structs, inline otherwise.
func (s *schemas) schema(t reflect.Type) spec.Schema {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case rawJSONType:
		sc := spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{"object"}}}
		sc.AddExtension("x-kubernetes-preserve-unknown-fields", true)
		return sc
	case timeType, microTimeType, quantityType, intOrStringType:
		return s.refTo(s.define(t))
	}
	if t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler) {
		s.errs = append(s.errs, fmt.Sprintf("%s has its own JSON form and no schema", t))
		return spec.Schema{}
	}
	switch t.Kind() {
	case reflect.String:
		return *spec.StringProperty()
	case reflect.Bool:
		return *spec.BoolProperty()
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint8, reflect.Uint16:
		return *spec.Int32Property()
	case reflect.Int, reflect.Int64, reflect.Uint32, reflect.Uint, reflect.Uint64:
		return *spec.Int64Property()
	case reflect.Float32:
		return *spec.Float32Property()
	case reflect.Float64:
		return *spec.Float64Property()
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			sc := *spec.StringProperty()
			sc.Format = "byte"
			return sc
		}
		items := s.schema(t.Elem())
		return *spec.ArrayProperty(&items)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			s.errs = append(s.errs, fmt.Sprintf("%s: map keys must be strings", t))
			return spec.Schema{}
		}
		v := s.schema(t.Elem())
		return *spec.MapProperty(&v)
	case reflect.Interface:
		return spec.Schema{}
	case reflect.Struct:
		if t.Name() == "" {
			return s.structSchema(t)
		}
		return s.refTo(s.define(t))
	}
	s.errs = append(s.errs, fmt.Sprintf("%s: no OpenAPI type for kind %s", t, t.Kind()))
	return spec.Schema{}
}

// structSchema returns the object schema of struct t: a property per JSON
// field (embedded structs without a JSON name flattened), required for
// fields that are never omitted, with descriptions and Kubernetes' patch
// and list extensions.
func (s *schemas) structSchema(t reflect.Type) spec.Schema {
	sc := spec.Schema{SchemaProps: spec.SchemaProps{Type: []string{"object"}, Properties: map[string]spec.Schema{}}}
	s.addFields(&sc, t)
	slices.Sort(sc.Required)
	return sc
}

func (s *schemas) addFields(sc *spec.Schema, t reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				s.addFields(sc, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if _, dup := sc.Properties[name]; dup {
			continue // encoding/json: the shallower field wins
		}
		p := s.schema(f.Type)
		desc := ""
		if t.PkgPath() == apiPath {
			desc = description(t.Name() + "." + f.Name)
			if desc == "" {
				if ft := baseType(f.Type); ft.PkgPath() == apiPath && ft.Kind() != reflect.Struct {
					desc = description(ft.Name())
				}
			}
		}
		if desc != "" {
			if p.Ref.String() != "" && s.v3 {
				p = spec.Schema{SchemaProps: spec.SchemaProps{AllOf: []spec.Schema{p}}}
			}
			p.Description = desc
		}
		if v := f.Tag.Get("patchStrategy"); v != "" {
			p.AddExtension("x-kubernetes-patch-strategy", v)
		}
		if v := f.Tag.Get("patchMergeKey"); v != "" {
			p.AddExtension("x-kubernetes-patch-merge-key", v)
		}
		if t.PkgPath() == apiPath {
			key := t.Name() + "." + f.Name + "+"
			if v := marker(key + "listType"); v != "" {
				p.AddExtension("x-kubernetes-list-type", v)
			}
			if v := marker(key + "listMapKey"); v != "" {
				p.AddExtension("x-kubernetes-list-map-keys", strings.Split(v, ","))
			}
			if v := marker(key + "mapType"); v != "" {
				p.AddExtension("x-kubernetes-map-type", v)
			}
		}
		sc.Properties[name] = p
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") && !f.Anonymous {
			sc.Required = append(sc.Required, name)
		}
	}
}

// baseType strips pointers, slices and maps.
func baseType(t reflect.Type) reflect.Type {
	for {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		default:
			return t
		}
	}
}
