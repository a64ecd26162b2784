package orchestrator_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/flotilla-io/flotilla/orchestrator"
)

// A program outside the cluster, with the kubeconfig that
// `flotilla kubeconfig` (Cluster.AdminKubeconfig) wrote: the same Client
// as in-process, over HTTPS. Servers of the kubeconfig's
// flotilla-servers list take over when its context's server is down.
func ExampleNewRemoteClientFromFile() {
	home, _ := os.UserHomeDir()
	cl, err := orchestrator.NewRemoteClientFromFile(filepath.Join(home, ".kube", "config"))
	if err != nil {
		log.Fatal(err)
	}
	defer cl.Close()

	ctx := context.Background()
	cm := &orchestrator.ConfigMap{
		ObjectMeta: orchestrator.ObjectMeta{Name: "settings", Namespace: "default"},
		Data:       map[string]string{"level": "info"},
	}
	switch err := cl.Create(ctx, cm); {
	case orchestrator.IsAlreadyExists(err):
		fmt.Println("already there")
	case orchestrator.IsServiceUnavailable(err):
		fmt.Println("no API server could be reached:", err)
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println("created at resourceVersion", cm.ResourceVersion)
	}
}
