package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"

	"github.com/cutover/cutover/internal/runtime"
)

// Start creates and starts one container per spec, or adopts the container when the ID's
// container already runs. Every spec is checked first (ID, image present or pulled), so a
// bad one starts nothing. A container that cannot start (missing command) is removed again
// and the error names the command and image. Start returns once the containers run.
func (d *Driver) Start(ctx context.Context, specs []runtime.InstanceSpec) error {
	if d.seen.isClosed() {
		return fmt.Errorf("start: %w", errClosed)
	}
	for _, s := range specs {
		if err := validID(s.ID); err != nil {
			return fmt.Errorf("start %s: %w", s.ID, err)
		}
		if err := d.ensureImage(ctx, s.Image); err != nil {
			return fmt.Errorf("start %s: %w", s.ID, err)
		}
	}
	for _, s := range specs {
		if err := d.start(ctx, s); err != nil {
			return fmt.Errorf("start %s: %w", s.ID, err)
		}
	}
	return nil
}

func (d *Driver) start(ctx context.Context, s runtime.InstanceSpec) error {
	name := containerName(s.ID)
	c, err := d.inspect(ctx, s.ID)
	switch {
	case err == nil && c.State != nil && c.State.Running:
		d.logger.Info("instance adopted", "instance", s.ID, "container", name)
		return nil
	case err == nil:
		// Left over from an earlier start that exited or never ran: start over from spec.
		if err := d.cli.ContainerRemove(ctx, name, container.RemoveOptions{Force: true}); err != nil {
			return fmt.Errorf("remove old container %s: %w", name, err)
		}
	case !errors.Is(err, runtime.ErrNotFound):
		return err
	}
	req := d.opts.createRequest(s)
	d.opts.Crash.Reach("docker-create-before")
	if _, err := d.cli.ContainerCreate(ctx, req.config, req.host, req.network, nil, name); err != nil {
		return fmt.Errorf("create container %s from image %s: %w", name, s.Image, err)
	}
	d.opts.Crash.Reach("docker-create-after")
	d.seen.forget(s.ID)
	err = d.connectNetworks(ctx, name, s.Container)
	if err == nil {
		err = d.cli.ContainerStart(ctx, name, container.StartOptions{})
	}
	d.opts.Crash.Reach("docker-start-after")
	if err != nil {
		// A container that never ran is not an instance: leave nothing behind for List.
		rmErr := d.cli.ContainerRemove(context.WithoutCancel(ctx), name, container.RemoveOptions{Force: true})
		what := "image " + s.Image
		if s.Command != "" {
			what = fmt.Sprintf("command %s in image %s", s.Command, s.Image)
		}
		return errors.Join(fmt.Errorf("run %s: %w", what, err), rmErr)
	}
	d.logger.Info("instance started", "instance", s.ID, "service", s.Service, "revision", s.Revision,
		"container", name, "image", s.Image)
	return nil
}

// connectNetworks joins the container to every network after the first (which it was
// created on), with its aliases there.
func (d *Driver) connectNetworks(ctx context.Context, name string, c *runtime.ContainerOptions) error {
	if c == nil || len(c.Networks) < 2 {
		return nil
	}
	for _, n := range c.Networks[1:] {
		es := &network.EndpointSettings{Aliases: slices.Clone(n.Aliases)}
		if err := d.cli.NetworkConnect(ctx, n.Name, name, es); err != nil {
			return fmt.Errorf("connect %s to network %s: %w", name, n.Name, err)
		}
	}
	return nil
}

// Check reports whether spec could start: its ID is valid and its image is present locally
// (or, under PullMissing, can be pulled). The error names the missing image. The command is
// not checked: it lives inside the image and shows only when the container starts.
func (d *Driver) Check(ctx context.Context, spec runtime.InstanceSpec) error {
	if err := validID(spec.ID); spec.ID != "" && err != nil {
		return fmt.Errorf("check %s: %w", spec.ID, err)
	}
	if err := d.ensureImage(ctx, spec.Image); err != nil {
		return fmt.Errorf("check %s: %w", spec.ID, err)
	}
	return nil
}

// ensureImage returns nil when ref is present locally, else pulls it under PullMissing.
func (d *Driver) ensureImage(ctx context.Context, ref string) error {
	if ref == "" {
		return errors.New("no image in spec")
	}
	_, err := d.cli.ImageInspect(ctx, ref)
	if err == nil {
		return nil
	}
	if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspect image %s: %w", ref, err)
	}
	if d.opts.Pull == PullNever {
		return fmt.Errorf("image %s: not present locally and the pull policy is %q", ref, PullNever)
	}
	d.logger.Info("image pull", "image", ref)
	if err := d.pull(ctx, ref); err != nil {
		return fmt.Errorf("image %s: not present locally and cannot be pulled: %w", ref, err)
	}
	return nil
}

// pull pulls ref and waits for the pull to finish.
func (d *Driver) pull(ctx context.Context, ref string) error {
	rc, err := d.cli.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return err
	}
	defer rc.Close()
	return streamError(rc)
}

// streamError reads a stream of Docker's JSON progress messages to its end and returns the
// first error one of them reports.
func streamError(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Error       string
			ErrorDetail *struct{ Message string }
		}
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read progress: %w", err)
		}
		switch {
		case m.ErrorDetail != nil && m.ErrorDetail.Message != "":
			return errors.New(m.ErrorDetail.Message)
		case m.Error != "":
			return errors.New(m.Error)
		}
	}
}

// inspect returns instance id's container, an error wrapping runtime.ErrNotFound when there
// is none, or one wrapping errForeign when another owner made it.
func (d *Driver) inspect(ctx context.Context, id string) (container.InspectResponse, error) {
	c, err := d.cli.ContainerInspect(ctx, containerName(id))
	if cerrdefs.IsNotFound(err) {
		return c, runtime.ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("inspect container %s: %w", containerName(id), err)
	}
	if c.Config == nil || c.Config.Labels[LabelOwner] != d.opts.Owner || c.Config.Labels[LabelInstance] != id {
		return c, fmt.Errorf("container %s: %w", containerName(id), errForeign)
	}
	return c, nil
}
