// Package runtimetest is a conformance suite for runtime.Runtime
// implementations: the same checks run against the in-memory fake and the
// Docker runtime, so an agent tested on the fake meets the same semantics
// in production.
//
// # Usage
//
//  1. Build and start the runtime under test; close it in t.Cleanup.
//  2. Call Run(t, Options{Runtime: rt, Image: ..., ExitCommand: ...}) from
//     a test; it runs one subtest per behaviour.
//
// # What it does not do
//
// It checks the interface's contract only: no limits, mounts, networking
// or adoption (each implementation tests those against its own engine),
// and for runtime.FilesUpdater only its errors (what the files hold is
// each implementation's own test); it does not clean up after a failed
// subtest beyond removing the sandboxes it made (the implementation's own
// cleanup must cover the rest).
package runtimetest
