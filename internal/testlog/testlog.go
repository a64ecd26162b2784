// Package testlog gives tests a zap logger that writes to the test's log
// (shown on failure or with -v) until the test's cleanup, and discards
// afterwards: Raft and memberlist goroutines may log briefly after their
// Shutdown returns, and logging to a finished test is a data race.
package testlog

import (
	"bytes"
	"sync"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// New returns the logger, at Info level.
func New(tb testing.TB) *zap.Logger {
	w := &gatedWriter{tb: tb}
	tb.Cleanup(func() {
		w.mu.Lock()
		w.closed = true
		w.mu.Unlock()
	})
	enc := zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig())
	return zap.New(zapcore.NewCore(enc, zapcore.AddSync(w), zap.InfoLevel))
}

type gatedWriter struct {
	tb     testing.TB
	mu     sync.RWMutex
	closed bool
}

func (w *gatedWriter) Write(p []byte) (int, error) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if !w.closed {
		w.tb.Logf("%s", bytes.TrimRight(p, "\n"))
	}
	return len(p), nil
}
