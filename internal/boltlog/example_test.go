package boltlog_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flotilla-io/flotilla/internal/boltlog"
	"github.com/hashicorp/raft"
)

func Example() {
	dir, err := os.MkdirTemp("", "boltlog-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	store, err := boltlog.Open(filepath.Join(dir, "raft.db"), time.Second)
	if err != nil {
		panic(err)
	}
	defer store.Close()

	// raft.NewRaft(config, fsm, store, store, snapshots, transport) would
	// use it as both its log and its stable store; here we write directly.
	if err := store.StoreLogs([]*raft.Log{
		{Index: 1, Term: 1, Type: raft.LogCommand, Data: []byte("a")},
		{Index: 2, Term: 1, Type: raft.LogCommand, Data: []byte("b")},
	}); err != nil {
		panic(err)
	}
	var entry raft.Log
	if err := store.GetLog(2, &entry); err != nil {
		panic(err)
	}
	last, _ := store.LastIndex()
	fmt.Printf("last index %d, entry 2 holds %q\n", last, entry.Data)
	// Output: last index 2, entry 2 holds "b"
}
