package raftstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"
	dto "github.com/prometheus/client_model/go"
)

// The attacks here come from raw sockets (net.Dial, crypto/tls): nothing
// of the package runs on the attacking side but the encoder that builds a
// realistic write request. They dial from 127.0.0.2, another host as far
// as the node can tell (Linux routes all of 127/8 to loopback).

var attackerIP = net.IPv4(127, 0, 0, 2)

func attackerDial(t testing.TB, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: attackerIP}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	return c
}

// readUntilClosed reads from c until the node closes it and returns what
// came; a node that keeps the connection open for 10 s did not refuse it.
func readUntilClosed(t testing.TB, c net.Conn) []byte {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []byte
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the node kept the connection open (read %q)", got)
		}
		if err != nil {
			return got
		}
	}
}

// forwardFrame is a forwarding connection's opening: the protocol byte and
// one frame asking the leader to put key = value.
func forwardFrame(key, value string) []byte {
	payload := binary.AppendUvarint(nil, 1) // request id
	payload = append(payload, methodWrite)
	payload = appendRequest(payload, []Op{OpPut(key, []byte(value))})
	out := binary.BigEndian.AppendUint32([]byte{muxRPC}, uint32(len(payload)))
	return append(out, payload...)
}

// raftStats reads the term, last log index and its term from a node.
func raftStats(t testing.TB, s *Store) (term, lastIndex, lastTerm uint64) {
	t.Helper()
	st := s.raft.Stats()
	parse := func(k string) uint64 {
		v, err := strconv.ParseUint(st[k], 10, 64)
		if err != nil {
			t.Fatalf("raft stat %s = %q: %v", k, st[k], err)
		}
		return v
	}
	return parse("term"), parse("last_log_index"), parse("last_log_term")
}

// forgedAppendEntries is a Raft connection's opening as hashicorp/raft's
// NetworkTransport writes it (the rpcAppendEntries type byte, 0, then the
// request in msgpack), from a leader that does not exist, one term ahead
// of s, carrying and committing an entry that puts key = value right
// after s's log.
func forgedAppendEntries(t testing.TB, s *Store, key, value string) []byte {
	t.Helper()
	term, last, lastTerm := raftStats(t, s)
	entry := encodeEntry([][]byte{appendRequest(nil, []Op{OpPut(key, []byte(value))})})
	req := raft.AppendEntriesRequest{
		RPCHeader:         raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("mallory"), Addr: []byte("127.0.0.2:7946")},
		Term:              term + 1,
		PrevLogEntry:      last,
		PrevLogTerm:       lastTerm,
		Entries:           []*raft.Log{{Index: last + 1, Term: term + 1, Type: raft.LogCommand, Data: entry}},
		LeaderCommitIndex: last + 1,
	}
	var buf bytes.Buffer
	buf.Write([]byte{muxRaft, 0})
	h := &codec.MsgpackHandle{}
	h.TimeNotBuiltin = true // as raft's encoder, by default
	if err := codec.NewEncoder(&buf, h).Encode(&req); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func rejectedCount(s *Store, reason string) float64 {
	var m dto.Metric
	_ = s.metrics.conns.rejected.WithLabelValues(reason).Write(&m)
	return m.GetCounter().GetValue()
}

// expectRejected checks that s has refused want connections for reason.
// It waits for the count to get there: a node sends a TLS alert before it
// counts the refusal.
func expectRejected(t testing.TB, s *Store, reason string, want float64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for rejectedCount(s, reason) < want && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := rejectedCount(s, reason); n != want {
		t.Errorf("%s: rejected{%s} = %v, want %v", s.ID(), reason, n, want)
	}
}

// valueEverywhere checks that every running replica holds want at key,
// each read from its own state.
func valueEverywhere(t testing.TB, c *testCluster, key, want string) {
	t.Helper()
	for _, s := range c.stores {
		if s.running() != nil {
			continue
		}
		kv, err := s.Get(context.Background(), key)
		if err != nil || string(kv.Value) != want {
			t.Errorf("%s: %s = %q, %v; want %q", s.ID(), key, kv.Value, err, want)
		}
	}
}

// steadyTimings keeps elections away while a test watches terms.
func steadyTimings(cfg *Config) {
	cfg.HeartbeatTimeout = 500 * time.Millisecond
	cfg.ElectionTimeout = 500 * time.Millisecond
	cfg.LeaderLeaseTimeout = 250 * time.Millisecond
}

// TestAttacksOnPlaintextClusterWork shows the attacks of the tests below
// are real: on a node without TLS, the forged frame and the forged
// AppendEntries each get a write applied.
func TestAttacksOnPlaintextClusterWork(t *testing.T) {
	c := newTestCluster(t, 3, onTCP(), withConfig(steadyTimings))
	ctx := ctxT(t)
	leader := c.leader()
	if _, err := leader.Put(ctx, "victim", []byte("good")); err != nil {
		t.Fatal(err)
	}

	conn := attackerDial(t, leader.Addr())
	defer conn.Close()
	if _, err := conn.Write(forwardFrame("victim", "forwarded")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	resp, err := readFrame(r, maxRespFrame)
	if err != nil {
		t.Fatalf("no answer to the forged forwarding frame: %v", err)
	}
	d := decoder{b: resp}
	if id, code := d.uvarint(), d.byte(); id != 1 || code != codeOK {
		t.Fatalf("answer to the forged frame: id %d, code %d", id, code)
	}
	kv, err := leader.Get(ctx, "victim", Linearizable())
	if err != nil || string(kv.Value) != "forwarded" {
		t.Fatalf("after the forged frame: %q, %v", kv.Value, err)
	}

	c.waitApplied(t)
	f := c.stores[c.follower()]
	term, _, _ := raftStats(t, f)
	conn = attackerDial(t, f.Addr())
	defer conn.Close()
	if _, err := conn.Write(forgedAppendEntries(t, f, "victim", "forged")); err != nil {
		t.Fatal(err)
	}
	dec := codec.NewDecoder(bufio.NewReader(conn), &codec.MsgpackHandle{})
	var rpcErr string
	var ae raft.AppendEntriesResponse
	if err := dec.Decode(&rpcErr); err != nil || rpcErr != "" {
		t.Fatalf("answer to the forged AppendEntries: %q, %v", rpcErr, err)
	}
	if err := dec.Decode(&ae); err != nil || !ae.Success || ae.Term != term+1 {
		t.Fatalf("forged AppendEntries: %+v, %v (term was %d)", ae, err, term)
	}
	eventually(t, 5*time.Second, "the follower to apply the forged entry", func() bool {
		kv, err := f.Get(ctx, "victim")
		return err == nil && string(kv.Value) == "forged"
	})
}

// TestForgedFrameRefused sends a well-formed forwarding frame in plaintext
// to every node of a TLS cluster.
func TestForgedFrameRefused(t *testing.T) {
	ca := newTestCA(t, "cluster")
	c := newTestCluster(t, 3, onTCP(), withTLS(ca))
	ctx := ctxT(t)
	if _, err := c.leader().Put(ctx, "victim", []byte("good")); err != nil {
		t.Fatal(err)
	}
	c.waitApplied(t)
	for _, s := range c.stores {
		before := rejectedCount(s, rejectHandshakeFailed)
		conn := attackerDial(t, s.Addr())
		if _, err := conn.Write(forwardFrame("victim", "evil")); err != nil {
			t.Fatal(err)
		}
		got := readUntilClosed(t, conn)
		conn.Close()
		if len(got) != 0 {
			t.Errorf("%s answered %q", s.ID(), got)
		}
		expectRejected(t, s, rejectHandshakeFailed, before+1)
	}
	valueEverywhere(t, c, "victim", "good")
}

// TestForgedAppendEntriesRefused sends a forged AppendEntries, one term
// ahead, to a follower of a TLS cluster: in plaintext, over TLS with a
// certificate of another CA, with an expired certificate of the cluster's
// CA, and with none.
func TestForgedAppendEntriesRefused(t *testing.T) {
	ca := newTestCA(t, "cluster")
	c := newTestCluster(t, 3, onTCP(), withConfig(steadyTimings), withTLS(ca))
	ctx := ctxT(t)
	if _, err := c.leader().Put(ctx, "victim", []byte("good")); err != nil {
		t.Fatal(err)
	}
	c.waitApplied(t)
	f := c.stores[c.follower()]
	otherCA := newTestCA(t, "mallory")
	cases := []struct {
		name   string
		tls    *tls.Config // nil: plaintext
		reason string
		answer []byte // what the node says before closing
	}{
		{"plaintext", nil, rejectHandshakeFailed, nil},
		{"other CA", ca.clientTLS(otherCA.server("n9")), rejectHandshakeFailed, nil},
		{"expired", ca.clientTLS(ca.issue("n9", "server", time.Now().Add(-time.Minute))), rejectHandshakeFailed, nil},
		{"no certificate", ca.clientTLS(), rejectNoCertificate, []byte{ackNoCertificate}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			term, last, _ := raftStats(t, f)
			before := rejectedCount(f, tc.reason)
			var conn net.Conn = attackerDial(t, f.Addr())
			defer conn.Close()
			if tc.tls != nil {
				client := tls.Client(conn, tc.tls)
				// In TLS 1.3 the client's handshake completes before the
				// server has checked its certificate.
				if err := client.HandshakeContext(ctx); err != nil {
					t.Fatalf("handshake: %v", err)
				}
				conn = client
			}
			if _, err := conn.Write(forgedAppendEntries(t, f, "victim", "evil")); err != nil {
				t.Fatal(err)
			}
			if got := readUntilClosed(t, conn); !bytes.Equal(got, tc.answer) {
				t.Errorf("the node answered %q, want %q", got, tc.answer)
			}
			expectRejected(t, f, tc.reason, before+1)
			if term2, last2, _ := raftStats(t, f); term2 != term || last2 != last {
				t.Errorf("follower at term %d, last index %d; was %d, %d", term2, last2, term, last)
			}
			valueEverywhere(t, c, "victim", "good")
		})
	}
}

// TestAuthorizePeer: a certificate from the cluster's CA whose role
// AuthorizePeer refuses (an agent's) can neither speak Raft nor forward,
// in either direction, while services still serve it and clients without
// any certificate.
func TestAuthorizePeer(t *testing.T) {
	ca := newTestCA(t, "cluster")
	echo := func(ctx context.Context, conn net.Conn) {
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil {
			return
		}
		n := len(conn.(*tls.Conn).ConnectionState().PeerCertificates)
		fmt.Fprintf(conn, "%s %d\n", strings.TrimSpace(line), n)
	}
	c := newTestCluster(t, 3, onTCP(), withConfig(func(cfg *Config) {
		steadyTimings(cfg)
		cfg.Services = map[byte]func(context.Context, net.Conn){'E': echo}
	}), withTLS(ca))
	ctx := ctxT(t)
	leader := c.leader()
	if _, err := leader.Put(ctx, "victim", []byte("good")); err != nil {
		t.Fatal(err)
	}
	c.waitApplied(t)
	f := c.stores[c.follower()]
	agent := ca.issue("agent-1", "agent", time.Now().Add(time.Hour))

	t.Run("incoming", func(t *testing.T) {
		term, last, _ := raftStats(t, f)
		for _, try := range []struct {
			to    *Store
			bytes []byte
		}{{f, forgedAppendEntries(t, f, "victim", "evil")}, {leader, forwardFrame("victim", "evil")}} {
			before := rejectedCount(try.to, rejectNotAuthorized)
			conn := tls.Client(attackerDial(t, try.to.Addr()), ca.clientTLS(agent))
			if _, err := conn.Write(try.bytes); err != nil {
				t.Fatal(err)
			}
			if got := readUntilClosed(t, conn); !bytes.Equal(got, []byte{ackNotAuthorized}) {
				t.Errorf("%c: the node answered %q, want the refusal", try.bytes[0], got)
			}
			conn.Close()
			expectRejected(t, try.to, rejectNotAuthorized, before+1)
		}
		if term2, last2, _ := raftStats(t, f); term2 != term || last2 != last {
			t.Errorf("follower at term %d, last index %d; was %d, %d", term2, last2, term, last)
		}
		valueEverywhere(t, c, "victim", "good")
	})

	t.Run("outgoing", func(t *testing.T) {
		// A store holding the agent's certificate, itself admitting anyone:
		// the leader refuses to replicate to it.
		cfg := TestConfig("agent")
		cfg.BindAddr = "127.0.0.1:0"
		cfg.TLS = ca.nodeTLS(agent)
		cfg.Services = map[byte]func(context.Context, net.Conn){'E': echo}
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer s.Shutdown(context.Background())
		if err := leader.AddNonvoter(ctx, "agent", s.Addr()); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "the leader to refuse the agent", func() bool {
			return rejectedCount(leader, rejectPeerNotAuthorized) > 0
		})
		if st := s.State(); st.AppliedIndex != 0 || st.LeaderID != "" {
			t.Errorf("the agent got Raft traffic: %+v", st)
		}
		// Nor can the agent's store open Raft or forwarding to the leader;
		// it is told why.
		for _, proto := range []byte{muxRaft, muxRPC} {
			_, err := s.mux.dialProto(ctx, leader.Addr(), proto)
			if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "not authorized") {
				t.Errorf("%c from the agent: %v", proto, err)
			}
		}
		// Services do not ask AuthorizePeer: the agent reaches the
		// leader's, and the leader the agent's.
		for _, dial := range []struct{ from, to *Store }{{s, leader}, {leader, s}} {
			conn, err := dial.from.Dial(ctx, dial.to.Addr(), 'E')
			if err != nil {
				t.Fatalf("%s dials %s's service: %v", dial.from.ID(), dial.to.ID(), err)
			}
			fmt.Fprintf(conn, "hi\n")
			line, err := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if err != nil || line != "hi 1\n" {
				t.Errorf("%s to %s: echo %q, %v", dial.from.ID(), dial.to.ID(), line, err)
			}
		}
		if err := leader.RemoveServer(ctx, "agent"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("service without certificate", func(t *testing.T) {
		conn := tls.Client(attackerDial(t, f.Addr()), ca.clientTLS())
		defer conn.Close()
		if _, err := conn.Write([]byte("Ehello\n")); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(conn)
		ack, err := r.ReadByte()
		if err != nil || ack != ackOK {
			t.Fatalf("ack %d, %v", ack, err)
		}
		line, err := r.ReadString('\n')
		if err != nil || line != "hello 0\n" {
			t.Fatalf("echo %q, %v", line, err)
		}
	})
}

// TestTLSCluster runs a 3-node mutual-TLS cluster through election,
// forwarding, a snapshot sent to a restarted follower and a failover.
func TestTLSCluster(t *testing.T) {
	ca := newTestCA(t, "cluster")
	c := newTestCluster(t, 3, onTCP(), withConfig(func(cfg *Config) {
		steadyTimings(cfg)
		cfg.TrailingLogs = 10
		cfg.SnapshotThreshold = 20
	}), withTLS(ca))
	ctx := ctxT(t)

	f := c.follower()
	if _, err := c.stores[f].Put(ctx, "k/first", []byte("1")); err != nil {
		t.Fatalf("write through a follower: %v", err)
	}
	for _, s := range c.stores {
		if kv, err := s.Get(ctx, "k/first", Linearizable()); err != nil || string(kv.Value) != "1" {
			t.Fatalf("%s: %q, %v", s.ID(), kv.Value, err)
		}
	}

	c.stop(f)
	for i := range 100 {
		if _, err := c.leader().Put(ctx, fmt.Sprintf("k/%03d", i), []byte(strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range c.stores {
		if i != f {
			if err := s.Snapshot(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Whichever node leads, its log no longer reaches back to the
	// follower's: it sends a snapshot.
	s := c.start(f)
	eventually(t, 10*time.Second, "the follower to catch up", func() bool {
		kvs, _, _ := s.List(ctx, "k/")
		return len(kvs) == 101
	})
	eventually(t, 5*time.Second, "the follower to record the installed snapshot", func() bool {
		return s.raft.Stats()["last_snapshot_index"] != "0"
	})

	old := c.waitLeader()
	c.stop(old)
	for i, s := range c.stores {
		if i == old {
			continue
		}
		if _, err := s.Put(ctx, "k/after/"+s.ID(), nil); err != nil {
			t.Fatalf("write via %s after failover: %v", s.ID(), err)
		}
		if kv, err := s.Get(ctx, "k/first", Linearizable()); err != nil || string(kv.Value) != "1" {
			t.Fatalf("%s after failover: %q, %v", s.ID(), kv.Value, err)
		}
	}

	for _, cfg := range c.cfgs {
		if tc := cfg.TLS; tc.MinVersion != 0 || tc.ServerName != "" || tc.SessionTicketsDisabled {
			t.Errorf("%s: the caller's TLS config was changed", cfg.NodeID)
		}
	}
}

// TestConnectionFlood opens 5,000 idle TCP connections to a node of a TLS
// cluster while it serves writes: it holds at most MaxConnsPerHost of them,
// closes the rest at once, and the held ones after HandshakeTimeout.
func TestConnectionFlood(t *testing.T) {
	const attempts = 5000
	needFiles(t, 2*attempts+1000)
	ca := newTestCA(t, "cluster")
	c := newTestCluster(t, 3, onTCP(), withConfig(func(cfg *Config) {
		steadyTimings(cfg)
		cfg.HandshakeTimeout = 300 * time.Millisecond
	}), withTLS(ca))
	target := c.stores[0]
	limit := DefaultConfig().MaxConnsPerHost

	ctx, stop := context.WithCancel(ctxT(t))
	defer stop()
	var wrote, retried atomic.Int64
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			_, err := c.stores[i%3].Put(ctx, fmt.Sprintf("w/%d", i%100), []byte("v"))
			switch {
			case ctx.Err() != nil:
				return
			case IsRetryable(err):
				// Two busy cores (and -race) may cost the cluster its
				// leader; the writes must go on, not every one succeed.
				retried.Add(1)
			case err != nil:
				writeErr = err
				return
			default:
				wrote.Add(1)
			}
		}
	}()
	var peak atomic.Int64
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			if n := int64(target.mux.hostConns(attackerIP.String())); n > peak.Load() {
				peak.Store(n)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()

	startWrites := wrote.Load()
	conns := make([]net.Conn, 0, attempts)
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
	}()
	for range attempts {
		conns = append(conns, attackerDial(t, target.Addr()))
	}
	for _, conn := range conns {
		readUntilClosed(t, conn)
	}
	midWrites := wrote.Load()
	stop()
	wg.Wait()
	if writeErr != nil {
		t.Fatalf("a write failed during the flood: %v", writeErr)
	}
	if midWrites == startWrites {
		t.Error("no write succeeded during the flood")
	}
	if p := peak.Load(); p > int64(limit) || p == 0 {
		t.Errorf("held %d connections of the attacker at once, want 1 to %d", p, limit)
	}
	overLimit, timedOut := rejectedCount(target, rejectMaxConnsPerHost), rejectedCount(target, rejectHandshakeTimeout)
	if overLimit+timedOut != attempts || timedOut == 0 {
		t.Errorf("%v closed over the limit + %v timed out, want %d with some timed out", overLimit, timedOut, attempts)
	}
	eventually(t, 5*time.Second, "the attacker's connections to be released", func() bool {
		return target.mux.hostConns(attackerIP.String()) == 0
	})
	t.Logf("%d writes during the flood (%d retryable failures); peak held %d; %v refused at once, %v timed out",
		midWrites-startWrites, retried.Load(), peak.Load(), overLimit, timedOut)
}

// needFiles raises the soft limit on open files to n if the hard limit
// allows; otherwise it skips the test (and fails it under CI=true).
func needFiles(t *testing.T, n uint64) {
	t.Helper()
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		t.Fatal(err)
	}
	if rl.Cur < n && rl.Max >= n {
		raised := rl
		raised.Cur = n
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl) })
			return
		}
	}
	if rl.Cur < n {
		msg := fmt.Sprintf("needs %d open files; RLIMIT_NOFILE is %d (hard %d) and cannot be raised", n, rl.Cur, rl.Max)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// TestMaxConns: past MaxConns a node closes new connections at once,
// whoever they come from, and counts them.
func TestMaxConns(t *testing.T) {
	c := newTestCluster(t, 1, onTCP(), withConfig(func(cfg *Config) {
		cfg.MaxConns = 4
		cfg.HandshakeTimeout = time.Minute // the held ones stay held while the test looks
	}))
	s := c.stores[0]
	var conns []net.Conn
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
	}()
	for range 10 {
		conns = append(conns, attackerDial(t, s.Addr()))
	}
	eventually(t, 10*time.Second, "6 connections refused", func() bool {
		return rejectedCount(s, rejectMaxConns) == 6
	})
	if n := s.mux.hostConns(attackerIP.String()); n != 4 {
		t.Errorf("holding %d connections, want 4", n)
	}
	for _, conn := range conns {
		conn.Close()
	}
	eventually(t, 10*time.Second, "the held connections to be released", func() bool {
		return s.mux.hostConns(attackerIP.String()) == 0
	})
}

// TestConnectionBudgetSevenNodes runs 7 TLS nodes on one IP, so every peer
// counts against one MaxConnsPerHost on every node, through writes from
// every node and a leadership transfer: none is refused.
func TestConnectionBudgetSevenNodes(t *testing.T) {
	ca := newTestCA(t, "cluster")
	c := newTestCluster(t, 7, onTCP(), withConfig(steadyTimings), withTLS(ca))
	ctx := ctxT(t)
	var peak atomic.Int64
	sampled := make(chan struct{})
	sampleCtx, stopSampling := context.WithCancel(ctx)
	go func() {
		defer close(sampled)
		for sampleCtx.Err() == nil {
			for _, s := range c.stores {
				if n := int64(s.mux.hostConns("127.0.0.1")); n > peak.Load() {
					peak.Store(n)
				}
			}
			time.Sleep(time.Millisecond)
		}
	}()
	load := func() {
		var wg sync.WaitGroup
		for i, s := range c.stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range 50 {
					// Seven nodes on two busy cores may lose a leader: what
					// counts here is that no connection is refused.
					_, err := s.Put(ctx, fmt.Sprintf("k/%d/%d", i, j), []byte("v"))
					for IsRetryable(err) {
						_, err = s.Put(ctx, fmt.Sprintf("k/%d/%d", i, j), []byte("v"))
					}
					if err != nil {
						t.Errorf("write via %s: %v", s.ID(), err)
						return
					}
					if _, err := s.Get(ctx, "k/0/0", Linearizable()); err != nil && !IsNotFound(err) {
						t.Errorf("read via %s: %v", s.ID(), err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	load()
	if err := c.leader().TransferLeadership(ctx); err != nil {
		t.Fatal(err)
	}
	c.waitLeader()
	load()
	stopSampling()
	<-sampled
	for _, s := range c.stores {
		for _, r := range rejectReasons {
			if n := rejectedCount(s, r); n != 0 {
				t.Errorf("%s refused %v connections: %s", s.ID(), n, r)
			}
		}
	}
	t.Logf("most connections held from one IP by one node: %d (limit %d)", peak.Load(), DefaultConfig().MaxConnsPerHost)
}

// TestIdleForwardingConnections: a follower closes its idle forwarding
// connection before the leader would, writes across idle gaps of about
// that length all succeed, and the leader closes a forwarding connection
// that sends nothing.
func TestIdleForwardingConnections(t *testing.T) {
	const idle = 200 * time.Millisecond
	c := newTestCluster(t, 3, withConfig(func(cfg *Config) { cfg.IdleTimeout = idle }))
	ctx := ctxT(t)
	leader := c.leader()
	f := c.stores[c.follower()]
	if _, err := f.Put(ctx, "k", []byte("0")); err != nil {
		t.Fatal(err)
	}
	f.rpc.mu.Lock()
	conn := f.rpc.conns[leader.Addr()]
	f.rpc.mu.Unlock()
	if conn == nil {
		t.Fatal("no forwarding connection after a forwarded write")
	}
	select {
	case <-conn.dead:
	case <-time.After(10 * time.Second):
		t.Fatal("the idle forwarding connection was never closed")
	}
	conn.mu.Lock()
	retired := conn.retired
	conn.mu.Unlock()
	if !retired {
		t.Error("the leader closed the idle connection before the follower did")
	}

	for i, gap := range []time.Duration{idle / 2, idle/2 - 5*time.Millisecond, idle/2 + 5*time.Millisecond, idle, idle + 20*time.Millisecond} {
		time.Sleep(gap)
		if _, err := f.Put(ctx, "k", []byte(strconv.Itoa(i+1))); err != nil {
			t.Fatalf("write after %v idle: %v", gap, err)
		}
	}

	raw, err := c.net.dialer("mallory")(ctx, leader.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Write([]byte{muxRPC}); err != nil {
		t.Fatal(err)
	}
	readUntilClosed(t, raw)
}

// TestServicesAndDial runs services on the in-memory network: Dial reaches
// them, says why it was refused, and Shutdown ends a handler that waits.
func TestServicesAndDial(t *testing.T) {
	started := make(chan struct{}, 1)
	services := map[byte]func(context.Context, net.Conn){
		'E': func(ctx context.Context, conn net.Conn) { _, _ = io.Copy(conn, conn) },
		'W': func(ctx context.Context, conn net.Conn) {
			started <- struct{}{}
			<-ctx.Done()
		},
	}
	c := newTestCluster(t, 2, withConfig(func(cfg *Config) { cfg.Services = services }))
	ctx := ctxT(t)
	a, b := c.stores[0], c.stores[1]

	conn, err := a.Dial(ctx, b.Addr(), 'E')
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = conn.Write([]byte("ping")) }()
	got := make([]byte, 4)
	if _, err := io.ReadFull(conn, got); err != nil || string(got) != "ping" {
		t.Fatalf("echo %q, %v", got, err)
	}
	conn.Close()

	if _, err := a.Dial(ctx, b.Addr(), 'X'); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "unknown protocol") {
		t.Errorf("dial of a missing service: %v", err)
	}
	for _, proto := range []byte{0, 'R', 'F'} {
		if _, err := a.Dial(ctx, b.Addr(), proto); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("dial %q: %v", proto, err)
		}
	}
	if _, err := a.Dial(ctx, "nowhere", 'E'); err == nil {
		t.Error("dial of an unknown address succeeded")
	}

	waiting, err := a.Dial(ctx, b.Addr(), 'W')
	if err != nil {
		t.Fatal(err)
	}
	defer waiting.Close()
	<-started
	c.stop(1) // returns only once the handler has returned
	if _, err := waiting.Read(make([]byte, 1)); err == nil {
		t.Error("the service's connection is still open after Shutdown")
	}
	if _, err := b.Dial(ctx, a.Addr(), 'E'); !errors.Is(err, ErrStopped) {
		t.Errorf("dial from a stopped store: %v", err)
	}
	fresh, err := New(c.cfgs[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Dial(ctx, a.Addr(), 'E'); !errors.Is(err, ErrNotStarted) {
		t.Errorf("dial before Start: %v", err)
	}
}

func TestTransportConfigValidate(t *testing.T) {
	ca := newTestCA(t, "cluster")
	base := DefaultConfig()
	base.NodeID = "n1"
	base.BindAddr = "127.0.0.1:0"
	base.TLS = ca.nodeTLS(ca.server("n1"))
	base.AuthorizePeer = serversOnly
	if err := base.Validate(); err != nil {
		t.Fatalf("a valid TLS config: %v", err)
	}
	dynamic := base
	dynamic.TLS = &tls.Config{
		GetConfigForClient:   func(*tls.ClientHelloInfo) (*tls.Config, error) { return base.TLS, nil },
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &base.TLS.Certificates[0], nil },
		InsecureSkipVerify:   true,
		VerifyConnection:     func(tls.ConnectionState) error { return nil },
	}
	if err := dynamic.Validate(); err != nil {
		t.Fatalf("a TLS config with roots that change: %v", err)
	}
	handler := func(context.Context, net.Conn) {}
	withTLS := func(f func(*tls.Config)) func(*Config) {
		return func(c *Config) {
			c.TLS = c.TLS.Clone()
			f(c.TLS)
		}
	}
	cases := []struct {
		name   string
		mutate func(*Config)
		fields []string
	}{
		{"TLS with Network", func(c *Config) { c.Network = NewInmemNetwork() }, []string{"TLS"}},
		{"no certificate", withTLS(func(t *tls.Config) { t.Certificates = nil }), []string{"TLS.Certificates"}},
		{"unverified clients", withTLS(func(t *tls.Config) { t.ClientAuth = tls.RequireAnyClientCert }), []string{"TLS.ClientAuth"}},
		{"no client CAs", withTLS(func(t *tls.Config) { t.ClientCAs = nil }), []string{"TLS.ClientCAs"}},
		{"no roots", withTLS(func(t *tls.Config) { t.RootCAs = nil }), []string{"TLS.RootCAs"}},
		{"skip verify alone", withTLS(func(t *tls.Config) { t.InsecureSkipVerify = true }), []string{"TLS.InsecureSkipVerify"}},
		{"TLS 1.2", withTLS(func(t *tls.Config) { t.MaxVersion = tls.VersionTLS12 }), []string{"TLS.MaxVersion"}},
		{"AuthorizePeer without TLS", func(c *Config) { c.TLS = nil }, []string{"AuthorizePeer"}},
		{"reserved services", func(c *Config) {
			c.Services = map[byte]func(context.Context, net.Conn){0: handler, 'R': handler, 'F': handler, 'J': nil}
		}, []string{`Services['\x00']`, "Services['R']", "Services['F']", "Services['J']"}},
		{"negative limits", func(c *Config) { c.MaxConns, c.MaxConnsPerHost = -1, -1 }, []string{"MaxConns", "MaxConnsPerHost"}},
		{"short timeouts", func(c *Config) { c.HandshakeTimeout, c.IdleTimeout = time.Millisecond, 10*time.Millisecond }, []string{"HandshakeTimeout", "IdleTimeout"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("want an error")
			}
			for _, f := range tc.fields {
				if !strings.Contains(err.Error(), "config: "+f+":") {
					t.Errorf("error %q does not name %s", err, f)
				}
			}
		})
	}
}

func TestWarnLimiter(t *testing.T) {
	l := newWarnLimiter(time.Second)
	t0 := time.Unix(1000, 0)
	steps := []struct {
		key        string
		at         time.Duration
		ok         bool
		suppressed int
	}{
		{"a", 0, true, 0},
		{"a", 100 * time.Millisecond, false, 0},
		{"b", 200 * time.Millisecond, true, 0}, // keys are independent
		{"a", 900 * time.Millisecond, false, 0},
		{"a", time.Second, true, 2},
		{"a", 2500 * time.Millisecond, true, 0},
	}
	for i, st := range steps {
		suppressed, ok := l.allow(st.key, t0.Add(st.at))
		if ok != st.ok || suppressed != st.suppressed {
			t.Errorf("step %d (%s at %v): %v, %d; want %v, %d", i, st.key, st.at, ok, suppressed, st.ok, st.suppressed)
		}
	}
}

// waitApplied waits until every running node has applied the leader's
// last write.
func (c *testCluster) waitApplied(t testing.TB) {
	t.Helper()
	rev := c.leader().Revision()
	eventually(t, 10*time.Second, "every node to apply the last write", func() bool {
		for _, s := range c.stores {
			if s.running() == nil && s.Revision() < rev {
				return false
			}
		}
		return true
	})
}

// TestDynamicTLSConfig runs a cluster on TLS configs built per connection
// (GetConfigForClient, VerifyConnection), and checks that a per-connection
// config that would not verify client certificates fails the handshake.
func TestDynamicTLSConfig(t *testing.T) {
	ca := newTestCA(t, "cluster")
	c := newTestCluster(t, 3, onTCP(), withConfig(func(cfg *Config) {
		cfg.TLS = ca.dynamicTLS(ca.server(cfg.NodeID), nil)
		cfg.AuthorizePeer = serversOnly
	}))
	ctx := ctxT(t)
	f := c.stores[c.follower()]
	if _, err := f.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatalf("write through a follower: %v", err)
	}
	if kv, err := f.Get(ctx, "k", Linearizable()); err != nil || string(kv.Value) != "v" {
		t.Fatalf("%q, %v", kv.Value, err)
	}

	for _, weaken := range []func(*tls.Config){
		func(c *tls.Config) { c.ClientAuth = tls.RequireAnyClientCert },
		func(c *tls.Config) { c.ClientCAs = nil },
	} {
		cfg := TestConfig("weak")
		cfg.BindAddr = "127.0.0.1:0"
		cfg.TLS = ca.dynamicTLS(ca.server("weak"), weaken)
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(ctx); err != nil {
			t.Fatal(err)
		}
		conn := tls.Client(attackerDial(t, s.Addr()), ca.clientTLS(ca.server("n9")))
		err = conn.HandshakeContext(ctx)
		if err == nil {
			_, err = conn.Write([]byte{muxRaft})
		}
		if err == nil {
			_, err = conn.Read(make([]byte, 1))
		}
		conn.Close()
		if err == nil {
			t.Error("a server config that does not verify clients was used")
		}
		expectRejected(t, s, rejectHandshakeFailed, 1)
		if _, err := f.Dial(ctx, s.Addr(), 'E'); !errors.Is(err, ErrRefused) {
			t.Errorf("dial of a node whose handshake fails: %v, want ErrRefused", err)
		}
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

// TestSlowAuthorizePeer: AuthorizePeer's time counts toward
// HandshakeTimeout; a decision that comes too late closes the connection
// unanswered and is counted as a handshake timeout.
func TestSlowAuthorizePeer(t *testing.T) {
	const timeout = 50 * time.Millisecond
	ca := newTestCA(t, "cluster")
	cfg := TestConfig("slow")
	cfg.BindAddr = "127.0.0.1:0"
	cfg.HandshakeTimeout = timeout
	cfg.TLS = ca.nodeTLS(ca.server("slow"))
	var decided atomic.Bool
	cfg.AuthorizePeer = func(cs tls.ConnectionState) error {
		if cs.PeerCertificates[0].Subject.CommonName == "late" {
			time.Sleep(2 * timeout) // well past the connection's deadline
			decided.Store(true)
		}
		return nil
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t)
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	conn := tls.Client(attackerDial(t, s.Addr()), ca.clientTLS(ca.server("late")))
	defer conn.Close()
	if _, err := conn.Write([]byte{muxRPC}); err != nil {
		t.Fatal(err)
	}
	if got := readUntilClosed(t, conn); len(got) != 0 {
		t.Errorf("answered %q after the deadline", got)
	}
	if !decided.Load() {
		t.Error("closed before AuthorizePeer decided")
	}
	expectRejected(t, s, rejectHandshakeTimeout, 1)
}
