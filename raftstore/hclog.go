package raftstore

import (
	"fmt"
	"io"
	"log"
	"slices"
	"strconv"

	"github.com/hashicorp/go-hclog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// hclogger adapts zap to hclog.Logger so Raft's logs reach the injected
// zap logger with their key-value pairs as fields, rendered as hclog
// renders them (hclog.Fmt values formatted, Hex/Octal/Binary/Quote
// spelled out).
//
// Its names are hclog's, kept apart from the zap logger's: Named appends
// to the hclog name and ResetNamed replaces it, both below the zap
// logger's own name, so a name never repeats.
type hclogger struct {
	root *zap.Logger // the zap logger newHCLogger was given
	z    *zap.Logger // root named with name
	name string
	// implied are the With arguments as fields, impliedArgs as given.
	implied     []zap.Field
	impliedArgs []any
	// reserved are keys the zap logger's own fields use (node): an
	// argument under one is renamed with the prefix, not repeated.
	reserved []string
	prefix   string
}

// newHCLogger returns the hclog.Logger for z, whose own fields use the
// keys reserved; arguments of Raft's under those keys are renamed prefix
// + key (Raft's "node" argument, the Raft instance's state, becomes
// "raft_node" beside the store's "node").
func newHCLogger(z *zap.Logger, prefix string, reserved ...string) hclog.Logger {
	return &hclogger{root: z, z: z, reserved: reserved, prefix: prefix}
}

func (l *hclogger) fields(args []any) []zap.Field {
	fs := make([]zap.Field, 0, len(l.implied)+len(args)/2+1)
	fs = append(fs, l.implied...)
	return l.appendFields(fs, args)
}

func (l *hclogger) appendFields(fs []zap.Field, args []any) []zap.Field {
	for i := 0; i < len(args); i += 2 {
		if i+1 == len(args) {
			fs = append(fs, zap.Any(hclog.MissingKey, hclogValue(args[i])))
			break
		}
		key := fmt.Sprint(args[i])
		if slices.Contains(l.reserved, key) {
			key = l.prefix + key
		}
		if st, ok := args[i+1].(hclog.CapturedStacktrace); ok {
			fs = append(fs, zap.String(key, string(st)))
			continue
		}
		fs = append(fs, zap.Any(key, hclogValue(args[i+1])))
	}
	return fs
}

// hclogValue renders hclog's formatting types as hclog does; other values
// are left to zap.
func hclogValue(v any) any {
	switch v := v.(type) {
	case hclog.Format:
		if len(v) == 0 {
			return ""
		}
		if f, ok := v[0].(string); ok {
			return fmt.Sprintf(f, v[1:]...)
		}
		return fmt.Sprint(v...)
	case hclog.Hex:
		return "0x" + strconv.FormatUint(uint64(v), 16)
	case hclog.Octal:
		return "0" + strconv.FormatUint(uint64(v), 8)
	case hclog.Binary:
		return "0b" + strconv.FormatUint(uint64(v), 2)
	case hclog.Quote:
		return strconv.Quote(string(v))
	}
	return v
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

func (l *hclogger) ImpliedArgs() []any { return l.impliedArgs }

func (l *hclogger) With(args ...any) hclog.Logger {
	n := *l
	n.implied = l.appendFields(slices.Clip(l.implied), args)
	n.impliedArgs = append(slices.Clip(l.impliedArgs), args...)
	return &n
}

func (l *hclogger) Name() string { return l.name }

func (l *hclogger) Named(name string) hclog.Logger {
	if l.name != "" {
		name = l.name + "." + name
	}
	return l.ResetNamed(name)
}

func (l *hclogger) ResetNamed(name string) hclog.Logger {
	n := *l
	n.name, n.z = name, l.root
	if name != "" {
		n.z = l.root.Named(name)
	}
	return &n
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
