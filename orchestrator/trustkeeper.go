package orchestrator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
)

// keepTrust runs while the node runs: it puts a founder's CA into the store
// and makes the first join tokens, follows the trust state in the store
// (trusted CAs, revoked serials, gossip keyring), renews this node's
// certificate before it expires and drops long-expired join tokens.
func (c *Cluster) keepTrust(ctx context.Context) {
	ts := c.trust
	if ts.foundCA != nil {
		c.retry(ctx, "storing the cluster CA", c.storeFoundCA)
	}
	renew := time.NewTicker(c.renewCheckInterval())
	defer renew.Stop()
	c.followStore(ctx, prefixTrust, time.Second, renew.C, followFuncs{
		listed: func(ctx context.Context) {
			c.refreshTrust(ctx)
			c.renewIfDue(ctx)
		},
		changed: c.refreshTrust,
		tick: func(ctx context.Context) {
			c.renewIfDue(ctx)
			c.dropExpiredTokens(ctx)
		},
	})
}

// followFuncs are what followStore calls.
type followFuncs struct {
	listed, changed, tick func(context.Context)
}

// followStore follows the keys under prefix until ctx ends: f.listed once
// they are listed, f.changed after each batch of changes (one call covers
// every change that arrived meanwhile) and f.tick on every tick. When the
// watch ends it lists and watches again, waiting retry after a failure.
func (c *Cluster) followStore(ctx context.Context, prefix string, retry time.Duration, tick <-chan time.Time, f followFuncs) {
	for ctx.Err() == nil {
		_, rev, err := c.store.List(ctx, prefix)
		if err != nil {
			if !c.sleep(ctx, retry) {
				return
			}
			continue
		}
		f.listed(ctx)
		w, err := c.store.Watch(ctx, prefix, rev)
		if err != nil {
			if !c.sleep(ctx, retry) {
				return
			}
			continue
		}
		c.followWatch(ctx, w, tick, f)
		w.Stop()
	}
}

// followWatch is followStore's part for one watch.
func (c *Cluster) followWatch(ctx context.Context, w *raftstore.Watcher, tick <-chan time.Time, f followFuncs) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-w.Events():
			if !ok {
				return
			}
			// Drain what else arrived: one call covers them all.
			for drained := false; !drained; {
				select {
				case _, ok := <-w.Events():
					if !ok {
						f.changed(ctx)
						return
					}
				default:
					drained = true
				}
			}
			f.changed(ctx)
		case <-tick:
			f.tick(ctx)
		}
	}
}

func (c *Cluster) renewCheckInterval() time.Duration {
	return min(time.Hour, max(time.Second, c.cfg.CertificateValidity/20))
}

func (c *Cluster) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// retry runs f until it succeeds or ctx ends, logging failures at Debug
// first and at Warn once they persist.
func (c *Cluster) retry(ctx context.Context, what string, f func(context.Context) error) {
	start := time.Now()
	for backoff := 50 * time.Millisecond; ctx.Err() == nil; backoff = min(2*backoff, 2*time.Second) {
		err := f(ctx)
		if err == nil {
			return
		}
		if time.Since(start) > 10*time.Second {
			c.log.Warn(what+" keeps failing; retrying", zap.Error(err))
			start = time.Now()
		} else {
			c.log.Debug(what+" failed; retrying", zap.Error(err))
		}
		if !c.sleep(ctx, backoff) {
			return
		}
	}
}

// storeFoundCA puts a founder's CA into the store unless one is there; the
// founder that made a new CA also makes the first join tokens.
func (c *Cluster) storeFoundCA(ctx context.Context) error {
	if err := c.ensureCA(ctx); err != nil {
		return err
	}
	if !c.trust.madeCA {
		return nil
	}
	for _, role := range []trust.Role{trust.RoleServer, trust.RoleAgent} {
		c.trust.mu.Lock()
		made := c.trust.tokens[role] != ""
		c.trust.mu.Unlock()
		if made {
			continue
		}
		tok, err := c.createToken(ctx, JoinTokenOptions{Role: Role(role), TTL: 24 * time.Hour, Description: "made when the cluster was founded"})
		if err != nil {
			return err
		}
		c.trust.mu.Lock()
		c.trust.tokens[role] = tok.Token
		c.trust.mu.Unlock()
		c.log.Info("join token made (Cluster.BootstrapToken returns it; only its hash is stored)",
			zap.String("role", string(role)), zap.String("id", tok.ID), zap.Time("expires", tok.Expires))
	}
	return nil
}

// ensureCA makes sure the cluster CA is in the store: a founder puts its
// own there unless one is (another founder with the same given CA, or an
// earlier start), recording its own certificate; any other node checks
// that it is there. Join tokens are made only then, so that a node that
// uses one finds a CA to issue its certificate.
func (c *Cluster) ensureCA(ctx context.Context) error {
	ts := c.trust
	ts.caMu.Lock()
	defer ts.caMu.Unlock()
	if ts.caStored {
		return nil
	}
	if ca := ts.foundCA; ca != nil {
		key, err := ca.KeyPEM()
		if err != nil {
			return err
		}
		rec, err := json.Marshal(caRecord{Certs: ca.CertPEM(), Key: key})
		if err != nil {
			return err
		}
		_, err = c.store.Create(ctx, keyCA, rec)
		switch {
		case err == nil:
			c.log.Info("cluster CA stored", zap.String("ca", ca.Fingerprint()))
			if err := c.recordIssued(ctx, ts.creds.Certificate(), trust.RoleServer); err != nil {
				return err
			}
		case errors.Is(err, raftstore.ErrAlreadyExists):
		default:
			return err
		}
	} else if _, err := c.store.Get(ctx, keyCA, raftstore.Linearizable()); err != nil {
		return fmt.Errorf("the cluster CA is not in the store yet: %w", err)
	}
	ts.caStored = true
	return nil
}

// refreshTrust applies the store's trust state to this node: the trusted
// CAs, the revoked serials and the gossip keyring.
func (c *Cluster) refreshTrust(ctx context.Context) {
	ts := c.trust
	if kv, err := c.store.Get(ctx, keyCA); err == nil {
		var rec caRecord
		if json.Unmarshal(kv.Value, &rec) == nil {
			if cas, err := trust.ParseCerts(rec.Certs); err == nil && len(cas) > 0 {
				// Expired CA certificates are dropped, unless that would
				// leave none (then nothing verifies either way, and the
				// error names the expiry).
				now := time.Now()
				if live := slices.DeleteFunc(slices.Clone(cas), func(ca *x509Cert) bool { return now.After(ca.NotAfter) }); len(live) > 0 {
					cas = live
				}
				ts.pool.SetCAs(cas...)
				if ts.dir != "" {
					if err := writeFileAtomic(ts.path(fileCAs), trust.EncodeCerts(cas...)); err != nil {
						c.log.Warn("saving the trusted CAs failed", zap.Error(err))
					}
				}
			}
		}
	}
	if kvs, _, err := c.store.List(ctx, prefixRevoked); err == nil {
		serials := make([]*big.Int, 0, len(kvs))
		for _, kv := range kvs {
			if n, ok := new(big.Int).SetString(strings.TrimPrefix(kv.Key, prefixRevoked), 16); ok {
				serials = append(serials, n)
			}
		}
		ts.pool.SetRevoked(serials)
	} else {
		c.log.Warn("reading revoked certificates failed", zap.Error(err))
	}
	if kv, err := c.store.Get(ctx, keyGossipRing); err == nil {
		var ring gossipRing
		if err := json.Unmarshal(kv.Value, &ring); err == nil {
			if c.adoptRing(ring) {
				c.ackRing(ctx, ring.Version)
			}
		}
	}
}

// adoptRing makes ring this node's gossip keyring (if it is newer): every
// key installed, the primary used, the others removed; saved to DataDir. It
// reports whether this node now holds ring's version.
func (c *Cluster) adoptRing(ring gossipRing) bool {
	ts := c.trust
	if len(ring.Keys) == 0 || ring.Primary < 0 || ring.Primary >= len(ring.Keys) {
		return false
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ring.Version < ts.ringVersion {
		return false
	}
	if ring.Version == ts.ringVersion && ring.Version > 0 {
		return true
	}
	ordered := append([][]byte{ring.Keys[ring.Primary]}, slices.Delete(slices.Clone(ring.Keys), ring.Primary, ring.Primary+1)...)
	c.mu.Lock()
	g := c.gosp
	c.mu.Unlock()
	if g != nil {
		for _, k := range ordered {
			if err := g.InstallKey(k); err != nil {
				c.log.Warn("installing a gossip key failed", zap.Error(err))
				return false
			}
		}
		if err := g.UseKey(ordered[0]); err != nil {
			c.log.Warn("using the new gossip key failed", zap.Error(err))
			return false
		}
		for _, k := range ts.gossip {
			if !slices.ContainsFunc(ordered, func(x []byte) bool { return string(x) == string(k) }) {
				if err := g.RemoveKey(k); err != nil {
					c.log.Warn("removing an old gossip key failed", zap.Error(err))
				}
			}
		}
	}
	ts.gossip, ts.ringVersion = ordered, ring.Version
	if ts.dir != "" {
		if b, err := json.Marshal(ordered); err == nil {
			if err := writeFileAtomic(ts.path(fileGossipKeys), b); err != nil {
				c.log.Warn("saving the gossip keys failed", zap.Error(err))
			}
		}
	}
	c.log.Info("gossip keyring applied", zap.Int64("version", ring.Version), zap.Int("keys", len(ordered)))
	return true
}

func (c *Cluster) ackRing(ctx context.Context, version int64) {
	b, _ := json.Marshal(version)
	if err := c.putIdempotent(ctx, prefixGossipAcks+c.cfg.NodeName, b); err != nil {
		c.log.Debug("acknowledging the gossip keyring failed", zap.Error(err))
	}
}

// renewIfDue gives this server a new key and certificate once two thirds
// of its certificate's lifetime have passed (servers hold the CA key in
// their store, so they renew themselves).
func (c *Cluster) renewIfDue(ctx context.Context) {
	cert := c.trust.creds.Certificate()
	if cert == nil {
		return
	}
	// Certificates are backdated for clock skew: the lifetime counts from
	// the issue.
	issued := cert.NotBefore.Add(trust.Backdate)
	life := cert.NotAfter.Sub(issued)
	if time.Now().Before(issued.Add(life * 2 / 3)) {
		return
	}
	if err := c.renewCertificate(ctx); err != nil {
		c.log.Warn("renewing this node's certificate failed; will retry", zap.Time("expires", cert.NotAfter), zap.Error(err))
	}
}

func (c *Cluster) renewCertificate(ctx context.Context) error {
	ca, cas, err := c.storedCA(ctx)
	if err != nil {
		return err
	}
	key, err := trust.NewKey()
	if err != nil {
		return err
	}
	cert, err := ca.Issue(c.issueRequest(trust.RoleServer, key.Public(), time.Now()))
	if err != nil {
		return err
	}
	if err := c.recordIssued(ctx, cert, trust.RoleServer); err != nil {
		return err
	}
	if err := c.trust.creds.Set(key, cert); err != nil {
		return err
	}
	if err := c.saveTrust(key, cert, cas); err != nil {
		return err
	}
	c.log.Info("node certificate renewed", zap.String("serial", serialHex(cert)), zap.Time("expires", cert.NotAfter))
	return nil
}

// dropExpiredTokens deletes join tokens expired for more than an hour (on
// the leader only).
func (c *Cluster) dropExpiredTokens(ctx context.Context) {
	if !c.store.IsLeader() {
		return
	}
	kvs, _, err := c.store.List(ctx, prefixTokens)
	if err != nil {
		return
	}
	for _, kv := range kvs {
		var rec trust.TokenRecord
		if json.Unmarshal(kv.Value, &rec) == nil && !rec.Expires.IsZero() && time.Since(rec.Expires) > time.Hour {
			_, _ = c.store.Delete(ctx, kv.Key, kv.ModRevision)
		}
	}
}
