package orchestrator

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
)

// Cluster trust: what this file does.
//
// Every node on real sockets has a certificate from the cluster CA and
// speaks Raft and forwarding over mutual TLS 1.3 (raftstore checks the
// peer's certificate names a server). The CA is made by the founding
// server (or given by the operator, Config.ClusterCA); its key lives in the
// replicated store, sealed at rest like every value, so any server can
// issue certificates. A new node proves a join token (Config.JoinToken) to
// any server over TLS — verifying the server's CA against the token's
// fingerprint first — and gets its certificate, the gossip keys and (for a
// server) the store's encryption keys. Gossip is always encrypted; the
// keyring, the trusted CAs and the revoked serials are kept in the store
// and every server follows them.
//
// Two services share the Raft port beside Raft and forwarding, chosen by
// the connection's first byte:
//   - svcJoin: a certless client presents a join token (trust.ServeJoin).
//   - svcDiscover: an authenticated node asks for the gossip addresses of
//     live members and the gossip keyring; Autopilot also dials it to see
//     that a member claiming to be a server holds that server's certificate.
const (
	svcJoin     byte = 'J'
	svcDiscover byte = 'D'
)

// Keys of the trust state in the store. They sit outside /registry/, so no
// API reaches them.
const (
	keyCA            = "/flotilla/pki/ca"
	prefixIssued     = "/flotilla/pki/issued/"
	prefixRevoked    = "/flotilla/pki/revoked/"
	prefixTokens     = "/flotilla/tokens/"
	keyGossipRing    = "/flotilla/gossip/keyring"
	prefixGossipAcks = "/flotilla/gossip/acks/"
	prefixTrust      = "/flotilla/"
)

// Files of a node's trust material under DataDir (all 0600).
const (
	trustDirName   = "trust"
	fileCAs        = "ca.crt"
	fileNodeCert   = "node.crt"
	fileNodeKey    = "node.key"
	fileGossipKeys = "gossip.keys"
	fileStoreKeys  = "store.keys"
)

// caRecord is the CA as kept in the store: the trusted CA certificates
// (newest first; a renewal keeps the old ones until they expire) and the
// signing key.
type caRecord struct {
	Certs []byte `json:"certs"`
	Key   []byte `json:"key"`
}

// issuedRecord notes a certificate the CA issued, for listing and
// revocation.
type issuedRecord struct {
	Serial   string `json:"serial"`
	NodeName string `json:"nodeName"`
	// User is the CN of a user's client certificate (AdminKubeconfig);
	// NodeName and Role are empty then.
	User     string     `json:"user,omitempty"`
	Role     trust.Role `json:"role"`
	NotAfter time.Time  `json:"notAfter"`
	Issued   time.Time  `json:"issued"`
}

// revokedRecord marks a revoked serial.
type revokedRecord struct {
	Serial  string    `json:"serial"`
	Revoked time.Time `json:"revoked"`
	Reason  string    `json:"reason,omitempty"`
}

// gossipRing is the cluster's gossip keyring as kept in the store; every
// server applies it to its own keyring and acknowledges the version.
type gossipRing struct {
	Version int64    `json:"version"`
	Keys    [][]byte `json:"keys"`
	Primary int      `json:"primary"`
}

// discoverResponse answers svcDiscover.
type discoverResponse struct {
	GossipAddrs []string `json:"gossipAddrs"`
	Ring        gossipRing
}

// trustState is one node's trust material and what follows it at run time.
type trustState struct {
	dir   string // DataDir/trust, or "" in memory
	creds *trust.Credentials
	pool  *trust.Pool
	tls   *tls.Config // for raftstore: both directions

	// Set by prepare on a founder that made or was given the CA: the
	// keeper puts it in the store if the store has none.
	foundCA *trust.CA
	// madeCA: this node created the cluster's CA (a single founder): it
	// makes the first join tokens.
	madeCA bool

	caMu     sync.Mutex // serializes ensureCA
	caStored bool       // the store holds the cluster CA

	mu          sync.Mutex
	gossip      [][]byte // this node's gossip keyring, primary first
	ringVersion int64
	storeKeys   []raftstore.EncryptionKey // keys to hand to raftstore before Start
	fingerprint string
	tokens      map[trust.Role]string // tokens this node made at bootstrap
}

func newTrustState(dataDir string) *trustState {
	ts := &trustState{pool: trust.NewPool(), tokens: map[trust.Role]string{}}
	if dataDir != "" {
		ts.dir = filepath.Join(dataDir, trustDirName)
	}
	ts.creds = &trust.Credentials{} // set by prepareTrust before the store starts
	ts.tls = ts.tlsConfig()
	return ts
}

// tlsConfig is the one config raftstore uses for both directions: the
// client side verifies servers (ClientConfig), and the server side is
// chosen per handshake (ServerConfig).
func (ts *trustState) tlsConfig() *tls.Config {
	cc := trust.ClientConfig(ts.creds, ts.pool, "", time.Now)
	sc := trust.ServerConfig(ts.creds, ts.pool, time.Now)
	cc.GetConfigForClient = func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if sc.GetConfigForClient != nil {
			if cfg, err := sc.GetConfigForClient(hello); cfg != nil || err != nil {
				return cfg, err
			}
		}
		return sc, nil
	}
	return cc
}

// authorizePeer lets only servers of this cluster speak Raft or forward
// writes: the certificate must chain to a trusted CA, be unrevoked and
// name the server role.
func (ts *trustState) authorizePeer(cs tls.ConnectionState) error {
	id, err := trust.PeerIdentity(cs, ts.pool, time.Now())
	if err != nil {
		return err
	}
	if id.Role != trust.RoleServer {
		return fmt.Errorf("node %q holds a %s certificate: only servers speak Raft and forward writes", id.NodeName, id.Role)
	}
	return nil
}

func (ts *trustState) gossipKeys() [][]byte {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return slices.Clone(ts.gossip)
}

// path names a file of the node's trust material ("" in memory).
func (ts *trustState) path(name string) string {
	if ts.dir == "" {
		return ""
	}
	return filepath.Join(ts.dir, name)
}

// prepare makes sure the node has its credentials before the store starts:
// loaded from DataDir, made by a founder, or obtained with a join token.
func (c *Cluster) prepareTrust(ctx context.Context) error {
	ts := c.trust
	loaded, err := c.loadTrust()
	if err != nil {
		return err
	}
	switch {
	case loaded:
		c.log.Info("cluster credentials loaded", zap.String("dir", ts.dir), zap.String("ca", ts.fingerprint))
	case c.cfg.JoinToken != "":
		if err := c.joinWithToken(ctx, trust.RoleServer); err != nil {
			return err
		}
	case c.founder():
		if err := c.found(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("orchestrator: Config.JoinToken: required: this node has no cluster credentials (none in DataDir %q) and does not found a cluster; "+
			"create a token on a member with Cluster.CreateJoinToken and pass it with the members' addresses in Config.Join", c.cfg.DataDir)
	}
	if err := c.store.SetEncryptionKeys(ts.storeKeys); err != nil {
		return fmt.Errorf("orchestrator: store encryption keys: %w", err)
	}
	c.cfg.GossipKeys = ts.gossipKeys()
	return nil
}

// founder reports whether this node founds the cluster (and may make its CA
// when it founds it alone).
func (c *Cluster) founder() bool {
	if len(c.cfg.BootstrapServers) > 0 {
		return true
	}
	return c.cfg.BootstrapExpect > 0
}

// soleFounder reports whether this node founds the cluster alone.
func (c *Cluster) soleFounder() bool {
	if len(c.cfg.BootstrapServers) > 0 {
		return len(c.cfg.BootstrapServers) == 1
	}
	return c.cfg.BootstrapExpect == 1
}

// found makes a founder's credentials: the CA (given, or new for a sole
// founder), its own certificate, the first gossip and store keys.
func (c *Cluster) found() error {
	ts := c.trust
	now := time.Now()
	var ca *trust.CA
	var err error
	switch {
	case c.cfg.ClusterCA != nil:
		if ca, err = trust.ParseCA(c.cfg.ClusterCA.CertPEM, c.cfg.ClusterCA.KeyPEM); err != nil {
			return fmt.Errorf("orchestrator: Config.ClusterCA: %w", err)
		}
	case c.soleFounder():
		if ca, err = trust.NewCA(now, 0); err != nil {
			return fmt.Errorf("orchestrator: cluster CA: %w", err)
		}
		ts.madeCA = true
	default:
		return fmt.Errorf("orchestrator: Config.ClusterCA: required for %d founding servers: give every founder the same CA (orchestrator.NewClusterCA), "+
			"or found the cluster with one server (BootstrapExpect 1) and join the others with a token", max(c.cfg.BootstrapExpect, len(c.cfg.BootstrapServers)))
	}
	key, err := trust.NewKey()
	if err != nil {
		return err
	}
	cert, err := ca.Issue(c.issueRequest(trust.RoleServer, key.Public(), now))
	if err != nil {
		return fmt.Errorf("orchestrator: node certificate: %w", err)
	}
	gossip := c.cfg.GossipKeys
	storeKeys := c.cfg.EncryptionKeys
	if len(gossip) == 0 {
		k, err := c.firstKey(ca, "gossip-key-1")
		if err != nil {
			return err
		}
		gossip = [][]byte{k}
	}
	if len(storeKeys) == 0 {
		k, err := c.firstKey(ca, "store-key-1")
		if err != nil {
			return err
		}
		storeKeys = []raftstore.EncryptionKey{{ID: "k1", Secret: k}}
	}
	ts.foundCA = ca
	if err := c.adoptTrust(key, cert, []*x509.Certificate{ca.Cert()}, gossip, storeKeys); err != nil {
		return err
	}
	c.log.Info("cluster credentials made for a founding server", zap.String("ca", ts.fingerprint), zap.Bool("newCA", ts.madeCA))
	return nil
}

// firstKey is a founder's first 32-byte gossip or store key: random for a
// sole founder; derived from the CA key when several founders share a
// given CA, so that they agree without another exchange.
func (c *Cluster) firstKey(ca *trust.CA, purpose string) ([]byte, error) {
	if c.cfg.ClusterCA != nil && !c.soleFounder() {
		return ca.DeriveKey(purpose, 32)
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, nil
}

// issueRequest describes this node's certificate.
func (c *Cluster) issueRequest(role trust.Role, pub crypto.PublicKey, now time.Time) trust.IssueRequest {
	req := trust.IssueRequest{Identity: trust.Identity{NodeName: c.cfg.NodeName, Role: role}, PublicKey: pub,
		DNSNames: []string{c.cfg.NodeName}, NotBefore: now, Validity: c.cfg.CertificateValidity}
	if host, _, err := net.SplitHostPort(c.cfg.RaftBindAddr); err == nil {
		if ip := net.ParseIP(host); ip != nil && !ip.IsUnspecified() {
			req.IPs = append(req.IPs, ip)
		}
	}
	if len(req.IPs) == 0 {
		req.IPs = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	return req
}

// joinWithToken obtains this node's credentials, for role, from a server
// named in Config.Join with Config.JoinToken.
func (c *Cluster) joinWithToken(ctx context.Context, role trust.Role) error {
	tok, err := trust.ParseToken(c.cfg.JoinToken)
	if err != nil {
		return fmt.Errorf("orchestrator: Config.JoinToken: %w", err)
	}
	if len(c.cfg.Join) == 0 {
		return errors.New("orchestrator: Config.Join: required with Config.JoinToken: the cluster address (Cluster.RaftAddr) of at least one server")
	}
	key, err := trust.NewKey()
	if err != nil {
		return err
	}
	ir := c.issueRequest(role, key.Public(), time.Now())
	req := trust.JoinRequest{NodeName: c.cfg.NodeName, Role: role, DNSNames: ir.DNSNames}
	for _, ip := range ir.IPs {
		req.IPs = append(req.IPs, ip.String())
	}
	var errs []error
	for _, addr := range c.cfg.Join {
		resp, cas, err := trust.JoinService(ctx, addr, selectJoin, tok, key, req)
		if err != nil {
			c.log.Warn("join with token failed", zap.String("server", addr), zap.Error(err))
			errs = append(errs, err)
			continue
		}
		certs, err := trust.ParseCerts(resp.Certificate)
		if err != nil || len(certs) == 0 {
			return fmt.Errorf("orchestrator: join via %s: bad certificate in the answer: %v", addr, err)
		}
		storeKeys := make([]raftstore.EncryptionKey, 0, len(resp.EncryptionKeys))
		for _, k := range resp.EncryptionKeys {
			storeKeys = append(storeKeys, raftstore.EncryptionKey{ID: k.ID, Secret: k.Secret})
		}
		if len(c.cfg.EncryptionKeys) > 0 {
			storeKeys = append(storeKeys, c.cfg.EncryptionKeys...)
		}
		if err := c.adoptTrust(key, certs[0], cas, resp.GossipKeys, storeKeys); err != nil {
			return err
		}
		c.log.Info("joined the cluster's trust with a token", zap.String("server", addr), zap.String("token", tok.ID), zap.String("ca", c.trust.fingerprint))
		return nil
	}
	return fmt.Errorf("orchestrator: join with Config.JoinToken failed at every address of Config.Join: %w", errors.Join(errs...))
}

// adoptTrust installs (and, with a DataDir, saves) a node's credentials.
func (c *Cluster) adoptTrust(key crypto.Signer, cert *x509.Certificate, cas []*x509.Certificate, gossip [][]byte, storeKeys []raftstore.EncryptionKey) error {
	ts := c.trust
	if len(gossip) == 0 {
		return errors.New("orchestrator: trust: no gossip key")
	}
	if err := ts.creds.Set(key, cert); err != nil {
		return fmt.Errorf("orchestrator: node certificate: %w", err)
	}
	ts.pool.SetCAs(cas...)
	ts.mu.Lock()
	ts.gossip = slices.Clone(gossip)
	ts.storeKeys = storeKeys
	ts.fingerprint = trust.Fingerprint(cas[0])
	ts.mu.Unlock()
	return c.saveTrust(key, cert, cas)
}

// saveTrust writes the node's credentials under DataDir (nothing in memory).
func (c *Cluster) saveTrust(key crypto.Signer, cert *x509.Certificate, cas []*x509.Certificate) error {
	ts := c.trust
	if ts.dir == "" {
		return nil
	}
	if err := os.MkdirAll(ts.dir, 0o700); err != nil {
		return fmt.Errorf("orchestrator: trust dir: %w", err)
	}
	keyPEM, err := trust.MarshalKey(key)
	if err != nil {
		return err
	}
	gossip, err := json.Marshal(ts.gossipKeys())
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{fileNodeKey, keyPEM}, {fileNodeCert, trust.EncodeCerts(cert)}, {fileCAs, trust.EncodeCerts(cas...)}, {fileGossipKeys, gossip}} {
		if err := writeFileAtomic(ts.path(f.name), f.data); err != nil {
			return fmt.Errorf("orchestrator: save %s: %w", f.name, err)
		}
	}
	return nil
}

// loadTrust reads the node's credentials from DataDir; false if there are
// none. A partial or unreadable set is an error naming the file.
func (c *Cluster) loadTrust() (bool, error) {
	ts := c.trust
	if ts.dir == "" {
		return false, nil
	}
	if _, err := os.Stat(ts.path(fileNodeCert)); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	read := func(name string) ([]byte, error) {
		b, err := os.ReadFile(ts.path(name))
		if err != nil {
			return nil, fmt.Errorf("orchestrator: cluster credentials: %w", err)
		}
		return b, nil
	}
	keyPEM, err := read(fileNodeKey)
	if err != nil {
		return false, err
	}
	key, err := trust.ParseKey(keyPEM)
	if err != nil {
		return false, fmt.Errorf("orchestrator: %s: %w", ts.path(fileNodeKey), err)
	}
	certPEM, err := read(fileNodeCert)
	if err != nil {
		return false, err
	}
	certs, err := trust.ParseCerts(certPEM)
	if err != nil || len(certs) == 0 {
		return false, fmt.Errorf("orchestrator: %s: no certificate: %v", ts.path(fileNodeCert), err)
	}
	casPEM, err := read(fileCAs)
	if err != nil {
		return false, err
	}
	cas, err := trust.ParseCerts(casPEM)
	if err != nil || len(cas) == 0 {
		return false, fmt.Errorf("orchestrator: %s: no CA certificate: %v", ts.path(fileCAs), err)
	}
	gossipJSON, err := read(fileGossipKeys)
	if err != nil {
		return false, err
	}
	var gossip [][]byte
	if err := json.Unmarshal(gossipJSON, &gossip); err != nil || len(gossip) == 0 {
		return false, fmt.Errorf("orchestrator: %s: no gossip key: %v", ts.path(fileGossipKeys), err)
	}
	if err := ts.creds.Set(key, certs[0]); err != nil {
		return false, fmt.Errorf("orchestrator: %s: %w", ts.path(fileNodeCert), err)
	}
	ts.pool.SetCAs(cas...)
	ts.mu.Lock()
	ts.gossip = gossip
	ts.storeKeys = c.cfg.EncryptionKeys // the rest come from the store's key file
	ts.fingerprint = trust.Fingerprint(cas[0])
	ts.mu.Unlock()
	return true, nil
}

// writeFileAtomic replaces path with data (0600): a temporary file in the
// same directory, synced, renamed over path, then the directory synced.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after a successful rename this finds nothing
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// serveJoin answers one join request on the Raft port.
func (c *Cluster) serveJoin(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	err := trust.ServeJoin(ctx, conn, c.handleJoin)
	if err != nil {
		c.log.Warn("join refused", zap.Stringer("remote", conn.RemoteAddr()), zap.Error(err))
	}
}

// handleJoin checks a join request against its token and issues the
// node's certificate.
func (c *Cluster) handleJoin(ctx context.Context, req trust.JoinRequest, pub crypto.PublicKey) (*trust.JoinResponse, error) {
	kv, err := c.store.Get(ctx, prefixTokens+req.TokenID, raftstore.Linearizable())
	if raftstore.IsNotFound(err) {
		return nil, fmt.Errorf("unknown join token %q (revoked, or never made in this cluster)", req.TokenID)
	}
	if err != nil {
		return nil, fmt.Errorf("reading join token %q: %v", req.TokenID, err)
	}
	var rec trust.TokenRecord
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		return nil, fmt.Errorf("join token %q: unreadable record", req.TokenID)
	}
	now := time.Now()
	if err := trust.Authorize(rec, req, now); err != nil {
		return nil, err
	}
	if msgs := validNodeName(req.NodeName); msgs != "" {
		return nil, fmt.Errorf("node name %q: %s", req.NodeName, msgs)
	}
	if c.gossipAlive(req.NodeName) {
		return nil, fmt.Errorf("a node named %q is already a live member: pick another name, or wait until it has left", req.NodeName)
	}
	ca, cas, err := c.storedCA(ctx)
	if err != nil {
		return nil, err
	}
	ir := trust.IssueRequest{Identity: trust.Identity{NodeName: req.NodeName, Role: req.Role}, PublicKey: pub,
		DNSNames: req.DNSNames, NotBefore: now, Validity: c.cfg.CertificateValidity}
	for _, s := range req.IPs {
		if ip := net.ParseIP(s); ip != nil {
			ir.IPs = append(ir.IPs, ip)
		}
	}
	cert, err := ca.Issue(ir)
	if err != nil {
		return nil, fmt.Errorf("issuing the certificate: %v", err)
	}
	if err := c.recordIssued(ctx, cert, req.Role); err != nil {
		return nil, err
	}
	resp := &trust.JoinResponse{Certificate: trust.EncodeCerts(cert), CAs: trust.EncodeCerts(cas...), GossipKeys: c.trust.gossipKeys()}
	if req.Role == trust.RoleServer {
		for _, k := range c.store.ExportEncryptionKeys() {
			resp.EncryptionKeys = append(resp.EncryptionKeys, trust.EncryptionKey{ID: k.ID, Secret: k.Secret})
		}
	}
	c.log.Info("node joined with a token", zap.String("joiner", req.NodeName), zap.String("role", string(req.Role)),
		zap.String("token", req.TokenID), zap.String("serial", serialHex(cert)))
	return resp, nil
}

// selectJoin selects the join service on a server's cluster port.
func selectJoin(conn net.Conn) error { return raftstore.SelectService(conn, svcJoin) }

func validNodeName(name string) string {
	if name == "" {
		return "required"
	}
	if msgs := api.IsDNS1123Subdomain(name); len(msgs) > 0 {
		return msgs[0]
	}
	return ""
}

// serialHex is a certificate's serial as the trust records key it:
// lowercase hexadecimal without leading zeros (as RevokeCertificate
// normalizes what it is given).
func serialHex(cert *x509.Certificate) string { return cert.SerialNumber.Text(16) }

// recordIssued notes an issued certificate in the store.
func (c *Cluster) recordIssued(ctx context.Context, cert *x509.Certificate, role trust.Role) error {
	id, err := trust.IdentityOf(cert)
	if err != nil {
		return err
	}
	rec, err := json.Marshal(issuedRecord{Serial: serialHex(cert), NodeName: id.NodeName, Role: role, NotAfter: cert.NotAfter, Issued: time.Now().UTC()})
	if err != nil {
		return err
	}
	if _, err := c.store.Put(ctx, prefixIssued+serialHex(cert), rec); err != nil {
		return fmt.Errorf("recording the certificate: %v", err)
	}
	return nil
}

// recordIssuedUser notes a user's client certificate in the store.
func (c *Cluster) recordIssuedUser(ctx context.Context, cert *x509.Certificate) error {
	rec, err := json.Marshal(issuedRecord{Serial: serialHex(cert), User: cert.Subject.CommonName, NotAfter: cert.NotAfter, Issued: time.Now().UTC()})
	if err != nil {
		return err
	}
	if _, err := c.store.Put(ctx, prefixIssued+serialHex(cert), rec); err != nil {
		return fmt.Errorf("recording the certificate: %v", err)
	}
	return nil
}

// storedCA reads the CA (with its key) from the store.
func (c *Cluster) storedCA(ctx context.Context) (*trust.CA, []*x509.Certificate, error) {
	kv, err := c.store.Get(ctx, keyCA)
	if err != nil {
		return nil, nil, fmt.Errorf("the cluster CA is not in the store yet: %v", err)
	}
	var rec caRecord
	if err := json.Unmarshal(kv.Value, &rec); err != nil {
		return nil, nil, fmt.Errorf("the cluster CA record is unreadable: %v", err)
	}
	cas, err := trust.ParseCerts(rec.Certs)
	if err != nil || len(cas) == 0 {
		return nil, nil, fmt.Errorf("the cluster CA record holds no certificate: %v", err)
	}
	ca, err := trust.ParseCA(trust.EncodeCerts(cas[0]), rec.Key)
	if err != nil {
		return nil, nil, err
	}
	return ca, cas, nil
}

func (c *Cluster) gossipAlive(name string) bool {
	c.mu.Lock()
	g := c.gosp
	c.mu.Unlock()
	if g == nil {
		return false
	}
	for _, m := range g.Members() {
		if m.Name == name && (m.Status == membership.StatusAlive || m.Status == membership.StatusLeaving) {
			return true
		}
	}
	return false
}

// serveDiscover tells an authenticated node the gossip addresses of live
// members and the gossip keyring.
func (c *Cluster) serveDiscover(ctx context.Context, conn net.Conn) {
	defer conn.Close()
	if tc, ok := conn.(*tls.Conn); ok {
		if _, err := trust.PeerIdentity(tc.ConnectionState(), c.trust.pool, time.Now()); err != nil {
			c.log.Warn("discovery refused", zap.Stringer("remote", conn.RemoteAddr()), zap.Error(err))
			return
		}
	}
	resp := discoverResponse{}
	c.mu.Lock()
	g := c.gosp
	c.mu.Unlock()
	if g != nil {
		for _, m := range g.Members() {
			if m.Status == membership.StatusAlive {
				resp.GossipAddrs = append(resp.GossipAddrs, m.Addr)
			}
		}
	}
	if c.trust != nil {
		c.trust.mu.Lock()
		resp.Ring = gossipRing{Version: c.trust.ringVersion, Keys: slices.Clone(c.trust.gossip)}
		c.trust.mu.Unlock()
	}
	_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	_ = trust.WriteFrame(conn, resp)
}

// discover asks the servers in addrs (any that answers) for the gossip
// addresses to join and the current gossip keyring. It retries until ctx
// ends.
func (c *Cluster) discover(ctx context.Context, addrs []string) ([]string, error) {
	backoff := 20 * time.Millisecond
	for {
		var errs []error
		for _, addr := range addrs {
			resp, _, err := c.discoverAt(ctx, addr)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", addr, err))
				continue
			}
			if len(resp.GossipAddrs) == 0 {
				errs = append(errs, fmt.Errorf("%s: no live gossip member yet", addr))
				continue
			}
			if c.trust != nil && len(resp.Ring.Keys) > 0 {
				c.adoptRing(resp.Ring)
			}
			return resp.GossipAddrs, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("orchestrator: Config.Join: no server answered: %w (%w)", ctx.Err(), errors.Join(errs...))
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// discoverAt asks one server; it also returns the server's certificate
// (nil without TLS).
func (c *Cluster) discoverAt(ctx context.Context, addr string) (discoverResponse, *x509.Certificate, error) {
	var resp discoverResponse
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := c.dialService(dctx, addr, svcDiscover)
	if err != nil {
		return resp, nil, err
	}
	defer conn.Close()
	var peer *x509.Certificate
	if tc, ok := conn.(*tls.Conn); ok {
		if certs := tc.ConnectionState().PeerCertificates; len(certs) > 0 {
			peer = certs[0]
		}
	}
	if dl, ok := dctx.Deadline(); ok {
		_ = conn.SetReadDeadline(dl)
	}
	if err := trust.ReadFrame(conn, &resp); err != nil {
		return resp, peer, fmt.Errorf("reading the answer: %w", err)
	}
	return resp, peer, nil
}

// verifyServer proves to Autopilot that the member name at addr holds a
// server certificate for that name.
func (c *Cluster) verifyServer(ctx context.Context, name, addr string) error {
	_, peer, err := c.discoverAt(ctx, addr)
	if err != nil {
		return err
	}
	if peer == nil {
		return errors.New("no certificate")
	}
	id, err := trust.IdentityOf(peer)
	if err != nil {
		return err
	}
	if id.NodeName != name || id.Role != trust.RoleServer {
		return fmt.Errorf("the certificate at %s names %s %q, not server %q", addr, id.Role, id.NodeName, name)
	}
	return nil
}
