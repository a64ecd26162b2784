package fake_test

import (
	"strconv"
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/fake"
	"github.com/flotilla-io/flotilla/orchestrator/runtime/runtimetest"
)

func TestConformance(t *testing.T) {
	r := newFake(t, fake.Config{Images: []string{"app:v1"}, ImageBehaviors: map[string]fake.Behavior{"app:v1": {
		Exec: func(cmd []string) runtime.ExecResult {
			code, _ := strconv.Atoi(cmd[len(cmd)-1])
			return runtime.ExecResult{ExitCode: code}
		},
	}}})
	runtimetest.Run(t, runtimetest.Options{Runtime: r, Image: "app:v1", AbsentImage: "absent:v1", ExitCommand: runtimetest.ExitArgs("/app")})
}
