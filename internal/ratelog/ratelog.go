package ratelog

import (
	"sync"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// DefaultInterval is the least time between two lines of one key at the
// level asked for: a failing component writes about two lines a minute.
const DefaultInterval = 30 * time.Second

// maxKeys bounds the memory of keys; beyond it the keys whose interval is
// over are forgotten.
const maxKeys = 256

// Limiter writes rate-limited log lines. Create it with New; it is safe
// for concurrent use. A nil *Limiter writes nothing.
type Limiter struct {
	log      *zap.Logger
	interval time.Duration

	mu   sync.Mutex
	keys map[string]*window
}

// window is what the Limiter remembers of a key: when its last line went
// out at the level asked for, and how many were held back since.
type window struct {
	last time.Time
	held int
}

// New returns a Limiter writing to log (nil: nowhere) at most one line per
// key and interval (<= 0: DefaultInterval).
func New(log *zap.Logger, interval time.Duration) *Limiter {
	if log == nil {
		log = zap.NewNop()
	}
	if interval <= 0 {
		interval = DefaultInterval
	}
	return &Limiter{log: log, interval: interval, keys: map[string]*window{}}
}

// Warn is Log at WarnLevel.
func (l *Limiter) Warn(key, msg string, fields ...zap.Field) {
	l.Log(zapcore.WarnLevel, key, msg, fields...)
}

// Error is Log at ErrorLevel.
func (l *Limiter) Error(key, msg string, fields ...zap.Field) {
	l.Log(zapcore.ErrorLevel, key, msg, fields...)
}

// Log writes msg with fields at level if key's last line at its level
// went out at least the interval ago (or never), adding the field
// "suppressed" with the number of lines held back since, when there were
// any. Otherwise it writes the line at Debug and counts it as held back.
//
// Keys should name a kind of failure of the component ("reconcile",
// "heartbeat"), not an object: the Limiter remembers up to 256 keys and
// then forgets those whose interval is over, losing their held-back
// counts.
func (l *Limiter) Log(level zapcore.Level, key, msg string, fields ...zap.Field) {
	if l == nil {
		return
	}
	now := time.Now()
	l.mu.Lock()
	w := l.keys[key]
	if w != nil && now.Sub(w.last) < l.interval {
		w.held++
		l.mu.Unlock()
		if ce := l.log.Check(zapcore.DebugLevel, msg); ce != nil {
			ce.Write(fields...)
		}
		return
	}
	if w == nil {
		if len(l.keys) >= maxKeys {
			l.forgetLocked(now)
		}
		w = &window{}
		l.keys[key] = w
	}
	held := w.held
	w.last, w.held = now, 0
	l.mu.Unlock()
	if ce := l.log.Check(level, msg); ce != nil {
		if held > 0 {
			fields = append(fields[:len(fields):len(fields)], zap.Int("suppressed", held))
		}
		ce.Write(fields...)
	}
}

// forgetLocked drops the keys whose interval is over.
func (l *Limiter) forgetLocked(now time.Time) {
	for k, w := range l.keys {
		if now.Sub(w.last) >= l.interval {
			delete(l.keys, k)
		}
	}
}
