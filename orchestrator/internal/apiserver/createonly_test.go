package apiserver

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/testutil"
)

// TestCreateOnly: a virtual resource answers POST with 201 and what
// Create returns, is listed by discovery with the verb create only,
// refuses other verbs with 405, and gets the user and the body.
func TestCreateOnly(t *testing.T) {
	echo := CreateOnly{Group: "example.com", Version: "v1", Resource: "echoes", Kind: "Echo",
		Create: func(ctx context.Context, ns, contentType string, body []byte) (any, error) {
			u, _ := UserFrom(ctx)
			if strings.Contains(string(body), "refuse") {
				return nil, api.NewBadRequest("refused")
			}
			if strings.Contains(string(body), "fail") {
				return nil, errors.New("broken")
			}
			return map[string]string{"user": u.Name, "body": string(body), "type": contentType}, nil
		}}
	ts := newTestServer(t, func(c *Config) { c.CreateOnly = []CreateOnly{echo} })
	var got map[string]string
	ts.do("POST", "/apis/example.com/v1/echoes", `{"x":1}`, "X-Test-User", "bob", "Content-Type", "application/json").want(t, 201).decode(t, &got)
	if got["user"] != "bob" || got["body"] != `{"x":1}` || got["type"] != "application/json" {
		t.Errorf("answer %v", got)
	}
	ts.do("GET", "/apis/example.com/v1/echoes", "", "X-Test-User", "bob").wantStatus(t, 405, "MethodNotAllowed")
	ts.do("POST", "/apis/example.com/v1/echoes", `refuse`, "X-Test-User", "bob").wantStatus(t, 400, api.ReasonBadRequest)
	ts.do("POST", "/apis/example.com/v1/echoes", `fail`, "X-Test-User", "bob").wantStatus(t, 500, api.ReasonInternalError)

	var list metav1.APIResourceList
	ts.do("GET", "/apis/example.com/v1", "", "X-Test-User", "bob").want(t, 200).decode(t, &list)
	if len(list.APIResources) != 1 || list.APIResources[0].Name != "echoes" || strings.Join(list.APIResources[0].Verbs, ",") != "create" {
		t.Errorf("discovery %+v", list.APIResources)
	}

	reg := testutil.Registry(t)
	_, err := New(Config{Client: reg, Authenticator: headerAuth{}, CreateOnly: []CreateOnly{
		{Version: "v1", Resource: "pods", Kind: "Pod", Create: echo.Create}, {Group: "x"}}})
	if err == nil || !strings.Contains(err.Error(), "Config.CreateOnly[1]: Version, Resource, Kind and Create are required") {
		t.Errorf("invalid CreateOnly: %v", err)
	}
	_, err = New(Config{Client: reg, Authenticator: headerAuth{}, CreateOnly: []CreateOnly{{Version: "v1", Resource: "pods", Kind: "Pod", Create: echo.Create}}})
	if err == nil || !strings.Contains(err.Error(), "pods is already served") {
		t.Errorf("CreateOnly clashing with a kind: %v", err)
	}
}
