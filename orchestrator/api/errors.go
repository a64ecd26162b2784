package api

import (
	"errors"
	"fmt"
	"net/http"
)

// StatusReason says why a request failed, with Kubernetes' values.
type StatusReason string

// Status reasons.
const (
	ReasonUnknown            StatusReason = ""
	ReasonNotFound           StatusReason = "NotFound"
	ReasonAlreadyExists      StatusReason = "AlreadyExists"
	ReasonConflict           StatusReason = "Conflict"
	ReasonInvalid            StatusReason = "Invalid"
	ReasonForbidden          StatusReason = "Forbidden"
	ReasonUnauthorized       StatusReason = "Unauthorized"
	ReasonExpired            StatusReason = "Expired"
	ReasonGone               StatusReason = "Gone"
	ReasonBadRequest         StatusReason = "BadRequest"
	ReasonTimeout            StatusReason = "Timeout"
	ReasonServiceUnavailable StatusReason = "ServiceUnavailable"
	ReasonInternalError      StatusReason = "InternalError"
	ReasonUnsupportedMedia   StatusReason = "UnsupportedMediaType"
	ReasonRequestTooLarge    StatusReason = "RequestEntityTooLarge"
)

// CauseTypeResourceVersionTooLarge is the cause type of a Timeout error for
// a resourceVersion the cluster has not reached (Kubernetes' metav1 value).
const CauseTypeResourceVersionTooLarge FieldErrorType = "ResourceVersionTooLarge"

// Status is Kubernetes' v1 Status object: the body of an API error
// response. StatusError wraps one.
type Status struct {
	TypeMeta `json:",inline"`
	ListMeta `json:"metadata,omitzero"`
	// Status is "Success" or "Failure".
	Status string `json:"status,omitempty"`
	// Message is the human-readable description.
	Message string `json:"message,omitempty"`
	// Reason is machine-readable; ReasonUnknown when none applies.
	Reason StatusReason `json:"reason,omitempty"`
	// Details identify the object and the field causes.
	Details *StatusDetails `json:"details,omitempty"`
	// Code is the HTTP status code.
	Code int32 `json:"code,omitempty"`
}

// StatusDetails identify the object an error is about.
type StatusDetails struct {
	Name   string        `json:"name,omitempty"`
	Group  string        `json:"group,omitempty"`
	Kind   string        `json:"kind,omitempty"`
	UID    UID           `json:"uid,omitempty"`
	Causes []StatusCause `json:"causes,omitempty"`
	// RetryAfterSeconds suggests when to retry, for Timeout and
	// ServiceUnavailable.
	RetryAfterSeconds int32 `json:"retryAfterSeconds,omitempty"`
}

// StatusCause is one field-level cause of a failure.
type StatusCause struct {
	Type    FieldErrorType `json:"reason,omitempty"`
	Message string         `json:"message,omitempty"`
	Field   string         `json:"field,omitempty"`
}

// StatusError is the typed error of every API operation. Test it with the
// predicates (IsNotFound, IsInvalid, ...), which see through wrapping.
type StatusError struct {
	ErrStatus Status
	// fieldErrors keeps the bad values of an Invalid error; a StatusError
	// rebuilt from JSON derives them from the causes.
	fieldErrors FieldErrorList
}

// Error returns the status message.
func (e *StatusError) Error() string { return e.ErrStatus.Message }

// Status returns the Kubernetes Status object, ready to serialize.
func (e *StatusError) Status() Status { return e.ErrStatus }

// Reason returns the status reason.
func (e *StatusError) Reason() StatusReason { return e.ErrStatus.Reason }

// FieldErrors returns the field causes of an Invalid error (nil otherwise).
func (e *StatusError) FieldErrors() FieldErrorList {
	if e.fieldErrors != nil || e.ErrStatus.Details == nil {
		return e.fieldErrors
	}
	var out FieldErrorList
	for _, c := range e.ErrStatus.Details.Causes {
		out = append(out, &FieldError{Type: c.Type, Field: c.Field, Detail: c.Message})
	}
	return out
}

// Is reports whether target is a *StatusError with the same reason and, if
// target names a kind or name, the same kind and name. It lets
// errors.Is(err, api.NewNotFound("Pod", "")) match any Pod not found.
func (e *StatusError) Is(target error) bool {
	t, ok := target.(*StatusError)
	if !ok || t.ErrStatus.Reason != e.ErrStatus.Reason {
		return false
	}
	td, ed := t.ErrStatus.Details, e.ErrStatus.Details
	if td == nil {
		return true
	}
	if ed == nil {
		return td.Kind == "" && td.Name == ""
	}
	return (td.Kind == "" || td.Kind == ed.Kind) && (td.Name == "" || td.Name == ed.Name)
}

// FromStatus returns the error a Status describes (nil for "Success"), for
// clients that receive Status objects over the wire.
func FromStatus(s Status) error {
	if s.Status == "Success" {
		return nil
	}
	return &StatusError{ErrStatus: s}
}

func newStatusError(reason StatusReason, code int32, kind, name, msg string) *StatusError {
	st := Status{
		TypeMeta: TypeMeta{APIVersion: "v1", Kind: "Status"},
		Status:   "Failure",
		Message:  msg,
		Reason:   reason,
		Code:     code,
	}
	if kind != "" || name != "" {
		st.Details = &StatusDetails{Kind: kind, Name: name}
	}
	return &StatusError{ErrStatus: st}
}

func describe(kind, name string) string {
	switch {
	case kind == "" && name == "":
		return "object"
	case kind == "":
		return fmt.Sprintf("%q", name)
	case name == "":
		return kind
	}
	return fmt.Sprintf("%s %q", kind, name)
}

// NewNotFound returns a NotFound (404) error: `Pod "web-1" not found`.
func NewNotFound(kind, name string) *StatusError {
	return newStatusError(ReasonNotFound, http.StatusNotFound, kind, name, describe(kind, name)+" not found")
}

// NewAlreadyExists returns an AlreadyExists (409) error.
func NewAlreadyExists(kind, name string) *StatusError {
	return newStatusError(ReasonAlreadyExists, http.StatusConflict, kind, name, describe(kind, name)+" already exists")
}

// NewConflict returns a Conflict (409) error, e.g. for a stale
// resourceVersion; err says why.
func NewConflict(kind, name string, err error) *StatusError {
	msg := "Operation cannot be fulfilled on " + describe(kind, name)
	if err != nil {
		msg += ": " + err.Error()
	}
	return newStatusError(ReasonConflict, http.StatusConflict, kind, name, msg)
}

// NewInvalid returns an Invalid (422) error carrying every field error:
// `Deployment "web" is invalid: [spec.replicas: ..., ...]`.
func NewInvalid(kind, name string, errs FieldErrorList) *StatusError {
	e := newStatusError(ReasonInvalid, http.StatusUnprocessableEntity, kind, name,
		describe(kind, name)+" is invalid: "+errs.Error())
	if e.ErrStatus.Details == nil {
		e.ErrStatus.Details = &StatusDetails{}
	}
	for _, fe := range errs {
		e.ErrStatus.Details.Causes = append(e.ErrStatus.Details.Causes,
			StatusCause{Type: fe.Type, Message: fe.Error(), Field: fe.Field})
	}
	e.fieldErrors = append(FieldErrorList{}, errs...)
	return e
}

// NewForbidden returns a Forbidden (403) error; err says why (e.g. which
// verb and resource RBAC denied).
func NewForbidden(kind, name string, err error) *StatusError {
	msg := describe(kind, name) + " is forbidden"
	if err != nil {
		msg += ": " + err.Error()
	}
	return newStatusError(ReasonForbidden, http.StatusForbidden, kind, name, msg)
}

// NewUnauthorized returns an Unauthorized (401) error.
func NewUnauthorized(msg string) *StatusError {
	return newStatusError(ReasonUnauthorized, http.StatusUnauthorized, "", "", msg)
}

// NewTooOld returns an Expired (410 Gone) error for a watch or list from a
// resourceVersion that was compacted away; the caller must re-list.
func NewTooOld(msg string) *StatusError {
	if msg == "" {
		msg = "too old resource version"
	}
	return newStatusError(ReasonExpired, http.StatusGone, "", "", msg)
}

// NewBadRequest returns a BadRequest (400) error.
func NewBadRequest(msg string) *StatusError {
	return newStatusError(ReasonBadRequest, http.StatusBadRequest, "", "", msg)
}

// NewUnsupportedMediaType returns an UnsupportedMediaType (415) error, e.g.
// for a patch type the server does not apply.
func NewUnsupportedMediaType(msg string) *StatusError {
	return newStatusError(ReasonUnsupportedMedia, http.StatusUnsupportedMediaType, "", "", msg)
}

// NewTimeout returns a Timeout (504) error suggesting a retry after
// retryAfterSeconds (0 for no suggestion).
func NewTimeout(msg string, retryAfterSeconds int32) *StatusError {
	e := newStatusError(ReasonTimeout, http.StatusGatewayTimeout, "", "", msg)
	if retryAfterSeconds > 0 {
		e.ErrStatus.Details = &StatusDetails{RetryAfterSeconds: retryAfterSeconds}
	}
	return e
}

// NewTooLargeResourceVersion returns the error Kubernetes answers a read
// or watch from a resourceVersion the cluster has not reached: Timeout
// (504), `Timeout: Too large resource version: 900, current: 12`, with a
// ResourceVersionTooLarge cause and a suggestion to retry after a second.
// IsTooLargeResourceVersion tells it apart from other timeouts.
func NewTooLargeResourceVersion(requested, current int64) *StatusError {
	e := NewTimeout(fmt.Sprintf("Timeout: Too large resource version: %d, current: %d", requested, current), 1)
	e.ErrStatus.Details.Causes = []StatusCause{{Type: CauseTypeResourceVersionTooLarge, Message: "Too large resource version"}}
	return e
}

// NewRequestEntityTooLarge returns a RequestEntityTooLarge (413) error:
// `Request entity too large: <msg>`, e.g. for a manifest over the
// decoders' limits.
func NewRequestEntityTooLarge(msg string) *StatusError {
	return newStatusError(ReasonRequestTooLarge, http.StatusRequestEntityTooLarge, "", "", "Request entity too large: "+msg)
}

// NewServiceUnavailable returns a ServiceUnavailable (503) error, e.g. when
// there is no Raft leader.
func NewServiceUnavailable(msg string) *StatusError {
	return newStatusError(ReasonServiceUnavailable, http.StatusServiceUnavailable, "", "", msg)
}

// NewInternalError returns an InternalError (500) error wrapping err's
// message.
func NewInternalError(err error) *StatusError {
	msg := "Internal error occurred"
	if err != nil {
		msg += ": " + err.Error()
	}
	return newStatusError(ReasonInternalError, http.StatusInternalServerError, "", "", msg)
}

// ReasonForError returns the reason of the StatusError in err's chain, or
// ReasonUnknown.
func ReasonForError(err error) StatusReason {
	var se *StatusError
	if errors.As(err, &se) {
		return se.ErrStatus.Reason
	}
	return ReasonUnknown
}

// AsStatusError returns the StatusError in err's chain, if any.
func AsStatusError(err error) (*StatusError, bool) {
	var se *StatusError
	ok := errors.As(err, &se)
	return se, ok
}

// IsNotFound reports whether err is (or wraps) a NotFound error.
func IsNotFound(err error) bool { return ReasonForError(err) == ReasonNotFound }

// IsAlreadyExists reports whether err is (or wraps) an AlreadyExists error.
func IsAlreadyExists(err error) bool { return ReasonForError(err) == ReasonAlreadyExists }

// IsConflict reports whether err is (or wraps) a Conflict error.
func IsConflict(err error) bool { return ReasonForError(err) == ReasonConflict }

// IsInvalid reports whether err is (or wraps) an Invalid error.
func IsInvalid(err error) bool { return ReasonForError(err) == ReasonInvalid }

// IsForbidden reports whether err is (or wraps) a Forbidden error.
func IsForbidden(err error) bool { return ReasonForError(err) == ReasonForbidden }

// IsUnauthorized reports whether err is (or wraps) an Unauthorized error.
func IsUnauthorized(err error) bool { return ReasonForError(err) == ReasonUnauthorized }

// IsTooOld reports whether err is (or wraps) an Expired or Gone error: the
// requested resourceVersion is no longer available and the caller must
// re-list.
func IsTooOld(err error) bool {
	r := ReasonForError(err)
	return r == ReasonExpired || r == ReasonGone
}

// IsBadRequest reports whether err is (or wraps) a BadRequest error.
func IsBadRequest(err error) bool { return ReasonForError(err) == ReasonBadRequest }

// IsUnsupportedMediaType reports an UnsupportedMediaType (415) error.
func IsUnsupportedMediaType(err error) bool { return ReasonForError(err) == ReasonUnsupportedMedia }

// IsTimeout reports whether err is (or wraps) a Timeout error.
func IsTimeout(err error) bool { return ReasonForError(err) == ReasonTimeout }

// IsTooLargeResourceVersion reports whether err is (or wraps) the Timeout
// error of a resourceVersion the cluster has not reached (see
// NewTooLargeResourceVersion).
func IsTooLargeResourceVersion(err error) bool {
	se, ok := AsStatusError(err)
	if !ok || se.ErrStatus.Reason != ReasonTimeout || se.ErrStatus.Details == nil {
		return false
	}
	for _, c := range se.ErrStatus.Details.Causes {
		if c.Type == CauseTypeResourceVersionTooLarge {
			return true
		}
	}
	return false
}

// IsRequestEntityTooLarge reports whether err is (or wraps) a
// RequestEntityTooLarge error.
func IsRequestEntityTooLarge(err error) bool { return ReasonForError(err) == ReasonRequestTooLarge }

// IsServiceUnavailable reports whether err is (or wraps) a
// ServiceUnavailable error.
func IsServiceUnavailable(err error) bool { return ReasonForError(err) == ReasonServiceUnavailable }

// IgnoreNotFound returns nil for a NotFound error and err otherwise.
func IgnoreNotFound(err error) error {
	if IsNotFound(err) {
		return nil
	}
	return err
}

// FieldErrors returns every field error carried by the Invalid errors in
// err's chain, including all branches of an errors.Join (as DecodeAll
// returns). It returns nil when there are none.
func FieldErrors(err error) FieldErrorList {
	var out FieldErrorList
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if se, ok := e.(*StatusError); ok {
			out = append(out, se.FieldErrors()...)
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}
