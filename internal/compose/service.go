package compose

import (
	"fmt"
	"maps"
	"math"
	"net"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cutover/cutover/internal/spec"
)

// mapper builds one service's spec document (the map spec.Parse reads) from its compose
// keys, with the container options and warnings found on the way.
type mapper struct {
	name      string
	svc       types.ServiceConfig
	doc       map[string]any
	container spec.Container // becomes run.container when any field is set
	deps      []Dependency
	warnings  []string
}

// section returns doc[key] as a mapping, creating it.
func (m *mapper) section(key string) map[string]any {
	s, ok := m.doc[key].(map[string]any)
	if !ok {
		s = map[string]any{}
		m.doc[key] = s
	}
	return s
}

// warn records a warning about this service.
func (m *mapper) warn(format string, args ...any) {
	m.warnings = append(m.warnings, "service "+m.name+": "+fmt.Sprintf(format, args...))
}

// importService maps svc, applies its x-cutover extension and parses the result as a spec.
func importService(svc types.ServiceConfig, warnings []string, src *sources) (*Import, spec.Errors) {
	m := &mapper{name: svc.Name, svc: svc, doc: map[string]any{"name": svc.Name}, warnings: warnings}
	m.mapPorts()
	m.mapRun()
	m.mapHealthcheck()
	m.mapDeploy()
	m.mapContainer()
	m.mapStop()
	m.mapDependsOn()
	if !reflect.ValueOf(m.container).IsZero() {
		m.section("run")["container"] = m.container
	}
	ext, err := applyExtension(m.doc, svc.Extensions[ExtensionKey])
	if err != nil {
		file, line, col := src.locate([]string{"services", svc.Name, ExtensionKey})
		return nil, spec.Errors{{File: file, Line: line, Column: col,
			Path: "services." + svc.Name + "." + ExtensionKey, Message: err.Error()}}
	}
	s, errs := parseSpec(m.doc, svc.Name, ext, src)
	if len(errs) > 0 {
		return nil, errs
	}
	return &Import{Spec: *s, DependsOn: m.deps, Warnings: m.warnings}, nil
}

// mapRun maps image, entrypoint, command, environment (env_file included) and working_dir.
// The entrypoint replaces the image's and the command its CMD, as the Docker driver does
// with run.command and run.args.
func (m *mapper) mapRun() {
	run := m.section("run")
	if m.svc.Image != "" {
		run["image"] = m.svc.Image
	}
	args := slices.Clone([]string(m.svc.Command))
	if ep := m.svc.Entrypoint; len(ep) > 0 {
		run["command"] = ep[0]
		args = append(slices.Clone([]string(ep[1:])), args...)
	} else if ep != nil {
		m.warn("an empty entrypoint is ignored: the image's entrypoint is kept")
	}
	if len(args) > 0 {
		run["args"] = args
	}
	if m.svc.WorkingDir != "" {
		run["dir"] = m.svc.WorkingDir
	}
	if env := m.env(); len(env) > 0 {
		run["env"] = env
	}
}

// env is the service's environment without PORT, which the runtime sets to the target port.
func (m *mapper) env() map[string]any {
	env := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(m.svc.Environment)) {
		v := m.svc.Environment[k]
		switch {
		case v == nil:
			m.warn("environment %s has no value and is not set in the environment; left out", k)
		case k == "PORT":
			if p := m.port(); p == 0 || *v != strconv.Itoa(p) {
				m.warn("environment PORT=%s is replaced: cutover sets PORT to the container port", *v)
			}
		default:
			env[k] = *v
		}
	}
	return env
}

// mapPorts routes the first TCP port: its published port becomes route.listen (on 127.0.0.1
// unless the port names a host IP) and its target the container port. Without ports, the
// first expose entry is the container port.
func (m *mapper) mapPorts() {
	routed := false
	for i, p := range m.svc.Ports {
		if p.Protocol != "" && p.Protocol != "tcp" {
			continue // its own warning says why
		}
		if routed {
			m.warn("ports[%d] (%s) is not routed: cutover routes the first port only", i, describePort(p))
			continue
		}
		routed = true
		m.container.Port = int(p.Target)
		if p.Published == "" {
			continue
		}
		host := p.HostIP
		if host == "" {
			host = "127.0.0.1"
		}
		m.section("route")["listen"] = net.JoinHostPort(host, p.Published)
	}
	if routed || len(m.svc.Expose) == 0 {
		return
	}
	first, _, _ := strings.Cut(m.svc.Expose[0], "/")
	if n, err := strconv.Atoi(first); err == nil {
		m.container.Port = n
	} else {
		m.warn("expose %s is not a port number; ignored", m.svc.Expose[0])
	}
	if len(m.svc.Expose) > 1 {
		m.warn("expose %s: only the first exposed port is used", strings.Join(m.svc.Expose[1:], ", "))
	}
}

// port is the container port mapPorts chose, 0 when there is none.
func (m *mapper) port() int { return m.container.Port }

func describePort(p types.ServicePortConfig) string {
	if p.Published == "" {
		return fmt.Sprintf("target %d", p.Target)
	}
	return fmt.Sprintf("published %s, target %d", p.Published, p.Target)
}

// mapHealthcheck passes the healthcheck to Docker and derives a TCP readiness probe with the
// same period, timeout and retries. disable (or test NONE) turns the image's check off and
// leaves cutover's default probe.
func (m *mapper) mapHealthcheck() {
	hc := m.svc.HealthCheck
	if hc == nil {
		return
	}
	if hc.Disable || (len(hc.Test) > 0 && hc.Test[0] == "NONE") {
		m.container.Healthcheck = &spec.Healthcheck{Test: []string{"NONE"}}
		return
	}
	h := &spec.Healthcheck{
		Test:        slices.Clone([]string(hc.Test)),
		Interval:    spec.Duration(dur(hc.Interval)),
		Timeout:     spec.Duration(dur(hc.Timeout)),
		StartPeriod: spec.Duration(dur(hc.StartPeriod)),
	}
	if hc.StartInterval != nil {
		m.warn("healthcheck.start_interval is ignored: Docker probes at interval from the start")
	}
	probe := map[string]any{"tcp": map[string]any{}}
	if hc.Retries != nil {
		h.Retries = int(min(*hc.Retries, math.MaxInt32))
		probe["failure_threshold"] = h.Retries
	}
	if h.Interval > 0 {
		probe["period"] = h.Interval.D().String()
	}
	if h.Timeout > 0 {
		probe["timeout"] = h.Timeout.D().String()
	}
	m.container.Healthcheck = h
	m.section("probes")["readiness"] = probe
}

// dur is a compose duration, zero when unset.
func dur(d *types.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return time.Duration(*d)
}

// mapContainer maps user, read_only and the memory and CPU limits (deploy.resources.limits,
// else the service's mem_limit and cpus).
func (m *mapper) mapContainer() {
	m.container.User = m.svc.User
	m.container.ReadOnly = m.svc.ReadOnly
	memory, cpus := int64(m.svc.MemLimit), m.svc.CPUS
	if d := m.svc.Deploy; d != nil && d.Resources.Limits != nil {
		if l := d.Resources.Limits; l.MemoryBytes > 0 {
			memory = int64(l.MemoryBytes)
		}
		if l := d.Resources.Limits; l.NanoCPUs > 0 {
			cpus = float32(l.NanoCPUs)
		}
	}
	if memory > 0 {
		m.container.Memory = strconv.FormatInt(memory, 10)
	}
	m.container.CPUs = decimal(cpus)
}

// decimal converts a compose float32 through its shortest decimal, so that 0.1 stays 0.1
// and not 0.10000000149.
func decimal(f float32) float64 {
	d, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'f', -1, 32), 64)
	return d
}

// mapStop maps stop_grace_period; cutover always stops with SIGTERM.
func (m *mapper) mapStop() {
	if g := m.svc.StopGracePeriod; g != nil {
		m.doc["stop_grace"] = time.Duration(*g).String()
	}
	switch strings.TrimPrefix(strings.ToUpper(m.svc.StopSignal), "SIG") {
	case "", "TERM", "15":
	default:
		m.warn("stop_signal %s is ignored: cutover stops instances with SIGTERM", m.svc.StopSignal)
	}
}

// mapDependsOn lists depends_on by name. service_completed_successfully is not supported and
// becomes service_started.
func (m *mapper) mapDependsOn() {
	for _, name := range slices.Sorted(maps.Keys(m.svc.DependsOn)) {
		cond := m.svc.DependsOn[name].Condition
		switch cond {
		case ConditionHealthy, ConditionStarted:
		case "":
			cond = ConditionStarted
		default:
			m.warn("depends_on %s condition %s is not supported: cutover waits for %s to be started", name, cond, name)
			cond = ConditionStarted
		}
		m.deps = append(m.deps, Dependency{Service: name, Condition: cond})
	}
}
