package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/internal/leakcheck"
)

// Nodes run memberlist, whose goroutines may outlive Shutdown briefly.
func TestMain(m *testing.M) { leakcheck.VerifyTestMain(m) }

// TestQuickstart runs the README's command end to end: on the local Docker
// daemon when there is one (required under CI=true), otherwise on the
// in-memory runtime, as a newcomer would see it.
func TestQuickstart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, &out, options{appDir: "./app", requireDocker: os.Getenv("CI") == "true"})
	t.Logf("%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"3/3 Pods Running", "5/5 Pods Running"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
