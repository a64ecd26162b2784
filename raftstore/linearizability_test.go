package raftstore

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
)

var chaosDuration = flag.Duration("chaos.duration", 3*time.Second, "how long TestLinearizableUnderChaos runs its clients and faults")

type lzInput struct {
	op     string // "get", "put" or "cas"
	key    string
	value  string
	expect int64
}

type lzOutput struct {
	unknown bool   // the write may or may not have happened
	err     string // "", "conflict" or "notfound"
	value   string // for get; "" when absent
	rev     int64
}

type lzState struct {
	value string // "" when absent
	rev   int64  // -1 when unknown (after a write of unknown outcome)
}

// registerModel is a key-value register with revisions. Writes of unknown
// outcome branch into "applied" and "not applied".
var registerModel = porcupine.NondeterministicModel{
	Partition: func(h []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		var keys []string
		for _, op := range h {
			k := op.Input.(lzInput).key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() []any { return []any{lzState{}} },
	Step: func(st, in, out any) []any {
		s, i, o := st.(lzState), in.(lzInput), out.(lzOutput)
		revOK := func(r int64) bool { return s.rev == -1 || s.rev == r }
		switch i.op {
		case "get":
			if o.value == s.value && (o.value == "" || revOK(o.rev)) {
				if o.value == "" {
					return []any{s}
				}
				return []any{lzState{o.value, o.rev}}
			}
		case "put":
			if o.unknown {
				return []any{s, lzState{i.value, -1}}
			}
			if s.rev == -1 || o.rev > s.rev {
				return []any{lzState{i.value, o.rev}}
			}
		case "cas":
			switch {
			case s.value == "":
				if o.err == "notfound" || o.unknown {
					return []any{s}
				}
			case o.unknown:
				if revOK(i.expect) {
					return []any{s, lzState{i.value, -1}}
				}
				return []any{s}
			case o.err == "conflict":
				if s.rev != i.expect {
					return []any{s}
				}
			case o.err == "":
				if revOK(i.expect) && o.rev > i.expect {
					return []any{lzState{i.value, o.rev}}
				}
			}
		}
		return nil
	},
	Equal: func(a, b any) bool { return a.(lzState) == b.(lzState) },
	DescribeOperation: func(in, out any) string {
		i, o := in.(lzInput), out.(lzOutput)
		return fmt.Sprintf("%s(%s, %q, %d) -> %+v", i.op, i.key, i.value, i.expect, o)
	},
}

// chaosCluster guards the node slice that the nemesis restarts under the
// clients.
type chaosCluster struct {
	*testCluster
	mu sync.Mutex
}

func (c *chaosCluster) node(i int) *Store {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stores[i]
}

// TestLinearizableUnderChaos runs concurrent clients against every node
// while the leader is killed and restarted from disk and nodes are cut off,
// then checks the whole history with porcupine and that every acknowledged
// write survived.
func TestLinearizableUnderChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos test skipped in -short mode")
	}
	c := &chaosCluster{testCluster: newTestCluster(t, 3, withDisk())}
	keys := []string{"x", "y", "z"}
	start := time.Now()
	var (
		histMu  sync.Mutex
		history []porcupine.Operation
		acked   = map[string]int64{}
		unknown int
	)
	record := func(client int, in lzInput, out lzOutput, call, ret time.Time) {
		histMu.Lock()
		defer histMu.Unlock()
		end := int64(ret.Sub(start))
		if out.unknown {
			end = math.MaxInt64
			unknown++
		}
		history = append(history, porcupine.Operation{ClientId: client, Input: in, Output: out, Call: int64(call.Sub(start)), Return: end})
		if (in.op == "put" || in.op == "cas") && !out.unknown && out.err == "" {
			acked[in.key]++
		}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for cl := 0; cl < 4; cl++ {
		wg.Add(1)
		go func(cl int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(cl), 42))
			lastRev := map[string]int64{}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				s := c.node(rng.IntN(3))
				if s.running() != nil {
					time.Sleep(5 * time.Millisecond)
					continue
				}
				in := lzInput{key: keys[rng.IntN(len(keys))], value: fmt.Sprintf("c%d-%d", cl, n)}
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				call := time.Now()
				var out lzOutput
				var err error
				switch r := rng.IntN(10); {
				case r < 4:
					in.op, in.value = "get", ""
					var kv KV
					kv, err = s.Get(ctx, in.key, Linearizable())
					out = lzOutput{value: string(kv.Value), rev: kv.ModRevision}
					if IsNotFound(err) {
						err = nil
					}
					if err == nil && kv.ModRevision > 0 {
						lastRev[in.key] = kv.ModRevision
					}
				case r < 7:
					in.op = "put"
					out.rev, err = s.Put(ctx, in.key, []byte(in.value))
				default:
					in.op, in.expect = "cas", lastRev[in.key]
					out.rev, err = s.Update(ctx, in.key, []byte(in.value), in.expect)
					if in.expect == 0 && !IsNotFound(err) {
						// Update with 0 overwrites any revision: a put that
						// needs the key to exist, which only "notfound" shows.
						in.op = "put"
					}
				}
				ret := time.Now()
				cancel()
				switch {
				case err == nil:
				case IsConflict(err):
					out.err = "conflict"
				case IsNotFound(err):
					out.err = "notfound"
				case errors.Is(err, ErrNoLeader) && !errors.Is(err, ErrUnknownOutcome):
					continue // definitely not applied: leave it out
				default:
					if in.op == "get" {
						continue // a failed read has no effect
					}
					out = lzOutput{unknown: true}
				}
				record(cl, in, out, call, ret)
			}
		}(cl)
	}

	// The nemesis: kill and restart the leader, isolate a node, heal.
	rng := rand.New(rand.NewPCG(7, 7))
	deadline := time.Now().Add(*chaosDuration)
	faults := 0
	for time.Now().Before(deadline) {
		time.Sleep(150 * time.Millisecond)
		l := c.waitLeader()
		switch rng.IntN(2) {
		case 0:
			c.stop(l)
			time.Sleep(200 * time.Millisecond)
			c.mu.Lock()
			c.start(l)
			c.mu.Unlock()
		case 1:
			victim := l
			if rng.IntN(2) == 0 {
				victim = (l + 1) % 3
			}
			c.net.Isolate(c.node(victim).Addr())
			time.Sleep(250 * time.Millisecond)
			c.net.Heal()
		}
		faults++
	}
	close(stop)
	wg.Wait()

	// Every acknowledged write survived: each key's version counts all
	// writes applied to it (there are no deletes), and a final read joins
	// the history.
	ctx := ctxT(t)
	c.waitLeader()
	for _, k := range keys {
		call := time.Now()
		kv, err := c.node(0).Get(ctx, k, Linearizable())
		if err != nil && !IsNotFound(err) {
			t.Fatalf("final read of %s: %v", k, err)
		}
		record(99, lzInput{op: "get", key: k}, lzOutput{value: string(kv.Value), rev: kv.ModRevision}, call, time.Now())
		if kv.Version < acked[k] {
			t.Errorf("key %s has %d writes applied but %d were acknowledged", k, kv.Version, acked[k])
		}
	}
	res, info := porcupine.CheckOperationsVerbose(registerModel.ToModel(), history, time.Minute)
	if res != porcupine.Ok {
		partials := info.PartialLinearizations()
		for pi, part := range registerModel.Partition(history) {
			longest := 0
			for _, pl := range partials[pi] {
				longest = max(longest, len(pl))
			}
			if longest == len(part) {
				continue
			}
			in := map[int]bool{}
			for _, pl := range partials[pi] {
				for _, id := range pl {
					in[id] = true
				}
			}
			t.Logf("partition %d: %d ops, longest partial linearization %d", pi, len(part), longest)
			for oi, op := range part {
				if !in[oi] {
					t.Logf("  not linearized #%d c%d [%d..%d] %s", oi, op.ClientId, op.Call/1e6, op.Return/1e6, registerModel.DescribeOperation(op.Input, op.Output))
				}
			}
			for _, pl := range partials[pi] {
				for _, id := range pl[max(0, len(pl)-8):] {
					op := part[id]
					t.Logf("  tail #%d c%d [%d..%d] %s", id, op.ClientId, op.Call/1e6, op.Return/1e6, registerModel.DescribeOperation(op.Input, op.Output))
				}
				t.Log("  --")
			}
		}
		t.Fatalf("history of %d operations is not linearizable (%v); %d faults, %d unknown outcomes",
			len(history), res, faults, unknown)
	}
	t.Logf("%d operations (%d of unknown outcome) under %d faults: linearizable", len(history), unknown, faults)
	if len(history) < 50 {
		t.Fatalf("only %d operations completed; the test exercised too little", len(history))
	}
}
