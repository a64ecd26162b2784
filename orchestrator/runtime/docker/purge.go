package docker

import (
	"context"
	"errors"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
)

// Purge removes every container, volume and network labelled with
// clusterID (and, if node is not empty, only that node's containers and
// volumes; networks are cluster-wide and then kept). Images stay: they are
// cached by content. It is how tests and examples clean up, and how an
// operator removes a cluster from a host. Errors: every removal that
// failed, joined; a missing object is not an error.
func Purge(ctx context.Context, cli *client.Client, clusterID, node string) error {
	if cli == nil {
		return fmt.Errorf("%w: cli: must not be nil", runtime.ErrInvalid)
	}
	if err := runtime.ValidateName("clusterID", clusterID); err != nil {
		return err
	}
	f := filters.NewArgs(filters.Arg("label", runtime.LabelClusterID+"="+clusterID))
	if node != "" {
		f.Add("label", runtime.LabelNode+"="+node)
	}
	var errs []error
	keep := func(err error) {
		if err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("docker: purge %s: %w", clusterID, err)
	}
	// Application containers first, then the sandboxes whose namespaces they use.
	for _, kind := range []string{runtime.KindContainer, runtime.KindSandbox} {
		for _, c := range list {
			if c.Labels[runtime.LabelKind] == kind {
				keep(cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}))
			}
		}
	}
	vols, err := cli.VolumeList(ctx, volume.ListOptions{Filters: f})
	keep(err)
	for _, v := range vols.Volumes {
		keep(cli.VolumeRemove(ctx, v.Name, true))
	}
	if node == "" {
		nets, err := cli.NetworkList(ctx, network.ListOptions{Filters: f})
		keep(err)
		for _, n := range nets {
			keep(cli.NetworkRemove(ctx, n.ID))
		}
	}
	return errors.Join(errs...)
}
