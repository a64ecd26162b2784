package orchestrator_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator"
	"github.com/flotilla-io/flotilla/orchestrator/internal/inmem"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// newNode returns an unstarted node named name with a fake runtime, on nets
// (nil: loopback), changed by change; t.Cleanup shuts it down.
func newNode(t *testing.T, nets *inmem.Networks, name string, change func(*orchestrator.Config)) *orchestrator.Cluster {
	t.Helper()
	rt, err := fake.New(fake.Config{NodeName: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close() })
	cfg := orchestrator.TestConfig(name)
	cfg.Runtime = rt
	cfg.Logger = zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).Named(name)
	if nets != nil {
		inmem.Attach(&cfg, nets)
	}
	if change != nil {
		change(&cfg)
	}
	n, err := orchestrator.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Shutdown(context.Background()) })
	return n
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readyNodes returns the names of the Ready Nodes c sees.
func readyNodes(c *orchestrator.Cluster) []string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var list orchestrator.NodeList
	if err := c.Client().List(ctx, &list); err != nil {
		return nil
	}
	var names []string
	for i := range list.Items {
		if orchestrator.IsNodeReady(&list.Items[i]) {
			names = append(names, list.Items[i].Name)
		}
	}
	return names
}

// With GossipKeys, only nodes holding the members' key join: a node with
// the key joins and becomes a Ready Node, one with another key or none
// cannot join at all.
func TestGossipKeys(t *testing.T) {
	key := bytes.Repeat([]byte{1}, 32)
	other := bytes.Repeat([]byte{2}, 16)
	nets := inmem.New()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	first := newNode(t, nets, "first", func(c *orchestrator.Config) { c.BootstrapExpect, c.GossipKeys = 1, [][]byte{key} })
	if err := first.Start(ctx); err != nil {
		t.Fatal(err)
	}
	join := []string{first.RaftAddr()}
	// The second key is only tried on what it receives: a node may hold
	// extra keys (rotation).
	member := newNode(t, nets, "member", func(c *orchestrator.Config) { c.Join, c.GossipKeys = join, [][]byte{key, other} })
	if err := member.Start(ctx); err != nil {
		t.Fatalf("a node with the cluster's key could not join: %v", err)
	}
	waitFor(t, 20*time.Second, "both nodes Ready", func() bool { return len(readyNodes(first)) == 2 })

	for name, keys := range map[string][][]byte{"wrong-key": {other}, "no-key": nil} {
		n := newNode(t, nets, name, func(c *orchestrator.Config) { c.Join, c.GossipKeys = join, keys })
		jctx, jcancel := context.WithTimeout(ctx, time.Second)
		err := n.Start(jctx)
		jcancel()
		if err == nil {
			t.Errorf("%s joined a cluster whose gossip is encrypted with a key it lacks", name)
		} else if !strings.Contains(err.Error(), "gossip") {
			t.Errorf("%s: the error does not say gossip failed: %v", name, err)
		}
	}
	if got := readyNodes(first); len(got) != 2 {
		t.Errorf("Ready Nodes %v, want first and member only", got)
	}
}

func TestGossipKeysValidate(t *testing.T) {
	cfg := orchestrator.TestConfig("n")
	cfg.DisableAgent = true
	cfg.GossipKeys = [][]byte{make([]byte, 16), make([]byte, 24), make([]byte, 32)}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("16, 24 and 32-byte keys: %v", err)
	}
	cfg.GossipKeys = [][]byte{make([]byte, 32), make([]byte, 31), nil}
	err := cfg.Validate()
	for _, want := range []string{"Config.GossipKeys[1]: 31 bytes", "Config.GossipKeys[2]: 0 bytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "GossipKeys[0]") {
		t.Errorf("a valid key reported: %v", err)
	}
}

// With EncryptionKeys no object reaches DataDir in plaintext, the node
// reads its objects back after a restart, and a node without the key
// fails to read them with raftstore.ErrDecrypt instead of returning
// garbage. Without keys the same object is found on disk, which shows
// the search would see it.
func TestEncryptionKeysAtRest(t *testing.T) {
	var b [8]byte
	_, _ = rand.Read(b[:])
	canary := "canary-" + hex.EncodeToString(b[:])
	key := orchestrator.EncryptionKey{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	objKey := orchestrator.ObjectKey{Namespace: "default", Name: "settings"}

	// start starts a single-server node on dir and waits until it leads.
	start := func(dir string, keys ...orchestrator.EncryptionKey) *orchestrator.Cluster {
		t.Helper()
		n := newNode(t, nil, "solo", func(c *orchestrator.Config) {
			c.DataDir, c.EncryptionKeys, c.BootstrapExpect, c.DisableAgent = dir, keys, 1, true
		})
		if err := n.Start(ctx); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 20*time.Second, "leadership", n.IsLeader)
		return n
	}
	write := func(dir string, keys ...orchestrator.EncryptionKey) {
		t.Helper()
		n := start(dir, keys...)
		cm := &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Namespace: objKey.Namespace, Name: objKey.Name},
			Data: map[string]string{"token": canary}}
		// The default namespace appears once the controllers ran.
		waitFor(t, 20*time.Second, "the ConfigMap written", func() bool { return n.Client().Create(ctx, cm) == nil })
		if err := n.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	read := func(n *orchestrator.Cluster) (string, error) {
		var cm orchestrator.ConfigMap
		err := n.Client().Get(ctx, objKey, &cm)
		return cm.Data["token"], err
	}

	// In-memory test networks run without cluster trust: plaintext, which
	// shows that the search below finds a value on disk.
	plainDir := t.TempDir()
	pn := newNode(t, inmem.New(), "solo", func(c *orchestrator.Config) {
		c.DataDir, c.BootstrapExpect, c.DisableAgent = plainDir, 1, true
	})
	if err := pn.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the ConfigMap written", func() bool {
		return pn.Client().Create(ctx, &orchestrator.ConfigMap{ObjectMeta: orchestrator.ObjectMeta{Namespace: objKey.Namespace, Name: objKey.Name},
			Data: map[string]string{"token": canary}}) == nil
	})
	if err := pn.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if files := filesContaining(t, plainDir, canary); len(files) == 0 {
		t.Fatal("a plaintext value is not found on disk: the search is broken")
	}

	// On real sockets the state is encrypted by default, with a key the
	// node makes and keeps in its key file, and with a supplied key.
	defaultDir, sealedDir := t.TempDir(), t.TempDir()
	write(defaultDir)
	write(sealedDir, key)
	for dir, keys := range map[string][]orchestrator.EncryptionKey{defaultDir: nil, sealedDir: {key}} {
		if files := filesContaining(t, dir, canary); len(files) > 0 {
			t.Errorf("keys %v: the value is on disk in plaintext, in %v", keys, files)
		}
		n := start(dir) // the key file is enough
		if got, err := read(n); err != nil || got != canary {
			t.Errorf("keys %v: after a restart: %q, %v; want %q", keys, got, err, canary)
		}
		_ = n.Shutdown(ctx)
	}

	// A supplied key whose id the key file holds with another secret is
	// refused at Start, naming both.
	wrong := orchestrator.EncryptionKey{ID: "k1", Secret: bytes.Repeat([]byte{8}, 32)}
	n := newNode(t, nil, "solo", func(c *orchestrator.Config) {
		c.DataDir, c.EncryptionKeys, c.BootstrapExpect, c.DisableAgent = sealedDir, []orchestrator.EncryptionKey{wrong}, 1, true
	})
	if err := n.Start(ctx); err == nil || !strings.Contains(err.Error(), "another secret") {
		t.Errorf("a conflicting key: Start gave %v", err)
	}

	// Without the key file, values cannot be read with the wrong keys.
	keyFile := filepath.Join(sealedDir, "trust", "store.keys")
	for name, keys := range map[string][]orchestrator.EncryptionKey{
		"no keys":        nil,
		"another secret": {wrong},
		"another id":     {{ID: "k2", Secret: bytes.Repeat([]byte{9}, 32)}},
	} {
		if err := os.Remove(keyFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		n := start(sealedDir, keys...)
		got, err := read(n)
		if !errors.Is(err, raftstore.ErrDecrypt) {
			t.Errorf("%s: read %q, %v; want an error wrapping raftstore.ErrDecrypt", name, got, err)
		}
		if err := n.Shutdown(ctx); err != nil {
			t.Errorf("%s: Shutdown: %v", name, err)
		}
	}
}

func TestEncryptionKeysValidate(t *testing.T) {
	cfg := orchestrator.TestConfig("n")
	cfg.DisableAgent = true
	cfg.EncryptionKeys = []orchestrator.EncryptionKey{
		{ID: "new", Secret: make([]byte, 32)}, {ID: "old", Secret: make([]byte, 32)},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("two good keys: %v", err)
	}
	cfg.EncryptionKeys = []orchestrator.EncryptionKey{
		{ID: "a", Secret: make([]byte, 32)}, {ID: "", Secret: make([]byte, 16)}, {ID: "a", Secret: make([]byte, 32)},
		{ID: strings.Repeat("x", 256), Secret: make([]byte, 32)},
	}
	err := cfg.Validate()
	for _, want := range []string{"Config.EncryptionKeys[1].ID", "Config.EncryptionKeys[1].Secret: 16 bytes",
		`Config.EncryptionKeys[2].ID: duplicate "a"`, "Config.EncryptionKeys[3].ID: 256 bytes"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "EncryptionKeys[0]") {
		t.Errorf("a valid key reported: %v", err)
	}
}

// filesContaining returns the files under dir whose bytes contain s.
func filesContaining(t *testing.T, dir, s string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte(s)) {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}
