package openapi_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/openapi"
)

// Serve the documents of the built-in kinds and list the group versions
// the OpenAPI v3 discovery document names.
func ExampleNewHandler() {
	h, err := openapi.NewHandler(api.DefaultScheme())
	if err != nil {
		fmt.Println(err)
		return
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/openapi/v3", nil))
	var disc struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &disc); err != nil {
		fmt.Println(err)
		return
	}
	var paths []string
	for p := range disc.Paths {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	fmt.Println(paths)
	// Output:
	// [api/v1 apis/apps/v1 apis/batch/v1 apis/coordination.k8s.io/v1 apis/discovery.k8s.io/v1 apis/rbac.authorization.k8s.io/v1]
}
