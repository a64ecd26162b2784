package orchestrator_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/trust"
	"github.com/flotilla-io/flotilla/orchestrator/orchestratortest"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// tlsCluster starts a default-secure test cluster of n nodes on real
// loopback sockets whose founder uses ca (so the test can mint
// certificates of its own, as an attacker who stole nothing cannot).
func tlsCluster(t *testing.T, n int, ca *orchestrator.ClusterCA, opts ...orchestratortest.Option) *orchestratortest.TestCluster {
	t.Helper()
	opts = append([]orchestratortest.Option{orchestratortest.WithTLS(),
		orchestratortest.WithLogger(zaptest.NewLogger(t, zaptest.Level(zap.ErrorLevel))),
		orchestratortest.WithConfig(func(i int, cfg *orchestrator.Config) {
			if i == 0 {
				cfg.ClusterCA = ca
			}
		})}, opts...)
	return orchestratortest.NewCluster(t, n, opts...)
}

func mustCA(t *testing.T) (*orchestrator.ClusterCA, *trust.CA) {
	t.Helper()
	// Made three hours ago, so the test can mint an expired certificate.
	ca, err := trust.NewCA(time.Now().Add(-3*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ca.KeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	return &orchestrator.ClusterCA{CertPEM: ca.CertPEM(), KeyPEM: key}, ca
}

// mint issues a certificate from ca for name and role, valid from notBefore
// for validity, and returns it as a TLS client certificate.
func mint(t *testing.T, ca *trust.CA, name string, role trust.Role, notBefore time.Time, validity time.Duration) tls.Certificate {
	t.Helper()
	key, err := trust.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue(trust.IssueRequest{Identity: trust.Identity{NodeName: name, Role: role}, PublicKey: key.Public(),
		DNSNames: []string{name}, IPs: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: notBefore, Validity: validity})
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
}

// leaderOf waits for a leader (an election may be under way) and returns
// its index.
func leaderOf(t *testing.T, c *orchestratortest.TestCluster) int {
	t.Helper()
	leader := -1
	c.Eventually(20*time.Second, "a leader", func() bool { leader = c.Leader(); return leader >= 0 })
	return leader
}

// refused reports whether the connection was refused: closed by the node
// without an answer, or with one byte that is not raftstore's "accepted"
// (0) and then closed. What every node must do to an unauthenticated peer.
func refused(conn net.Conn) error {
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(conn)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return errors.New("the node held the connection open")
	case len(b) == 0:
		return nil
	case len(b) == 1 && b[0] != 0:
		return nil
	}
	return fmt.Errorf("the node answered %q", b)
}

// forwardFrame is a raw forwarding request as a follower sends it: frame
// length, request id 1, methodWrite, one put op. The attacker needs no
// Flotilla code to write it.
func forwardFrame(key, value string) []byte {
	var req []byte
	req = binary.AppendUvarint(req, 1) // request id
	req = append(req, 1)               // methodWrite
	req = binary.AppendUvarint(req, 1) // one op
	req = append(req, 2, 0)            // put, no flags
	req = binary.AppendUvarint(req, 0) // expected revision
	req = binary.AppendUvarint(req, uint64(len(key)))
	req = append(req, key...)
	req = binary.AppendUvarint(req, uint64(len(value)))
	req = append(req, value...)
	frame := binary.BigEndian.AppendUint32(nil, uint32(len(req)))
	return append(frame, req...)
}

// configMapEverywhere reads the ConfigMap from every running node's own
// replica and returns its data values, joined.
func configMapEverywhere(t *testing.T, c *orchestratortest.TestCluster, name string) []string {
	t.Helper()
	var out []string
	for i := range c.Len() {
		var cm api.ConfigMap
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := c.Node(i).Client().Get(ctx, orchestrator.ObjectKey{Namespace: "default", Name: name}, &cm)
		cancel()
		if err != nil {
			out = append(out, "error: "+err.Error())
			continue
		}
		out = append(out, cm.Data["password"])
	}
	return out
}

// Every attack of issue 12, against a default cluster on real sockets by
// an attacker holding no credentials of the cluster.
func TestAttacksAreRefused(t *testing.T) {
	given, ca := mustCA(t)
	c := tlsCluster(t, 3, given)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "db", Namespace: "default"}, Data: map[string]string{"password": "s3cret-original"}}
	c.Eventually(20*time.Second, "the ConfigMap stored", func() bool {
		err := c.Client().Create(ctx, cm.DeepCopy())
		return err == nil || api.IsAlreadyExists(err)
	})
	leader := leaderOf(t, c)
	leaderAddr := c.Node(leader).RaftAddr()
	follower := (leader + 1) % 3
	key := "/registry/configmaps/default/db"

	t.Run("raw forwarding frame", func(t *testing.T) {
		conn, err := net.Dial("tcp", leaderAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, _ = conn.Write(append([]byte{'F'}, forwardFrame(key, `{"kind":"ConfigMap","data":{"password":"pwned"}}`)...))
		if err := refused(conn); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("forged append entries in plaintext", func(t *testing.T) {
		conn, err := net.Dial("tcp", c.Node(follower).RaftAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		// 'R', then raft's rpcAppendEntries type byte and a msgpack map.
		_, _ = conn.Write([]byte{'R', 0, 0x81, 0xa4, 'T', 'e', 'r', 'm', 0xcd, 0xff, 0xff})
		if err := refused(conn); err != nil {
			t.Fatal(err)
		}
	})

	// TLS with certificates the cluster does not accept: each handshake
	// or the first frame must be refused.
	other, err := trust.NewCA(time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for name, cert := range map[string]tls.Certificate{
		"another CA's server certificate": mint(t, other, "node-9", trust.RoleServer, now, time.Hour),
		"an expired server certificate":   mint(t, ca, "node-9", trust.RoleServer, now.Add(-2*time.Hour), time.Hour),
		"an agent certificate":            mint(t, ca, "node-9", trust.RoleAgent, now, time.Hour),
	} {
		for _, proto := range []byte{'R', 'F'} {
			t.Run(fmt.Sprintf("%s speaking %c", name, proto), func(t *testing.T) {
				conn, err := tls.Dial("tcp", leaderAddr, &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
				if err != nil {
					return // refused in the handshake
				}
				defer conn.Close()
				_, _ = conn.Write([]byte{proto})
				if proto == 'F' {
					_, _ = conn.Write(forwardFrame(key, `{"kind":"ConfigMap","data":{"password":"pwned"}}`))
				}
				if err := refused(conn); err != nil {
					t.Fatal(err)
				}
			})
		}
	}

	t.Run("gossip impostor claiming the server role", func(t *testing.T) {
		// The strongest outsider: it even holds the gossip key (stolen
		// from a data dir), but no certificate.
		keysJSON, err := os.ReadFile(filepath.Join(c.DataDir(0), "trust", "gossip.keys"))
		if err != nil {
			t.Fatal(err)
		}
		var keys [][]byte
		if err := json.Unmarshal(keysJSON, &keys); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		for _, withKey := range []bool{false, true} {
			cfg := membership.FastConfig()
			cfg.NodeName, cfg.BindAddr, cfg.BindPort = fmt.Sprintf("mallory-%v", withKey), "127.0.0.1", 0
			cfg.Join = []string{c.Node(0).GossipAddr()}
			cfg.Record = membership.Record{Role: membership.RoleServer, RPCAddr: ln.Addr().String()}
			if withKey {
				cfg.GossipKeys = keys
			}
			m, err := membership.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			joinFor := 2 * time.Second // enough to show a keyless node never gets in
			if withKey {
				joinFor = 15 * time.Second
			}
			jctx, jcancel := context.WithTimeout(ctx, joinFor)
			err = m.Start(jctx)
			jcancel()
			if !withKey {
				if err == nil {
					t.Error("a node with no gossip key joined encrypted gossip")
				}
				_ = m.Shutdown()
				continue
			}
			if err != nil {
				t.Fatalf("with the stolen key the impostor should reach gossip (to test Autopilot): %v", err)
			}
			// Autopilot (StableTime 500 ms in TestTiming) must never make it
			// a Raft server.
			deadline := time.Now().Add(4 * time.Second)
			for time.Now().Before(deadline) {
				for i := range c.Len() {
					for _, s := range c.Node(i).RaftState().Servers {
						if strings.HasPrefix(s.ID, "mallory") {
							t.Fatalf("Autopilot added the impostor to Raft (node-%d's configuration): %+v", i, s)
						}
					}
				}
				time.Sleep(50 * time.Millisecond)
			}
			_ = m.Shutdown()
		}
	})

	t.Run("data unchanged on every replica", func(t *testing.T) {
		for i, v := range configMapEverywhere(t, c, "db") {
			if v != "s3cret-original" {
				t.Errorf("node-%d holds %q", i, v)
			}
		}
		for i := range c.Len() {
			if n := len(c.Node(i).RaftState().Servers); n != 3 {
				t.Errorf("node-%d's Raft configuration has %d servers, want 3", i, n)
			}
		}
	})
}

// A revoked certificate is refused from the next connection on, and a
// certificate issued by the CA for the server role is accepted until then.
func TestRevokedCertificateIsRefused(t *testing.T) {
	given, _ := mustCA(t)
	c := tlsCluster(t, 1, given)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A certificate the cluster issued (through a join with a server
	// token, as a real node gets one).
	tok, err := c.Node(0).CreateJoinToken(ctx, orchestrator.JoinTokenOptions{Role: orchestrator.RoleServer})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := trust.ParseToken(tok.Token)
	if err != nil {
		t.Fatal(err)
	}
	key, err := trust.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	resp, _, err := trust.JoinService(ctx, c.Node(0).RaftAddr(), func(conn net.Conn) error { return raftstore.SelectService(conn, 'J') }, parsed, key, trust.JoinRequest{NodeName: "trent", Role: trust.RoleServer})
	if err != nil {
		t.Fatal(err)
	}
	certs, err := trust.ParseCerts(resp.Certificate)
	if err != nil {
		t.Fatal(err)
	}

	cert := tls.Certificate{Certificate: [][]byte{certs[0].Raw}, PrivateKey: key, Leaf: certs[0]}
	discover := func() error {
		conn, err := tls.Dial("tcp", c.Node(0).RaftAddr(), &tls.Config{Certificates: []tls.Certificate{cert}, InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
		if err != nil {
			return err
		}
		defer conn.Close()
		if _, err := conn.Write([]byte{'D'}); err != nil {
			return err
		}
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadFull(conn, make([]byte, 4))
		return err
	}
	if err := discover(); err != nil {
		t.Fatalf("a certificate the cluster issued was refused: %v", err)
	}
	// Revoked by its serial as an operator would type it: with a leading
	// zero (the listing's form has none), in upper case.
	if err := c.Node(0).RevokeCertificate(ctx, "0"+strings.ToUpper(certs[0].SerialNumber.Text(16))); err != nil {
		t.Fatal(err)
	}
	c.Eventually(10*time.Second, "the revoked certificate refused", func() bool { return discover() != nil })
	list, err := c.Node(0).Certificates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ci := range list {
		if ci.NodeName == "trent" {
			found = ci.Revoked
		}
	}
	if !found {
		t.Errorf("Certificates does not show trent's certificate as revoked: %+v", list)
	}
}

// Joining needs a valid token of the right role whose CA fingerprint is
// the cluster's; every refusal says why.
func TestJoinTokens(t *testing.T) {
	c := tlsCluster(t, 1, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	founder := c.Node(0)
	c.Eventually(10*time.Second, "the founder's bootstrap tokens", func() bool {
		return founder.BootstrapToken(orchestrator.RoleServer) != "" && founder.BootstrapToken(orchestrator.RoleAgent) != ""
	})
	good, err := founder.CreateJoinToken(ctx, orchestrator.JoinTokenOptions{Description: "for node-1"})
	if err != nil {
		t.Fatal(err)
	}
	agentTok, err := founder.CreateJoinToken(ctx, orchestrator.JoinTokenOptions{Role: orchestrator.RoleAgent})
	if err != nil {
		t.Fatal(err)
	}
	short, err := founder.CreateJoinToken(ctx, orchestrator.JoinTokenOptions{TTL: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := founder.CreateJoinToken(ctx, orchestrator.JoinTokenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := founder.RevokeJoinToken(ctx, revoked.ID); err != nil {
		t.Fatal(err)
	}
	otherCA, err := trust.NewCA(time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := trust.ParseToken(good.Token)
	if err != nil {
		t.Fatal(err)
	}
	wrongFP := parsed
	wrongFP.CAFingerprint = otherCA.Fingerprint()
	wrongSecret := parsed
	wrongSecret.Secret = strings.Repeat("a", len(parsed.Secret))
	time.Sleep(10 * time.Millisecond) // short has expired

	join := []string{founder.RaftAddr()}
	for name, tc := range map[string]struct {
		token string
		want  string
	}{
		"wrong secret":          {wrongSecret.String(), "secret"},
		"expired":               {short.Token, "expired"},
		"revoked":               {revoked.Token, "unknown join token"},
		"agent token":           {agentTok.Token, "agent"},
		"CA fingerprint":        {wrongFP.String(), "fingerprint"},
		"no token and no state": {"", "JoinToken"},
	} {
		t.Run(name, func(t *testing.T) {
			n := newNode(t, nil, "intruder", func(cfg *orchestrator.Config) { cfg.Join, cfg.JoinToken = join, tc.token })
			sctx, scancel := context.WithTimeout(ctx, 5*time.Second)
			defer scancel()
			err := n.Start(sctx)
			if err == nil {
				t.Fatal("joined")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error does not say %q: %v", tc.want, err)
			}
			if strings.Contains(err.Error(), parsed.Secret) {
				t.Fatalf("error echoes the secret: %v", err)
			}
		})
	}
	list, err := founder.JoinTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range list {
		if tok.Token != "" {
			t.Errorf("JoinTokens shows a secret: %+v", tok)
		}
		if tok.ID == revoked.ID {
			t.Errorf("revoked token still listed")
		}
	}

	// The good token joins a server, which becomes a voter.
	n := newNode(t, nil, "node-1", func(cfg *orchestrator.Config) {
		cfg.Join, cfg.JoinToken, cfg.DataDir = join, good.Token, t.TempDir()
	})
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c.Eventually(20*time.Second, "node-1 a voter", func() bool {
		for _, s := range founder.RaftState().Servers {
			if s.ID == "node-1" {
				return true
			}
		}
		return false
	})
	if n.CAFingerprint() != founder.CAFingerprint() {
		t.Errorf("fingerprints differ: %s vs %s", n.CAFingerprint(), founder.CAFingerprint())
	}
}

// Rotations while the cluster serves writes: gossip key, store key, CA
// renewal and node certificate renewal; nothing acknowledged is lost, the
// data dirs never hold the values in plaintext, and the whole cluster
// restarts from its data dirs afterwards.
func TestRotationsWhileServing(t *testing.T) {
	c := tlsCluster(t, 3, nil, orchestratortest.WithConfig(func(i int, cfg *orchestrator.Config) {
		cfg.CertificateValidity = 15 * time.Second
	}))
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	const marker = "plaintext-marker-7f3a"
	var (
		mu    sync.Mutex
		acked []string
		stop  atomic.Bool
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; !stop.Load(); i++ {
			name := fmt.Sprintf("cm-%d", i)
			cm := &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: name, Namespace: "default"}, Data: map[string]string{"password": marker}}
			wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
			err := c.Node(i%3).Client().Create(wctx, cm)
			wcancel()
			if err == nil {
				mu.Lock()
				acked = append(acked, name)
				mu.Unlock()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	leader := c.Node(leaderOf(t, c))
	before, err := leader.Certificates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Each rotation may be run again (their docs say so): a leader change
	// on this loaded machine may leave a step's outcome unknown.
	again := func(what string, f func() error) {
		t.Helper()
		var err error
		for range 3 {
			if err = f(); err == nil || !(errors.Is(err, raftstore.ErrUnknownOutcome) || errors.Is(err, raftstore.ErrNoLeader) || errors.Is(err, raftstore.ErrConflict)) {
				break
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	again("gossip key rotation", func() error { return leader.RotateGossipKey(ctx) })
	again("store key rotation", func() error { _, err := leader.RotateEncryptionKey(ctx); return err })
	again("CA renewal", func() error { return leader.RenewCA(ctx) })
	// Node certificates (15 s) renew themselves after 10 s.
	c.Eventually(40*time.Second, "every node's certificate renewed", func() bool {
		list, err := leader.Certificates(ctx)
		if err != nil {
			return false
		}
		per := map[string]int{}
		for _, ci := range list {
			per[ci.NodeName]++
		}
		return len(list) >= len(before)+3 && per["node-0"] >= 2 && per["node-1"] >= 2 && per["node-2"] >= 2
	})
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	mu.Lock()
	names := append([]string(nil), acked...)
	mu.Unlock()
	if len(names) == 0 {
		t.Fatal("no write succeeded during the rotations")
	}
	checkAll := func(when string) {
		t.Helper()
		for i := range c.Len() {
			c.Eventually(20*time.Second, fmt.Sprintf("%s: node-%d holds all %d acknowledged ConfigMaps", when, i, len(names)), func() bool {
				var list api.ConfigMapList
				lctx, lcancel := context.WithTimeout(ctx, 5*time.Second)
				defer lcancel()
				if err := c.Node(i).Client().List(lctx, &list, orchestrator.InNamespace("default")); err != nil {
					return false
				}
				have := map[string]bool{}
				for _, cm := range list.Items {
					have[cm.Name] = cm.Data["password"] == marker
				}
				for _, n := range names {
					if !have[n] {
						return false
					}
				}
				return true
			})
		}
	}
	checkAll("after rotations")

	// Whole-cluster restart from the data dirs.
	for i := range c.Len() {
		c.StopNode(i)
	}
	for i := range c.Len() {
		c.RestartNode(i)
	}
	c.WaitReady(30 * time.Second)
	checkAll("after a whole-cluster restart")
	if err := c.Client().Create(ctx, &api.ConfigMap{ObjectMeta: api.ObjectMeta{Name: "after-restart", Namespace: "default"}}); err != nil {
		t.Fatalf("write after restart: %v", err)
	}
	for i := range c.Len() {
		c.StopNode(i)
	}
	for i := range c.Len() {
		scanForPlaintext(t, c.DataDir(i), marker)
	}
}

// scanForPlaintext fails the test if any file under dir holds needle.
func scanForPlaintext(t *testing.T, dir, needle string) {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if bytes.Contains(b, []byte(needle)) {
			t.Errorf("%s holds a value in plaintext", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no files under %s", dir)
	}
}
