package api

import (
	"strings"
	"testing"
)

func TestNameChecks(t *testing.T) {
	tests := []struct {
		fn    func(string) []string
		in    string
		valid bool
	}{
		{IsDNS1123Label, "web-1", true},
		{IsDNS1123Label, "a.b", false},
		{IsDNS1123Label, "-a", false},
		{IsDNS1123Label, strings.Repeat("a", 63), true},
		{IsDNS1123Label, strings.Repeat("a", 64), false},
		{IsDNS1123Subdomain, "a.b-c.d", true},
		{IsDNS1123Subdomain, "A.b", false},
		{IsDNS1123Subdomain, "a..b", false},
		{IsQualifiedName, "app", true},
		{IsQualifiedName, "app.kubernetes.io/name", true},
		{IsQualifiedName, "My_Name.x", true},
		{IsQualifiedName, "/name", false},
		{IsQualifiedName, "a/", false},
		{IsQualifiedName, "Example.com/x", false},
		{IsQualifiedName, "a/b/c", false},
		{IsQualifiedName, "_a", false},
		{IsValidLabelValue, "", true},
		{IsValidLabelValue, "v1.2_3-x", true},
		{IsValidLabelValue, "a b", false},
		{IsValidLabelValue, strings.Repeat("a", 64), false},
		{IsIANASvcName, "http", true},
		{IsIANASvcName, "http-alt", true},
		{IsIANASvcName, "8080", false},
		{IsIANASvcName, "a--b", false},
		{IsIANASvcName, "sixteen-chars-xx", false},
		{IsIANASvcName, "HTTP", false},
		{IsConfigMapKey, "app.properties", true},
		{IsConfigMapKey, "..data", false},
		{IsConfigMapKey, "a/b", false},
		{IsEnvVarName, "MY_VAR.1", true},
		{IsEnvVarName, "A=B", false},
		{IsEnvVarName, "", false},
	}
	for _, tt := range tests {
		if got := len(tt.fn(tt.in)) == 0; got != tt.valid {
			t.Errorf("check(%q) valid = %v, want %v: %v", tt.in, got, tt.valid, tt.fn(tt.in))
		}
	}
}
