package remote

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/flotilla-io/flotilla/orchestrator/api"
)

// Config says which servers a Client talks to and how it proves who it is.
type Config struct {
	// Servers are the base URLs of the API servers, "https://host:port"
	// (an optional path prefix is kept). Every server answers every
	// request; the Client sends to the one that last answered and tries
	// the next, in order, when it cannot be reached. At least one.
	Servers []string
	// RootCAs verifies the servers' certificates (the cluster CA). nil
	// uses the host's root CAs.
	RootCAs *x509.CertPool
	// TLSServerName, if set, is the name the servers' certificates are
	// verified against instead of each URL's host (kubeconfig's
	// tls-server-name).
	TLSServerName string
	// Certificate, if set, is the client certificate presented to the
	// servers (issued by the cluster CA).
	Certificate *tls.Certificate
	// BearerToken, if set, is sent as "Authorization: Bearer <token>".
	// It may be combined with Certificate; the server decides.
	BearerToken string
	// Scheme holds the kinds the Client serves. nil means
	// api.DefaultScheme().
	Scheme *api.Scheme
	// Timeout bounds each request but Watch, from sending it to reading
	// the whole response; past it the request fails with a Timeout error
	// (api.IsTimeout). Zero means 30s; negative means none (only ctx
	// bounds it).
	Timeout time.Duration
	// DialTimeout bounds connecting (TCP and TLS handshake) to one
	// server, after which the next is tried. Zero means 5s.
	DialTimeout time.Duration
	// MaxConnsPerServer bounds the connections requests open to one
	// server, and those kept idle. With HTTP/2 one connection carries
	// many requests at once. Watches use connections of their own (one
	// HTTP/2 connection carries them all), not bounded by it. Zero means
	// 8.
	MaxConnsPerServer int
	// IdleConnTimeout closes a connection unused for this long. Zero
	// means 90s.
	IdleConnTimeout time.Duration
	// UserAgent is sent with every request. Empty means
	// "flotilla-remote-client".
	UserAgent string
	// Logger receives failovers between servers. nil means zap.NewNop().
	Logger *zap.Logger
}

// Validate returns every problem of c at once, each naming its field.
func (c Config) Validate() error {
	var errs []error
	if len(c.Servers) == 0 {
		errs = append(errs, errors.New("remote: Servers: at least one server URL is required"))
	}
	for i, s := range c.Servers {
		if _, err := parseServer(s); err != nil {
			errs = append(errs, fmt.Errorf("remote: Servers[%d]: %w", i, err))
		}
	}
	if c.Certificate != nil && len(c.Certificate.Certificate) == 0 {
		errs = append(errs, errors.New("remote: Certificate: holds no certificate"))
	}
	if strings.ContainsAny(c.BearerToken, "\r\n") {
		errs = append(errs, errors.New("remote: BearerToken: must not contain line breaks"))
	}
	if c.DialTimeout < 0 {
		errs = append(errs, fmt.Errorf("remote: DialTimeout: %v is negative", c.DialTimeout))
	}
	if c.MaxConnsPerServer < 0 {
		errs = append(errs, fmt.Errorf("remote: MaxConnsPerServer: %d is negative", c.MaxConnsPerServer))
	}
	if c.IdleConnTimeout < 0 {
		errs = append(errs, fmt.Errorf("remote: IdleConnTimeout: %v is negative", c.IdleConnTimeout))
	}
	return errors.Join(errs...)
}

// parseServer checks one server URL: https, a host, no query or fragment.
func parseServer(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %v", s, err)
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("%q: want an https:// URL", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%q: no host", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%q: a server URL has no user, query or fragment", s)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

func (c Config) withDefaults() Config {
	if c.Scheme == nil {
		c.Scheme = api.DefaultScheme()
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.MaxConnsPerServer == 0 {
		c.MaxConnsPerServer = 8
	}
	if c.IdleConnTimeout == 0 {
		c.IdleConnTimeout = 90 * time.Second
	}
	if c.UserAgent == "" {
		c.UserAgent = "flotilla-remote-client"
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return c
}
