// Package compose imports docker compose files: it reads them with compose-go and maps each
// service onto a cutover spec (validated by internal/spec), plus the container options and
// dependencies the spec has no field for. Every compose key cutover does not honour becomes a
// warning naming the service and the key; nothing is dropped silently. It does not run,
// store or deploy anything, and it does not build images.
package compose

import (
	"github.com/cutover/cutover/internal/spec"
)

// Options tune Load. The zero value loads with an empty environment.
type Options struct {
	// WorkingDir resolves relative paths (env_file) and holds the .env file read for
	// interpolation; empty means the directory of the first file.
	WorkingDir string
	// Env is the environment for ${VAR} interpolation and for environment entries written
	// without a value (the CLI passes its own environment); it wins over the .env file.
	Env map[string]string
	// Profiles enables services that are behind these compose profiles.
	Profiles []string
	// ProjectName names the compose project; empty takes the files' name: or the working
	// directory's name, as docker compose does.
	ProjectName string
	// Images are the images cutover built for services with build and no image, by service
	// name: Load runs them, and does not warn about their build.
	Images map[string]string
}

// Project is what Load imported: one Import per selected service, each after the services it
// depends on, and warnings that concern the files rather than one service.
type Project struct {
	// Name is the compose project name.
	Name     string
	Services []Import
	Warnings []string
}

// Import is one compose service as cutover runs it.
type Import struct {
	// Spec is parsed, defaulted and valid (spec.Parse accepted it).
	Spec spec.Service
	// DependsOn lists the services that must be started (or healthy) before this one, in name
	// order. A dependency may be a service that was not selected: it must then already run.
	DependsOn []Dependency
	// Warnings name every compose key of this service that cutover ignores or changes, one
	// sentence each, starting with "service NAME:".
	Warnings []string
}

// Dependency is one depends_on entry: Service must reach Condition before the dependent starts.
type Dependency struct {
	Service   string
	Condition string
}

// Dependency conditions, as compose spells them. service_completed_successfully is not
// supported: it is imported as ConditionStarted, with a warning.
const (
	ConditionStarted = "service_started"
	ConditionHealthy = "service_healthy"
)

// ExtensionKey is the service-level compose extension whose mapping overrides the spec that
// the compose keys produce, key by key: its keys are spec fields (strategy, probes, route,
// hooks, replicas, run, stop_grace, revision_history_limit). A section (route, probes, run,
// hooks) is merged one level deep, so `route: {hosts: [...]}` keeps the listen address that
// ports gave; strategy is replaced whole.
const ExtensionKey = "x-cutover"
