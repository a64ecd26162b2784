package raftstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/raftstore"
)

// A single-node store on loopback, kept in memory.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	cfg := raftstore.FastConfig()
	cfg.NodeID = "node-1"
	cfg.BindAddr = "127.0.0.1:0"
	s, err := raftstore.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := s.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer s.Shutdown(context.Background())
	if err := s.Bootstrap(ctx); err != nil {
		fmt.Println(err)
		return
	}

	w, err := s.Watch(ctx, "greetings/", 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Stop()

	rev, _ := s.Create(ctx, "greetings/en", []byte("hello"))
	_, err = s.Update(ctx, "greetings/en", []byte("hi"), rev-1)
	fmt.Println("stale update is a conflict:", raftstore.IsConflict(err))
	s.Update(ctx, "greetings/en", []byte("hi"), rev)

	kv, _ := s.Get(ctx, "greetings/en", raftstore.Linearizable())
	fmt.Printf("%s = %s (version %d)\n", kv.Key, kv.Value, kv.Version)
	for i := 0; i < 2; i++ {
		ev := <-w.Events()
		fmt.Println(ev.Type, ev.Key, string(ev.Value))
	}
	// Output:
	// stale update is a conflict: true
	// greetings/en = hi (version 2)
	// PUT greetings/en hello
	// PUT greetings/en hi
}
