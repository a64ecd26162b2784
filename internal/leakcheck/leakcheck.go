// Package leakcheck is goleak.VerifyTestMain with patience, for the test
// binaries of packages that run hashicorp/memberlist: memberlist does not
// wait for its goroutines on Shutdown, and a probe in flight still waits
// for its ack timer (up to ProbeInterval times the awareness multiplier,
// seconds with LAN timing), longer than VerifyTestMain retries.
package leakcheck

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Patience is how long VerifyTestMain waits for leftover goroutines to end.
const Patience = 15 * time.Second

// VerifyTestMain runs the tests and then, if they passed, fails the binary
// when goroutines are still running after Patience. It does not return.
func VerifyTestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		deadline := time.Now().Add(Patience)
		err := goleak.Find()
		for err != nil && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			err = goleak.Find()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "goleak: errors on successful test run: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}
