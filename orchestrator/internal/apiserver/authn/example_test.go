package authn_test

import (
	"fmt"
	"net/http/httptest"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/internal/apiserver/authn"
)

// A static token file authenticates bearer tokens; a request without a
// credential is nobody (the server answers 401).
func ExampleParseTokens() {
	tokens, err := authn.ParseTokens(strings.NewReader(`s3cr3t,alice,uid-1,"system:masters,devs"` + "\n"))
	if err != nil {
		fmt.Println(err)
		return
	}
	a := authn.New(authn.Config{Tokens: tokens})

	r := httptest.NewRequest("GET", "/api/v1/pods", nil)
	r.Header.Set("Authorization", "Bearer s3cr3t")
	u, ok, err := a.Authenticate(r)
	fmt.Println(u.Name, u.Groups, ok, err)

	_, ok, err = a.Authenticate(httptest.NewRequest("GET", "/api/v1/pods", nil))
	fmt.Println(ok, err)
	// Output:
	// alice [system:masters devs system:authenticated] true <nil>
	// false <nil>
}
