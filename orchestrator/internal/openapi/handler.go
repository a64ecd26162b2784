package openapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"github.com/munnerz/goautoneg"
	"google.golang.org/protobuf/proto"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Content types of the documents.
const (
	ContentTypeJSON      = "application/json"
	ContentTypeV2Proto   = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
	ContentTypeV3Proto   = "application/com.github.proto-openapi.spec.v3.v1.0+protobuf"
	v2ProtoSubtypeLegacy = "com.github.proto-openapi.spec.v2@v1.0+protobuf"
	v3ProtoSubtypeLegacy = "com.github.proto-openapi.spec.v3@v1.0+protobuf"
)

// Paths the handler serves.
const (
	V2Path = "/openapi/v2"
	V3Path = "/openapi/v3"
)

// body is one encoding of a document. The bytes are made on first use and
// kept: protobuf and gzip encodings cost more than the JSON, and most
// servers are never asked for some of them.
type body struct {
	contentType string
	etag        string
	data        func() ([]byte, error)
	gz          func() ([]byte, error)
}

// newBody returns the body of contentType whose bytes encode makes, with
// the given ETag.
func newBody(contentType, etag string, encode func() ([]byte, error)) *body {
	data := sync.OnceValues(encode)
	return &body{contentType: contentType, etag: etag, data: data, gz: sync.OnceValues(func() ([]byte, error) {
		d, err := data()
		if err != nil {
			return nil, err
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		if _, err := zw.Write(d); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		return gz.Bytes(), nil
	})}
}

// jsonBody returns the body of JSON bytes j.
func jsonBody(j []byte) *body {
	return newBody(ContentTypeJSON, etag(j), func() ([]byte, error) { return j, nil })
}

// etag is Kubernetes' hash of a document: SHA-512, upper-case hex.
func etag(data []byte) string { return fmt.Sprintf("%X", sha512.Sum512(data)) }

// document is a document in the encodings a client may ask for.
type document struct {
	json, proto *body
}

// Handler serves the OpenAPI documents of a scheme. It is immutable after
// NewHandler and safe for concurrent use.
type Handler struct {
	v2        document
	discovery *body
	v3        map[string]document // by path below /openapi/v3/ ("apis/apps/v1")
	created   time.Time
}

// NewHandler builds the OpenAPI documents of scheme's kinds and returns
// the handler that serves them:
//
//   - GET /openapi/v2: the OpenAPI v2 document of every kind, as JSON, or
//     as gnostic's openapi_v2.Document in protobuf when the Accept header
//     asks for application/com.github.proto-openapi.spec.v2@v1.0+protobuf
//     (client-go's discovery OpenAPISchema does).
//   - GET /openapi/v3: the discovery document mapping each group version
//     ("api/v1", "apis/apps/v1") to its document's URL with ?hash=.
//   - GET /openapi/v3/<group version>: the OpenAPI v3 document of the group
//     version, as JSON or protobuf. With the current hash it is served as
//     immutable (Cache-Control: public, immutable; a year's Expires); with
//     an old one the client is redirected (301) to the current URL.
//
// Every answer has an ETag (If-None-Match answers 304) and is gzipped when
// the client accepts it. A format not offered is 406, an unknown path 404,
// a method other than GET or HEAD 405.
//
// The documents are built and encoded as JSON here (about 60 ms for the
// built-in kinds); the protobuf and gzip encodings are made on first
// request and kept. The handler depends only on the scheme: nodes of one
// process may share it.
//
// Errors: the scheme is nil, or one of its types has a field the builder
// has no schema for (a type with its own JSON form other than api.Time,
// Quantity, IntOrString and RawJSON, a map with non-string keys, a
// channel or function), named in the error; encoding a document as JSON
// failed. A protobuf encoding that fails later is answered with 500.
func NewHandler(scheme *api.Scheme) (*Handler, error) {
	if scheme == nil {
		return nil, fmt.Errorf("openapi: NewHandler: scheme is nil")
	}
	h := &Handler{v3: map[string]document{}, created: time.Now()}
	v2, err := buildV2(scheme)
	if err != nil {
		return nil, err
	}
	v2JSON, err := json.Marshal(v2)
	if err != nil {
		return nil, fmt.Errorf("openapi: encoding the v2 document: %w", err)
	}
	h.v2 = newDocument(v2JSON, ContentTypeV2Proto, func() ([]byte, error) {
		d, err := openapi_v2.ParseDocument(v2JSON)
		if err != nil {
			return nil, err
		}
		return proto.Marshal(d)
	})

	type entry struct {
		ServerRelativeURL string `json:"serverRelativeURL"`
	}
	disc := struct {
		Paths map[string]entry `json:"paths"`
	}{Paths: map[string]entry{}}
	for _, gv := range groupVersions(scheme) {
		doc, err := buildV3(gv)
		if err != nil {
			return nil, err
		}
		j, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("openapi: encoding the v3 document of %s: %w", gv.docPath(), err)
		}
		d := newDocument(j, ContentTypeV3Proto, func() ([]byte, error) {
			pd, err := openapi_v3.ParseDocument(j)
			if err != nil {
				return nil, err
			}
			return proto.Marshal(pd)
		})
		h.v3[gv.docPath()] = d
		disc.Paths[gv.docPath()] = entry{serverRelativeURL(gv.docPath(), d.json.etag)}
	}
	dj, err := json.Marshal(disc)
	if err != nil {
		return nil, fmt.Errorf("openapi: encoding the v3 discovery document: %w", err)
	}
	h.discovery = jsonBody(dj)
	return h, nil
}

// newDocument returns the JSON document j and its protobuf encoding, made
// by encode on first use; both have the JSON's hash as their ETag, as the
// discovery document names one hash per document.
func newDocument(j []byte, protoType string, encode func() ([]byte, error)) document {
	jb := jsonBody(j)
	return document{json: jb, proto: newBody(protoType, jb.etag, encode)}
}

func serverRelativeURL(docPath, hash string) string {
	u := url.URL{Path: V3Path + "/" + docPath, RawQuery: url.Values{"hash": {hash}}.Encode()}
	return u.String()
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch p := r.URL.Path; {
	case p == V2Path:
		if b, ok := negotiate(r, h.v2, v2ProtoSubtypeLegacy); ok {
			h.send(w, r, b)
			return
		}
		http.Error(w, "not acceptable: "+ContentTypeJSON+" or "+ContentTypeV2Proto, http.StatusNotAcceptable)
	case p == V3Path || p == V3Path+"/":
		h.send(w, r, h.discovery)
	case strings.HasPrefix(p, V3Path+"/"):
		gv := strings.TrimPrefix(p, V3Path+"/")
		d, ok := h.v3[gv]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, ok := negotiate(r, d, v3ProtoSubtypeLegacy)
		if !ok {
			http.Error(w, "not acceptable: "+ContentTypeJSON+" or "+ContentTypeV3Proto, http.StatusNotAcceptable)
			return
		}
		if hash := r.URL.Query().Get("hash"); hash != "" {
			if hash != b.etag {
				http.Redirect(w, r, serverRelativeURL(gv, b.etag), http.StatusMovedPermanently)
				return
			}
			w.Header().Set("Cache-Control", "public, immutable")
			w.Header().Set("Expires", time.Now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat))
		}
		h.send(w, r, b)
	default:
		http.NotFound(w, r)
	}
}

// negotiate picks the encoding of d the Accept header prefers: JSON for
// none, */* or application/*, protobuf when asked for by either of its
// names.
func negotiate(r *http.Request, d document, legacyProto string) (*body, bool) {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return d.json, true
	}
	protoSub := strings.TrimPrefix(d.proto.contentType, "application/")
	for _, c := range goautoneg.ParseAccept(accept) {
		if c.Type != "application" && c.Type != "*" {
			continue
		}
		switch c.SubType {
		case "json", "*":
			return d.json, true
		case protoSub, legacyProto:
			return d.proto, true
		}
	}
	return nil, false
}

// send writes b with its ETag, as 304 for a matching If-None-Match, and
// gzipped when the client accepts gzip.
func (h *Handler) send(w http.ResponseWriter, r *http.Request, b *body) {
	hdr := w.Header()
	hdr.Add("Vary", "Accept")
	hdr.Add("Vary", "Accept-Encoding")
	hdr.Set("Content-Type", b.contentType)
	hdr.Set("ETag", `"`+b.etag+`"`)
	hdr.Set("Last-Modified", h.created.UTC().Format(http.TimeFormat))
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for t := range strings.SplitSeq(inm, ",") {
			if t = strings.TrimSpace(t); t == `"`+b.etag+`"` || t == "*" {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
	}
	encode := b.data
	if acceptsGzip(r) {
		hdr.Set("Content-Encoding", "gzip")
		encode = b.gz
	}
	data, err := encode()
	if err != nil {
		hdr.Del("Content-Encoding")
		hdr.Del("ETag")
		http.Error(w, fmt.Sprintf("encoding the document as %s: %v", b.contentType, err), http.StatusInternalServerError)
		return
	}
	hdr.Set("Content-Length", fmt.Sprint(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

func acceptsGzip(r *http.Request) bool {
	for _, c := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(c), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
