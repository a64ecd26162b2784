package autopilot

import (
	"testing"

	"github.com/flotilla-io/flotilla/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }
