package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/strategy"
	"github.com/flotilla-io/flotilla/raftstore"
)

// ClaimPrefix is the root of the records of values held by objects of
// kinds whose strategy is a strategy.Allocator (a Service's cluster IP
// and node ports): one key per pool and value, ClaimPrefix+pool+"/"+value,
// whose value names the holder. "~" cannot start a resource name, so the
// records never mix with a kind's objects.
const ClaimPrefix = Prefix + "~claims/"

func claimKey(pool, value string) string { return ClaimPrefix + pool + "/" + value }

// claimHolder is a claim record's value: who holds it.
type claimHolder struct {
	Kind      string  `json:"kind"`
	Namespace string  `json:"namespace,omitempty"`
	Name      string  `json:"name"`
	UID       api.UID `json:"uid"`
}

// claimSet is what one write does to the claim records, in the write's
// transaction: create the records of creates (in order, first), then
// delete others.
type claimSet struct {
	ops       []raftstore.Op
	creates   []strategy.Claim
	requested []bool // per create: the client asked for the value
	invalid   func(api.FieldErrorList) error
}

// claimTaken is the error of a commit whose claim op failed.
func (c *claimSet) failed(i int, err error) error {
	if i < len(c.creates) && c.requested[i] && raftstore.IsAlreadyExists(err) {
		cl := c.creates[i]
		return c.invalid(api.FieldErrorList{api.Invalid(cl.Field, cl.BadValue, cl.Taken)})
	}
	// A value chosen at random was taken meanwhile, or a record moved:
	// run the write again on fresh state.
	return fmt.Errorf("%w: claim: %w", errPrecondition, err)
}

func (c *claimSet) opsOrNil() []raftstore.Op {
	if c == nil {
		return nil
	}
	return c.ops
}

// allocate runs the Allocator ability of st, if any, on obj (old: the
// stored object on update, nil on create): it fills the values obj asks
// the server to choose and reports values obj asks for that another
// object holds, as Invalid errors with their field paths.
//
// consistent reads the pools linearizably: a write runs again after a
// value it chose was taken meanwhile, and a follower's local state may
// not show that value yet.
//
// Errors: the store's, when reading a pool fails.
func (r *Registry) allocate(ctx context.Context, st strategy.Strategy, obj, old api.Object, consistent bool) (api.FieldErrorList, error) {
	al, ok := st.(strategy.Allocator)
	if !ok {
		return nil, nil
	}
	held := claimsOf(al, old)
	pools := map[string]map[string]bool{}
	var readErr error
	taken := func(pool string) map[string]bool {
		if s, ok := pools[pool]; ok {
			return s
		}
		kvs, _, err := r.kv.List(ctx, ClaimPrefix+pool+"/", raftRead(consistent)...)
		if err != nil && readErr == nil {
			readErr = err
		}
		s := make(map[string]bool, len(kvs))
		for _, kv := range kvs {
			s[strings.TrimPrefix(kv.Key, ClaimPrefix+pool+"/")] = true
		}
		pools[pool] = s
		return s
	}
	var errs api.FieldErrorList
	for _, c := range al.Claims(obj) {
		if !held[c.Pool+"/"+c.Value] && taken(c.Pool)[c.Value] {
			errs = append(errs, api.Invalid(c.Field, c.BadValue, c.Taken))
		}
	}
	if len(errs) == 0 {
		errs = al.Allocate(obj, old, taken)
	}
	if readErr != nil {
		return nil, storeErr(readErr, api.KindInfo{Kind: "claim"}, "")
	}
	return errs, nil
}

func claimsOf(al strategy.Allocator, obj api.Object) map[string]bool {
	out := map[string]bool{}
	if obj == nil {
		return out
	}
	for _, c := range al.Claims(obj) {
		out[c.Pool+"/"+c.Value] = true
	}
	return out
}

// claimOps returns what a write that turns old into obj does to the claim
// records: records for the values obj holds and old did not, deletions
// of the records of values old held and obj does not (obj nil: the
// object is removed). requested, on create and update, are the claims
// before Allocate ran (what the client asked for). nil when st is no
// Allocator or nothing changes.
//
// consistent reads the records linearizably (on a write's retries).
//
// Errors: the store's, reading the records to delete.
func (r *Registry) claimOps(ctx context.Context, st strategy.Strategy, info api.KindInfo, obj, old api.Object, requested map[string]bool, consistent bool) (*claimSet, error) {
	al, ok := st.(strategy.Allocator)
	if !ok {
		return nil, nil
	}
	before, after := claimsOf(al, old), map[string]bool{}
	cs := &claimSet{}
	if obj != nil {
		after = claimsOf(al, obj)
		m := obj.GetObjectMeta()
		holder, err := json.Marshal(claimHolder{Kind: info.Kind, Namespace: m.Namespace, Name: m.Name, UID: m.UID})
		if err != nil {
			return nil, api.NewInternalError(err)
		}
		for _, c := range al.Claims(obj) {
			if before[c.Pool+"/"+c.Value] {
				continue
			}
			cs.ops = append(cs.ops, raftstore.OpCreate(claimKey(c.Pool, c.Value), holder))
			cs.creates = append(cs.creates, c)
			cs.requested = append(cs.requested, requested[c.Pool+"/"+c.Value])
		}
		cs.invalid = func(errs api.FieldErrorList) error { return invalid(info, obj, errs) }
	}
	if old != nil {
		uid := old.GetObjectMeta().UID
		for _, c := range al.Claims(old) {
			if after[c.Pool+"/"+c.Value] {
				continue
			}
			kv, err := r.kv.Get(ctx, claimKey(c.Pool, c.Value), raftRead(consistent)...)
			if raftstore.IsNotFound(err) {
				continue // never recorded: nothing to free
			}
			if err != nil {
				return nil, storeErr(err, info, old.GetObjectMeta().Name)
			}
			var h claimHolder
			if json.Unmarshal(kv.Value, &h) != nil || h.UID != uid {
				continue // another object's record: not ours to free
			}
			cs.ops = append(cs.ops, raftstore.OpDelete(kv.Key, kv.ModRevision))
		}
	}
	if len(cs.ops) == 0 {
		return nil, nil
	}
	return cs, nil
}

// requestedClaims returns the claims obj holds before Allocate ran.
func requestedClaims(st strategy.Strategy, obj api.Object) map[string]bool {
	al, ok := st.(strategy.Allocator)
	if !ok {
		return nil
	}
	return claimsOf(al, obj)
}
