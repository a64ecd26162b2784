package openapi_test

import (
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/openapi"
)

// BenchmarkNewHandler measures building and encoding every document, the
// cost a server pays once at start.
func BenchmarkNewHandler(b *testing.B) {
	s := api.DefaultScheme()
	for b.Loop() {
		if _, err := openapi.NewHandler(s); err != nil {
			b.Fatal(err)
		}
	}
}
