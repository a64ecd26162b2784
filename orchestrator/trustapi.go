package orchestrator

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
)

// x509Cert shortens signatures in this package's trust code.
type x509Cert = x509.Certificate

// ErrNoTrust is returned by the trust operations of a node that runs
// without cluster trust: only in-process test clusters on in-memory
// networks (package orchestratortest without WithTLS) do.
var ErrNoTrust = fmt.Errorf("orchestrator: cluster trust is off on this node (in-memory test networks): %w", errors.ErrUnsupported)

// ClusterCA is a cluster certificate authority given by the operator: a CA
// certificate and its private key, PEM-encoded (the key as PKCS#8, SEC 1
// or PKCS#1; ECDSA, Ed25519 or RSA of at least 2048 bits). See
// Config.ClusterCA.
type ClusterCA struct {
	CertPEM []byte
	KeyPEM  []byte
}

// NewClusterCA makes a new cluster CA (ECDSA P-256, valid ten years) to
// give to every founding server of a cluster founded by several servers at
// once (Config.ClusterCA). Keep KeyPEM secret: whoever holds it can make
// certificates every node trusts.
//
// Errors: only from the system's random source.
func NewClusterCA() (*ClusterCA, error) {
	ca, err := trust.NewCA(time.Now(), 0)
	if err != nil {
		return nil, err
	}
	key, err := ca.KeyPEM()
	if err != nil {
		return nil, err
	}
	return &ClusterCA{CertPEM: ca.CertPEM(), KeyPEM: key}, nil
}

// JoinTokenOptions describes a join token to make.
type JoinTokenOptions struct {
	// Role is what a node joining with the token becomes: RoleServer (the
	// zero value) or RoleAgent. An agent token never makes a server; a
	// server token may make either.
	Role Role
	// TTL is how long the token can be used; zero means 24 hours (as
	// kubeadm's tokens). There are no tokens that never expire.
	TTL time.Duration
	// Description is free text shown in listings.
	Description string
}

// JoinToken describes a join token. Token, the secret text a new node
// passes in Config.JoinToken, is set only when the token is made: the
// cluster stores only a hash of its secret.
type JoinToken struct {
	ID          string
	Token       string
	Role        Role
	Created     time.Time
	Expires     time.Time
	Description string
}

func (c *Cluster) trustReady() error {
	if c.trust == nil {
		return ErrNoTrust
	}
	if c.agentOnly != nil {
		return ErrAgentOnly
	}
	c.mu.Lock()
	started := c.started
	c.mu.Unlock()
	if !started || c.trust.creds.Certificate() == nil {
		return errors.New("orchestrator: the node is not started")
	}
	return nil
}

// pkiReady is trustReady, except that a node without trust that serves
// the API has a CA of its own to list and revoke certificates of.
func (c *Cluster) pkiReady() error {
	if c.trust == nil && c.api != nil {
		c.mu.Lock()
		started := c.started
		c.mu.Unlock()
		if !started {
			return errors.New("orchestrator: the node is not started")
		}
		return nil
	}
	return c.trustReady()
}

// CreateJoinToken makes a join token: give its Token, with this node's
// RaftAddr, to the node that should join (Config.JoinToken, Config.Join).
// The token carries the fingerprint of the cluster CA, so the new node
// verifies it talks to this cluster before it sends the secret.
//
// Errors: ErrNoTrust; a Role other than RoleServer or RoleAgent, or a
// negative TTL (naming the field); a store error (no leader before ctx
// ends).
func (c *Cluster) CreateJoinToken(ctx context.Context, opts JoinTokenOptions) (JoinToken, error) {
	if err := c.trustReady(); err != nil {
		return JoinToken{}, err
	}
	return c.createToken(ctx, opts)
}

func (c *Cluster) createToken(ctx context.Context, opts JoinTokenOptions) (JoinToken, error) {
	role := opts.Role
	if role == "" {
		role = RoleServer
	}
	if role != RoleServer && role != RoleAgent {
		return JoinToken{}, fmt.Errorf("orchestrator: JoinTokenOptions.Role: %q: want %q or %q", opts.Role, RoleServer, RoleAgent)
	}
	if opts.TTL < 0 {
		return JoinToken{}, fmt.Errorf("orchestrator: JoinTokenOptions.TTL: %v is negative", opts.TTL)
	}
	ttl := opts.TTL
	if ttl == 0 {
		ttl = 24 * time.Hour
	}
	if err := c.ensureCA(ctx); err != nil {
		return JoinToken{}, fmt.Errorf("orchestrator: join token: %w", err)
	}
	c.trust.mu.Lock()
	fp := c.trust.fingerprint
	c.trust.mu.Unlock()
	tok, err := trust.NewToken(fp)
	if err != nil {
		return JoinToken{}, err
	}
	now := time.Now().UTC()
	rec := trust.NewTokenRecord(tok, trust.Role(role), now, ttl, opts.Description)
	b, err := json.Marshal(rec)
	if err != nil {
		return JoinToken{}, err
	}
	if _, err := c.store.Create(ctx, prefixTokens+tok.ID, b); err != nil {
		return JoinToken{}, fmt.Errorf("orchestrator: storing the join token: %w", err)
	}
	return JoinToken{ID: tok.ID, Token: tok.String(), Role: role, Created: rec.Created, Expires: rec.Expires, Description: rec.Description}, nil
}

// BootstrapToken returns the join token of role that this node made when
// it founded the cluster with a new CA (valid 24 hours), or "" if it made
// none (it did not found the cluster, its founding has not been stored
// yet, or it restarted since). Make more with CreateJoinToken.
func (c *Cluster) BootstrapToken(role Role) string {
	if c.trust == nil {
		return ""
	}
	c.trust.mu.Lock()
	defer c.trust.mu.Unlock()
	return c.trust.tokens[trust.Role(role)]
}

// JoinTokens lists the cluster's join tokens (without their secrets),
// expired ones included until they are cleaned up an hour after expiry.
//
// Errors: ErrNoTrust; a store error.
func (c *Cluster) JoinTokens(ctx context.Context) ([]JoinToken, error) {
	if err := c.trustReady(); err != nil {
		return nil, err
	}
	kvs, _, err := c.store.List(ctx, prefixTokens)
	if err != nil {
		return nil, err
	}
	out := make([]JoinToken, 0, len(kvs))
	for _, kv := range kvs {
		var rec trust.TokenRecord
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			continue
		}
		out = append(out, JoinToken{ID: rec.ID, Role: Role(rec.Role), Created: rec.Created, Expires: rec.Expires, Description: rec.Description})
	}
	return out, nil
}

// RevokeJoinToken deletes a join token: nodes can no longer join with it
// (nodes that joined with it keep their certificates; revoke those with
// RevokeCertificate).
//
// Errors: ErrNoTrust; an error wrapping raftstore.ErrNotFound for an
// unknown id; a store error.
func (c *Cluster) RevokeJoinToken(ctx context.Context, id string) error {
	if err := c.trustReady(); err != nil {
		return err
	}
	if id == "" || strings.Contains(id, "/") {
		return fmt.Errorf("orchestrator: RevokeJoinToken: id %q is not a token id", id)
	}
	kv, err := c.store.Get(ctx, prefixTokens+id, raftstore.Linearizable())
	if err != nil {
		return fmt.Errorf("orchestrator: join token %q: %w", id, err)
	}
	_, err = c.store.Delete(ctx, kv.Key, kv.ModRevision)
	return err
}

// CertificateInfo describes a certificate the cluster CA issued: a node's,
// or a user's (AdminKubeconfig).
type CertificateInfo struct {
	Serial   string // hexadecimal
	NodeName string // empty for a user's certificate
	Role     Role   // empty for a user's certificate
	User     string // a user certificate's user name (CN); empty for a node's
	Issued   time.Time
	NotAfter time.Time
	Revoked  bool
}

// Certificates lists the certificates the cluster CA issued (nodes',
// renewals included, and users' from AdminKubeconfig), oldest serial first.
//
// Errors: ErrNoTrust (without cluster trust and without the API, which
// brings a CA of its own); a store error.
func (c *Cluster) Certificates(ctx context.Context) ([]CertificateInfo, error) {
	if err := c.pkiReady(); err != nil {
		return nil, err
	}
	kvs, _, err := c.store.List(ctx, prefixIssued)
	if err != nil {
		return nil, err
	}
	revoked, _, err := c.store.List(ctx, prefixRevoked)
	if err != nil {
		return nil, err
	}
	out := make([]CertificateInfo, 0, len(kvs))
	for _, kv := range kvs {
		var rec issuedRecord
		if err := json.Unmarshal(kv.Value, &rec); err != nil {
			continue
		}
		out = append(out, CertificateInfo{Serial: rec.Serial, NodeName: rec.NodeName, Role: Role(rec.Role), User: rec.User, Issued: rec.Issued, NotAfter: rec.NotAfter,
			Revoked: slices.ContainsFunc(revoked, func(kv raftstore.KV) bool { return kv.Key == prefixRevoked+rec.Serial })})
	}
	return out, nil
}

// RevokeCertificate revokes a node certificate by its serial (see
// Certificates): every server refuses connections that present it from
// the moment it has applied the revocation (a Raft write, so within the
// replication delay). A revoked server's node must be removed from the
// cluster, or be given a new identity by joining again with a token.
//
// The same revokes a user's certificate (AdminKubeconfig): the API
// refuses it with 401.
//
// Errors: ErrNoTrust (without cluster trust and without the API); a serial
// that is not hexadecimal or was never issued (naming it); a store error.
func (c *Cluster) RevokeCertificate(ctx context.Context, serial string) error {
	if err := c.pkiReady(); err != nil {
		return err
	}
	n, ok := new(big.Int).SetString(serial, 16)
	if !ok || n.Sign() <= 0 {
		return fmt.Errorf("orchestrator: RevokeCertificate: serial %q is not a hexadecimal serial number", serial)
	}
	serial = n.Text(16)
	if _, err := c.store.Get(ctx, prefixIssued+serial, raftstore.Linearizable()); err != nil {
		return fmt.Errorf("orchestrator: RevokeCertificate: serial %s: %w", serial, err)
	}
	b, _ := json.Marshal(revokedRecord{Serial: serial, Revoked: time.Now().UTC()})
	_, err := c.store.Put(ctx, prefixRevoked+serial, b)
	return err
}

// CAFingerprint returns the fingerprint of the cluster CA's public key
// ("sha256:<hex>", kubeadm's CA hash), or "" before Start or without
// cluster trust.
func (c *Cluster) CAFingerprint() string {
	if c.trust == nil {
		return ""
	}
	c.trust.mu.Lock()
	defer c.trust.mu.Unlock()
	return c.trust.fingerprint
}

// RenewCA renews the cluster CA's certificate with the same key and a new
// validity of ten years: every node trusts the renewed certificate beside
// the old one (until that expires), and every certificate already issued
// stays valid, so nothing is restarted or re-issued.
//
// Errors: ErrNoTrust; a store error.
func (c *Cluster) RenewCA(ctx context.Context) error {
	if err := c.trustReady(); err != nil {
		return err
	}
	kv, err := c.store.Get(ctx, keyCA, raftstore.Linearizable())
	if err != nil {
		return fmt.Errorf("orchestrator: RenewCA: %w", err)
	}
	ca, cas, err := c.storedCA(ctx)
	if err != nil {
		return fmt.Errorf("orchestrator: RenewCA: %w", err)
	}
	renewed, err := ca.Renew(time.Now(), 0)
	if err != nil {
		return fmt.Errorf("orchestrator: RenewCA: %w", err)
	}
	key, err := renewed.KeyPEM()
	if err != nil {
		return err
	}
	b, err := json.Marshal(caRecord{Certs: trust.EncodeCerts(append([]*x509.Certificate{renewed.Cert()}, cas...)...), Key: key})
	if err != nil {
		return err
	}
	_, err = c.store.Update(ctx, keyCA, b, kv.ModRevision)
	return err
}

// RotateGossipKey replaces the cluster's gossip key with a new random one
// while gossip keeps working: every server first installs the new key,
// then encrypts with it, then drops the old one; each step waits until
// every live server has applied the previous (as Consul's keyring
// rotation). A node that was down meanwhile learns the keyring from the
// server it contacts when it starts.
//
// Errors: ErrNoTrust; ctx's error if a live server did not apply a step
// before ctx ended (the rotation can be run again: it starts from the
// stored keyring); a store error.
func (c *Cluster) RotateGossipKey(ctx context.Context) error {
	if err := c.trustReady(); err != nil {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	c.trust.mu.Lock()
	cur := gossipRing{Version: c.trust.ringVersion, Keys: slices.Clone(c.trust.gossip)}
	c.trust.mu.Unlock()
	if kv, err := c.store.Get(ctx, keyGossipRing, raftstore.Linearizable()); err == nil {
		if err := json.Unmarshal(kv.Value, &cur); err != nil {
			return fmt.Errorf("orchestrator: the stored gossip keyring is unreadable: %w", err)
		}
	}
	old := cur.Keys[cur.Primary]
	steps := []gossipRing{
		{Keys: append(slices.Clone(cur.Keys), key), Primary: cur.Primary},
		{Keys: [][]byte{old, key}, Primary: 1},
		{Keys: [][]byte{key}, Primary: 0},
	}
	version := cur.Version
	for _, step := range steps {
		version++
		step.Version = version
		b, err := json.Marshal(step)
		if err != nil {
			return err
		}
		if err := c.putIdempotent(ctx, keyGossipRing, b); err != nil {
			return fmt.Errorf("orchestrator: RotateGossipKey: %w", err)
		}
		if err := c.waitRingAcks(ctx, version); err != nil {
			return err
		}
	}
	return nil
}

// waitRingAcks waits until every live server has acknowledged version.
func (c *Cluster) waitRingAcks(ctx context.Context, version int64) error {
	for {
		var missing []string
		for _, m := range c.gosp.Members() {
			if m.Record.Role != membership.RoleServer || m.Status != membership.StatusAlive {
				continue
			}
			kv, err := c.store.Get(ctx, prefixGossipAcks+m.Name, raftstore.Linearizable())
			var got int64
			if err == nil {
				_ = json.Unmarshal(kv.Value, &got)
			}
			if got < version {
				missing = append(missing, m.Name)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("orchestrator: RotateGossipKey: servers %v did not apply keyring version %d: %w", missing, version, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// RotateEncryptionKey replaces the key that encrypts the cluster state at
// rest while the cluster keeps serving: a new random key becomes the
// primary on every server at the same Raft index, every value is then
// re-encrypted with it, and the old keys are retired from every server's
// key file. It returns the new key's ID. Raft log entries and snapshots
// written before keep the old ciphertext until compaction removes them.
// An old key that still seals a value written during the rotation (or not
// yet re-encrypted on this replica) is kept, and the next rotation retires
// it; EncryptionStatus-style counts are on raftstore.Store.
//
// Errors: ErrNoTrust; a store error (the rotation may be run again).
func (c *Cluster) RotateEncryptionKey(ctx context.Context) (string, error) {
	if err := c.trustReady(); err != nil {
		return "", err
	}
	return c.rotateStoreKey(ctx)
}

// rotateStoreKey makes a new random store key the primary on every server,
// re-encrypts every value with it and retires the keys no value uses any
// more — but only while every Raft server is alive in gossip: a server that
// is away would find the old key retired and could not read a snapshot of
// the new one, so its old keys stay until a later rotation.
func (c *Cluster) rotateStoreKey(ctx context.Context) (string, error) {
	id, err := c.store.RotateEncryptionKey(ctx, raftstore.EncryptionKey{})
	if err != nil {
		return "", fmt.Errorf("orchestrator: RotateEncryptionKey: %w", err)
	}
	if _, err := c.store.Reencrypt(ctx); err != nil {
		return id, fmt.Errorf("orchestrator: RotateEncryptionKey: re-encrypting with %s: %w", id, err)
	}
	servers, err := c.store.Servers(ctx)
	if err != nil {
		return id, fmt.Errorf("orchestrator: RotateEncryptionKey: %w", err)
	}
	for _, s := range servers {
		if s.ID != c.cfg.NodeName && !c.gossipAlive(s.ID) {
			c.log.Warn("store key rotated; old keys not retired while a server is away", zap.String("key", id), zap.String("away", s.ID))
			return id, nil
		}
	}
	for _, k := range c.store.EncryptionStatus().Keys {
		if k.ID == id || k.Values > 0 {
			continue
		}
		err := c.store.RetireEncryptionKey(ctx, k.ID)
		if errors.Is(err, raftstore.ErrKeyInUse) {
			// A write sealed with it before this node's status showed
			// (this replica lags the leader, or a write was in flight
			// during Reencrypt): the key stays, and the next rotation
			// retires it.
			c.log.Info("store key rotated; an old key still seals values and stays", zap.String("key", id), zap.String("old", k.ID), zap.Error(err))
			continue
		}
		if err != nil {
			return id, fmt.Errorf("orchestrator: RotateEncryptionKey: retiring %s: %w", k.ID, err)
		}
	}
	return id, nil
}

// putIdempotent writes a value whose write may be repeated: through a
// leader change (no leader yet, or an outcome unknown) it writes again
// until it is acknowledged or ctx ends.
func (c *Cluster) putIdempotent(ctx context.Context, key string, value []byte) error {
	for backoff := 20 * time.Millisecond; ; backoff = min(2*backoff, time.Second) {
		_, err := c.store.Put(ctx, key, value)
		if err == nil || !(errors.Is(err, raftstore.ErrUnknownOutcome) || errors.Is(err, raftstore.ErrNoLeader)) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%w)", err, ctx.Err())
		case <-time.After(backoff):
		}
	}
}
