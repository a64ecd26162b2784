// Package dockerimage builds container images from Go packages through the
// Docker Engine API, with no registry and no Dockerfile: the package is
// compiled into a static binary (CGO_ENABLED=0) that becomes the only file
// of a FROM scratch image, imported from an in-memory tar.
//
// # Usage
//
//  1. Connect a client (github.com/moby/moby/client):
//     client.New(client.FromEnv), which negotiates the API version.
//  2. Call BuildGo(ctx, cli, "./cmd/web", "web:dev") (or Build with
//     Options for a working directory, build flags, labels).
//  3. Use "web:dev" with pull policy IfNotPresent or Never.
//
// Images are cached by content: the SHA-256 of the binary and the image
// settings is stored in the label io.flotilla.image.content-hash, so a
// second build of unchanged code only re-runs the (cached) go build and
// re-tags, importing nothing.
//
// # What it does not do
//
// No cgo, no files besides the binary (no CA certificates, no /etc/passwd,
// no shell: use exec with the binary's own subcommands), no multi-arch
// images (it builds for the daemon's architecture), no pushing. It needs a
// Go toolchain where it runs; the runtime itself does not.
package dockerimage
