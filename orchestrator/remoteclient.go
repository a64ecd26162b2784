package orchestrator

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.uber.org/zap"
	"sigs.k8s.io/yaml"

	"github.com/flotilla-io/flotilla/orchestrator/internal/client/remote"
)

// RemoteClient is the Client of a cluster reached over its HTTPS
// Kubernetes API, from a kubeconfig. It has the same methods, semantics
// and errors as Cluster.Client: what a program does in-process it does
// remotely unchanged. Every method may also fail with
// IsServiceUnavailable when no server can be reached (wrapping the
// network error), IsTimeout past the request timeout
// (WithRequestTimeout), IsUnauthorized when the cluster does not accept
// the kubeconfig's credential, and IsForbidden when its user may not do
// what was asked. Close it to release its connections.
type RemoteClient struct {
	localClient
	rc *remote.Client
}

var _ Client = (*RemoteClient)(nil)

// Close releases the client's idle connections. It does not interrupt
// requests or watches in flight, and may be called more than once.
func (c *RemoteClient) Close() error { return c.rc.Close() }

// RemoteOption changes how NewRemoteClient connects.
type RemoteOption func(*remoteOptions)

type remoteOptions struct {
	context string
	servers []string
	logger  *zap.Logger
	timeout time.Duration
	dir     string
}

// WithKubeconfigContext uses the kubeconfig's context name instead of its
// current-context.
func WithKubeconfigContext(name string) RemoteOption {
	return func(o *remoteOptions) { o.context = name }
}

// WithFailoverServers adds API server URLs ("https://host:port") to try,
// in order, after the kubeconfig's when it cannot be reached. They are
// verified with the same CA and sent the same credentials.
func WithFailoverServers(urls ...string) RemoteOption {
	return func(o *remoteOptions) { o.servers = append(o.servers, urls...) }
}

// WithRemoteLogger logs failovers between servers to l.
func WithRemoteLogger(l *zap.Logger) RemoteOption {
	return func(o *remoteOptions) { o.logger = l }
}

// WithRequestTimeout bounds each request but Watch (default 30s;
// negative: only the ctx bounds it).
func WithRequestTimeout(d time.Duration) RemoteOption {
	return func(o *remoteOptions) { o.timeout = d }
}

// NewRemoteClient returns a Client for the cluster, user and namespace
// of a kubeconfig (as `flotilla kubeconfig` and Cluster.AdminKubeconfig
// write it, or any kubeconfig with a client certificate or a bearer
// token). It reads the context named by current-context (or
// WithKubeconfigContext): its cluster's server and
// certificate-authority-data (or certificate-authority, a file), and its
// user's client-certificate-data and client-key-data (or the files
// client-certificate and client-key), token or tokenFile. Relative file
// names are relative to the working directory (NewRemoteClientFromFile:
// to the kubeconfig's directory). The servers listed by the extension
// flotilla-servers (AdminKubeconfig writes every server's URL there) and
// by WithFailoverServers are tried, in order, when the context's server
// cannot be reached. The context's namespace is not used: an object
// without a namespace is in "default", as with Cluster.Client. It opens
// no connection until the first request.
//
// Errors (each naming the kubeconfig field): a kubeconfig that is not
// YAML; no context selected, or a context, cluster or user it names
// that is missing; a cluster without server, or with
// insecure-skip-tls-verify (refused: the cluster CA must verify the
// server); a CA or certificate that does not parse, a certificate
// without its key; a user with exec or auth-provider credentials
// (not supported); a file that cannot be read; a server URL that is
// not https.
func NewRemoteClient(kubeconfig []byte, opts ...RemoteOption) (*RemoteClient, error) {
	var o remoteOptions
	for _, opt := range opts {
		opt(&o)
	}
	return newRemoteClient(kubeconfig, o)
}

// NewRemoteClientFromFile is NewRemoteClient with the kubeconfig read from
// path; files it names relative to itself are found beside it.
//
// Errors: those of NewRemoteClient, and the error reading path.
func NewRemoteClientFromFile(path string, opts ...RemoteOption) (*RemoteClient, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	o := remoteOptions{dir: filepath.Dir(path)}
	for _, opt := range opts {
		opt(&o)
	}
	return newRemoteClient(b, o)
}

// remoteKubeconfig is the part of a kubeconfig (clientcmd's v1 Config) a
// RemoteClient reads.
type remoteKubeconfig struct {
	CurrentContext string `json:"current-context"`
	Clusters       []struct {
		Name    string `json:"name"`
		Cluster struct {
			Server                   string `json:"server"`
			CertificateAuthority     string `json:"certificate-authority"`
			CertificateAuthorityData []byte `json:"certificate-authority-data"`
			InsecureSkipTLSVerify    bool   `json:"insecure-skip-tls-verify"`
			TLSServerName            string `json:"tls-server-name"`
			ProxyURL                 string `json:"proxy-url"`
		} `json:"cluster"`
	} `json:"clusters"`
	Users []struct {
		Name string `json:"name"`
		User struct {
			ClientCertificate     string `json:"client-certificate"`
			ClientCertificateData []byte `json:"client-certificate-data"`
			ClientKey             string `json:"client-key"`
			ClientKeyData         []byte `json:"client-key-data"`
			Token                 string `json:"token"`
			TokenFile             string `json:"tokenFile"`
			Exec                  any    `json:"exec"`
			AuthProvider          any    `json:"auth-provider"`
			Username              string `json:"username"`
		} `json:"user"`
	} `json:"users"`
	Contexts []struct {
		Name    string `json:"name"`
		Context struct {
			Cluster string `json:"cluster"`
			User    string `json:"user"`
		} `json:"context"`
	} `json:"contexts"`
	// Extensions may hold "flotilla-servers" (AdminKubeconfig writes
	// it): every server's API URL.
	Extensions []struct {
		Name      string `json:"name"`
		Extension struct {
			Kind    string   `json:"kind"`
			Servers []string `json:"servers"`
		} `json:"extension"`
	} `json:"extensions"`
}

func newRemoteClient(data []byte, o remoteOptions) (*RemoteClient, error) {
	cfg, err := remoteConfig(data, o)
	if err != nil {
		return nil, err
	}
	rc, err := remote.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig: %w", err)
	}
	return &RemoteClient{localClient: localClient{c: rc}, rc: rc}, nil
}

// remoteConfig reads the remote client's Config from a kubeconfig.
func remoteConfig(data []byte, o remoteOptions) (remote.Config, error) {
	var kc remoteKubeconfig
	if err := yaml.Unmarshal(data, &kc); err != nil {
		return remote.Config{}, fmt.Errorf("kubeconfig: not a kubeconfig: %w", err)
	}
	ctxName := o.context
	if ctxName == "" {
		ctxName = kc.CurrentContext
	}
	if ctxName == "" {
		return remote.Config{}, errors.New("kubeconfig: current-context: empty, and no context chosen with WithKubeconfigContext")
	}
	ci := -1
	for i := range kc.Contexts {
		if kc.Contexts[i].Name == ctxName {
			ci = i
		}
	}
	if ci < 0 {
		return remote.Config{}, fmt.Errorf("kubeconfig: contexts: no context named %q", ctxName)
	}
	kctx := kc.Contexts[ci].Context
	cl := -1
	for i := range kc.Clusters {
		if kc.Clusters[i].Name == kctx.Cluster {
			cl = i
		}
	}
	if cl < 0 {
		return remote.Config{}, fmt.Errorf("kubeconfig: clusters: no cluster named %q (context %q)", kctx.Cluster, ctxName)
	}
	cluster := kc.Clusters[cl].Cluster
	field := func(name string) string {
		return fmt.Sprintf("kubeconfig: clusters[%q].cluster.%s", kctx.Cluster, name)
	}

	var errs []error
	if cluster.Server == "" {
		errs = append(errs, errors.New(field("server")+": empty"))
	}
	if cluster.InsecureSkipTLSVerify {
		errs = append(errs, errors.New(field("insecure-skip-tls-verify")+": refused: the cluster CA (certificate-authority-data) must verify the server"))
	}
	if cluster.ProxyURL != "" {
		errs = append(errs, errors.New(field("proxy-url")+": proxies are not supported"))
	}
	cfg := remote.Config{
		TLSServerName: cluster.TLSServerName,
		Logger:        o.logger,
		Timeout:       o.timeout,
	}
	// The context's server first, then the failover servers: those
	// given, and those of the flotilla-servers extension.
	for _, s := range slices.Concat([]string{cluster.Server}, o.servers, flotillaServers(kc)) {
		if s != "" && !slices.Contains(cfg.Servers, s) {
			cfg.Servers = append(cfg.Servers, s)
		}
	}
	caPEM, err := dataOrFile(cluster.CertificateAuthorityData, cluster.CertificateAuthority, o.dir)
	if err != nil {
		errs = append(errs, fmt.Errorf("%s: %w", field("certificate-authority"), err))
	}
	if len(caPEM) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			errs = append(errs, errors.New(field("certificate-authority-data")+": holds no PEM certificate"))
		}
		cfg.RootCAs = pool
	}

	if kctx.User != "" {
		ui := -1
		for i := range kc.Users {
			if kc.Users[i].Name == kctx.User {
				ui = i
			}
		}
		if ui < 0 {
			errs = append(errs, fmt.Errorf("kubeconfig: users: no user named %q (context %q)", kctx.User, ctxName))
			return remote.Config{}, errors.Join(errs...)
		}
		u := kc.Users[ui].User
		ufield := func(name string) string { return fmt.Sprintf("kubeconfig: users[%q].user.%s", kctx.User, name) }
		if u.Exec != nil {
			errs = append(errs, errors.New(ufield("exec")+": exec credential plugins are not supported; use a client certificate or a token"))
		}
		if u.AuthProvider != nil {
			errs = append(errs, errors.New(ufield("auth-provider")+": auth providers are not supported; use a client certificate or a token"))
		}
		if u.Username != "" {
			errs = append(errs, errors.New(ufield("username")+": basic authentication is not supported; use a client certificate or a token"))
		}
		certPEM, err := dataOrFile(u.ClientCertificateData, u.ClientCertificate, o.dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ufield("client-certificate"), err))
		}
		keyPEM, err := dataOrFile(u.ClientKeyData, u.ClientKey, o.dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", ufield("client-key"), err))
		}
		switch {
		case len(certPEM) > 0 && len(keyPEM) > 0:
			pair, err := tls.X509KeyPair(certPEM, keyPEM)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", ufield("client-certificate-data"), err))
			} else {
				cfg.Certificate = &pair
			}
		case len(certPEM) > 0:
			errs = append(errs, errors.New(ufield("client-key-data")+": a client certificate needs its key"))
		case len(keyPEM) > 0:
			errs = append(errs, errors.New(ufield("client-certificate-data")+": a client key needs its certificate"))
		}
		cfg.BearerToken = u.Token
		if cfg.BearerToken == "" && u.TokenFile != "" {
			b, err := os.ReadFile(resolve(u.TokenFile, o.dir))
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", ufield("tokenFile"), err))
			}
			cfg.BearerToken = strings.TrimSpace(string(b))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return remote.Config{}, err
	}
	return cfg, nil
}

// flotillaServers returns the server URLs of the flotilla-servers
// extension, if the kubeconfig has it.
func flotillaServers(kc remoteKubeconfig) []string {
	for _, e := range kc.Extensions {
		if e.Name == "flotilla-servers" && e.Extension.Kind == "ServerList" {
			return e.Extension.Servers
		}
	}
	return nil
}

// dataOrFile returns data, or the contents of file when data is empty.
func dataOrFile(data []byte, file, dir string) ([]byte, error) {
	if len(data) > 0 || file == "" {
		return data, nil
	}
	return os.ReadFile(resolve(file, dir))
}

func resolve(file, dir string) string {
	if dir == "" || filepath.IsAbs(file) {
		return file
	}
	return filepath.Join(dir, file)
}
