package raftstore

import (
	"fmt"
	"io"
	"log"

	"github.com/hashicorp/go-hclog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// hclogger adapts zap to hclog.Logger so Raft's logs reach the injected
// zap logger with their key-value pairs as fields.
type hclogger struct {
	z       *zap.Logger
	name    string
	implied []any
}

func newHCLogger(z *zap.Logger) hclog.Logger { return &hclogger{z: z} }

func (l *hclogger) fields(args []any) []zap.Field {
	all := append(append([]any(nil), l.implied...), args...)
	fs := make([]zap.Field, 0, len(all)/2+1)
	for i := 0; i < len(all); i += 2 {
		if i+1 == len(all) {
			fs = append(fs, zap.Any("EXTRA_VALUE", all[i]))
			break
		}
		fs = append(fs, zap.Any(fmt.Sprint(all[i]), all[i+1]))
	}
	return fs
}

func zapLevel(level hclog.Level) zapcore.Level {
	switch level {
	case hclog.Trace, hclog.Debug:
		return zapcore.DebugLevel
	case hclog.Warn:
		return zapcore.WarnLevel
	case hclog.Error:
		return zapcore.ErrorLevel
	}
	return zapcore.InfoLevel
}

func (l *hclogger) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	if ce := l.z.Check(zapLevel(level), msg); ce != nil {
		ce.Write(l.fields(args)...)
	}
}

func (l *hclogger) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }
func (l *hclogger) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }
func (l *hclogger) Info(msg string, args ...any)  { l.Log(hclog.Info, msg, args...) }
func (l *hclogger) Warn(msg string, args ...any)  { l.Log(hclog.Warn, msg, args...) }
func (l *hclogger) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

func (l *hclogger) IsTrace() bool { return l.z.Core().Enabled(zapcore.DebugLevel) }
func (l *hclogger) IsDebug() bool { return l.z.Core().Enabled(zapcore.DebugLevel) }
func (l *hclogger) IsInfo() bool  { return l.z.Core().Enabled(zapcore.InfoLevel) }
func (l *hclogger) IsWarn() bool  { return l.z.Core().Enabled(zapcore.WarnLevel) }
func (l *hclogger) IsError() bool { return l.z.Core().Enabled(zapcore.ErrorLevel) }

func (l *hclogger) ImpliedArgs() []any { return l.implied }

func (l *hclogger) With(args ...any) hclog.Logger {
	return &hclogger{z: l.z, name: l.name, implied: append(append([]any(nil), l.implied...), args...)}
}

func (l *hclogger) Name() string { return l.name }

func (l *hclogger) Named(name string) hclog.Logger {
	n := name
	if l.name != "" {
		n = l.name + "." + name
	}
	return &hclogger{z: l.z.Named(name), name: n, implied: l.implied}
}

func (l *hclogger) ResetNamed(name string) hclog.Logger {
	return &hclogger{z: l.z.Named(name), name: name, implied: l.implied}
}

// SetLevel is ignored: the zap logger's own level decides.
func (l *hclogger) SetLevel(hclog.Level) {}

func (l *hclogger) GetLevel() hclog.Level {
	switch {
	case l.IsDebug():
		return hclog.Debug
	case l.IsInfo():
		return hclog.Info
	case l.IsWarn():
		return hclog.Warn
	}
	return hclog.Error
}

func (l *hclogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(opts), "", 0)
}

func (l *hclogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return zap.NewStdLog(l.z).Writer()
}
