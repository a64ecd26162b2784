package docker

import (
	"context"
	"errors"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/flotilla-io/flotilla/orchestrator/runtime"
	"github.com/moby/moby/client"
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
	f := make(client.Filters).Add("label", runtime.LabelClusterID+"="+clusterID)
	if node != "" {
		f.Add("label", runtime.LabelNode+"="+node)
	}
	var errs []error
	// keep takes a call's (result, error) and records the error unless it
	// is a missing object; the results say nothing Purge needs.
	keep := func(_ any, err error) {
		if err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, err)
		}
	}
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return fmt.Errorf("docker: purge %s: %w", clusterID, err)
	}
	// Application and helper containers first, then the sandboxes whose
	// namespaces they use.
	for _, kind := range []string{runtime.KindContainer, runtime.KindHelper, runtime.KindSandbox} {
		for _, c := range list.Items {
			if c.Labels[runtime.LabelKind] == kind {
				keep(cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}))
			}
		}
	}
	vols, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	keep(nil, err)
	for _, v := range vols.Items {
		keep(cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true}))
	}
	if node == "" {
		nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
		keep(nil, err)
		for _, n := range nets.Items {
			keep(cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}))
		}
	}
	return errors.Join(errs...)
}
