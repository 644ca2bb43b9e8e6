// Package stack plans the deployment of a whole compose file: it decides each service's kind
// (routed, stateful, worker, job), orders the services by their depends_on conditions,
// validates what cannot run (cycles, clashing ports, shared volumes, missing build contexts
// and secret files) and compares each service with what runs now. It is pure: the compose
// files are read by internal/compose, which fills Project; the file system is reached only
// through the FileSystem it is given.
package stack

import (
	"time"

	"github.com/cutover/cutover/internal/spec"
)

// Kind is how a service is deployed.
type Kind string

// The kinds of service.
const (
	// Routed publishes an HTTP port: behind cutover's proxy, with the spec's strategy.
	Routed Kind = "routed"
	// Stateful owns a named volume: stopped, then started, never two instances on the volume.
	Stateful Kind = "stateful"
	// Worker has no port and no volume: the new container is healthy before the old one stops.
	Worker Kind = "worker"
	// Job runs to completion before the services that depend on it.
	Job Kind = "job"
)

// Kinds lists every kind, for messages.
var Kinds = []Kind{Routed, Stateful, Worker, Job}

// Dependency conditions, as compose spells them.
const (
	ConditionStarted   = "service_started"
	ConditionHealthy   = "service_healthy"
	ConditionCompleted = "service_completed_successfully"
)

// Pos is where something is written in a compose file; Line 0 when unknown.
type Pos struct {
	File   string
	Line   int
	Column int
}

// Project is a compose file as the planner sees it.
type Project struct {
	Name     string
	Services []Service
	// Warnings concern the files rather than one service.
	Warnings []string
}

// Service is one compose service: the facts the kind, order and validation depend on, and
// what is compared with the running revision.
type Service struct {
	Name string
	Pos  Pos
	// Image is the image to run; empty when the service is built.
	Image string
	Build *Build
	// Command and Args replace the image's entrypoint and CMD when set.
	Command string
	Args    []string
	Env     map[string]string
	// Ports are the published host ports.
	Ports []Port
	// Listens says x-cutover gives the service a route.listen address of its own.
	Listens bool
	Volumes []Volume
	Secrets []Secret
	// Networks the service joins; empty means the project's default network.
	Networks  []string
	DependsOn []Dependency
	// Restart is compose's restart policy ("" when unset, which compose runs as "no").
	Restart string
	// Healthcheck says whether a healthcheck gates the service's health.
	Healthcheck bool
	// Override is the kind set in x-cutover, with where it is written; "" when none.
	Override    Kind
	OverridePos Pos
	// Timeout bounds a job's run (x-cutover timeout); zero is DefaultJobTimeout.
	Timeout time.Duration
	// MinReady is how long a worker without a healthcheck must run without crashing to
	// count as healthy (x-cutover min_ready); zero is DefaultMinReady.
	MinReady time.Duration
	// StopGrace is how long a stopped container has after SIGTERM (stop_grace_period);
	// zero is the runtime's default.
	StopGrace time.Duration
	// Spec is the cutover spec of a routed service (its strategy, probes, route), nil for
	// the other kinds.
	Spec *spec.Service
	// Container holds the networks, mounts and healthcheck of a service of another kind;
	// nil when none.
	Container *spec.Container
	Warnings  []string
}

// Defaults for the timings x-cutover may set.
const (
	DefaultJobTimeout = 10 * time.Minute
	DefaultMinReady   = 5 * time.Second
)

// Build is a compose build section with resolved paths.
type Build struct {
	Context    string // absolute directory
	Dockerfile string // relative to Context, "Dockerfile" when unset
	Args       map[string]string
	Target     string
	// Tag names the image by a digest of the build's inputs (see compose.ContextDigest).
	Tag string
	Pos Pos // of the build key
}

// Port is one published TCP port.
type Port struct {
	HostIP    string // "" for every address
	Published int
	Target    int
	Pos       Pos
}

// Volume is one mount. Named volumes have Named set and Source the volume's compose name;
// bind mounts have an absolute Source.
type Volume struct {
	Named    bool
	Source   string
	Target   string
	ReadOnly bool
	Pos      Pos
}

// Secret is a compose secret read from a file, mounted at /run/secrets/Name.
type Secret struct {
	Name string
	File string // absolute path
	Pos  Pos
}

// Dependency is one depends_on entry.
type Dependency struct {
	Service   string
	Condition string
	Pos       Pos
}
