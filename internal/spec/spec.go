// Package spec owns a service's desired state: the types of a spec file, how it is parsed
// (strictly, with the path and line of every error), its defaults and its validation.
// It does not run, store or route anything.
package spec

import "time"

// Service is a parsed, defaulted spec: everything cutover needs to run and route one service.
type Service struct {
	Name                 string   `yaml:"name" json:"name"`
	Run                  Run      `yaml:"run" json:"run"`
	Replicas             int      `yaml:"replicas" json:"replicas"`
	Probes               Probes   `yaml:"probes" json:"probes"`
	Route                Route    `yaml:"route" json:"route"`
	Strategy             Strategy `yaml:"strategy" json:"strategy"`
	StopGrace            Duration `yaml:"stop_grace" json:"stop_grace"`
	Hooks                Hooks    `yaml:"hooks" json:"hooks"`
	RevisionHistoryLimit int      `yaml:"revision_history_limit" json:"revision_history_limit"`
	// Database, when set, binds the service's migrations to its deployments.
	Database *Database `yaml:"database" json:"database,omitempty"`
	// Config declares the environment the app needs, checked before a deploy starts.
	Config []ConfigVar `yaml:"config" json:"config,omitempty"`
	// Notify lists where this service's deployment events go, besides the daemon-wide targets.
	Notify []Notify `yaml:"notify" json:"notify,omitempty"`
	// Promotion, when set, requires revisions to come from another environment first.
	Promotion *Promotion `yaml:"promotion" json:"promotion,omitempty"`
}

// Run says how to start one instance. PORT is always added to Env by the runtime.
type Run struct {
	Command string            `yaml:"command" json:"command"`
	Args    []string          `yaml:"args" json:"args,omitempty"`
	Env     map[string]string `yaml:"env" json:"env,omitempty"`
	Dir     string            `yaml:"dir" json:"dir,omitempty"`
	// Secrets names env keys whose values are redacted wherever they are shown,
	// in addition to the names that look like secrets (see IsSecret).
	Secrets []string `yaml:"secrets" json:"secrets,omitempty"`
	// Image is for container drivers; empty for processes.
	Image string `yaml:"image" json:"image,omitempty"`
	// Container holds container settings, honoured only when Image is set.
	Container *Container `yaml:"container" json:"container,omitempty"`
	// Defaulted and SecretVersions are set by cutover at deploy, never by a spec file: the env
	// names that got their config default, and those that came from the secrets store with
	// the version of each. A revision keeps them, so a rollback restores those values.
	Defaulted      []string       `yaml:"-" json:"defaulted,omitempty"`
	SecretVersions map[string]int `yaml:"-" json:"secret_versions,omitempty"`
	// Runtime picks the driver: "" (the daemon's default), "process", "docker" or
	// "kubernetes" (each instance a pod; see docs/kubernetes.md).
	Runtime string `yaml:"runtime" json:"runtime,omitempty"`
}

// Container is how an image's container runs. A zero field keeps the runtime's default.
type Container struct {
	// Port is the port the app listens on inside its container (given as PORT).
	Port int `yaml:"port" json:"port,omitempty"`
	// User runs the process as this user ("uid[:gid]" or a name known to the image).
	User string `yaml:"user" json:"user,omitempty"`
	// Memory limits memory: bytes, or a number with a unit b, k, m or g ("256m").
	Memory string `yaml:"memory" json:"memory,omitempty"`
	// CPUs limits CPU in CPUs ("0.5" is half of one).
	CPUs float64 `yaml:"cpus" json:"cpus,omitempty"`
	// ReadOnly mounts the root filesystem read-only.
	ReadOnly bool `yaml:"read_only" json:"read_only,omitempty"`
	// Healthcheck replaces the image's HEALTHCHECK; its status gates readiness.
	Healthcheck *Healthcheck `yaml:"healthcheck" json:"healthcheck,omitempty"`
	// Networks the container joins (they must exist; deploy -f creates a compose project's),
	// each with the names other containers reach it by there.
	Networks []Network `yaml:"networks" json:"networks,omitempty"`
	// Mounts are named volumes and host paths mounted into the container.
	Mounts []Mount `yaml:"mounts" json:"mounts,omitempty"`
	// Hosts are entries of the container's /etc/hosts, "name:ip": the routed services of a
	// compose stack, by name, at the proxy's address on the project's network.
	Hosts []string `yaml:"hosts" json:"hosts,omitempty"`
}

// Network is a Docker network a container joins, and its aliases on it.
type Network struct {
	Name    string   `yaml:"name" json:"name"`
	Aliases []string `yaml:"aliases" json:"aliases,omitempty"`
}

// Mount is a named volume (Volume) or a host path (Source, absolute) mounted at Target.
type Mount struct {
	Volume   string `yaml:"volume" json:"volume,omitempty"`
	Source   string `yaml:"source" json:"source,omitempty"`
	Target   string `yaml:"target" json:"target"`
	ReadOnly bool   `yaml:"read_only" json:"read_only,omitempty"`
}

// Healthcheck is a Docker HEALTHCHECK. Test is ["CMD", prog, args...], ["CMD-SHELL",
// "command"] or ["NONE"] (turns the image's check off).
type Healthcheck struct {
	Test        []string `yaml:"test" json:"test"`
	Interval    Duration `yaml:"interval" json:"interval"`
	Timeout     Duration `yaml:"timeout" json:"timeout"`
	Retries     int      `yaml:"retries" json:"retries"`
	StartPeriod Duration `yaml:"start_period" json:"start_period"`
}

// Probes are the three Kubernetes probes. A nil probe is not run.
type Probes struct {
	Startup   *Probe `yaml:"startup" json:"startup,omitempty"`
	Readiness *Probe `yaml:"readiness" json:"readiness,omitempty"`
	Liveness  *Probe `yaml:"liveness" json:"liveness,omitempty"`
}

// Probe is one check with Kubernetes semantics and parameter names.
// Exactly one of HTTP, TCP and Exec is set.
type Probe struct {
	HTTP             *HTTPProbe `yaml:"http" json:"http,omitempty"`
	TCP              *TCPProbe  `yaml:"tcp" json:"tcp,omitempty"`
	Exec             *ExecProbe `yaml:"exec" json:"exec,omitempty"`
	InitialDelay     Duration   `yaml:"initial_delay" json:"initial_delay"`
	Period           Duration   `yaml:"period" json:"period"`
	Timeout          Duration   `yaml:"timeout" json:"timeout"`
	SuccessThreshold int        `yaml:"success_threshold" json:"success_threshold"`
	FailureThreshold int        `yaml:"failure_threshold" json:"failure_threshold"`
}

// HTTPProbe succeeds on a 2xx or 3xx answer to GET Path on the instance's port.
type HTTPProbe struct {
	Path string `yaml:"path" json:"path"`
	Host string `yaml:"host" json:"host,omitempty"`
}

// TCPProbe succeeds when a connection to the instance's port opens.
type TCPProbe struct{}

// ExecProbe succeeds when Command exits 0. It runs with the instance's env (PORT included).
type ExecProbe struct {
	Command []string `yaml:"command" json:"command"`
}

// Route is how the proxy reaches the service.
type Route struct {
	// Listen is the proxy address for this route, e.g. "127.0.0.1:8080" or ":8080".
	Listen string `yaml:"listen" json:"listen"`
	// Internal are more proxy addresses serving the route for any host: the gateway of a
	// compose project's network, where the project's containers reach the service by name.
	Internal []string `yaml:"internal" json:"internal,omitempty"`
	// Hosts match the request's Host (port ignored, case-insensitive); empty matches any host.
	// A leading "*." matches any subdomain.
	Hosts []string `yaml:"hosts" json:"hosts,omitempty"`
	// Paths are path prefixes ("/api/"); empty means "/".
	Paths []string `yaml:"paths" json:"paths,omitempty"`
	// Balance is "least_requests" (default) or "round_robin".
	Balance string `yaml:"balance" json:"balance"`
	// Timeout bounds one proxied request until the response headers arrive.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// DrainTimeout bounds how long in-flight requests may finish on a target that left.
	DrainTimeout Duration `yaml:"drain_timeout" json:"drain_timeout"`
	// MaxBody caps a request body: bytes or a size with a unit ("10m"); larger gets 413.
	// Not given: 64m (DefaultMaxBody); "0": no cap.
	MaxBody string `yaml:"max_body" json:"max_body,omitempty"`
	// MaxConcurrency caps the route's requests in flight (0: no cap); more wait up to
	// QueueTimeout (default 10s), then get 503 with Retry-After.
	MaxConcurrency int      `yaml:"max_concurrency" json:"max_concurrency,omitempty"`
	QueueTimeout   Duration `yaml:"queue_timeout" json:"queue_timeout,omitempty"`
	// TLS serves the route over TLS: from certificate files, or automatically (acme).
	TLS *RouteTLS `yaml:"tls" json:"tls,omitempty"`
	// Endpoints name groups of the route's requests that a canary's judge judges apart as
	// well as together, so that a release breaking one small endpoint is seen (see Endpoint).
	Endpoints []Endpoint `yaml:"endpoints" json:"endpoints,omitempty"`
	// EndpointHeader names a response header the app sets to say which group a request was
	// (an endpoint's HeaderValues match its value); see EndpointHeader.
	EndpointHeader *EndpointHeader `yaml:"endpoint_header" json:"endpoint_header,omitempty"`
	// Protocol is how the proxy talks to the instances: "http1" (default) or "h2c" (HTTP/2
	// without TLS, as gRPC servers speak).
	Protocol string `yaml:"protocol" json:"protocol,omitempty"`
	// Gateway, on Kubernetes, steers an HTTPRoute's backend weights instead of routing the
	// users' traffic through cutover's proxy (see Gateway).
	Gateway *Gateway `yaml:"gateway" json:"gateway,omitempty"`
}

// Strategy names how a deployment moves traffic. Exactly one of the four is set;
// Type is derived from which ("rolling" when none is given).
type Strategy struct {
	Type      string     `yaml:"-" json:"type"`
	Rolling   *Rolling   `yaml:"rolling" json:"rolling,omitempty"`
	BlueGreen *BlueGreen `yaml:"blue_green" json:"blue_green,omitempty"`
	Recreate  *Recreate  `yaml:"recreate" json:"recreate,omitempty"`
	Canary    *Canary    `yaml:"canary" json:"canary,omitempty"`
}

// Strategy types.
const (
	TypeRolling   = "rolling"
	TypeBlueGreen = "blue_green"
	TypeRecreate  = "recreate"
	TypeCanary    = "canary"
)

// On-failure actions.
const (
	OnFailureRollback = "rollback"
	OnFailurePause    = "pause"
)

// Rolling replaces instances a few at a time, start-first, with Kubernetes semantics:
// MaxSurge rounds up, MaxUnavailable rounds down, and both zero is invalid.
type Rolling struct {
	MaxSurge         IntOrPercent `yaml:"max_surge" json:"max_surge"`
	MaxUnavailable   IntOrPercent `yaml:"max_unavailable" json:"max_unavailable"`
	MinReady         Duration     `yaml:"min_ready" json:"min_ready"`
	ProgressDeadline Duration     `yaml:"progress_deadline" json:"progress_deadline"`
	OnFailure        string       `yaml:"on_failure" json:"on_failure"`
}

// BlueGreen starts the whole green set beside blue, then switches all traffic at once.
type BlueGreen struct {
	// PreviewHeader: a request carrying this header (any value) reaches green before the switch.
	PreviewHeader string `yaml:"preview_header" json:"preview_header,omitempty"`
	// PreviewListen: a second proxy address that always reaches green before the switch.
	PreviewListen string `yaml:"preview_listen" json:"preview_listen,omitempty"`
	// ManualApproval waits for `cutover promote` before the switch.
	ManualApproval   bool     `yaml:"manual_approval" json:"manual_approval"`
	ScaleDownDelay   Duration `yaml:"scale_down_delay" json:"scale_down_delay"`
	MinReady         Duration `yaml:"min_ready" json:"min_ready"`
	ProgressDeadline Duration `yaml:"progress_deadline" json:"progress_deadline"`
}

// Recreate stops every instance, then starts the new ones: downtime by design.
type Recreate struct {
	ProgressDeadline Duration `yaml:"progress_deadline" json:"progress_deadline"`
}

// Canary moves traffic to the new revision by steps (Argo Rollouts' canary): weights, pauses
// and analyses, judged all along by the canary analysis. A final weight of 100 is implied when
// the steps do not end at 100.
type Canary struct {
	Steps []CanaryStep `yaml:"steps" json:"steps"`
	// Analysis is how the judge decides; it watches the canary from its first non-zero weight
	// to the end, and a fail verdict rolls the deployment back at any step.
	Analysis CanaryAnalysis `yaml:"analysis" json:"analysis"`
	// Routing lets requests choose their revision (testers, sticky users).
	Routing          CanaryRouting `yaml:"routing" json:"routing"`
	ProgressDeadline Duration      `yaml:"progress_deadline" json:"progress_deadline"`
	// Baseline, when true, starts fresh instances of the stable revision alongside the canary,
	// as many as the canary and with the same share of traffic, and judges the canary against
	// them (same age, same share) rather than against the long-running stable instances.
	// Weights below 100 are then at most 50: stable keeps 100 - 2×weight.
	Baseline bool `yaml:"baseline" json:"baseline,omitempty"`
}

// CanaryStep is exactly one of: Weight (the canary's share of traffic, 0-100, never below an
// earlier step's), Pause (wait this long; zero, written "pause: {}", waits for
// `cutover promote`) or Analysis (wait until the judge passes the canary, at most its duration).
type CanaryStep struct {
	Weight   *int          `yaml:"weight" json:"weight,omitempty"`
	Pause    *Duration     `yaml:"pause" json:"pause,omitempty"`
	Analysis *AnalysisStep `yaml:"analysis" json:"analysis,omitempty"`
	// Ramp raises the weight by evidence rather than by the clock (see RampStep).
	Ramp *RampStep `yaml:"ramp" json:"ramp,omitempty"`
}

// AnalysisStep waits for a pass verdict for at most Duration; what happens when the duration
// ends without one is CanaryAnalysis.Inconclusive.
type AnalysisStep struct {
	Duration Duration `yaml:"duration" json:"duration"`
}

// CanaryAnalysis configures the judge of a canary. After defaults Errors and Latency are
// never nil.
type CanaryAnalysis struct {
	// Alpha bounds the probability of rolling back a canary that is no worse than stable,
	// per deployment. In (0, 0.5].
	Alpha float64 `yaml:"alpha" json:"alpha"`
	// Errors and Latency turn the sequential error-count and latency tests on (default true).
	Errors  *bool `yaml:"errors" json:"errors,omitempty"`
	Latency *bool `yaml:"latency" json:"latency,omitempty"`
	// MaxErrorRate, when set, is an absolute limit on the canary's error rate, in [0, 1].
	MaxErrorRate *float64 `yaml:"max_error_rate" json:"max_error_rate,omitempty"`
	// MaxP99, when non-zero, is an absolute limit on the canary's p99 latency, judged by a
	// sequential test that alpha covers.
	MaxP99 Duration `yaml:"max_p99" json:"max_p99"`
	// LatencyTolerance is how much slower than stable the canary may be and still pass the
	// latency test: 0.05 (the default, when nil) allows 5%. In [0, 10].
	LatencyTolerance *float64 `yaml:"latency_tolerance" json:"latency_tolerance,omitempty"`
	// MinRequests is the number of canary requests before absolute limits apply and before a
	// pass can be declared (default 100, at least 1).
	MinRequests int `yaml:"min_requests" json:"min_requests"`
	// TargetRequests, when positive, passes an analysis step once the canary has served this
	// many requests without failing; zero passes only when the step's duration ends.
	TargetRequests int `yaml:"target_requests" json:"target_requests"`
	// Inconclusive is what an analysis step does when its duration ends without a verdict:
	// pause (default), fail or pass.
	Inconclusive string `yaml:"inconclusive" json:"inconclusive"`
	// Prometheus checks judge metrics the proxy does not see: each is a PromQL query whose
	// result must meet a condition (see PrometheusCheck).
	Prometheus []PrometheusCheck `yaml:"prometheus" json:"prometheus,omitempty"`
}

// What an analysis step does when its duration ends inconclusive.
const (
	InconclusivePause = "pause"
	InconclusiveFail  = "fail"
	InconclusivePass  = "pass"
)

// CanaryRouting steers requests by what they carry rather than by chance.
type CanaryRouting struct {
	// Header names a request header whose value "always" forces the canary and "never" stable.
	Header string `yaml:"header" json:"header,omitempty"`
	// Cookie names a cookie with the same values as Header.
	Cookie string `yaml:"cookie" json:"cookie,omitempty"`
	// Sticky keeps each user on one revision: "" (off), "cookie:NAME", "header:NAME" or "client_ip".
	Sticky string `yaml:"sticky" json:"sticky,omitempty"`
}

// Hooks are commands run at fixed points of a deployment. A nil hook is not run.
type Hooks struct {
	// PreDeploy runs before any new instance starts; failure fails the deployment.
	PreDeploy *Hook `yaml:"pre_deploy" json:"pre_deploy,omitempty"`
	// Smoke runs against the new revision before it gets traffic (PREVIEW_URL, TARGET_URL set).
	Smoke *Hook `yaml:"smoke" json:"smoke,omitempty"`
	// PostPromote runs once the new revision serves all traffic; failure is recorded, not rolled back.
	PostPromote *Hook `yaml:"post_promote" json:"post_promote,omitempty"`
}

// Hook is a command with arguments, extra env and a timeout.
type Hook struct {
	Command string            `yaml:"command" json:"command"`
	Args    []string          `yaml:"args" json:"args,omitempty"`
	Env     map[string]string `yaml:"env" json:"env,omitempty"`
	Timeout Duration          `yaml:"timeout" json:"timeout"`
}

// Duration is a time.Duration written as "30s", "1m30s" in YAML and JSON.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// IntOrPercent is a count ("2") or a percentage of replicas ("25%").
type IntOrPercent struct {
	Value   int
	Percent bool
}
