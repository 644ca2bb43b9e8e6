package spec

import (
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits checked by Validate.
const (
	MaxReplicas  = 1000
	MaxStopGrace = Duration(time.Hour)
)

var (
	nameRE    = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	envKeyRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	dnsLabel  = regexp.MustCompile(`^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$`)
	headerRE  = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
	balancers = []string{"least_requests", "round_robin"}
)

// Validate checks every rule of a spec and returns every violation, each naming its field path
// (without positions: Parse adds those). It expects a defaulted Service, from Parse or Default.
// It returns nil when the spec is valid; test with len, not against nil error.
func Validate(s *Service) Errors {
	var errs Errors
	switch {
	case s.Name == "":
		errs.add("name", "required")
	case strings.HasSuffix(s.Name, "-"):
		errs.add("name", "must not end with '-'")
	case !nameRE.MatchString(s.Name):
		errs.add("name", "must be a DNS label: lowercase letters, digits and '-', starting with a letter, at most 63 characters")
	}
	validateRun(&errs, &s.Run)
	if s.Replicas < 1 {
		errs.add("replicas", "must be at least 1")
	} else if s.Replicas > MaxReplicas {
		errs.add("replicas", "must be at most %d", MaxReplicas)
	}
	validateProbe(&errs, s.Probes.Startup, "probes.startup", true)
	validateProbe(&errs, s.Probes.Readiness, "probes.readiness", false)
	validateProbe(&errs, s.Probes.Liveness, "probes.liveness", true)
	validateRoute(&errs, &s.Route)
	validateGateway(&errs, s)
	validateStrategy(&errs, &s.Strategy, s.Route.Listen)
	validateHook(&errs, s.Hooks.PreDeploy, "hooks.pre_deploy")
	validateHook(&errs, s.Hooks.Smoke, "hooks.smoke")
	validateHook(&errs, s.Hooks.PostPromote, "hooks.post_promote")
	validateDatabase(&errs, s)
	validateConfig(&errs, s.Config)
	validateNotify(&errs, s.Notify)
	validatePromotion(&errs, s.Promotion)
	if s.StopGrace < 0 {
		errs.add("stop_grace", "must not be negative")
	} else if s.StopGrace > MaxStopGrace {
		errs.add("stop_grace", "must be at most %s", MaxStopGrace)
	}
	if s.RevisionHistoryLimit < 1 {
		errs.add("revision_history_limit", "must be at least 1")
	}
	return errs
}

func validateRun(errs *Errors, r *Run) {
	if r.Command == "" && r.Image == "" {
		errs.add("run.command", "required unless run.image is set")
	}
	validateEnv(errs, r.Env, "run.env")
	if _, ok := r.Env["PORT"]; ok {
		errs.add("run.env.PORT", "PORT is set by cutover for each instance; remove it")
	}
	for i, name := range r.Secrets {
		if _, ok := r.Env[name]; !ok {
			errs.add(indexPath("run.secrets", i), "names %q, which is not a key of run.env", name)
		}
	}
	validateContainer(errs, r)
	switch r.Runtime {
	case "", "process", "docker":
	case "kubernetes":
		if r.Image == "" {
			errs.add("run.runtime", "kubernetes runs images: set run.image")
		}
	default:
		errs.add("run.runtime", "%q is not a runtime: use process, docker or kubernetes", r.Runtime)
	}
}

// validateEnv checks env names, in sorted order so that errors come out the same every time.
func validateEnv(errs *Errors, env map[string]string, path string) {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !envKeyRE.MatchString(k) {
			errs.add(joinPath(path, k), "invalid name %q: use letters, digits and '_', not starting with a digit", k)
		}
	}
}

// validateProbe checks one probe; single is true for probes whose success_threshold must be 1.
func validateProbe(errs *Errors, p *Probe, path string, single bool) {
	if p == nil {
		return
	}
	switch n := countSet(p.HTTP != nil, p.TCP != nil, p.Exec != nil); {
	case n == 0:
		errs.add(path, "one of http, tcp, exec is required")
	case n > 1:
		errs.add(path, "set only one of http, tcp, exec")
	}
	if p.HTTP != nil {
		switch {
		case p.HTTP.Path == "":
			errs.add(path+".http.path", "required (like /healthz)")
		case !strings.HasPrefix(p.HTTP.Path, "/"):
			errs.add(path+".http.path", "must start with '/'")
		}
	}
	if p.Exec != nil && (len(p.Exec.Command) == 0 || p.Exec.Command[0] == "") {
		errs.add(path+".exec.command", "must name a program to run")
	}
	if p.InitialDelay < 0 {
		errs.add(path+".initial_delay", "must not be negative")
	}
	positive(errs, p.Period, path+".period")
	positive(errs, p.Timeout, path+".timeout")
	switch {
	case p.SuccessThreshold < 1:
		errs.add(path+".success_threshold", "must be at least 1")
	case single && p.SuccessThreshold != 1:
		errs.add(path+".success_threshold", "must be 1 for a %s probe (as in Kubernetes)", path[strings.LastIndex(path, ".")+1:])
	}
	if p.FailureThreshold < 1 {
		errs.add(path+".failure_threshold", "must be at least 1")
	}
}

func validateRoute(errs *Errors, r *Route) {
	if r.Listen == "" {
		errs.add("route.listen", "required (like \":8080\" or \"127.0.0.1:8080\")")
	} else if err := checkAddress(r.Listen); err != nil {
		errs.add("route.listen", "%s", err)
	}
	for i, a := range r.Internal {
		if err := checkAddress(a); err != nil {
			errs.add(indexPath("route.internal", i), "%s", err)
		}
	}
	for i, h := range r.Hosts {
		if !validHost(h) {
			errs.add(indexPath("route.hosts", i), "%q is not a DNS name (a leading \"*.\" matches subdomains)", h)
		}
	}
	for i, p := range r.Paths {
		if !strings.HasPrefix(p, "/") {
			errs.add(indexPath("route.paths", i), "must start with '/'")
		}
	}
	if !slices.Contains(balancers, r.Balance) {
		errs.add("route.balance", "must be one of %s, not %q", strings.Join(balancers, ", "), r.Balance)
	}
	positive(errs, r.Timeout, "route.timeout")
	positive(errs, r.DrainTimeout, "route.drain_timeout")
	validateRouteLimits(errs, r)
	validateEndpoints(errs, r.Endpoints, r.EndpointHeader)
}

// checkAddress checks a listen address: host:port, the host empty, an IP or localhost.
func checkAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q must be host:port, like \":8080\" or \"127.0.0.1:8080\"", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return fmt.Errorf("port %q is not a number", port)
	}
	if n < 1 || n > 65535 {
		return fmt.Errorf("port out of range: %d (must be 1-65535)", n)
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		return fmt.Errorf("host %q must be empty, an IP address or localhost", host)
	}
	return nil
}

// validHost reports whether h is a DNS name, optionally starting with "*.".
func validHost(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if !dnsLabel.MatchString(label) {
			return false
		}
	}
	return true
}

func validateHook(errs *Errors, h *Hook, path string) {
	if h == nil {
		return
	}
	if h.Command == "" {
		errs.add(path+".command", "required")
	}
	positive(errs, h.Timeout, path+".timeout")
	validateEnv(errs, h.Env, path+".env")
}

// positive requires a duration above zero.
func positive(errs *Errors, d Duration, path string) {
	if d <= 0 {
		errs.add(path, "must be greater than 0")
	}
}

func countSet(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// ValidName reports whether name can name a service (a DNS label).
func ValidName(name string) bool {
	return nameRE.MatchString(name) && !strings.HasSuffix(name, "-")
}
