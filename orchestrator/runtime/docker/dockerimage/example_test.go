package dockerimage_test

import (
	"context"
	"fmt"
	"log"

	"github.com/flotilla-io/flotilla/orchestrator/runtime/docker/dockerimage"
	"github.com/moby/moby/client"
)

// Build a Go package into a FROM scratch image on the local daemon. (Not run
// by go test: it needs a Docker daemon.)
func Example() {
	cli, err := client.New(client.FromEnv) // negotiates the API version with the daemon
	if err != nil {
		log.Fatal(err)
	}
	defer cli.Close()
	res, err := dockerimage.Build(context.Background(), cli, dockerimage.Options{Package: "./cmd/web", Ref: "web:dev"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.ImageID, "cached:", res.Cached)
}
