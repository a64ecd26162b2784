package ratelog

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type line struct {
	level      zapcore.Level
	msg        string
	suppressed int64 // -1: no such field
}

func lines(logs *observer.ObservedLogs) []line {
	var out []line
	for _, e := range logs.TakeAll() {
		l := line{level: e.Level, msg: e.Message, suppressed: -1}
		if v, ok := e.ContextMap()["suppressed"]; ok {
			l.suppressed = v.(int64)
		}
		out = append(out, l)
	}
	return out
}

// The first line of a key goes out at once at its level; repeats within
// the interval go out at Debug only; the first line after the interval is
// at the level again and says how many were held back. Keys are
// independent.
func TestLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		core, logs := observer.New(zapcore.DebugLevel)
		l := New(zap.New(core), time.Minute)
		check := func(when string, want ...line) {
			t.Helper()
			got := lines(logs)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s: lines %v, want %v", when, got, want)
			}
		}

		l.Warn("list", "list failed")
		check("first", line{zapcore.WarnLevel, "list failed", -1})

		for range 3 {
			time.Sleep(10 * time.Second)
			l.Warn("list", "list failed")
		}
		l.Error("bind", "bind failed") // another key is not held back
		check("within the interval",
			line{zapcore.DebugLevel, "list failed", -1}, line{zapcore.DebugLevel, "list failed", -1},
			line{zapcore.DebugLevel, "list failed", -1}, line{zapcore.ErrorLevel, "bind failed", -1})

		time.Sleep(30 * time.Second) // a minute after the first line
		l.Warn("list", "list failed")
		check("after the interval", line{zapcore.WarnLevel, "list failed", 3})

		time.Sleep(time.Hour)
		l.Warn("list", "list failed")
		check("after a quiet hour", line{zapcore.WarnLevel, "list failed", -1})
	})
}

// A logger above Debug sees one line per key and interval: a failure
// that repeats every 100 ms for a minute writes two lines, not 600.
func TestLimiterFlood(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		core, logs := observer.New(zapcore.InfoLevel)
		l := New(zap.New(core), 30*time.Second)
		for range 600 {
			l.Warn("heartbeat", "node heartbeat failed")
			time.Sleep(100 * time.Millisecond)
		}
		got := lines(logs)
		want := []line{{zapcore.WarnLevel, "node heartbeat failed", -1}, {zapcore.WarnLevel, "node heartbeat failed", 299}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("lines %v, want %v", got, want)
		}
	})
}

// Past maxKeys, keys whose interval is over are forgotten; those still in
// their interval keep holding lines back.
func TestLimiterForgets(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		core, logs := observer.New(zapcore.WarnLevel)
		l := New(zap.New(core), time.Minute)
		for i := range maxKeys - 1 {
			l.Warn(fmt.Sprint("old", i), "failed")
		}
		time.Sleep(time.Minute)
		l.Warn("recent", "failed")
		l.Warn("new", "failed") // over the bound: the old keys go
		l.mu.Lock()
		n := len(l.keys)
		l.mu.Unlock()
		if n != 2 {
			t.Errorf("%d keys remembered, want 2 (recent, new)", n)
		}
		logs.TakeAll()
		l.Warn("recent", "failed")
		if got := logs.Len(); got != 0 {
			t.Errorf("a key in its interval wrote %d lines at Warn after the others were forgotten", got)
		}
	})
}
