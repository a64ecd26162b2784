package raftstore

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// keys returns the keys of e's fields in order, the logger's own first.
func keys(e observer.LoggedEntry) []string {
	out := make([]string, 0, len(e.Context))
	for _, f := range e.Context {
		out = append(out, f.Key)
	}
	return out
}

// hclog's formatting types come out as hclog renders them, not as the
// slices and integers they are.
func TestHCLogValues(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	l := newHCLogger(zap.New(core), "raft_", "node")
	servers := []raft.Server{{Suffrage: raft.Voter, ID: "n1", Address: "n1"}}
	l.Info("initial configuration",
		"servers", hclog.Fmt("%+v", servers),
		"empty", hclog.Format{},
		"hex", hclog.Hex(255), "octal", hclog.Octal(8), "binary", hclog.Binary(5),
		"quoted", hclog.Quote("a\nb"),
		"error", errors.New("boom"),
		"dangling")
	e := logs.TakeAll()[0]
	got := e.ContextMap()
	want := map[string]any{
		"servers": "[{Suffrage:Voter ID:n1 Address:n1}]",
		"empty":   "",
		"hex":     "0xff", "octal": "010", "binary": "0b101",
		"quoted":             `"a\nb"`,
		"error":              "boom",
		"EXTRA_VALUE_AT_END": "dangling",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
}

// Raft's own "node" argument (the instance's state) does not repeat the
// store's node field; With arguments are renamed alike.
func TestHCLogReservedKeys(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	l := newHCLogger(zap.New(core).With(zap.String("node", "n1")), "raft_", "node")
	l.With("node", "peer").Info("entering candidate state", "node", "Node at n1 [Candidate]", "term", 2)
	e := logs.TakeAll()[0]
	if got := strings.Join(keys(e), ","); got != "node,raft_node,raft_node,term" {
		t.Errorf("keys %s, want node,raft_node,raft_node,term", got)
	}
	if e.ContextMap()["node"] != "n1" {
		t.Errorf("node = %v, want the store's n1", e.ContextMap()["node"])
	}
}

// hclog names go below the zap logger's name without repeating it:
// Named appends, ResetNamed replaces.
func TestHCLogNames(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	base := newHCLogger(zap.New(core).Named("raftstore").Named("raft"), "raft_", "node")
	for _, tc := range []struct {
		l          hclog.Logger
		name, full string
	}{
		{base, "", "raftstore.raft"},
		{base.Named("snapshot"), "snapshot", "raftstore.raft.snapshot"},
		{base.Named("snapshot").Named("restore"), "snapshot.restore", "raftstore.raft.snapshot.restore"},
		{base.Named("snapshot").ResetNamed("net"), "net", "raftstore.raft.net"},
		{base.Named("snapshot").ResetNamed(""), "", "raftstore.raft"},
	} {
		tc.l.Info("x")
		e := logs.TakeAll()[0]
		if tc.l.Name() != tc.name || e.LoggerName != tc.full {
			t.Errorf("Name() %q, logger %q; want %q, %q", tc.l.Name(), e.LoggerName, tc.name, tc.full)
		}
	}
}

// A running store's log lines, Raft's included, carry the node field
// once, are named raftstore or raftstore.raft, and hold no hclog.Fmt
// left unformatted.
func TestStoreLogLines(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	newTestCluster(t, 1, withConfig(func(c *Config) { c.Logger = zap.New(core) }))
	entries := logs.AllUntimed()
	if len(entries) == 0 {
		t.Fatal("no log lines")
	}
	sawRaft := false
	for _, e := range entries {
		if e.LoggerName != "raftstore" && !strings.HasPrefix(e.LoggerName, "raftstore.raft") || strings.Contains(e.LoggerName, "raftstore.raftstore") {
			t.Errorf("%q: logger name %q", e.Message, e.LoggerName)
		}
		sawRaft = sawRaft || e.LoggerName == "raftstore.raft"
		n := 0
		for _, k := range keys(e) {
			if k == "node" {
				n++
			}
		}
		if n != 1 || e.ContextMap()["node"] != "n0" {
			t.Errorf("%q: fields %v, want node=n0 once", e.Message, keys(e))
		}
		if e.Message == "initial configuration" {
			if s, ok := e.ContextMap()["servers"].(string); !ok || s != "[]" {
				t.Errorf("initial configuration: servers = %#v, want the formatted empty list", e.ContextMap()["servers"])
			}
		}
	}
	if !sawRaft {
		t.Error("no line of Raft's own")
	}
}
