package api

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SelectorOperator is the operator of a label selector Requirement.
type SelectorOperator string

// Selector operators, with their string syntax.
const (
	SelectorEquals       SelectorOperator = "="
	SelectorDoubleEquals SelectorOperator = "=="
	SelectorNotEquals    SelectorOperator = "!="
	SelectorIn           SelectorOperator = "in"
	SelectorNotIn        SelectorOperator = "notin"
	SelectorExists       SelectorOperator = "exists"
	SelectorDoesNotExist SelectorOperator = "!"
)

// Requirement is one condition of a label Selector.
type Requirement struct {
	Key      string
	Operator SelectorOperator
	// Values has one element for =, == and !=, at least one for in and
	// notin, and none for exists and !.
	Values []string
}

// Matches reports whether labels satisfy r. As in Kubernetes, != and notin
// match objects that lack the key.
func (r Requirement) Matches(labels map[string]string) bool {
	v, has := labels[r.Key]
	switch r.Operator {
	case SelectorEquals, SelectorDoubleEquals, SelectorIn:
		return has && slices.Contains(r.Values, v)
	case SelectorNotEquals, SelectorNotIn:
		return !has || !slices.Contains(r.Values, v)
	case SelectorExists:
		return has
	case SelectorDoesNotExist:
		return !has
	}
	return false
}

// String returns r in selector syntax.
func (r Requirement) String() string {
	switch r.Operator {
	case SelectorExists:
		return r.Key
	case SelectorDoesNotExist:
		return "!" + r.Key
	case SelectorIn, SelectorNotIn:
		return r.Key + " " + string(r.Operator) + " (" + strings.Join(r.Values, ",") + ")"
	}
	v := ""
	if len(r.Values) > 0 {
		v = r.Values[0]
	}
	return r.Key + string(r.Operator) + v
}

// Selector is a parsed label selector: all requirements must hold. The
// zero value matches everything; Nothing() matches nothing.
type Selector struct {
	reqs    []Requirement
	nothing bool
}

// Everything returns a selector that matches all objects.
func Everything() Selector { return Selector{} }

// Nothing returns a selector that matches no object (what a nil
// LabelSelector means).
func Nothing() Selector { return Selector{nothing: true} }

// SelectorFromSet returns the selector k1=v1,k2=v2,... for a label map; it
// does not validate the keys and values (ValidateLabels does).
func SelectorFromSet(set map[string]string) Selector {
	var s Selector
	for _, k := range sortedKeys(set) {
		s.reqs = append(s.reqs, Requirement{Key: k, Operator: SelectorEquals, Values: []string{set[k]}})
	}
	return s
}

// Requirements returns a copy of the requirements, sorted by key.
func (s Selector) Requirements() []Requirement { return slices.Clone(s.reqs) }

// Empty reports whether s matches everything.
func (s Selector) Empty() bool { return !s.nothing && len(s.reqs) == 0 }

// Matches reports whether labels satisfy every requirement.
func (s Selector) Matches(labels map[string]string) bool {
	if s.nothing {
		return false
	}
	for _, r := range s.reqs {
		if !r.Matches(labels) {
			return false
		}
	}
	return true
}

// String returns s in selector syntax, requirements sorted by key; the
// empty string for Everything. Nothing prints as "<none>", which does not
// parse.
func (s Selector) String() string {
	if s.nothing {
		return "<none>"
	}
	parts := make([]string, len(s.reqs))
	for i, r := range s.reqs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// Add returns s with the given requirements added (s is not modified).
func (s Selector) Add(reqs ...Requirement) Selector {
	out := Selector{reqs: append(slices.Clone(s.reqs), reqs...), nothing: s.nothing}
	sortRequirements(out.reqs)
	return out
}

func sortRequirements(reqs []Requirement) {
	slices.SortStableFunc(reqs, func(a, b Requirement) int { return strings.Compare(a.Key, b.Key) })
}

// ErrSelector is wrapped by every error of ParseSelector,
// LabelSelectorAsSelector and ParseFieldSelector.
var ErrSelector = errors.New("invalid selector")

func selectorError(input, format string, args ...any) error {
	return fmt.Errorf("%w %q: %s", ErrSelector, input, fmt.Sprintf(format, args...))
}

// ParseSelector parses Kubernetes' label selector syntax, e.g.
//
//	app=web,tier!=db,env in (a,b),!legacy,gpu
//
// Requirements are comma-separated: key (exists), !key (does not exist),
// key=value, key==value, key!=value, key in (v1,v2), key notin (v1,v2).
// Whitespace around tokens is ignored. The empty string selects
// everything. Keys must be qualified names and values valid label values.
// Errors wrap ErrSelector and name the offending part.
func ParseSelector(input string) (Selector, error) {
	p := &selParser{in: input}
	var s Selector
	p.skipSpace()
	if p.eof() {
		return s, nil
	}
	for {
		r, err := p.requirement()
		if err != nil {
			return Selector{}, err
		}
		s.reqs = append(s.reqs, r)
		p.skipSpace()
		if p.eof() {
			break
		}
		if p.in[p.pos] != ',' {
			return Selector{}, selectorError(input, "expected ',' at position %d, found %q", p.pos, p.rest())
		}
		p.pos++
	}
	sortRequirements(s.reqs)
	return s, nil
}

type selParser struct {
	in  string
	pos int
}

func (p *selParser) eof() bool { return p.pos >= len(p.in) }

func (p *selParser) rest() string {
	r := p.in[p.pos:]
	if len(r) > 20 {
		r = r[:20] + "..."
	}
	return r
}

func (p *selParser) skipSpace() {
	for !p.eof() && (p.in[p.pos] == ' ' || p.in[p.pos] == '\t') {
		p.pos++
	}
}

func isIdentChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '/'
}

func (p *selParser) ident() string {
	start := p.pos
	for !p.eof() && isIdentChar(p.in[p.pos]) {
		p.pos++
	}
	return p.in[start:p.pos]
}

func (p *selParser) requirement() (Requirement, error) {
	p.skipSpace()
	if !p.eof() && p.in[p.pos] == '!' {
		p.pos++
		p.skipSpace()
		key := p.ident()
		if key == "" {
			return Requirement{}, selectorError(p.in, "expected a key after '!' at position %d", p.pos)
		}
		return p.validate(Requirement{Key: key, Operator: SelectorDoesNotExist})
	}
	keyPos := p.pos
	key := p.ident()
	if key == "" {
		if p.eof() {
			return Requirement{}, selectorError(p.in, "expected a requirement at the end")
		}
		return Requirement{}, selectorError(p.in, "expected a key at position %d, found %q", keyPos, p.rest())
	}
	p.skipSpace()
	if p.eof() || p.in[p.pos] == ',' {
		return p.validate(Requirement{Key: key, Operator: SelectorExists})
	}
	var op SelectorOperator
	switch {
	case strings.HasPrefix(p.in[p.pos:], "=="):
		op, p.pos = SelectorDoubleEquals, p.pos+2
	case strings.HasPrefix(p.in[p.pos:], "!="):
		op, p.pos = SelectorNotEquals, p.pos+2
	case p.in[p.pos] == '=':
		op, p.pos = SelectorEquals, p.pos+1
	default:
		opPos := p.pos
		word := p.ident()
		switch word {
		case "in":
			op = SelectorIn
		case "notin":
			op = SelectorNotIn
		default:
			p.pos = opPos
			return Requirement{}, selectorError(p.in, "unknown operator %q after key %q (want =, ==, !=, in or notin)", p.rest(), key)
		}
	}
	p.skipSpace()
	if op == SelectorIn || op == SelectorNotIn {
		if p.eof() || p.in[p.pos] != '(' {
			return Requirement{}, selectorError(p.in, "expected '(' after %q %s", key, op)
		}
		p.pos++
		var values []string
		for {
			p.skipSpace()
			v := p.ident()
			p.skipSpace()
			if p.eof() {
				return Requirement{}, selectorError(p.in, "missing ')' in values of %q", key)
			}
			values = append(values, v)
			if p.in[p.pos] == ')' {
				p.pos++
				break
			}
			if p.in[p.pos] != ',' {
				return Requirement{}, selectorError(p.in, "unexpected %q in values of %q", p.rest(), key)
			}
			p.pos++
		}
		if len(values) == 1 && values[0] == "" {
			return Requirement{}, selectorError(p.in, "values of %q %s must not be empty", key, op)
		}
		return p.validate(Requirement{Key: key, Operator: op, Values: values})
	}
	v := p.ident()
	return p.validate(Requirement{Key: key, Operator: op, Values: []string{v}})
}

func (p *selParser) validate(r Requirement) (Requirement, error) {
	if msgs := IsQualifiedName(r.Key); len(msgs) > 0 {
		return Requirement{}, selectorError(p.in, "invalid key %q: %s", r.Key, strings.Join(msgs, "; "))
	}
	for _, v := range r.Values {
		if msgs := IsValidLabelValue(v); len(msgs) > 0 {
			return Requirement{}, selectorError(p.in, "invalid value %q for key %q: %s", v, r.Key, strings.Join(msgs, "; "))
		}
	}
	slices.Sort(r.Values)
	return r, nil
}

// LabelSelectorAsSelector converts the structured form used in specs. A
// nil selector selects nothing and an empty one everything, as in
// Kubernetes. Errors wrap ErrSelector and name the offending key or
// operator; ValidateLabelSelector reports the same problems with field
// paths.
func LabelSelectorAsSelector(ls *LabelSelector) (Selector, error) {
	if ls == nil {
		return Nothing(), nil
	}
	if errs := ValidateLabelSelector(ls, Path{}); len(errs) > 0 {
		return Selector{}, fmt.Errorf("%w: %s", ErrSelector, errs.Error())
	}
	var s Selector
	for _, k := range sortedKeys(ls.MatchLabels) {
		s.reqs = append(s.reqs, Requirement{Key: k, Operator: SelectorEquals, Values: []string{ls.MatchLabels[k]}})
	}
	for _, e := range ls.MatchExpressions {
		r := Requirement{Key: e.Key, Values: slices.Clone(e.Values)}
		switch e.Operator {
		case LabelSelectorOpIn:
			r.Operator = SelectorIn
		case LabelSelectorOpNotIn:
			r.Operator = SelectorNotIn
		case LabelSelectorOpExists:
			r.Operator = SelectorExists
		case LabelSelectorOpDoesNotExist:
			r.Operator = SelectorDoesNotExist
		}
		slices.Sort(r.Values)
		s.reqs = append(s.reqs, r)
	}
	sortRequirements(s.reqs)
	return s, nil
}

// ValidateLabelSelector checks a structured selector and returns every
// problem with its path under p (matchLabels keys and values,
// matchExpressions keys, operators and values).
func ValidateLabelSelector(ls *LabelSelector, p Path) FieldErrorList {
	if ls == nil {
		return nil
	}
	var errs FieldErrorList
	errs = append(errs, ValidateLabels(ls.MatchLabels, p.Child("matchLabels"))...)
	for i, e := range ls.MatchExpressions {
		ep := p.Child("matchExpressions").Index(i)
		switch e.Operator {
		case LabelSelectorOpIn, LabelSelectorOpNotIn:
			if len(e.Values) == 0 {
				errs = append(errs, Required(ep.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
			}
		case LabelSelectorOpExists, LabelSelectorOpDoesNotExist:
			if len(e.Values) > 0 {
				errs = append(errs, Forbidden(ep.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
			}
		default:
			errs = append(errs, NotSupported(ep.Child("operator"), e.Operator,
				LabelSelectorOpIn, LabelSelectorOpNotIn, LabelSelectorOpExists, LabelSelectorOpDoesNotExist))
		}
		for _, m := range IsQualifiedName(e.Key) {
			errs = append(errs, Invalid(ep.Child("key"), e.Key, m))
		}
		for j, v := range e.Values {
			for _, m := range IsValidLabelValue(v) {
				errs = append(errs, Invalid(ep.Child("values").Index(j), v, m))
			}
		}
	}
	return errs
}

// ---- field selectors ----

// FieldRequirement is one condition of a FieldSelector: Field == Value, or
// Field != Value when Negate.
type FieldRequirement struct {
	Field  string
	Value  string
	Negate bool
}

// FieldSelector selects objects by field values; all requirements must
// hold. The zero value matches everything.
type FieldSelector struct {
	reqs []FieldRequirement
}

// Requirements returns a copy of the requirements.
func (s FieldSelector) Requirements() []FieldRequirement { return slices.Clone(s.reqs) }

// Empty reports whether s matches everything.
func (s FieldSelector) Empty() bool { return len(s.reqs) == 0 }

// String returns s in selector syntax.
func (s FieldSelector) String() string {
	parts := make([]string, len(s.reqs))
	for i, r := range s.reqs {
		op := "="
		if r.Negate {
			op = "!="
		}
		parts[i] = r.Field + op + escapeFieldValue(r.Value)
	}
	return strings.Join(parts, ",")
}

// OneTermEqualSelector returns the field selector field=value.
func OneTermEqualSelector(field, value string) FieldSelector {
	return FieldSelector{reqs: []FieldRequirement{{Field: field, Value: value}}}
}

func escapeFieldValue(v string) string {
	return strings.NewReplacer(`\`, `\\`, `,`, `\,`, `=`, `\=`).Replace(v)
}

// ParseFieldSelector parses "field=value,field!=value" (also "=="); values
// may escape ',', '=' and '\' with '\'. It checks syntax only: use
// ValidateFieldSelector or MatchesFields to check the fields a kind
// supports. Errors wrap ErrSelector.
func ParseFieldSelector(input string) (FieldSelector, error) {
	var s FieldSelector
	if strings.TrimSpace(input) == "" {
		return s, nil
	}
	// Split on unescaped commas.
	var terms []string
	var cur strings.Builder
	for i := 0; i < len(input); i++ {
		c := input[i]
		if c == '\\' && i+1 < len(input) {
			cur.WriteByte(c)
			cur.WriteByte(input[i+1])
			i++
			continue
		}
		if c == ',' {
			terms = append(terms, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	terms = append(terms, cur.String())
	for _, t := range terms {
		r, err := parseFieldTerm(input, t)
		if err != nil {
			return FieldSelector{}, err
		}
		s.reqs = append(s.reqs, r)
	}
	return s, nil
}

func parseFieldTerm(input, t string) (FieldRequirement, error) {
	for i := 0; i < len(t); i++ {
		if t[i] == '\\' {
			return FieldRequirement{}, selectorError(input, "escape in field name of %q", t)
		}
		var r FieldRequirement
		var n int
		switch {
		case strings.HasPrefix(t[i:], "!="):
			r.Negate, n = true, 2
		case strings.HasPrefix(t[i:], "=="):
			n = 2
		case t[i] == '=':
			n = 1
		default:
			continue
		}
		r.Field = strings.TrimSpace(t[:i])
		if r.Field == "" {
			return FieldRequirement{}, selectorError(input, "missing field name in %q", t)
		}
		v, err := unescapeFieldValue(strings.TrimSpace(t[i+n:]))
		if err != nil {
			return FieldRequirement{}, selectorError(input, "%v in %q", err, t)
		}
		r.Value = v
		return r, nil
	}
	return FieldRequirement{}, selectorError(input, "%q has no operator (want field=value, field==value or field!=value)", t)
}

func unescapeFieldValue(v string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\\' {
			if i+1 >= len(v) {
				return "", errors.New("trailing backslash")
			}
			switch v[i+1] {
			case '\\', ',', '=':
				b.WriteByte(v[i+1])
				i++
				continue
			}
			return "", fmt.Errorf("invalid escape %q", v[i:i+2])
		}
		if c == '=' || c == ',' {
			return "", fmt.Errorf("unescaped %q", c)
		}
		b.WriteByte(c)
	}
	return b.String(), nil
}

// SelectableFields returns the fields a field selector can use on obj's
// kind, with obj's values: metadata.name and metadata.namespace for every
// kind; spec.nodeName, spec.restartPolicy, spec.serviceAccountName,
// status.phase and status.podIP for Pods; spec.unschedulable for Nodes;
// status.phase for Namespaces; involvedObject.*, reason, type and source
// for Events.
func SelectableFields(obj Object) map[string]string {
	f := map[string]string{
		"metadata.name":      obj.GetName(),
		"metadata.namespace": obj.GetNamespace(),
	}
	switch o := obj.(type) {
	case *Pod:
		f["spec.nodeName"] = o.Spec.NodeName
		f["spec.restartPolicy"] = string(o.Spec.RestartPolicy)
		f["spec.serviceAccountName"] = o.Spec.ServiceAccountName
		f["status.phase"] = string(o.Status.Phase)
		f["status.podIP"] = o.Status.PodIP
	case *Node:
		f["spec.unschedulable"] = fmt.Sprint(o.Spec.Unschedulable)
	case *Namespace:
		f["status.phase"] = string(o.Status.Phase)
	case *Event:
		f["involvedObject.kind"] = o.InvolvedObject.Kind
		f["involvedObject.namespace"] = o.InvolvedObject.Namespace
		f["involvedObject.name"] = o.InvolvedObject.Name
		f["involvedObject.uid"] = string(o.InvolvedObject.UID)
		f["involvedObject.apiVersion"] = o.InvolvedObject.APIVersion
		f["involvedObject.resourceVersion"] = o.InvolvedObject.ResourceVersion
		f["involvedObject.fieldPath"] = o.InvolvedObject.FieldPath
		f["reason"] = o.Reason
		f["type"] = o.Type
		f["source"] = o.Source.Component
	}
	return f
}

// ValidateFieldSelector checks that every field of s is selectable on
// objects like sample (only sample's kind matters). The error wraps
// ErrSelector and lists the supported fields.
func ValidateFieldSelector(s FieldSelector, sample Object) error {
	fields := SelectableFields(sample)
	for _, r := range s.reqs {
		if _, ok := fields[r.Field]; !ok {
			kind := fmt.Sprintf("%T", sample)
			if info, ok := defaultScheme.KindFor(sample); ok {
				kind = info.Kind
			}
			return fmt.Errorf("%w %q: field %q is not supported for %s (supported: %s)",
				ErrSelector, s.String(), r.Field, kind, strings.Join(sortedKeys(fields), ", "))
		}
	}
	return nil
}

// MatchesFields evaluates s on obj. It returns an error (wrapping
// ErrSelector) if s uses a field obj's kind does not support.
func (s FieldSelector) MatchesFields(obj Object) (bool, error) {
	if len(s.reqs) == 0 {
		return true, nil
	}
	if err := ValidateFieldSelector(s, obj); err != nil {
		return false, err
	}
	fields := SelectableFields(obj)
	for _, r := range s.reqs {
		if (fields[r.Field] == r.Value) == r.Negate {
			return false, nil
		}
	}
	return true, nil
}
