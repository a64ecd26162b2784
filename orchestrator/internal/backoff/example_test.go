package backoff_test

import (
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/orchestrator/api"
	"github.com/flotilla-io/flotilla/orchestrator/internal/backoff"
)

func Example() {
	b, err := backoff.New(backoff.DefaultConfig())
	if err != nil {
		panic(err)
	}
	key := backoff.Key("7f3c", "web")
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if ok, _ := backoff.ShouldRestart(api.RestartPolicyAlways, 1); !ok {
			return
		}
		exit := start.Add(2 * time.Second) // the container crashes after 2 s
		d := b.Exited(key, start, exit)
		if d.Delay > 0 {
			fmt.Println(backoff.Reason, backoff.Message(d, "web", "web-abc", "default", "7f3c"))
		} else {
			fmt.Println("restart now")
		}
		start = d.RestartAt
	}
	// Output:
	// restart now
	// CrashLoopBackOff back-off 10s restarting failed container=web pod=web-abc_default(7f3c); next restart at 2026-01-01T12:00:14Z
	// CrashLoopBackOff back-off 20s restarting failed container=web pod=web-abc_default(7f3c); next restart at 2026-01-01T12:00:36Z
}
