package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// Field validation directives (the fieldValidation query parameter).
const (
	fieldValidationStrict = "Strict"
	fieldValidationWarn   = "Warn"
	fieldValidationIgnore = "Ignore"
)

// readBody reads r's body, at most limit bytes.
//
// Errors: RequestEntityTooLarge beyond limit; BadRequest when the body
// cannot be read.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, api.NewRequestEntityTooLarge(fmt.Sprintf("limit is %d", limit))
		}
		return nil, api.NewBadRequest(fmt.Sprintf("reading the request body: %v", err))
	}
	return body, nil
}

// bodyFormat checks a request body's Content-Type: JSON or YAML (no
// Content-Type is read as JSON), or Kubernetes' protobuf.
//
// Errors: UnsupportedMediaType for any other type.
func bodyFormat(contentType string) (isProtobuf bool, err error) {
	if contentType == "" {
		return false, nil
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err == nil && (mt == "application/json" || mt == "application/yaml" || mt == "application/x-yaml" || mt == "text/yaml") {
		return false, nil
	}
	if err == nil && mt == protobufContentType {
		return true, nil
	}
	return false, api.NewUnsupportedMediaType(fmt.Sprintf("the body of the request was in an unknown format (%s) - accepted media types include: application/json, application/yaml", contentType))
}

// readObjectBody reads the body of a create, update or delete: JSON or
// YAML as sent, protobuf turned into JSON.
//
// Errors: as bodyFormat, readBody and protobufDecoder.toJSON.
func (s *Server) readObjectBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	isProtobuf, err := bodyFormat(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	body, err := readBody(w, r, s.cfg.MaxRequestBytes)
	if err != nil || !isProtobuf || len(body) == 0 {
		return body, err
	}
	return s.protobuf.toJSON(body)
}

// fieldValidation reads the fieldValidation query parameter: Warn when
// absent, as kube-apiserver (kubectl sends Strict).
//
// Errors: BadRequest for any other value.
func fieldValidation(v string) (string, error) {
	switch v {
	case "":
		return fieldValidationWarn, nil
	case fieldValidationStrict, fieldValidationWarn, fieldValidationIgnore:
		return v, nil
	}
	return "", api.NewBadRequest(fmt.Sprintf("fieldValidation must be one of %q, %q or %q, not %q",
		fieldValidationIgnore, fieldValidationWarn, fieldValidationStrict, v))
}

// decodeBody decodes a JSON or YAML body into obj with the api package's
// strict decoder. Unknown and duplicate fields are what directive
// decides: Strict refuses them (400, in kube-apiserver's words), Warn
// returns one warning each and decodes the rest, Ignore decodes the rest.
// Any other problem (a value of the wrong type, a malformed quantity, an
// apiVersion or kind not obj's) is an Invalid error naming every field.
//
// Errors: BadRequest for malformed input or, with Strict, unknown fields;
// Invalid; RequestEntityTooLarge from the decoder's limits.
func decodeBody(s *api.Scheme, body []byte, obj api.Object, directive string) (warnings []string, err error) {
	info, ok := s.KindFor(obj)
	if !ok {
		return nil, api.NewInternalError(fmt.Errorf("%T is not a registered kind", obj))
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, api.NewBadRequest("the request body is empty: expected a " + info.Kind)
	}
	err = s.DecodeInto(body, obj)
	if err == nil {
		return nil, nil
	}
	se, ok := api.AsStatusError(err)
	if !ok || !api.IsInvalid(err) {
		return nil, err
	}
	var strict []string
	for _, fe := range se.FieldErrors() {
		switch fe.Type {
		case api.ErrorTypeUnknown:
			strict = append(strict, fmt.Sprintf("unknown field %q", fe.Field))
		case api.ErrorTypeDuplicate:
			strict = append(strict, fmt.Sprintf("duplicate field %q", fe.Field))
		default:
			return nil, err // a real problem: report every field
		}
	}
	if directive == fieldValidationStrict {
		_, version := api.SplitAPIVersion(info.APIVersion)
		return nil, api.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: strict decoding error: %s",
			info.Kind, version, info.Kind, strings.Join(strict, ", ")))
	}
	j, err := yaml.YAMLToJSON(body)
	if err != nil {
		return nil, api.NewBadRequest(err.Error())
	}
	fresh := info.New()
	if err := json.Unmarshal(j, fresh); err != nil {
		return nil, api.NewBadRequest(fmt.Sprintf("%s cannot be decoded: %v", info.Kind, err))
	}
	if err := s.SetTypeMeta(fresh); err != nil {
		return nil, api.NewInternalError(err)
	}
	if err := client.CopyInto(obj, fresh); err != nil {
		return nil, err
	}
	if directive == fieldValidationIgnore {
		return nil, nil
	}
	return strict, nil
}

// addWarnings sets one Warning header per warning, as kube-apiserver.
func addWarnings(w http.ResponseWriter, warnings []string) {
	for _, msg := range warnings {
		w.Header().Add("Warning", fmt.Sprintf("299 - %q", msg))
	}
}
