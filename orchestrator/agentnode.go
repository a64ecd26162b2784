package orchestrator

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/flotilla-io/flotilla/internal/ratelog"
	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/client/remote"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
)

// Agent-only nodes (Config.Role RoleAgent): what this file does.
//
// An agent-only node holds no cluster state. It gets its credentials with
// an agent join token from a server's cluster port (the join service),
// asks a server for the gossip addresses and keyring (the discovery
// service, over mutual TLS with its node certificate), joins gossip as an
// agent (Autopilot adds only servers to Raft), and runs the agent with the
// remote client: the Kubernetes API of the live servers that advertise an
// API address in their gossip records, authenticated by the node
// certificate (which the servers' node authorizer confines to this node's
// own Node, Pods and Events). The server list follows gossip: servers
// that come are added, servers that leave or fail are dropped.

// agentOnly is the state of an agent-only node.
type agentOnly struct {
	api *serverClient
	// warn logs conditions that may persist, rate-limited.
	warn *ratelog.Limiter
	// logLn is the log listener (agentlogs.go), set by Start under
	// Cluster.mu; stop closes it.
	logLn net.Listener
}

// newAgentOnly sets up an agent-only node in New: no store, no registry.
func (c *Cluster) newAgentOnly() *Cluster {
	c.trust = newTrustState(c.cfg.DataDir)
	c.agentOnly = &agentOnly{api: &serverClient{scheme: api.DefaultScheme(), build: c.newRemoteClient},
		warn: ratelog.New(c.log, ratelog.DefaultInterval)}
	return c
}

// startAgentOnly is Start for an agent-only node, after the metrics are
// registered.
func (c *Cluster) startAgentOnly(ctx context.Context) error {
	if err := c.prepareAgentTrust(ctx); err != nil {
		return err
	}
	gossipJoin, err := c.discover(ctx, c.cfg.Join)
	if err != nil {
		return err
	}
	c.cfg.GossipKeys = c.trust.gossipKeys() // discovery may have brought a newer keyring
	c.cfg.Capacity = c.cfg.detectCapacity(c.log)
	if err := c.listenLogs(); err != nil {
		return err
	}
	gc := c.cfg.gossipConfig("", gossipJoin, c.cfg.Logger)
	gc.Record.RPCAddr = c.logRecordAddr()
	gosp, err := c.startGossip(ctx, gc)
	if err != nil {
		return err
	}
	if err := c.advertiseLogs(ctx); err != nil {
		return err
	}
	c.followServers()

	runCtx, cancel := context.WithCancelCause(context.Background())
	c.mu.Lock()
	c.cancel = cancel
	c.mu.Unlock()
	c.wg.Go(func() { c.watchServers(runCtx) })
	c.wg.Go(func() { c.serveAgentLogs(runCtx) })
	cl := c.agentOnly.api
	if err := c.startDNS(ctx, cl); err != nil {
		return err
	}
	a := c.newAgent(cl, gosp.Addr())
	c.wg.Go(func() { a.Run(runCtx) })
	c.log.Info("agent-only node started", zap.String("gossip", gosp.Addr()), zap.Strings("apiServers", cl.serverList()))
	return nil
}

// prepareAgentTrust loads the node's credentials from DataDir or obtains
// them with the agent join token.
func (c *Cluster) prepareAgentTrust(ctx context.Context) error {
	ts := c.trust
	loaded, err := c.loadTrust()
	if err != nil {
		return err
	}
	switch {
	case loaded:
		if id, err := trust.IdentityOf(ts.creds.Certificate()); err != nil || id.Role != trust.RoleAgent || id.NodeName != c.cfg.NodeName {
			return fmt.Errorf("orchestrator: the credentials in DataDir %q are not an agent certificate for node %q (%v): "+
				"an agent-only node needs its own DataDir", c.cfg.DataDir, c.cfg.NodeName, describeIdentity(id, err))
		}
		c.log.Info("cluster credentials loaded", zap.String("dir", ts.dir), zap.String("ca", ts.fingerprint))
	case c.cfg.JoinToken != "":
		if err := c.joinWithToken(ctx, trust.RoleAgent); err != nil {
			return err
		}
	default:
		return fmt.Errorf("orchestrator: Config.JoinToken: required: this agent-only node has no cluster credentials (none in DataDir %q); "+
			"create an agent token on a server with Cluster.CreateJoinToken and pass it with the servers' addresses in Config.Join", c.cfg.DataDir)
	}
	c.cfg.GossipKeys = ts.gossipKeys()
	return nil
}

func describeIdentity(id trust.Identity, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("%s %q", id.Role, id.NodeName)
}

// newRemoteClient is serverClient's build function: the remote client of
// servers, authenticated by this node's certificate.
func (c *Cluster) newRemoteClient(servers []string) (remoteClient, error) {
	roots := x509.NewCertPool()
	for _, ca := range c.trust.pool.CAs() {
		roots.AddCert(ca)
	}
	return remote.New(remote.Config{
		Servers: servers, RootCAs: roots, Certificate: c.trust.creds.TLSCertificate(),
		UserAgent: "flotilla-agent/" + c.cfg.NodeName, Logger: c.log.Named("remote"),
	})
}

// followServers points the node's API client at the servers gossip knows
// now. When gossip knows none (this node cut off from gossip, say by a
// gossip key it has not learnt yet), it keeps the last servers: they may
// well still answer, and the remote client tries each.
func (c *Cluster) followServers() {
	var servers []string
	for _, s := range c.apiServers() {
		if s.url != "" {
			servers = append(servers, s.url)
		}
	}
	before := c.agentOnly.api.serverList()
	if len(servers) == 0 && len(before) > 0 {
		c.agentOnly.warn.Warn("no-servers", "gossip knows no live API server; keeping the last ones", zap.Strings("servers", before))
		return
	}
	if err := c.agentOnly.api.setServers(servers); err != nil {
		c.log.Error("API servers from gossip refused", zap.Strings("servers", servers), zap.Error(err))
		return
	}
	if after := c.agentOnly.api.serverList(); !slices.Equal(before, after) {
		c.log.Info("API servers changed", zap.Strings("servers", after))
	}
}

// watchServers follows gossip: it re-reads the API servers on every
// membership event (and every few heartbeats, since events may be
// dropped). Every ten heartbeats it also asks a server's discovery service
// for the gossip keyring: servers rotate it among themselves
// (RotateGossipKey waits for servers only), and an agent that missed the
// new key would be cut off from gossip.
func (c *Cluster) watchServers(ctx context.Context) {
	recheck := time.NewTicker(5 * c.timing.HeartbeatInterval)
	defer recheck.Stop()
	ring := time.NewTicker(10 * c.timing.HeartbeatInterval)
	defer ring.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.gosp.Events():
		case <-recheck.C:
		case <-ring.C:
			c.refreshRing(ctx)
		}
		c.followServers()
	}
}

// refreshRing adopts the gossip keyring of the first server that answers
// the discovery service (servers in gossip, then Config.Join). After a
// newer keyring it joins gossip again through the live members the server
// names, so that a node cut off by a key change is merged back at once.
func (c *Cluster) refreshRing(ctx context.Context) {
	var addrs []string
	for _, m := range c.gosp.Members() {
		if m.Status == membership.StatusAlive && m.Record.Role == membership.RoleServer && m.Record.RPCAddr != "" {
			addrs = append(addrs, m.Record.RPCAddr)
		}
	}
	for _, addr := range append(addrs, c.cfg.Join...) {
		resp, _, err := c.discoverAt(ctx, addr)
		if err != nil {
			c.log.Debug("gossip keyring refresh failed", zap.String("server", addr), zap.Error(err))
			continue
		}
		if len(resp.Ring.Keys) == 0 {
			return
		}
		if c.sameRing(resp.Ring) || !c.adoptRing(resp.Ring) || len(resp.GossipAddrs) == 0 {
			return
		}
		if err := c.gosp.Join(ctx, resp.GossipAddrs...); err != nil {
			// Typically other agents that have not learnt the key yet.
			c.log.Info("joining gossip again after a keyring change: not every member answered", zap.Error(err))
		}
		return
	}
}

// sameRing reports whether ring is the keyring this node has already.
func (c *Cluster) sameRing(ring gossipRing) bool {
	if ring.Primary < 0 || ring.Primary >= len(ring.Keys) {
		return true // malformed: nothing to adopt
	}
	c.trust.mu.Lock()
	defer c.trust.mu.Unlock()
	cur := c.trust.gossip
	return ring.Version <= c.trust.ringVersion && len(cur) == len(ring.Keys) && len(cur) > 0 &&
		string(cur[0]) == string(ring.Keys[ring.Primary])
}

// dialService opens a connection to the service svc on the cluster port
// at addr: through the store on a server; with this node's certificate
// over mutual TLS on an agent-only node.
func (c *Cluster) dialService(ctx context.Context, addr string, svc byte) (net.Conn, error) {
	if c.store != nil {
		return c.store.Dial(ctx, addr, svc)
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	tc := tls.Client(raw, trust.ClientConfig(c.trust.creds, c.trust.pool, "", time.Now))
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
	}
	if err := raftstore.SelectService(tc, svc); err != nil {
		tc.Close()
		return nil, err
	}
	_ = raw.SetDeadline(time.Time{})
	return tc, nil
}

// ErrAgentOnly is returned on an agent-only node (Config.Role RoleAgent)
// by the operations that need the cluster state and its CA, which only
// servers hold: CreateJoinToken, JoinTokens, RevokeJoinToken,
// Certificates, RevokeCertificate, RenewCA, RotateGossipKey and
// RotateEncryptionKey. Call them on a server. It wraps
// errors.ErrUnsupported.
var ErrAgentOnly = fmt.Errorf("orchestrator: an agent-only node (Config.Role agent) holds no cluster state: call this on a server: %w", errors.ErrUnsupported)

// validateAgentOnly reports what an agent-only node's Config must not
// have, or lacks.
func (c Config) validateAgentOnly() []error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("orchestrator: Config.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.DisableAgent {
		bad("DisableAgent", "an agent node without its agent would run nothing")
	}
	if c.networks != nil {
		bad("Role", "%q nodes reach the servers over the HTTPS API with cluster trust: in-memory test networks have neither (use real sockets: orchestratortest.WithTLS)", RoleAgent)
	}
	if len(c.Join) == 0 {
		bad("Join", "required for a %q node: the cluster addresses (Cluster.RaftAddr) of one or more servers", RoleAgent)
	}
	if c.JoinToken == "" && c.DataDir == "" && c.networks == nil {
		bad("JoinToken", "required for a %q node without a DataDir holding its credentials: an agent token from Cluster.CreateJoinToken", RoleAgent)
	}
	if c.BootstrapExpect != 0 {
		bad("BootstrapExpect", "must be 0 for a %q node: only servers found a cluster", RoleAgent)
	}
	if len(c.BootstrapServers) > 0 {
		bad("BootstrapServers", "must be empty for a %q node: only servers found a cluster", RoleAgent)
	}
	return errs
}

// validateLogAddress checks Config.LogAddress.
func (c Config) validateLogAddress() error {
	if c.LogAddress == "" {
		return nil
	}
	if c.Role != RoleAgent {
		return fmt.Errorf("orchestrator: Config.LogAddress: only %q nodes use it: servers serve logs on their cluster port", RoleAgent)
	}
	if _, port, err := net.SplitHostPort(c.LogAddress); err != nil {
		return fmt.Errorf("orchestrator: Config.LogAddress: %q: want host:port: %v", c.LogAddress, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("orchestrator: Config.LogAddress: %q: port %q is not a number from 0 to 65535", c.LogAddress, port)
	}
	return nil
}

// close releases what Start opened for the agent-only node once its
// goroutines have stopped: the remote clients' connections and the log
// listener (if Start failed before serving it).
func (c *Cluster) closeAgentOnly() {
	c.agentOnly.api.close()
	c.mu.Lock()
	ln := c.agentOnly.logLn
	c.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
}
