package spec

import "time"

// Default values of a spec, applied by Parse and Default.
const (
	DefaultReplicas             = 1
	DefaultStopGrace            = Duration(30 * time.Second)
	DefaultRevisionHistoryLimit = 10
	DefaultBalance              = "least_requests"
	DefaultRouteTimeout         = Duration(30 * time.Second)
	DefaultDrainTimeout         = Duration(30 * time.Second)
	DefaultProbePeriod          = Duration(time.Second)
	DefaultProbeTimeout         = Duration(time.Second)
	DefaultSuccessThreshold     = 1
	DefaultFailureThreshold     = 3
	DefaultProgressDeadline     = Duration(10 * time.Minute)
	DefaultScaleDownDelay       = Duration(30 * time.Second)
	DefaultHookTimeout          = Duration(5 * time.Minute)
	DefaultCanaryAlpha          = 0.05
	DefaultCanaryMinRequests    = 100
	DefaultCanaryInconclusive   = InconclusivePause
)

// DefaultMaxSurge is the rolling strategy's default surge (Kubernetes' default).
var DefaultMaxSurge = IntOrPercent{Value: 25, Percent: true}

// Default fills every zero-valued field that has a default, derives Strategy.Type and adds a tcp
// readiness probe when no probe is given. It is idempotent. Because it cannot tell an explicit
// zero from a missing value, do not call it on a Service from Parse (or from its stored JSON):
// Parse already applied defaults, to absent fields only, and an explicit "stop_grace: 0s" or
// "max_surge: 0" must stay zero.
func Default(s *Service) {
	applyDefaults(s, func(string) bool { return false })
}

// defaulter sets a default where a field is zero and the document did not give it.
type defaulter struct {
	has func(path string) bool
}

func (df defaulter) int(p *int, path string, v int) {
	if *p == 0 && !df.has(path) {
		*p = v
	}
}

func (df defaulter) dur(p *Duration, path string, v Duration) {
	if *p == 0 && !df.has(path) {
		*p = v
	}
}

func (df defaulter) str(p *string, path, v string) {
	if *p == "" && !df.has(path) {
		*p = v
	}
}

// applyDefaults fills defaults into fields for which has reports false.
func applyDefaults(s *Service, has func(path string) bool) {
	df := defaulter{has: has}
	df.int(&s.Replicas, "replicas", DefaultReplicas)
	df.dur(&s.StopGrace, "stop_grace", DefaultStopGrace)
	df.int(&s.RevisionHistoryLimit, "revision_history_limit", DefaultRevisionHistoryLimit)

	if len(s.Route.Paths) == 0 {
		s.Route.Paths = []string{"/"} // empty means "/" anyway; say so
	}
	df.str(&s.Route.Balance, "route.balance", DefaultBalance)
	df.dur(&s.Route.Timeout, "route.timeout", DefaultRouteTimeout)
	df.dur(&s.Route.DrainTimeout, "route.drain_timeout", DefaultDrainTimeout)
	df.routeLimits(&s.Route)

	if s.Probes.Startup == nil && s.Probes.Readiness == nil && s.Probes.Liveness == nil {
		s.Probes.Readiness = &Probe{TCP: &TCPProbe{}}
	}
	df.probe(s.Probes.Startup, "probes.startup")
	df.probe(s.Probes.Readiness, "probes.readiness")
	df.probe(s.Probes.Liveness, "probes.liveness")

	df.strategy(&s.Strategy)
	markPromCredentials(s)

	df.hook(s.Hooks.PreDeploy, "hooks.pre_deploy")
	df.hook(s.Hooks.Smoke, "hooks.smoke")
	df.hook(s.Hooks.PostPromote, "hooks.post_promote")
	df.database(s)
}

func (df defaulter) probe(p *Probe, path string) {
	if p == nil {
		return
	}
	df.dur(&p.Period, path+".period", DefaultProbePeriod)
	df.dur(&p.Timeout, path+".timeout", DefaultProbeTimeout)
	df.int(&p.SuccessThreshold, path+".success_threshold", DefaultSuccessThreshold)
	df.int(&p.FailureThreshold, path+".failure_threshold", DefaultFailureThreshold)
}

func (df defaulter) hook(h *Hook, path string) {
	if h != nil {
		df.dur(&h.Timeout, path+".timeout", DefaultHookTimeout)
	}
}

// strategy picks rolling when no strategy is given, derives Type and fills the chosen
// strategy's defaults. With more than one strategy set, Type names the first; Validate refuses it.
func (df defaulter) strategy(st *Strategy) {
	if st.Rolling == nil && st.BlueGreen == nil && st.Recreate == nil && st.Canary == nil {
		st.Rolling = &Rolling{}
	}
	st.Type = strategyTypes(st)[0]
	if r := st.Rolling; r != nil {
		if r.MaxSurge == (IntOrPercent{}) && !df.has("strategy.rolling.max_surge") {
			r.MaxSurge = DefaultMaxSurge
		}
		df.dur(&r.ProgressDeadline, "strategy.rolling.progress_deadline", DefaultProgressDeadline)
		df.str(&r.OnFailure, "strategy.rolling.on_failure", OnFailureRollback)
	}
	if bg := st.BlueGreen; bg != nil {
		df.dur(&bg.ScaleDownDelay, "strategy.blue_green.scale_down_delay", DefaultScaleDownDelay)
		df.dur(&bg.ProgressDeadline, "strategy.blue_green.progress_deadline", DefaultProgressDeadline)
	}
	if r := st.Recreate; r != nil {
		df.dur(&r.ProgressDeadline, "strategy.recreate.progress_deadline", DefaultProgressDeadline)
	}
	if c := st.Canary; c != nil {
		df.dur(&c.ProgressDeadline, "strategy.canary.progress_deadline", DefaultProgressDeadline)
		df.canaryAnalysis(&c.Analysis, "strategy.canary.analysis")
		for _, step := range c.Steps {
			if step.Ramp != nil {
				defaultRamp(step.Ramp)
			}
		}
	}
}

// canaryAnalysis turns both sequential tests on unless the document turns them off.
func (df defaulter) canaryAnalysis(a *CanaryAnalysis, path string) {
	if a.Alpha == 0 && !df.has(path+".alpha") {
		a.Alpha = DefaultCanaryAlpha
	}
	if a.Errors == nil {
		a.Errors = new(true)
	}
	if a.Latency == nil {
		a.Latency = new(true)
	}
	df.int(&a.MinRequests, path+".min_requests", DefaultCanaryMinRequests)
	df.str(&a.Inconclusive, path+".inconclusive", DefaultCanaryInconclusive)
	for i := range a.Prometheus {
		p := indexPath(path+".prometheus", i)
		df.dur(&a.Prometheus[i].Interval, p+".interval", DefaultPrometheusInterval)
		df.dur(&a.Prometheus[i].Timeout, p+".timeout", DefaultPrometheusTimeout)
	}
}

// strategyTypes lists the strategies set, in declaration order.
func strategyTypes(st *Strategy) []string {
	var types []string
	if st.Rolling != nil {
		types = append(types, TypeRolling)
	}
	if st.BlueGreen != nil {
		types = append(types, TypeBlueGreen)
	}
	if st.Recreate != nil {
		types = append(types, TypeRecreate)
	}
	if st.Canary != nil {
		types = append(types, TypeCanary)
	}
	return types
}
