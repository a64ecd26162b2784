package apiserver

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/version"

	"github.com/flotilla-io/flotilla/orchestrator/internal/client"
)

// Defaults of the Config fields left zero.
const (
	// DefaultMaxRequestBytes is kube-apiserver's limit on a request body.
	DefaultMaxRequestBytes = 3 << 20
	// DefaultRequestTimeout bounds every request but watches and followed
	// logs, as kube-apiserver's --request-timeout.
	DefaultRequestTimeout = 60 * time.Second
	// DefaultWatchTimeout is kube-apiserver's --min-request-timeout: a
	// watch without timeoutSeconds ends after between one and two times
	// this (jittered, so that clients do not re-watch in lockstep).
	DefaultWatchTimeout = 30 * time.Minute
	// DefaultBookmarkInterval is how often a watch that allows bookmarks
	// gets one.
	DefaultBookmarkInterval = time.Minute
)

// Config says what a Server serves. Fields are read by New and never
// changed afterwards.
type Config struct {
	// Client is the node's local registry client: reads come from the
	// local replica (or are linearizable on request), writes reach the
	// Raft leader through the store. Required. Every kind of its Scheme is
	// served; nothing else is.
	Client client.Interface
	// Authenticator proves who sent each request. Required: a request
	// without a credential it accepts gets 401 (there is no anonymous
	// access), except /healthz, /livez and /readyz, which answer anybody.
	Authenticator Authenticator
	// Authorizer decides whether an authenticated request may proceed.
	// nil: every authenticated user may do everything.
	Authorizer Authorizer
	// Tables renders kubectl's server-side tables. nil: a table with the
	// columns NAME and AGE for every kind.
	Tables TableConvertor
	// OpenAPI serves /openapi/v2, /openapi/v3 and the paths below them.
	// nil: those paths answer 404.
	OpenAPI http.Handler
	// Logs streams pods/log. nil: pods/log answers 503.
	Logs LogStreamer
	// Ready says whether this node can serve consistent requests (a
	// leader is known and the local store has caught up); /readyz
	// answers 500 while it returns an error. nil: always ready.
	Ready func(ctx context.Context) error
	// Version is what /version answers. Zero: DefaultVersion().
	Version version.Info
	// Logger receives request failures and recovered panics. nil: none.
	Logger *zap.Logger
	// MaxRequestBytes is the largest request body accepted, in bytes;
	// larger bodies get 413 RequestEntityTooLarge. 0:
	// DefaultMaxRequestBytes. Negative is invalid.
	MaxRequestBytes int64
	// RequestTimeout bounds each request except watches and followed
	// logs; a request still running then gets 504 Timeout. A request's
	// ?timeout= may shorten it. 0: DefaultRequestTimeout. Negative is
	// invalid.
	RequestTimeout time.Duration
	// WatchTimeout: a watch without timeoutSeconds ends cleanly after a
	// random time between WatchTimeout and twice that, and timeoutSeconds
	// is capped at twice WatchTimeout. 0: DefaultWatchTimeout. Negative is
	// invalid.
	WatchTimeout time.Duration
	// CreateOnly are virtual resources served besides the scheme's kinds
	// (access reviews, SelfSubjectReview), authorized like the others
	// (verb create). nil: none.
	CreateOnly []CreateOnly
	// BookmarkInterval is how often a watch with allowWatchBookmarks=true
	// is sent a BOOKMARK event. 0: DefaultBookmarkInterval. Negative is
	// invalid.
	BookmarkInterval time.Duration
}

// DefaultVersion is the /version a Server answers unless Config.Version
// says otherwise: Kubernetes 1.32, the API level Flotilla serves, so that
// kubectl 1.31 to 1.33 accept it without a version-skew warning.
func DefaultVersion() version.Info {
	return version.Info{
		Major:      "1",
		Minor:      "32",
		GitVersion: "v1.32.0-flotilla",
		Platform:   "linux/amd64",
	}
}

// Validate returns every problem of c at once, each naming its field.
func (c Config) Validate() error {
	var errs []error
	if c.Client == nil {
		errs = append(errs, errors.New("apiserver: Config.Client is required"))
	} else if c.Client.Scheme() == nil {
		errs = append(errs, errors.New("apiserver: Config.Client has no Scheme"))
	}
	if c.Authenticator == nil {
		errs = append(errs, errors.New("apiserver: Config.Authenticator is required (there is no anonymous access)"))
	}
	if c.MaxRequestBytes < 0 {
		errs = append(errs, errors.New("apiserver: Config.MaxRequestBytes must not be negative"))
	}
	if c.RequestTimeout < 0 {
		errs = append(errs, errors.New("apiserver: Config.RequestTimeout must not be negative"))
	}
	if c.WatchTimeout < 0 {
		errs = append(errs, errors.New("apiserver: Config.WatchTimeout must not be negative"))
	}
	if c.BookmarkInterval < 0 {
		errs = append(errs, errors.New("apiserver: Config.BookmarkInterval must not be negative"))
	}
	for i, co := range c.CreateOnly {
		if err := co.validate(i); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c Config) withDefaults() Config {
	if c.Version == (version.Info{}) {
		c.Version = DefaultVersion()
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.WatchTimeout == 0 {
		c.WatchTimeout = DefaultWatchTimeout
	}
	if c.BookmarkInterval == 0 {
		c.BookmarkInterval = DefaultBookmarkInterval
	}
	return c
}

// Server is the Kubernetes API as an http.Handler. It starts no
// goroutines of its own beyond those of the requests it serves, each of
// which ends with its request. Safe for concurrent use.
type Server struct {
	cfg       Config
	discovery *discovery
	resources map[groupVersionResource]*resource
	protobuf  *protobufDecoder
	// encoded shares the JSON of watch events' objects between streams.
	encoded encodedObjects
}

// New returns a Server for cfg.
//
// Errors: every problem of cfg at once (see Config.Validate), each naming
// its field.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	pb, err := newProtobufDecoder()
	if err != nil {
		return nil, fmt.Errorf("apiserver: protobuf decoder: %w", err)
	}
	s := &Server{cfg: cfg, protobuf: pb}
	s.resources = buildResources(cfg.Client.Scheme(), cfg.Logs != nil)
	if err := addCreateOnly(s.resources, cfg.CreateOnly); err != nil {
		return nil, err
	}
	s.discovery = buildDiscovery(s.resources)
	return s, nil
}

// watchTimeout is how long a watch asking for requested (0: not asked)
// runs.
func (s *Server) watchTimeout(requested time.Duration) time.Duration {
	limit := 2 * s.cfg.WatchTimeout
	if requested > 0 {
		return min(requested, limit)
	}
	return time.Duration(float64(s.cfg.WatchTimeout) * (1 + rand.Float64()))
}
