package apiserver

import (
	"slices"
	"testing"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// kubectlDiscoveryAccept is what kubectl 1.32 sends for /api and /apis.
const kubectlDiscoveryAccept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"

func TestLegacyDiscovery(t *testing.T) {
	ts := newTestServer(t, nil)

	var versions metav1.APIVersions
	r := ts.do("GET", "/api", "").want(t, 200)
	r.decode(t, &versions)
	if r.header.Get("Content-Type") != "application/json" || !slices.Equal(versions.Versions, []string{"v1"}) || versions.Kind != "APIVersions" {
		t.Errorf("/api: %s %s", r.header.Get("Content-Type"), r.body)
	}

	var groups metav1.APIGroupList
	ts.do("GET", "/apis", "").want(t, 200).decode(t, &groups)
	names := map[string]string{}
	for _, g := range groups.Groups {
		names[g.Name] = g.PreferredVersion.GroupVersion
	}
	if names["apps"] != "apps/v1" || names["batch"] != "batch/v1" ||
		names["coordination.k8s.io"] != "coordination.k8s.io/v1" || names["discovery.k8s.io"] != "discovery.k8s.io/v1" ||
		names["rbac.authorization.k8s.io"] != "rbac.authorization.k8s.io/v1" || len(names) != 5 {
		t.Errorf("/apis groups %v", names)
	}
	var group metav1.APIGroup
	ts.do("GET", "/apis/apps", "").want(t, 200).decode(t, &group)
	if group.Kind != "APIGroup" || group.Name != "apps" || len(group.Versions) != 1 {
		t.Errorf("/apis/apps %+v", group)
	}

	var core metav1.APIResourceList
	ts.do("GET", "/api/v1", "").want(t, 200).decode(t, &core)
	byName := map[string]metav1.APIResource{}
	for _, r := range core.APIResources {
		byName[r.Name] = r
	}
	pods := byName["pods"]
	if !pods.Namespaced || pods.Kind != "Pod" || pods.SingularName != "pod" || !slices.Equal(pods.ShortNames, []string{"po"}) ||
		!slices.Equal(pods.Categories, []string{"all"}) || !slices.Contains(pods.Verbs, "watch") || !slices.Contains(pods.Verbs, "deletecollection") {
		t.Errorf("pods %+v", pods)
	}
	if _, ok := byName["pods/status"]; !ok {
		t.Error("no pods/status")
	}
	if b := byName["pods/binding"]; b.Kind != "Binding" || !slices.Equal(b.Verbs, []string{"create"}) {
		t.Errorf("pods/binding %+v", b)
	}
	if f := byName["namespaces/finalize"]; !slices.Equal(f.Verbs, []string{"update"}) {
		t.Errorf("namespaces/finalize %+v", f)
	}
	if _, ok := byName["configmaps/status"]; ok {
		t.Error("configmaps/status listed: ConfigMap has no status")
	}
	if ns := byName["namespaces"]; ns.Namespaced || len(ns.Categories) != 0 {
		t.Errorf("namespaces %+v", ns)
	}

	var apps metav1.APIResourceList
	ts.do("GET", "/apis/apps/v1", "").want(t, 200).decode(t, &apps)
	byName = map[string]metav1.APIResource{}
	for _, r := range apps.APIResources {
		byName[r.Name] = r
	}
	if s := byName["deployments/scale"]; s.Group != "autoscaling" || s.Version != "v1" || s.Kind != "Scale" || !slices.Equal(s.Verbs, []string{"get", "patch", "update"}) {
		t.Errorf("deployments/scale %+v", s)
	}
	if _, ok := byName["replicasets/scale"]; !ok {
		t.Error("no replicasets/scale")
	}
	if _, ok := byName["daemonsets/scale"]; ok {
		t.Error("daemonsets/scale listed: DaemonSets have no replicas")
	}
	if d := byName["deployments"]; !slices.Equal(d.Categories, []string{"all"}) || !slices.Equal(d.ShortNames, []string{"deploy"}) {
		t.Errorf("deployments %+v", d)
	}
	ts.do("GET", "/apis/apps/v2", "").wantStatus(t, 404, "NotFound")
}

func TestAggregatedDiscovery(t *testing.T) {
	ts := newTestServer(t, nil)
	r := ts.do("GET", "/apis", "", "Accept", kubectlDiscoveryAccept).want(t, 200)
	if ct := r.header.Get("Content-Type"); ct != aggregatedContentType {
		t.Fatalf("Content-Type %q", ct)
	}
	var list apidiscoveryv2.APIGroupDiscoveryList
	r.decode(t, &list)
	if list.Kind != "APIGroupDiscoveryList" || list.APIVersion != "apidiscovery.k8s.io/v2" {
		t.Errorf("type %+v", list.TypeMeta)
	}
	var deployments *apidiscoveryv2.APIResourceDiscovery
	for _, g := range list.Items {
		if g.Name == "" {
			t.Error("/apis lists the core group")
		}
		for _, v := range g.Versions {
			for i, res := range v.Resources {
				if g.Name == "apps" && res.Resource == "deployments" {
					deployments = &v.Resources[i]
				}
			}
		}
	}
	if deployments == nil {
		t.Fatalf("no apps deployments: %s", r.body)
	}
	if deployments.Scope != apidiscoveryv2.ScopeNamespace || deployments.ResponseKind.Kind != "Deployment" || deployments.SingularResource != "deployment" {
		t.Errorf("deployments %+v", deployments)
	}
	subs := map[string]string{}
	for _, s := range deployments.Subresources {
		subs[s.Subresource] = s.ResponseKind.Group + "/" + s.ResponseKind.Kind
	}
	if subs["scale"] != "autoscaling/Scale" || subs["status"] != "apps/Deployment" {
		t.Errorf("subresources %v", subs)
	}

	var core apidiscoveryv2.APIGroupDiscoveryList
	r = ts.do("GET", "/api", "", "Accept", kubectlDiscoveryAccept).want(t, 200)
	r.decode(t, &core)
	if len(core.Items) != 1 || core.Items[0].Name != "" || core.Items[0].Versions[0].Version != "v1" {
		t.Fatalf("/api aggregated: %s", r.body)
	}
	var nodes *apidiscoveryv2.APIResourceDiscovery
	for i, res := range core.Items[0].Versions[0].Resources {
		if res.Resource == "nodes" {
			nodes = &core.Items[0].Versions[0].Resources[i]
		}
	}
	if nodes == nil || nodes.Scope != apidiscoveryv2.ScopeCluster {
		t.Errorf("nodes %+v", nodes)
	}

	// Revalidation with the ETag.
	etag := r.header.Get("ETag")
	if etag == "" {
		t.Error("no ETag")
	}
	ts.do("GET", "/api", "", "Accept", kubectlDiscoveryAccept, "If-None-Match", etag).want(t, 304)
	ts.do("GET", "/api", "", "Accept", kubectlDiscoveryAccept, "If-None-Match", `"other"`).want(t, 200)

	// Without the aggregated type: the legacy document.
	r = ts.do("GET", "/apis", "", "Accept", "application/json").want(t, 200)
	if r.header.Get("Content-Type") != "application/json" {
		t.Errorf("legacy Content-Type %q", r.header.Get("Content-Type"))
	}
	var groups metav1.APIGroupList
	r.decode(t, &groups)
	if groups.Kind != "APIGroupList" {
		t.Errorf("legacy body %s", r.body)
	}
}
