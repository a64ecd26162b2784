package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
	"sigs.k8s.io/yaml"
)

// Admin client certificates (AdminKubeconfig).
const (
	// AdminUser is the user name (CN) of the admin kubeconfig's
	// certificate.
	AdminUser = "flotilla:admin"
	// AdminGroup is its group (O): Kubernetes' superuser group.
	AdminGroup = "system:masters"
	// AdminCertificateValidity is how long an admin certificate lasts.
	AdminCertificateValidity = 365 * 24 * time.Hour
)

// kubeconfig is the part of kubectl's configuration file (clientcmd's v1
// Config) that AdminKubeconfig writes.
type kubeconfig struct {
	APIVersion     string            `json:"apiVersion"`
	Kind           string            `json:"kind"`
	Clusters       []kubeconfigNamed `json:"clusters"`
	Users          []kubeconfigNamed `json:"users"`
	Contexts       []kubeconfigNamed `json:"contexts"`
	CurrentContext string            `json:"current-context"`
	Preferences    struct{}          `json:"preferences"`
	Extensions     []kubeconfigNamed `json:"extensions,omitempty"`
}

type kubeconfigNamed struct {
	Name      string               `json:"name"`
	Cluster   *kubeconfigCluster   `json:"cluster,omitempty"`
	User      *kubeconfigUser      `json:"user,omitempty"`
	Context   *kubeconfigContext   `json:"context,omitempty"`
	Extension *kubeconfigServerSet `json:"extension,omitempty"`
}

type kubeconfigCluster struct {
	Server                   string `json:"server"`
	CertificateAuthorityData []byte `json:"certificate-authority-data"`
}

type kubeconfigUser struct {
	ClientCertificateData []byte `json:"client-certificate-data"`
	ClientKeyData         []byte `json:"client-key-data"`
}

type kubeconfigContext struct {
	Cluster string `json:"cluster"`
	User    string `json:"user"`
}

// kubeconfigServerSet is the extension listing every server's API URL.
type kubeconfigServerSet struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Servers    []string `json:"servers"`
}

// AdminKubeconfig returns a kubeconfig (kubectl's YAML configuration)
// that reaches the cluster's Kubernetes API as an administrator: the
// cluster CA, and a new client certificate and key issued by it for user
// AdminUser in group AdminGroup, valid AdminCertificateValidity. The
// certificate is recorded like node certificates: Certificates lists it
// (under its user name) and RevokeCertificate revokes it. Keep the file
// secret; every call issues a new certificate.
//
// kubectl uses one server URL per cluster entry, so the file holds:
//   - cluster, context and user "flotilla" (the current context): this
//     node's API address;
//   - a cluster and context "flotilla-<node>" for every server whose API
//     address gossip knows (this one included), to switch to another
//     server with `kubectl --context flotilla-<node>` when this one is down;
//   - the extension "flotilla-servers" listing every server's URL.
//
// An API address bound to all interfaces is written with the node's
// advertised gossip address.
//
// Errors: Config.APIAddress is empty (this node serves no API); the node
// is not started; the cluster CA has not reached this node's store yet;
// recording the certificate failed (no leader before ctx ended).
func (c *Cluster) AdminKubeconfig(ctx context.Context) ([]byte, error) {
	if c.api == nil {
		return nil, errors.New("orchestrator: AdminKubeconfig: Config.APIAddress is empty: this node serves no Kubernetes API")
	}
	if self := c.APIAddr(); self == "" {
		return nil, errors.New("orchestrator: AdminKubeconfig: the node is not started")
	}
	ca, _, err := c.storedCA(ctx)
	if err != nil {
		return nil, fmt.Errorf("orchestrator: AdminKubeconfig: %w", err)
	}
	key, err := trust.NewKey()
	if err != nil {
		return nil, err
	}
	cert, err := ca.IssueClient(trust.ClientRequest{CommonName: AdminUser, Organizations: []string{AdminGroup},
		PublicKey: key.Public(), NotBefore: time.Now(), Validity: AdminCertificateValidity})
	if err != nil {
		return nil, fmt.Errorf("orchestrator: AdminKubeconfig: %w", err)
	}
	if err := c.recordIssuedUser(ctx, cert); err != nil {
		return nil, fmt.Errorf("orchestrator: AdminKubeconfig: %w", err)
	}
	keyPEM, err := trust.MarshalKey(key)
	if err != nil {
		return nil, err
	}
	caPEM := ca.CertPEM()
	kc := kubeconfig{APIVersion: "v1", Kind: "Config", CurrentContext: "flotilla",
		Users: []kubeconfigNamed{{Name: "flotilla", User: &kubeconfigUser{ClientCertificateData: trust.EncodeCerts(cert), ClientKeyData: keyPEM}}}}
	addCluster := func(name, url string) {
		kc.Clusters = append(kc.Clusters, kubeconfigNamed{Name: name, Cluster: &kubeconfigCluster{Server: url, CertificateAuthorityData: caPEM}})
		kc.Contexts = append(kc.Contexts, kubeconfigNamed{Name: name, Context: &kubeconfigContext{Cluster: name, User: "flotilla"}})
	}
	servers := c.apiServers()
	addCluster("flotilla", c.apiURL(c.cfg.NodeName, c.apiRecordAddr(), c.GossipAddr()))
	set := &kubeconfigServerSet{APIVersion: "flotilla.io/v1", Kind: "ServerList"}
	for _, s := range servers {
		addCluster("flotilla-"+s.name, s.url)
		set.Servers = append(set.Servers, s.url)
	}
	kc.Extensions = []kubeconfigNamed{{Name: "flotilla-servers", Extension: set}}
	return yaml.Marshal(kc)
}

type apiServer struct{ name, url string }

// apiServers are the API URLs of the live servers gossip knows, by name.
func (c *Cluster) apiServers() []apiServer {
	c.mu.Lock()
	g := c.gosp
	c.mu.Unlock()
	var out []apiServer
	if g == nil {
		return out
	}
	for _, m := range g.Members() {
		if m.Record.Role != membership.RoleServer || m.Record.APIAddr == "" ||
			(m.Status != membership.StatusAlive && m.Status != membership.StatusLeaving) {
			continue
		}
		out = append(out, apiServer{name: m.Name, url: c.apiURL(m.Name, m.Record.APIAddr, m.Addr)})
	}
	slices.SortFunc(out, func(a, b apiServer) int { return strings.Compare(a.name, b.name) })
	return out
}

// apiURL is https://host:port for a record's API address; an empty host
// (bound to all interfaces) takes the member's gossip host.
func (c *Cluster) apiURL(name, apiAddr, gossipAddr string) string {
	host, port, err := net.SplitHostPort(apiAddr)
	if err != nil {
		return ""
	}
	if host == "" {
		if gh, _, err := net.SplitHostPort(gossipAddr); err == nil && gh != "" {
			host = gh
		} else {
			host = name
		}
	}
	return "https://" + net.JoinHostPort(host, port)
}
