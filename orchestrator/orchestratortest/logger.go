package orchestratortest

import (
	"sync/atomic"

	"go.uber.org/zap/zapcore"
)

// muteCore drops everything once muted. memberlist's timers may still log
// shortly after Shutdown returns (memberlist does not wait for them), and
// testing.T panics on a log after the test completed, so the cluster's
// logger is muted once the cluster has shut down.
type muteCore struct {
	zapcore.Core
	muted *atomic.Bool
}

func (c muteCore) Enabled(l zapcore.Level) bool { return !c.muted.Load() && c.Core.Enabled(l) }

func (c muteCore) With(f []zapcore.Field) zapcore.Core {
	return muteCore{Core: c.Core.With(f), muted: c.muted}
}

func (c muteCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.muted.Load() {
		return ce
	}
	if c.Core.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c muteCore) Write(e zapcore.Entry, f []zapcore.Field) error {
	if c.muted.Load() {
		return nil
	}
	return c.Core.Write(e, f)
}
