package docker_test

import (
	"testing"

	"github.com/flotilla-io/flotilla/orchestrator/runtime/runtimetest"
)

func TestConformance(t *testing.T) {
	e := newEnv(t)
	runtimetest.Run(t, runtimetest.Options{Runtime: e.runtime("node-conformance"), Image: testImage,
		AbsentImage: "flotilla-test/absent:v1", ExitCommand: runtimetest.ExitArgs("/app")})
}
