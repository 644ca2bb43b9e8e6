package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"

	"github.com/cutover/cutover/internal/runtime"
)

// Status returns the instance's status from its container, or an error wrapping
// runtime.ErrNotFound when no container of this owner has the ID.
func (d *Driver) Status(ctx context.Context, id string) (runtime.Status, error) {
	c, err := d.inspect(ctx, id)
	if errors.Is(err, errForeign) {
		err = fmt.Errorf("%w: %w", runtime.ErrNotFound, err)
	}
	if err != nil {
		return runtime.Status{}, fmt.Errorf("status %s: %w", id, err)
	}
	return d.status(id, c), nil
}

// status maps c to a Status, updating id's restart history.
func (d *Driver) status(id string, c container.InspectResponse) runtime.Status {
	obs := observation(c)
	h, stopping := d.seen.observe(id, d.opts, obs, time.Now())
	st := statusOf(c, h.crashLooping(d.opts), stopping)
	if d.directProbe && st.State == runtime.StateRunning && st.Addr != "" {
		st.DirectAddr = containerAddress(c)
	}
	return st
}

// List returns the status of every container with this driver's owner label, sorted by
// ID, including those started by an earlier daemon process.
func (d *Driver) List(ctx context.Context) ([]runtime.Status, error) {
	f := filters.NewArgs(filters.Arg("label", LabelOwner+"="+d.opts.Owner), filters.Arg("label", LabelInstance))
	summaries, err := d.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]runtime.Status, 0, len(summaries))
	for _, s := range summaries {
		st, err := d.Status(ctx, s.Labels[LabelInstance])
		if errors.Is(err, runtime.ErrNotFound) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b runtime.Status) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// Adopt takes over instances found by List. Docker's restart policy already supervises
// them, so nothing is restarted: Adopt checks that each container exists and is this
// owner's, and starts counting its restarts. A container created but never started (its
// daemon died inside Start, after the caller recorded the instance) is started now. An
// unknown ID is an error wrapping runtime.ErrNotFound.
func (d *Driver) Adopt(ctx context.Context, ids []string) error {
	if d.seen.isClosed() {
		return fmt.Errorf("adopt: %w", errClosed)
	}
	for _, id := range ids {
		st, err := d.Status(ctx, id)
		if err != nil {
			return fmt.Errorf("adopt %s: %w", id, err)
		}
		if st.State == runtime.StateStarting {
			if err := d.cli.ContainerStart(ctx, containerName(id), container.StartOptions{}); err != nil {
				return fmt.Errorf("adopt %s: start never-started container: %w", id, err)
			}
			d.logger.Info("instance started on adoption", "instance", id)
		}
		d.logger.Info("instance adopted", "instance", id, "state", st.State, "restarts", st.Restarts)
	}
	return nil
}

// observation is what c says about its restarts.
func observation(c container.InspectResponse) restartObservation {
	obs := restartObservation{}
	if c.ContainerJSONBase != nil {
		obs.count = c.RestartCount
	}
	if s := c.State; s != nil {
		obs.restarting = s.Restarting
		obs.startedAt = parseTime(s.StartedAt)
		obs.finishedAt = parseTime(s.FinishedAt)
	}
	return obs
}

// statusOf maps a container to an instance status. crashLoop says whether a restarting
// container restarted too often lately; stopping whether a Stop is under way.
func statusOf(c container.InspectResponse, crashLoop, stopping bool) runtime.Status {
	var labels map[string]string
	if c.Config != nil {
		labels = c.Config.Labels
	}
	rev, _ := strconv.Atoi(labels[LabelRevision])
	st := runtime.Status{ID: labels[LabelInstance], Service: labels[LabelService], Revision: rev, State: runtime.StateExited}
	if c.ContainerJSONBase != nil {
		st.Restarts = c.RestartCount
	}
	s := c.State
	if s == nil {
		st.Message = "container state unknown"
		return st
	}
	st.PID, st.ExitCode, st.StartedAt, st.Health = s.Pid, s.ExitCode, parseTime(s.StartedAt), health(s.Health)
	switch s.Status {
	case container.StateCreated:
		st.State = runtime.StateStarting
	case container.StateRunning, container.StatePaused:
		st.State = runtime.StateRunning
		st.Addr = address(c, labels[LabelPort])
		if s.Paused {
			st.Message = "paused"
		}
	case container.StateRestarting:
		st.State, st.Message = runtime.StateRestarting, exitMessage(s)
		if crashLoop {
			st.State = runtime.StateCrashLoop
		}
	case container.StateRemoving:
		st.State, st.Message = runtime.StateStopping, "removing"
	default: // exited, dead
		st.Message = exitMessage(s)
	}
	if stopping && (st.State == runtime.StateRunning || st.State == runtime.StateRestarting || st.State == runtime.StateCrashLoop) {
		st.State = runtime.StateStopping
	}
	return st
}

// exitMessage says how the container's last run ended.
func exitMessage(s *container.State) string {
	msg := "exit status " + strconv.Itoa(s.ExitCode)
	switch {
	case s.OOMKilled:
		msg += " (out of memory)"
	case s.Error != "":
		msg += ": " + s.Error
	}
	return msg
}

// address is where a running container serves: its port published on the host, else its
// address on its (user-defined) network. Empty when neither is known yet.
func address(c container.InspectResponse, port string) string {
	ns := c.NetworkSettings
	if ns == nil || port == "" {
		return ""
	}
	for _, b := range ns.Ports[natPort(port)] {
		if b.HostPort == "" {
			continue
		}
		ip := b.HostIP
		if ip == "" || ip == "0.0.0.0" || ip == "::" {
			ip = "127.0.0.1"
		}
		return net.JoinHostPort(ip, b.HostPort)
	}
	if c.HostConfig == nil {
		return ""
	}
	if ep := ns.Networks[string(c.HostConfig.NetworkMode)]; ep != nil && ep.IPAddress != "" {
		return net.JoinHostPort(ep.IPAddress, port)
	}
	return ""
}

// containerAddress is the container's own address and port on its first network with an
// IP: its listener itself, not the published-port forwarder, which accepts connections
// while nothing listens inside. Empty when unknown.
func containerAddress(c container.InspectResponse) string {
	ns := c.NetworkSettings
	if ns == nil || c.Config == nil || c.Config.Labels[LabelPort] == "" {
		return ""
	}
	port := c.Config.Labels[LabelPort]
	if c.ContainerJSONBase != nil && c.HostConfig != nil {
		if ep := ns.Networks[string(c.HostConfig.NetworkMode)]; ep != nil && ep.IPAddress != "" {
			return net.JoinHostPort(ep.IPAddress, port)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(ns.Networks)) {
		if ep := ns.Networks[name]; ep != nil && ep.IPAddress != "" {
			return net.JoinHostPort(ep.IPAddress, port)
		}
	}
	return ""
}

// health maps Docker's HEALTHCHECK status; unknown when the container has none.
func health(h *container.Health) runtime.Health {
	if h == nil {
		return runtime.HealthUnknown
	}
	switch h.Status {
	case container.Starting:
		return runtime.HealthStarting
	case container.Healthy:
		return runtime.HealthHealthy
	case container.Unhealthy:
		return runtime.HealthUnhealthy
	}
	return runtime.HealthUnknown
}

// parseTime parses Docker's RFC 3339 timestamps; Docker's zero time and garbage give zero.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || t.Year() <= 1 {
		return time.Time{}
	}
	return t
}
