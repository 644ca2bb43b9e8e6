package docker

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/cutover/cutover/internal/runtime"
)

// validName is what Docker accepts in a container name (after the prefix).
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

func validID(id string) error {
	if !validName.MatchString(id) {
		return fmt.Errorf("instance ID %q: want letters, digits, '_', '.' or '-'", id)
	}
	return nil
}

// createRequest is everything ContainerCreate needs for one instance.
type createRequest struct {
	config  *container.Config
	host    *container.HostConfig
	network *network.NetworkingConfig
}

// port is the port s listens on inside its container.
func (o Options) port(s runtime.InstanceSpec) int {
	if s.Port > 0 {
		return s.Port
	}
	return o.ContainerPort
}

// stopGrace is s's StopGrace, or the driver's default.
func (o Options) stopGrace(s runtime.InstanceSpec) time.Duration {
	if s.StopGrace > 0 {
		return s.StopGrace
	}
	return o.StopGrace
}

// graceSeconds rounds a grace up to Docker's whole seconds, so an app always gets at least
// its grace before it is killed.
func graceSeconds(d time.Duration) int {
	return int(math.Ceil(d.Seconds()))
}

// createRequest builds the container for s: the spec's command or the image's, its env plus
// PORT, cutover's labels, SIGTERM with the grace, Docker's restart policy, the driver's
// user, limits and read-only root, and the port published on HostIP (or the network).
func (o Options) createRequest(s runtime.InstanceSpec) createRequest {
	o = o.forInstance(s.Container)
	port := o.port(s)
	grace := graceSeconds(o.stopGrace(s))
	cfg := &container.Config{
		Image:       s.Image,
		Env:         envList(s.Env, port),
		User:        o.User,
		WorkingDir:  s.Dir,
		StopSignal:  "SIGTERM",
		StopTimeout: &grace,
		Labels: map[string]string{
			LabelService:   s.Service,
			LabelRevision:  strconv.Itoa(s.Revision),
			LabelInstance:  s.ID,
			LabelOwner:     o.Owner,
			LabelStopGrace: o.stopGrace(s).String(),
			LabelPort:      strconv.Itoa(port),
		},
	}
	if s.Command != "" {
		// The spec's command replaces the image's entrypoint and its arguments the image's CMD.
		cfg.Entrypoint = []string{s.Command}
		cfg.Cmd = append([]string{}, s.Args...)
	} else if len(s.Args) > 0 {
		cfg.Cmd = append([]string{}, s.Args...)
	}
	if hc := s.Container; hc != nil && hc.Healthcheck != nil {
		cfg.Healthcheck = healthConfig(*hc.Healthcheck)
	}
	host := &container.HostConfig{
		RestartPolicy:  container.RestartPolicy{Name: container.RestartPolicyMode(o.RestartPolicy)},
		ReadonlyRootfs: o.ReadOnlyRootFS,
		Resources:      container.Resources{Memory: o.MemoryBytes, NanoCPUs: o.NanoCPUs},
	}
	req := createRequest{config: cfg, host: host}
	if c := s.Container; c != nil {
		host.Mounts = mounts(c.Mounts)
		host.ExtraHosts = slices.Clone(c.ExtraHosts)
		if len(c.Networks) > 0 {
			first := c.Networks[0]
			host.NetworkMode = container.NetworkMode(first.Name)
			req.network = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
				first.Name: {Aliases: slices.Clone(first.Aliases)}}}
		}
	}
	portKey := natPort(strconv.Itoa(port))
	if o.Network != "" {
		host.NetworkMode = container.NetworkMode(o.Network)
		req.network = &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{o.Network: {}}}
		cfg.ExposedPorts = nat.PortSet{portKey: {}}
		return req
	}
	cfg.ExposedPorts = nat.PortSet{portKey: {}}
	// An empty HostPort asks Docker for an ephemeral one.
	host.PortBindings = nat.PortMap{portKey: {{HostIP: o.HostIP, HostPort: ""}}}
	return req
}

// forInstance returns the options with the instance's own container settings over the
// driver's defaults.
func (o Options) forInstance(c *runtime.ContainerOptions) Options {
	if c == nil {
		return o
	}
	if c.User != "" {
		o.User = c.User
	}
	if c.MemoryBytes > 0 {
		o.MemoryBytes = c.MemoryBytes
	}
	if c.NanoCPUs > 0 {
		o.NanoCPUs = c.NanoCPUs
	}
	o.ReadOnlyRootFS = o.ReadOnlyRootFS || c.ReadOnlyRootFS
	return o
}

// mounts is Docker's form of the instance's volumes and bind mounts.
func mounts(ms []runtime.Mount) []mount.Mount {
	var out []mount.Mount
	for _, m := range ms {
		t := mount.TypeBind
		if m.Volume {
			t = mount.TypeVolume
		}
		out = append(out, mount.Mount{Type: t, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
	}
	return out
}

// healthConfig is Docker's form of a health check.
func healthConfig(h runtime.Healthcheck) *container.HealthConfig {
	return &container.HealthConfig{Test: append([]string{}, h.Test...), Interval: h.Interval,
		Timeout: h.Timeout, StartPeriod: h.StartPeriod, Retries: h.Retries}
}

// envList is env in a stable order with PORT set to port (a PORT in env is replaced).
func envList(env map[string]string, port int) []string {
	out := make([]string, 0, len(env)+1)
	for _, k := range slices.Sorted(maps.Keys(env)) {
		if k == "PORT" {
			continue
		}
		out = append(out, k+"="+env[k])
	}
	return append(out, "PORT="+strconv.Itoa(port))
}

// errForeign is returned for a container of the instance's name that another owner made.
var errForeign = errors.New("container belongs to another cutover owner")

// natPort is Docker's key for TCP port p inside a container.
func natPort(p string) nat.Port { return nat.Port(p + "/tcp") }
