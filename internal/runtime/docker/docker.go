// Package docker is cutover's container runtime driver: each instance is one Docker container
// named cutover-<instance ID>, created and watched through the Docker Engine API (never the
// docker CLI) and labelled with its service, revision, instance and owner, so a later daemon
// finds and adopts it. Restarts after a crash are Docker's own restart policy, so containers
// keep recovering while no cutover daemon runs; the driver reads restart counts back and
// reports crash_loop itself. It reports Docker's HEALTHCHECK status as Status.Health. It does
// not decide what runs and touches no container without its owner label.
package docker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/docker/docker/client"

	"github.com/cutover/cutover/internal/crashpoint"
	"github.com/cutover/cutover/internal/runtime"
)

// Labels the driver puts on every container it creates.
const (
	LabelService  = "io.cutover.service"
	LabelRevision = "io.cutover.revision"
	LabelInstance = "io.cutover.instance"
	// LabelOwner holds Options.Owner: a driver only sees containers with its own owner.
	LabelOwner = "io.cutover.owner"
	// LabelStopGrace holds the spec's StopGrace (a Go duration).
	LabelStopGrace = "io.cutover.stop-grace"
	// LabelPort holds the port the instance listens on inside its container.
	LabelPort = "io.cutover.port"
)

// namePrefix is prepended to the instance ID to name its container.
const namePrefix = "cutover-"

// Pull policies.
const (
	PullNever   = "never"   // a missing image is an error
	PullMissing = "missing" // a missing image is pulled before the container is created
)

// Options configure the driver. A zero field takes its default.
type Options struct {
	// Host is the Docker Engine address (unix:///var/run/docker.sock); empty uses
	// DOCKER_HOST and the other DOCKER_* variables, then the default socket.
	Host string
	// Owner marks the containers of this daemon (typically its state directory); a driver
	// lists, adopts and stops only containers whose io.cutover.owner label equals it
	// (default "cutover").
	Owner string
	// Pull is PullMissing (default: Check and Start pull an image that is not local) or
	// PullNever.
	Pull string
	// Network, when set, attaches containers to this user-defined network instead of
	// publishing their port, and Status.Addr is the container's address on it.
	Network string
	// HostIP is where a published port listens (default 127.0.0.1).
	HostIP string
	// ContainerPort is the port a spec without Port listens on inside its container; it
	// is passed as PORT (default 8080).
	ContainerPort int
	// RestartPolicy is Docker's restart policy for crashed containers: "unless-stopped"
	// (default), "on-failure" or "no".
	RestartPolicy string
	// User runs the container's process as this user ("uid[:gid]" or a name in the image).
	User string
	// MemoryBytes limits the container's memory (0: no limit).
	MemoryBytes int64
	// NanoCPUs limits the container's CPU in billionths of a CPU (0: no limit).
	NanoCPUs int64
	// ReadOnlyRootFS mounts the container's root filesystem read-only.
	ReadOnlyRootFS bool
	// CrashLoopRestarts is how many restarts within CrashLoopWindow make a restarting
	// container crash_loop (default 3).
	CrashLoopRestarts int
	// CrashLoopWindow is the window CrashLoopRestarts is counted in (default 60s).
	CrashLoopWindow time.Duration
	// StableAfter is how long a run must last not to count as a crash when a driver first
	// sees a container that is restarting (default 10s, Docker's own backoff reset).
	StableAfter time.Duration
	// StopGrace is used for specs without a StopGrace (default 10s).
	StopGrace time.Duration
	// PollInterval is how often followed logs look for a restarted container (default 100ms).
	PollInterval time.Duration
	// Crash kills the daemon at a named step of starting or stopping a container, for the
	// tests that prove what survives (nil: never).
	Crash *crashpoint.At
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.CrashLoopWindow, 60*time.Second)
	def(&o.StableAfter, 10*time.Second)
	def(&o.StopGrace, 10*time.Second)
	def(&o.PollInterval, 100*time.Millisecond)
	if o.Owner == "" {
		o.Owner = "cutover"
	}
	if o.Pull == "" {
		o.Pull = PullMissing
	}
	if o.HostIP == "" {
		o.HostIP = "127.0.0.1"
	}
	if o.ContainerPort <= 0 {
		o.ContainerPort = 8080
	}
	if o.RestartPolicy == "" {
		o.RestartPolicy = "unless-stopped"
	}
	if o.CrashLoopRestarts <= 0 {
		o.CrashLoopRestarts = 3
	}
	return o
}

func (o Options) validate() error {
	switch o.Pull {
	case PullNever, PullMissing:
	default:
		return fmt.Errorf("pull policy %q: want %q or %q", o.Pull, PullNever, PullMissing)
	}
	switch o.RestartPolicy {
	case "unless-stopped", "on-failure", "always", "no":
	default:
		return fmt.Errorf("restart policy %q: want unless-stopped, on-failure, always or no", o.RestartPolicy)
	}
	if o.MemoryBytes < 0 || o.NanoCPUs < 0 {
		return errors.New("memory and CPU limits must not be negative")
	}
	return nil
}

// Driver runs instances as Docker containers. It implements runtime.Driver and is safe for
// concurrent use. It starts no goroutine of its own: Docker supervises the containers.
type Driver struct {
	cli    *client.Client
	logger *slog.Logger
	opts   Options

	seen *watch // restarts seen, stops under way, closed
	// directProbe says containers' own addresses are reachable from here (a local Linux
	// engine), so Status reports them as DirectAddr.
	directProbe bool
}

var _ runtime.Driver = (*Driver)(nil)

// New returns a driver talking to the Docker Engine at opts.Host, negotiating the API
// version with it. It does not contact the engine: call Ping to check it answers.
func New(logger *slog.Logger, opts Options) (*Driver, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, fmt.Errorf("new docker driver: %w", err)
	}
	clientOpts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if opts.Host != "" {
		clientOpts = append(clientOpts, client.WithHost(opts.Host))
	}
	cli, err := client.NewClientWithOpts(clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("new docker driver: %w", err)
	}
	return &Driver{
		cli:    cli,
		logger: logger.With("driver", "docker"),
		opts:   opts,
		seen:   newWatch(),
		// A local engine on Linux: its bridge networks are this host's interfaces.
		directProbe: goruntime.GOOS == "linux" && strings.HasPrefix(cli.DaemonHost(), "unix://"),
	}, nil
}

// Ping checks that the Docker Engine answers.
func (d *Driver) Ping(ctx context.Context) error {
	if _, err := d.cli.Ping(ctx); err != nil {
		return fmt.Errorf("docker ping: %w", err)
	}
	return nil
}

// Client is the Docker Engine client the driver uses; callers must not close it.
func (d *Driver) Client() *client.Client { return d.cli }

// Close makes Start and Adopt fail from now on and releases idle connections. Containers
// keep running under Docker's restart policy and can be adopted by a new driver; Stop,
// Status, List, Remove and Logs still work after Close.
func (d *Driver) Close() error {
	d.seen.close()
	return d.cli.Close()
}

// errClosed is returned by Start and Adopt after Close.
var errClosed = errors.New("driver closed")

// containerName is the Docker name of instance id's container.
func containerName(id string) string { return namePrefix + id }
