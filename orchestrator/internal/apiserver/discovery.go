package apiserver

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"slices"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// discovery holds the discovery documents, encoded once in New: the
// scheme does not change while the server runs.
type discovery struct {
	// legacy documents: /api, /apis, /apis/<group>, and each
	// group/version's APIResourceList by "v1" or "<group>/<version>".
	api        []byte
	apis       []byte
	groups     map[string][]byte
	groupVerss map[string][]byte
	// aggregated (apidiscovery.k8s.io/v2) documents for /api and /apis.
	aggAPI  []byte
	aggAPIs []byte
}

// aggregatedContentType is the Content-Type of aggregated discovery, as
// kube-apiserver writes it and client-go checks it.
const aggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

func buildDiscovery(rs map[groupVersionResource]*resource) *discovery {
	d := &discovery{groups: map[string][]byte{}, groupVerss: map[string][]byte{}}
	type gv struct{ group, version string }
	lists := map[gv]*metav1.APIResourceList{}
	aggs := map[gv]*apidiscoveryv2.APIVersionDiscovery{}
	var order []gv
	for _, res := range sortedResources(rs) {
		k := gv{res.group, res.version}
		list, ok := lists[k]
		if !ok {
			gvs := res.version
			if res.group != "" {
				gvs = res.group + "/" + res.version
			}
			list = &metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gvs}
			lists[k] = list
			aggs[k] = &apidiscoveryv2.APIVersionDiscovery{Version: res.version, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
			order = append(order, k)
		}
		list.APIResources = append(list.APIResources, metav1.APIResource{
			Name: res.info.Resource, SingularName: res.singular, Namespaced: res.info.Namespaced,
			Kind: res.info.Kind, Verbs: res.verbs(), ShortNames: res.info.ShortNames, Categories: res.categories,
		})
		scope := apidiscoveryv2.ScopeCluster
		if res.info.Namespaced {
			scope = apidiscoveryv2.ScopeNamespace
		}
		ar := apidiscoveryv2.APIResourceDiscovery{
			Resource:         res.info.Resource,
			ResponseKind:     &metav1.GroupVersionKind{Group: res.group, Version: res.version, Kind: res.info.Kind},
			Scope:            scope,
			SingularResource: res.singular,
			Verbs:            res.verbs(),
			ShortNames:       res.info.ShortNames,
			Categories:       res.categories,
		}
		for _, sub := range res.subresources() {
			kind := metav1.GroupVersionKind{Group: res.group, Version: res.version, Kind: res.info.Kind}
			legacy := metav1.APIResource{Name: res.info.Resource + "/" + sub, Namespaced: res.info.Namespaced,
				Kind: res.info.Kind, Verbs: subresourceVerbs(sub)}
			switch sub {
			case "scale":
				kind = metav1.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}
				legacy.Group, legacy.Version, legacy.Kind = "autoscaling", "v1", "Scale"
			case "binding":
				kind.Kind, legacy.Kind = "Binding", "Binding"
			case "eviction":
				kind = metav1.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"}
				legacy.Group, legacy.Version, legacy.Kind = "policy", "v1", "Eviction"
			}
			list.APIResources = append(list.APIResources, legacy)
			ar.Subresources = append(ar.Subresources, apidiscoveryv2.APISubresourceDiscovery{
				Subresource: sub, ResponseKind: &kind, Verbs: subresourceVerbs(sub),
			})
		}
		aggs[k].Resources = append(aggs[k].Resources, ar)
	}

	core := apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/v2"}}
	named := core
	apiVersions := metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}}
	groupList := metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}, Groups: []metav1.APIGroup{}}
	groupIndex := map[string]int{}
	for _, k := range order {
		d.groupVerss[lists[k].GroupVersion] = mustJSON(lists[k])
		if k.group == "" {
			apiVersions.Versions = append(apiVersions.Versions, k.version)
			appendVersion(&core, "", *aggs[k])
			continue
		}
		appendVersion(&named, k.group, *aggs[k])
		gvd := metav1.GroupVersionForDiscovery{GroupVersion: lists[k].GroupVersion, Version: k.version}
		i, ok := groupIndex[k.group]
		if !ok {
			i = len(groupList.Groups)
			groupIndex[k.group] = i
			groupList.Groups = append(groupList.Groups, metav1.APIGroup{Name: k.group, PreferredVersion: gvd})
		}
		groupList.Groups[i].Versions = append(groupList.Groups[i].Versions, gvd)
	}
	for _, g := range groupList.Groups {
		g.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
		d.groups[g.Name] = mustJSON(g)
	}
	d.api = mustJSON(apiVersions)
	d.apis = mustJSON(groupList)
	d.aggAPI = mustJSON(core)
	d.aggAPIs = mustJSON(named)
	return d
}

func appendVersion(l *apidiscoveryv2.APIGroupDiscoveryList, group string, v apidiscoveryv2.APIVersionDiscovery) {
	i := slices.IndexFunc(l.Items, func(g apidiscoveryv2.APIGroupDiscovery) bool { return g.Name == group })
	if i < 0 {
		i = len(l.Items)
		l.Items = append(l.Items, apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: group}})
	}
	l.Items[i].Versions = append(l.Items[i].Versions, v)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // discovery types always encode
	}
	return b
}

// serveDiscovery answers /api, /api/v1, /apis, /apis/<group> and
// /apis/<group>/<version>; it reports false for any other path.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request, ri requestInfo) bool {
	parts := splitPath(ri.Path)
	var doc []byte
	aggregated := false
	switch {
	case len(parts) == 1 && parts[0] == "api":
		doc = s.discovery.api
		if acceptsAggregated(r.Header.Get("Accept")) {
			doc, aggregated = s.discovery.aggAPI, true
		}
	case len(parts) == 1 && parts[0] == "apis":
		doc = s.discovery.apis
		if acceptsAggregated(r.Header.Get("Accept")) {
			doc, aggregated = s.discovery.aggAPIs, true
		}
	case len(parts) == 2 && parts[0] == "api":
		doc = s.discovery.groupVerss[parts[1]]
	case len(parts) == 2 && parts[0] == "apis":
		doc = s.discovery.groups[parts[1]]
	case len(parts) == 3 && parts[0] == "apis":
		doc = s.discovery.groupVerss[parts[1]+"/"+parts[2]]
	default:
		return false
	}
	if doc == nil {
		s.writeError(w, r, notFoundPath())
		return true
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.writeError(w, r, methodNotAllowed(r.Method))
		return true
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if aggregated {
		h.Set("Content-Type", aggregatedContentType)
	}
	h.Add("Vary", "Accept")
	// The documents change only with the server: clients that cache them
	// (kubectl's discovery cache) revalidate with the ETag.
	sum := sha256.Sum256(doc)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return true
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(doc)
	return true
}
