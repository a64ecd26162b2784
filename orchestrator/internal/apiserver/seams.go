package apiserver

import (
	"context"
	"io"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// User is who sent a request, as Kubernetes reads it (user.Info): from a
// client certificate, CN is the name and each O a group; from a bearer
// token, the token file's row.
type User struct {
	Name   string
	UID    string
	Groups []string
}

// Authenticator finds who sent a request.
type Authenticator interface {
	// Authenticate returns the user r proves to be. ok is false, with a
	// nil error, when r carries no credential this authenticator reads;
	// err is set when r carries one that does not prove anybody (an
	// unknown token, a certificate from another CA or expired). Either
	// way the server answers 401 unless another authenticator accepts.
	Authenticate(r *http.Request) (u User, ok bool, err error)
}

// Attributes describe a request for an Authorizer, with Kubernetes' names
// (authorizer.Attributes).
type Attributes struct {
	User User
	// Verb: get, list, watch, create, update, patch, delete,
	// deletecollection; for non-resource requests the HTTP method in
	// lower case.
	Verb        string
	Namespace   string
	APIGroup    string
	APIVersion  string
	Resource    string
	Subresource string
	Name        string
	// ResourceRequest is false for paths such as /healthz and /version.
	ResourceRequest bool
	Path            string
}

// Authorizer decides whether a request may proceed.
type Authorizer interface {
	// Authorize returns nil to allow, or an error to refuse: a Forbidden
	// StatusError is returned as is, anything else as a 500.
	Authorize(ctx context.Context, a Attributes) error
}

// UserFrom returns the user the server authenticated for ctx's request.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}

// WithUser returns ctx carrying u, as the server does for each request.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

type userKey struct{}

// LogOptions are the query parameters of pods/log (Kubernetes'
// PodLogOptions).
type LogOptions struct {
	Container    string
	Follow       bool
	Previous     bool
	Timestamps   bool
	TailLines    *int64
	SinceSeconds *int64
	SinceTime    *time.Time
	LimitBytes   *int64
}

// LogStreamer streams a container's log from the node that runs its Pod.
type LogStreamer interface {
	// StreamLogs writes the log of pod's container o.Container (the only
	// container when empty) to w until it ends, or, with o.Follow, until
	// ctx is done or the container stops.
	// Errors: BadRequest naming a container the Pod lacks, or a Pod not
	// yet bound; NotFound when the container has no log yet;
	// ServiceUnavailable when the Pod's node cannot be reached.
	StreamLogs(ctx context.Context, pod *api.Pod, o LogOptions, w io.Writer) error
}

// TableOptions ask for a server-side table.
type TableOptions struct {
	// NoHeaders leaves out the column definitions (kubectl asks for them
	// only on the first page of a watch).
	NoHeaders bool
	// IncludeObject: None, Metadata (the default) or Object, as
	// Kubernetes' includeObject parameter.
	IncludeObject metav1.IncludeObjectPolicy
	// Now is the time AGE columns count from.
	Now time.Time
}

// TableConvertor turns objects of one kind into kubectl's table
// (meta.k8s.io/v1 Table), with Kubernetes' columns for that kind: columns
// with priority 0 for `kubectl get`, priority 1 for `-o wide` only.
type TableConvertor interface {
	// ConvertToTable returns the table of objs, all of info's kind.
	ConvertToTable(info api.KindInfo, objs []api.Object, o TableOptions) (*metav1.Table, error)
}
