// Package runtime declares the one shared extension point of cutover: Driver, which starts,
// stops, lists and reads the logs of instances (processes, containers, pods). It owns no
// policy: what to run and when is the rollout controller's; whether an instance is healthy
// is the health package's, unless a driver observes health itself (Status.Health). Mux is a
// Driver over a process and a container driver, routing each instance by its spec.
package runtime

import (
	"context"
	"errors"
	"io"
	"time"
)

// ErrNotFound is returned for an instance ID the driver does not know.
var ErrNotFound = errors.New("instance not found")

// InstanceSpec is what one instance runs. ID is chosen by the caller and is unique forever;
// starting an ID that the driver already runs adopts it instead of starting a second one.
type InstanceSpec struct {
	ID       string
	Service  string
	Revision int
	Command  string
	Args     []string
	Env      map[string]string
	Dir      string
	Image    string
	// Port is the port the instance listens on; 0 lets the driver choose a free one.
	// The driver passes it to the instance as PORT.
	Port int
	// StopGrace is how long Stop waits after the stop signal before killing.
	StopGrace time.Duration
	// Runtime names the driver a Mux routes the instance to: "process", "docker",
	// "kubernetes", or "" for the default (an image on the container driver, unless the
	// daemon makes Kubernetes the default).
	Runtime string
	// Container, when set, holds container settings that override a container driver's
	// defaults for this instance; drivers that run no containers ignore it.
	Container *ContainerOptions
}

// ContainerOptions are per-instance container settings. A zero field keeps the driver's default.
type ContainerOptions struct {
	// User runs the process as this user ("uid[:gid]" or a name known to the image).
	User string
	// MemoryBytes limits memory; NanoCPUs limits CPU in billionths of a CPU.
	MemoryBytes int64
	NanoCPUs    int64
	// ReadOnlyRootFS mounts the root filesystem read-only.
	ReadOnlyRootFS bool
	// Healthcheck replaces the image's HEALTHCHECK; nil keeps the image's own.
	Healthcheck *Healthcheck
	// Networks the container joins (the first when it is created, the others before it
	// starts), each with the names it is known by there; its port stays published.
	Networks []NetworkAttachment
	// Mounts are named volumes and bind mounts.
	Mounts []Mount
	// ExtraHosts are "name:ip" entries of the container's /etc/hosts.
	ExtraHosts []string
}

// NetworkAttachment is a network a container joins and its aliases on it.
type NetworkAttachment struct {
	Name    string
	Aliases []string
}

// Mount is a named volume (Volume set) or a bind mount of a host path, at Target.
type Mount struct {
	Volume   bool
	Source   string // the volume's name, or an absolute host path
	Target   string
	ReadOnly bool
}

// Healthcheck is a Docker-style health check. Test is ["CMD", prog, args...],
// ["CMD-SHELL", "command"] or ["NONE"]; a zero duration or retry count takes the default.
type Healthcheck struct {
	Test        []string
	Interval    time.Duration
	Timeout     time.Duration
	StartPeriod time.Duration
	Retries     int
}

// State is where an instance is in its life.
type State string

// Instance states.
const (
	StateStarting   State = "starting"   // created, address maybe not known yet
	StateRunning    State = "running"    // process/container up
	StateRestarting State = "restarting" // exited unexpectedly; waiting out its backoff
	StateCrashLoop  State = "crash_loop" // restarted too often in a short time; still retried with backoff
	StateStopping   State = "stopping"   // stop requested, grace running
	StateExited     State = "exited"     // stopped and gone (after Stop, or start failed for good)
)

// Health is what a driver itself observed of an instance's health (Docker HEALTHCHECK,
// Kubernetes readiness); HealthUnknown when it observes none.
type Health string

// Health values.
const (
	HealthUnknown   Health = ""
	HealthStarting  Health = "starting"
	HealthHealthy   Health = "healthy"
	HealthUnhealthy Health = "unhealthy"
)

// Status is a snapshot of one instance as the driver sees it.
type Status struct {
	ID       string
	Service  string
	Revision int
	State    State
	// Addr is host:port where the instance serves; empty until known.
	Addr string
	// DirectAddr, when set, is the instance's own listener, past a forwarder in front of
	// Addr (Docker's published-port proxy accepts connections before the app listens and
	// hides a refused connect as a reset): probes and the proxy's traffic go there.
	DirectAddr string
	PID        int
	Restarts   int
	ExitCode   int
	Health     Health
	StartedAt  time.Time
	// Message is a human reason for the state ("exit status 2", "executable not found").
	Message string
}

// Reach is where probes and traffic reach the instance: DirectAddr, else Addr.
func (s Status) Reach() string {
	if s.DirectAddr != "" {
		return s.DirectAddr
	}
	return s.Addr
}

// Driver runs instances. Implementations are safe for concurrent use. Instances outlive the
// driver value and the daemon process: a new driver over the same state finds them with List
// and keeps supervising them (restart on crash) after Adopt.
type Driver interface {
	// Start creates and starts the instances, in one batch where the backend allows.
	// It returns once each is created (not ready); Status reports the address when known.
	// A spec whose command or image cannot be found fails with an error naming it.
	Start(ctx context.Context, specs []InstanceSpec) error
	// Stop sends the stop signal, waits up to the spec's StopGrace, then kills; it returns
	// once the instance is gone. Stopping an unknown or exited instance is not an error.
	Stop(ctx context.Context, id string) error
	// Restart stops then starts the instance again under the same ID (liveness failure).
	Restart(ctx context.Context, id string) error
	// Status returns one instance's status, or ErrNotFound.
	Status(ctx context.Context, id string) (Status, error)
	// List returns every instance the driver knows, running or not, including ones started
	// by an earlier daemon process, so they can be adopted or cleaned up.
	List(ctx context.Context) ([]Status, error)
	// Adopt resumes supervision of instances found by List after a daemon restart.
	Adopt(ctx context.Context, ids []string) error
	// Remove forgets an exited instance and its records (not its logs).
	Remove(ctx context.Context, id string) error
	// Logs copies the instance's stdout and stderr to w, then, when follow is set, keeps
	// copying until ctx is done.
	Logs(ctx context.Context, id string, follow bool, w io.Writer) error
	// Check reports, without starting anything, whether spec could start: the command or
	// image exists, the directory exists. The error names what is missing.
	Check(ctx context.Context, spec InstanceSpec) error
	// Close stops supervising; instances keep running and can be adopted by a new driver.
	Close() error
}
