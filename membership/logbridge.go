package membership

import (
	"bytes"
	"log"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// newStdLogger returns a *log.Logger for memberlist whose lines go to z at
// the level memberlist wrote in its "[LEVEL] memberlist: message" prefix.
func newStdLogger(z *zap.Logger) *log.Logger {
	return log.New(zapWriter{z}, "", 0)
}

type zapWriter struct{ z *zap.Logger }

var levelPrefixes = []struct {
	prefix []byte
	level  zapcore.Level
}{
	{[]byte("[DEBUG] "), zapcore.DebugLevel},
	{[]byte("[TRACE] "), zapcore.DebugLevel},
	{[]byte("[INFO] "), zapcore.InfoLevel},
	{[]byte("[WARN] "), zapcore.WarnLevel},
	{[]byte("[ERR] "), zapcore.ErrorLevel},
	{[]byte("[ERROR] "), zapcore.ErrorLevel},
}

func (w zapWriter) Write(p []byte) (int, error) {
	line := bytes.TrimSpace(p)
	level := zapcore.InfoLevel
	for _, lp := range levelPrefixes {
		if bytes.HasPrefix(line, lp.prefix) {
			level = lp.level
			line = line[len(lp.prefix):]
			break
		}
	}
	line = bytes.TrimPrefix(line, []byte("memberlist: "))
	if ce := w.z.Check(level, string(line)); ce != nil {
		ce.Write()
	}
	return len(p), nil
}
