package api

import (
	"strings"
	"testing"
)

// A Secret decodes with data as base64 and stringData as strings; a
// malformed value is reported at its key without being echoed.
func TestSecretDecode(t *testing.T) {
	obj, err := Decode([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: default}\ntype: kubernetes.io/basic-auth\n" +
		"data: {username: YWxpY2U=}\nstringData: {password: hunter2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := obj.(*Secret)
	if string(s.Data["username"]) != "alice" || s.StringData["password"] != "hunter2" || s.Type != SecretTypeBasicAuth {
		t.Errorf("decoded %+v", s)
	}
	for _, in := range []string{
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {pin: 918273}\nstringData: {code: 645372}\n",
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"pin":918273},"stringData":{"code":645372}}`,
	} {
		_, err := Decode([]byte(in))
		if err == nil {
			t.Fatalf("no error for %q", in)
		}
		for _, want := range []string{"data[pin]", "stringData[code]", redactedValue} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
		}
		for _, v := range []string{"918273", "645372"} {
			if strings.Contains(err.Error(), v) {
				t.Errorf("error %q echoes a Secret value", err)
			}
		}
		into := &Secret{}
		if err := DecodeInto([]byte(in), into); err == nil || strings.Contains(err.Error(), "918273") {
			t.Errorf("DecodeInto: %v", err)
		}
	}
	_, err = Decode([]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {pin: 'not base64!'}\n"))
	if err == nil || !strings.Contains(err.Error(), "data[pin]") || strings.Contains(err.Error(), "not base64!") {
		t.Errorf("bad base64: %v", err)
	}
}
