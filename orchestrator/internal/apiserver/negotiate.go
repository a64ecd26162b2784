package apiserver

import (
	"cmp"
	"mime"
	"slices"
	"strconv"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// mediaRange is one entry of an Accept header.
type mediaRange struct {
	typ, sub string
	params   map[string]string
	q        float64
}

// parseAccept returns the entries of an Accept header, most preferred
// first (by q, then by order). Entries that do not parse are left out.
func parseAccept(h string) []mediaRange {
	var out []mediaRange
	for part := range strings.SplitSeq(h, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		mt, params, err := mime.ParseMediaType(part)
		if err != nil {
			continue
		}
		typ, sub, _ := strings.Cut(mt, "/")
		mr := mediaRange{typ: typ, sub: sub, params: params, q: 1}
		if q, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil {
				mr.q = f
			}
			delete(params, "q")
		}
		if mr.q <= 0 {
			continue
		}
		out = append(out, mr)
	}
	slices.SortStableFunc(out, func(a, b mediaRange) int { return cmp.Compare(b.q, a.q) })
	return out
}

func (m mediaRange) isJSON() bool {
	return (m.typ == "application" && (m.sub == "json" || m.sub == "*")) || (m.typ == "*" && m.sub == "*")
}

// acceptsAggregated reports whether an Accept header prefers aggregated
// discovery (apidiscovery.k8s.io/v2) to the legacy documents.
func acceptsAggregated(h string) bool {
	for _, m := range parseAccept(h) {
		if m.params["as"] == "" {
			return false // a plain type comes first: the legacy document
		}
		if m.typ == "application" && m.sub == "json" && m.params["g"] == "apidiscovery.k8s.io" &&
			m.params["v"] == "v2" && m.params["as"] == "APIGroupDiscoveryList" {
			return true
		}
	}
	return false
}

// format is how a response body is written.
type format struct {
	yaml bool
	// table: a meta.k8s.io Table of that version ("v1" or "v1beta1")
	// instead of the objects.
	table string
}

// negotiate picks the response format for an Accept header; tables is
// false where a table cannot be served (writes, subresources).
//
// Errors: NotAcceptable (406) when no entry is served.
func negotiate(h string, tables bool) (format, error) {
	if strings.TrimSpace(h) == "" {
		return format{}, nil
	}
	for _, m := range parseAccept(h) {
		as := m.params["as"]
		switch {
		case as == "Table" && m.params["g"] == "meta.k8s.io" && (m.params["v"] == "v1" || m.params["v"] == "v1beta1"):
			if tables && m.typ == "application" && m.sub == "json" {
				return format{table: m.params["v"]}, nil
			}
		case as != "":
			// PartialObjectMetadata and other conversions are not served.
		case m.isJSON():
			return format{}, nil
		case m.typ == "application" && m.sub == "yaml":
			return format{yaml: true}, nil
		}
	}
	return format{}, notAcceptable()
}

// notAcceptable is kube-apiserver's 406 answer.
func notAcceptable() error {
	return &api.StatusError{ErrStatus: api.Status{
		TypeMeta: api.TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status:   "Failure",
		Message:  "only the following media types are accepted: application/json, application/yaml",
		Reason:   "NotAcceptable",
		Code:     406,
	}}
}
