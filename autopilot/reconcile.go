package autopilot

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/membership"
	"github.com/flotilla-io/flotilla/raftstore"
	"go.uber.org/zap"
)

// reconcile takes at most one step towards the wanted state. It is
// level-triggered: everything it needs is read afresh from Raft and gossip,
// except the small amount of timing state kept on a.
func (a *Autopilot) reconcile(ctx context.Context) {
	now := a.now()
	if !a.bootstrapped {
		has, err := a.cfg.Raft.HasState()
		if err != nil {
			a.waiting(now, "cannot read Raft state", zap.Error(err))
			return
		}
		a.bootstrapped = has
	}
	if a.bootstrapped && !a.advertised {
		opCtx, cancel := context.WithTimeout(ctx, a.cfg.OpTimeout)
		err := a.cfg.Gossip.UpdateRecord(opCtx, func(r *membership.Record) { r.Bootstrapped = true })
		cancel()
		if err == nil {
			a.advertised = true
		} else {
			a.log.Debug("advertising Raft state failed; will retry", zap.Error(err))
		}
	}
	if !a.bootstrapped {
		a.maybeBootstrap(ctx, now)
		return
	}
	if a.cfg.Raft.IsLeader() {
		a.leaderStep(ctx, now)
	}
}

// aliveServers returns the alive server members, sorted by name.
func aliveServers(members []membership.Member) []membership.Member {
	var out []membership.Member
	for _, m := range members {
		if m.Record.Role == membership.RoleServer && m.Status == membership.StatusAlive {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(x, y membership.Member) int { return strings.Compare(x.Name, y.Name) })
	return out
}

func (a *Autopilot) maybeBootstrap(ctx context.Context, now time.Time) {
	expect := a.cfg.BootstrapExpect
	if expect == 0 {
		a.waiting(now, "no Raft state and BootstrapExpect is 0: waiting for a leader to add this server")
		return
	}
	servers := a.provenServers(ctx, now, aliveServers(a.cfg.Gossip.Members()))
	for _, s := range servers {
		if s.Record.Bootstrapped && s.Name != a.id {
			a.serverSet = ""
			a.waiting(now, "a Raft cluster exists: waiting for its leader to add this server", zap.String("member", s.Name))
			return
		}
	}
	names := make([]string, len(servers))
	for i, s := range servers {
		names[i] = s.Name
	}
	if len(servers) < expect {
		a.serverSet = ""
		hint := ""
		if len(servers) <= 1 {
			hint = "; this node sees no other server: check its join addresses and that they are reachable"
		}
		a.waiting(now, fmt.Sprintf("bootstrap-expect %d: %d of %d servers visible by gossip, waiting for more%s", expect, len(servers), expect, hint),
			zap.Strings("servers", names))
		return
	}
	var key strings.Builder
	for _, s := range servers {
		key.WriteString(s.Name + "=" + s.Record.RPCAddr + ";")
	}
	if key.String() != a.serverSet {
		a.serverSet, a.serverSetAt = key.String(), now
		a.log.Info("enough servers for bootstrap; waiting for the set to stay unchanged",
			zap.Strings("servers", names), zap.Duration("stableTime", a.cfg.StableTime))
		if a.cfg.StableTime > 0 {
			return
		}
	}
	if now.Sub(a.serverSetAt) < a.cfg.StableTime {
		return
	}
	conf := make([]raftstore.Server, len(servers))
	for i, s := range servers {
		suffrage := raftstore.Voter
		if i >= a.cfg.MaxVoters {
			suffrage = raftstore.Nonvoter
		}
		conf[i] = raftstore.Server{ID: s.Name, Address: s.Record.RPCAddr, Suffrage: suffrage}
	}
	opCtx, cancel := context.WithTimeout(ctx, a.cfg.OpTimeout)
	defer cancel()
	err := a.cfg.Raft.Bootstrap(opCtx, conf...)
	switch {
	case err == nil:
		a.log.Info("bootstrapped Raft cluster", zap.Strings("servers", names))
		a.bootstrapped = true
	case errors.Is(err, raftstore.ErrAlreadyBootstrapped):
		a.bootstrapped = true
	default:
		a.waiting(now, "bootstrap failed; will retry", zap.Error(err))
	}
}

// provenServers returns the members of servers that are this node or that
// VerifyServer accepts.
func (a *Autopilot) provenServers(ctx context.Context, now time.Time, servers []membership.Member) []membership.Member {
	out := servers[:0:0]
	for _, m := range servers {
		if m.Name == a.id || a.proven(ctx, now, m) {
			out = append(out, m)
		}
	}
	return out
}

// proven reports whether VerifyServer accepts m's claim to be a server at
// its advertised address; successes are remembered per name and address.
func (a *Autopilot) proven(ctx context.Context, now time.Time, m membership.Member) bool {
	if a.cfg.VerifyServer == nil {
		return true
	}
	if a.verified[m.Name] == m.Record.RPCAddr && m.Record.RPCAddr != "" {
		return true
	}
	opCtx, cancel := context.WithTimeout(ctx, a.cfg.OpTimeout)
	err := a.cfg.VerifyServer(opCtx, m.Name, m.Record.RPCAddr)
	cancel()
	if err != nil {
		delete(a.verified, m.Name)
		if now.Sub(a.refusedAt[m.Name]) >= 10*time.Second {
			a.refusedAt[m.Name] = now
			a.log.Warn("gossip member claims to be a server but did not prove it; leaving it out of Raft",
				zap.String("member", m.Name), zap.String("addr", m.Record.RPCAddr), zap.Error(err))
		}
		return false
	}
	a.verified[m.Name] = m.Record.RPCAddr
	delete(a.refusedAt, m.Name)
	return true
}

// healthy reports whether a Raft server counts towards quorum in the
// leader's judgement: this node, or a member gossip sees alive or leaving.
func (a *Autopilot) healthy(id string, byName map[string]membership.Member) bool {
	if id == a.id {
		return true
	}
	m, ok := byName[id]
	return ok && (m.Status == membership.StatusAlive || m.Status == membership.StatusLeaving)
}

// quorumSafe reports whether removing id leaves a configuration whose healthy
// voters still form a quorum of it.
func (a *Autopilot) quorumSafe(servers []raftstore.Server, byName map[string]membership.Member, id string) bool {
	voters, healthy := 0, 0
	for _, s := range servers {
		if s.ID == id || s.Suffrage != raftstore.Voter {
			continue
		}
		voters++
		if a.healthy(s.ID, byName) {
			healthy++
		}
	}
	return voters > 0 && healthy >= voters/2+1
}

func (a *Autopilot) leaderStep(ctx context.Context, now time.Time) {
	opCtx, cancel := context.WithTimeout(ctx, a.cfg.OpTimeout)
	defer cancel()
	servers, err := a.cfg.Raft.Servers(opCtx)
	if err != nil {
		a.log.Warn("reading the Raft configuration failed", zap.Error(err))
		return
	}
	slices.SortFunc(servers, func(x, y raftstore.Server) int { return strings.Compare(x.ID, y.ID) })
	byName := make(map[string]membership.Member)
	for _, m := range a.cfg.Gossip.Members() {
		byName[m.Name] = m
	}
	inRaft := make(map[string]raftstore.Server, len(servers))
	voters := 0
	for _, s := range servers {
		inRaft[s.ID] = s
		if s.Suffrage == raftstore.Voter {
			voters++
		}
	}
	for id := range a.missingSince {
		if _, ok := inRaft[id]; !ok {
			delete(a.missingSince, id)
		}
	}

	// Removals first: a dead voter holds a voter slot and weakens quorum.
	for _, s := range servers {
		if s.ID == a.id {
			continue
		}
		m, ok := byName[s.ID]
		if ok {
			delete(a.missingSince, s.ID)
		}
		var reason string
		switch {
		case !ok:
			since, seen := a.missingSince[s.ID]
			if !seen {
				a.missingSince[s.ID] = now
				since = now
			}
			if now.Sub(since) >= a.cfg.FailedServerTimeout {
				reason = "absent from gossip"
			}
		case m.Status == membership.StatusLeft && now.Sub(m.Since) >= a.cfg.StableTime:
			reason = "left the cluster"
		case m.Status == membership.StatusFailed && now.Sub(m.Since) >= a.cfg.FailedServerTimeout:
			reason = "failed for longer than FailedServerTimeout"
		}
		if reason == "" {
			continue
		}
		if s.Suffrage == raftstore.Voter && !a.quorumSafe(servers, byName, s.ID) {
			a.waiting(now, "not removing server: the remaining healthy voters would not form a quorum",
				zap.String("server", s.ID), zap.String("reason", reason))
			continue
		}
		if err := a.cfg.Raft.RemoveServer(opCtx, s.ID); err != nil {
			a.log.Warn("removing server failed", zap.String("server", s.ID), zap.String("reason", reason), zap.Error(err))
			return
		}
		a.log.Info("removed server from Raft", zap.String("server", s.ID), zap.String("reason", reason))
		delete(a.missingSince, s.ID)
		return // one change per round; the next round re-reads everything
	}

	// Then additions, address changes and promotions of stable, alive servers.
	for _, m := range aliveServers(slices.Collect(maps.Values(byName))) {
		if m.Name == a.id || now.Sub(m.Since) < a.cfg.StableTime || m.Record.RPCAddr == "" {
			continue
		}
		s, ok := inRaft[m.Name]
		if (!ok || s.Address != m.Record.RPCAddr) && !a.proven(ctx, now, m) {
			continue
		}
		var err error
		var what string
		switch {
		case !ok && voters < a.cfg.MaxVoters:
			what, err = "added voter", a.cfg.Raft.AddVoter(opCtx, m.Name, m.Record.RPCAddr)
		case !ok:
			what, err = "added non-voter", a.cfg.Raft.AddNonvoter(opCtx, m.Name, m.Record.RPCAddr)
		case s.Address != m.Record.RPCAddr && s.Suffrage == raftstore.Voter:
			what, err = "updated voter address", a.cfg.Raft.AddVoter(opCtx, m.Name, m.Record.RPCAddr)
		case s.Address != m.Record.RPCAddr:
			what, err = "updated non-voter address", a.cfg.Raft.AddNonvoter(opCtx, m.Name, m.Record.RPCAddr)
		case s.Suffrage == raftstore.Nonvoter && voters < a.cfg.MaxVoters:
			what, err = "promoted to voter", a.cfg.Raft.AddVoter(opCtx, m.Name, m.Record.RPCAddr)
		default:
			continue
		}
		if err != nil {
			a.log.Warn("changing the Raft configuration failed", zap.String("server", m.Name), zap.String("change", what), zap.Error(err))
			return
		}
		a.log.Info("Raft configuration changed", zap.String("server", m.Name), zap.String("change", what), zap.String("addr", m.Record.RPCAddr))
		return
	}
}

// waiting logs why nothing happens, at most once per distinct message every
// 10 seconds.
func (a *Autopilot) waiting(now time.Time, msg string, fields ...zap.Field) {
	if msg == a.lastWait && now.Sub(a.lastWaitAt) < 10*time.Second {
		return
	}
	a.lastWait, a.lastWaitAt = msg, now
	a.log.Info(msg, fields...)
}
