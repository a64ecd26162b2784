package ratelog_test

import (
	"errors"
	"time"

	"github.com/flotilla-io/flotilla/internal/ratelog"
	"go.uber.org/zap"
)

// A failure that repeats goes out at Warn once per interval; the repeats
// in between go out at Debug only (zap.NewExample logs Debug and up).
func Example() {
	l := ratelog.New(zap.NewExample(), time.Minute)
	err := errors.New("no leader")
	for range 3 {
		l.Warn("heartbeat", "node heartbeat failed", zap.Error(err))
	}
	// Output:
	// {"level":"warn","msg":"node heartbeat failed","error":"no leader"}
	// {"level":"debug","msg":"node heartbeat failed","error":"no leader"}
	// {"level":"debug","msg":"node heartbeat failed","error":"no leader"}
}
