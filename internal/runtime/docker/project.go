package docker

import (
	"context"
	"errors"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
)

// LabelProject marks the networks and volumes of a compose project (a stack).
const LabelProject = "io.cutover.project"

// EnsureNetwork creates the bridge network name for project unless it exists, and returns
// its gateway address (where the host, and so cutover's proxy, is reached from the
// containers on it). An existing network of another project or owner is refused.
func (d *Driver) EnsureNetwork(ctx context.Context, name, project string) (string, error) {
	n, err := d.cli.NetworkInspect(ctx, name, network.InspectOptions{})
	if cerrdefs.IsNotFound(err) {
		_, err = d.cli.NetworkCreate(ctx, name, network.CreateOptions{Driver: "bridge",
			Labels: map[string]string{LabelProject: project, LabelOwner: d.opts.Owner}})
		if err != nil {
			return "", fmt.Errorf("create network %s: %w", name, err)
		}
		d.logger.Info("network created", "network", name, "project", project)
		n, err = d.cli.NetworkInspect(ctx, name, network.InspectOptions{})
	}
	if err != nil {
		return "", fmt.Errorf("inspect network %s: %w", name, err)
	}
	if err := ours(n.Labels, project, d.opts.Owner); err != nil {
		return "", fmt.Errorf("network %s: %w", name, err)
	}
	return gateway(n)
}

// Gateway is the gateway address of network name, "" when it does not exist.
func (d *Driver) Gateway(ctx context.Context, name string) (string, error) {
	n, err := d.cli.NetworkInspect(ctx, name, network.InspectOptions{})
	if cerrdefs.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("inspect network %s: %w", name, err)
	}
	return gateway(n)
}

func gateway(n network.Inspect) (string, error) {
	for _, c := range n.IPAM.Config {
		if c.Gateway != "" {
			return c.Gateway, nil
		}
	}
	return "", fmt.Errorf("network %s has no gateway address", n.Name)
}

// EnsureVolume creates the named volume for project unless it exists. Volumes are never
// removed by a deploy, a rollback or a daemon restart: only RemoveVolumes removes them.
func (d *Driver) EnsureVolume(ctx context.Context, name, project string) error {
	v, err := d.cli.VolumeInspect(ctx, name)
	if cerrdefs.IsNotFound(err) {
		_, err = d.cli.VolumeCreate(ctx, volume.CreateOptions{Name: name,
			Labels: map[string]string{LabelProject: project, LabelOwner: d.opts.Owner}})
		if err != nil {
			return fmt.Errorf("create volume %s: %w", name, err)
		}
		d.logger.Info("volume created", "volume", name, "project", project)
		return nil
	}
	if err != nil {
		return fmt.Errorf("inspect volume %s: %w", name, err)
	}
	if err := ours(v.Labels, project, d.opts.Owner); err != nil {
		return fmt.Errorf("volume %s: %w", name, err)
	}
	return nil
}

// errOtherProject is returned for a network or volume that another project or owner made.
var errOtherProject = errors.New("belongs to another cutover project or owner")

// ours accepts a network or volume made for project by this owner, or made outside cutover
// (no project label: compose's external ones, or docker compose's of the same name).
func ours(labels map[string]string, project, owner string) error {
	if labels[LabelProject] == "" {
		return nil
	}
	if labels[LabelProject] != project || labels[LabelOwner] != owner {
		return fmt.Errorf("%w (labels %s=%q, %s=%q)", errOtherProject,
			LabelProject, labels[LabelProject], LabelOwner, labels[LabelOwner])
	}
	return nil
}

// RemoveNetworks removes the project's networks; containers must be gone first.
func (d *Driver) RemoveNetworks(ctx context.Context, project string) error {
	list, err := d.cli.NetworkList(ctx, network.ListOptions{Filters: projectFilter(project, d.opts.Owner)})
	if err != nil {
		return fmt.Errorf("list networks of %s: %w", project, err)
	}
	var errs []error
	for _, n := range list {
		if err := d.cli.NetworkRemove(ctx, n.ID); err != nil {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}

// RemoveVolumes removes the project's volumes and their data (cutover down --volumes).
func (d *Driver) RemoveVolumes(ctx context.Context, project string) error {
	list, err := d.cli.VolumeList(ctx, volume.ListOptions{Filters: projectFilter(project, d.opts.Owner)})
	if err != nil {
		return fmt.Errorf("list volumes of %s: %w", project, err)
	}
	var errs []error
	for _, v := range list.Volumes {
		if err := d.cli.VolumeRemove(ctx, v.Name, false); err != nil {
			errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
		}
	}
	return errors.Join(errs...)
}

// projectFilter selects what owner made for project.
func projectFilter(project, owner string) filters.Args {
	return filters.NewArgs(filters.Arg("label", LabelProject+"="+project),
		filters.Arg("label", LabelOwner+"="+owner))
}
