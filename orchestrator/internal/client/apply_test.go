package client

import (
	"encoding/json"
	"testing"
)

func TestMergeDiff(t *testing.T) {
	tests := []struct {
		name                     string
		original, modified, live string
		want                     string
	}{
		{"unchanged", `{"a":1}`, `{"a":1}`, `{"a":1,"b":2}`, `{}`},
		{"changed value", `{"a":1}`, `{"a":2}`, `{"a":1}`, `{"a":2}`},
		{"added by manifest", `{}`, `{"a":1}`, `{}`, `{"a":1}`},
		{"dropped from manifest", `{"a":1,"b":2}`, `{"a":1}`, `{"a":1,"b":2}`, `{"b":null}`},
		{"dropped but already gone", `{"a":1,"b":2}`, `{"a":1}`, `{"a":1}`, `{}`},
		{"others' keys survive", `{"m":{"x":1}}`, `{"m":{"x":1}}`, `{"m":{"x":1,"y":2}}`, `{}`},
		{"dropped map removes only applied keys", `{"m":{"x":1}}`, `{}`, `{"m":{"x":1,"y":2}}`, `{"m":{"x":null}}`},
		{"nested removal", `{"m":{"x":1,"z":3}}`, `{"m":{"x":1}}`, `{"m":{"x":1,"y":2,"z":3}}`, `{"m":{"z":null}}`},
		{"lists replace whole", `{"l":[1]}`, `{"l":[1,2]}`, `{"l":[1,3]}`, `{"l":[1,2]}`},
		{"no original", ``, `{"a":1}`, `{"a":1,"b":2}`, `{}`},
		{"scalar becomes map", `{"a":1}`, `{"a":{"b":1}}`, `{"a":1}`, `{"a":{"b":1}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dec := func(s string) map[string]any {
				if s == "" {
					return nil
				}
				m, err := decodeObject([]byte(s))
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			got, err := json.Marshal(mergeDiff(dec(tt.original), dec(tt.modified), dec(tt.live)))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("mergeDiff = %s, want %s", got, tt.want)
			}
		})
	}
}
