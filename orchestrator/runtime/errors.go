package runtime

import (
	"errors"
	"fmt"
)

// Sentinel errors. Runtimes return them wrapped (usually in an *Error), so
// test with errors.Is or the predicates below.
var (
	ErrNotFound        = errors.New("runtime: not found")
	ErrAlreadyExists   = errors.New("runtime: already exists")
	ErrInvalid         = errors.New("runtime: invalid argument")
	ErrImageNeverPull  = errors.New("runtime: image not present and pull policy is Never")
	ErrImagePull       = errors.New("runtime: image pull failed")
	ErrSandboxNotReady = errors.New("runtime: sandbox not ready")
	ErrNotRunning      = errors.New("runtime: container not running")
	ErrStartFailed     = errors.New("runtime: start failed")
	ErrUnavailable     = errors.New("runtime: runtime unavailable")
	ErrClosed          = errors.New("runtime: closed")
	ErrNotStarted      = errors.New("runtime: not started")
	// ErrEngine is any other failure reported by the underlying engine;
	// the *Error's Message holds the engine's words.
	ErrEngine = errors.New("runtime: engine error")
)

// Error describes a failed runtime operation. Kind is one of the sentinels
// above; Message is the underlying engine's own message (for example the
// Docker daemon's "No such image: app:v1"), shown to users verbatim in Pod
// status.
type Error struct {
	Op      string // the Runtime method, e.g. "CreateContainer"
	ID      string // the container, sandbox or image concerned, if any
	Kind    error
	Message string
	Err     error // the underlying error, if any
}

func (e *Error) Error() string {
	s := e.Op
	if e.ID != "" {
		s += " " + e.ID
	}
	s += ": " + e.Kind.Error()
	if e.Message != "" {
		s += ": " + e.Message
	} else if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Kind and Err, so errors.Is matches both.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Errorf builds an *Error of the given kind with a formatted message.
func Errorf(op, id string, kind error, format string, args ...any) *Error {
	return &Error{Op: op, ID: id, Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// IsNotFound reports whether err says the object does not exist.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IgnoreNotFound returns nil for a not-found error and err otherwise.
func IgnoreNotFound(err error) error {
	if IsNotFound(err) {
		return nil
	}
	return err
}

// IsAlreadyExists reports whether err says the object exists already.
func IsAlreadyExists(err error) bool { return errors.Is(err, ErrAlreadyExists) }

// IsInvalid reports whether err says an argument was invalid.
func IsInvalid(err error) bool { return errors.Is(err, ErrInvalid) }

// IsImageNeverPull reports whether the image is absent and may not be pulled.
func IsImageNeverPull(err error) bool { return errors.Is(err, ErrImageNeverPull) }

// IsImagePull reports whether an image pull failed.
func IsImagePull(err error) bool { return errors.Is(err, ErrImagePull) }

// IsUnavailable reports whether the runtime (daemon) could not be reached.
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

// MessageOf returns the engine's message of err if it holds an *Error with
// one, and err.Error() otherwise; "" for nil.
func MessageOf(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	return err.Error()
}
