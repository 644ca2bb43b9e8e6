package preflight

import (
	"fmt"
	"reflect"
	"slices"

	"github.com/cutover/cutover/internal/spec"
)

// Service checks a parsed spec. file names it in findings; lines gives the line of its
// fields (YAMLLines of the spec file; nil points every finding at line 1); text is the
// file's text, for its override comments.
func Service(file, text string, s *spec.Service, lines Lines) []Finding {
	var fs []Finding
	add := func(rule string, sev Severity, path, msg, fix string) {
		fs = append(fs, Finding{Rule: rule, Severity: sev, File: file, Line: lines.At(path), Message: msg, Fix: fix})
	}
	checkProbes(s, add)
	checkShutdown(s, add)
	checkScale(s, add)
	checkStrategy(s, add)
	checkConfig(s, add)
	return applyOverrides(file, text, fs)
}

type pathAdd func(rule string, sev Severity, path, msg, fix string)

func checkProbes(s *spec.Service, add pathAdd) {
	r, l := s.Probes.Readiness, s.Probes.Liveness
	hc := s.Run.Container != nil && s.Run.Container.Healthcheck != nil
	if r == nil && !hc {
		add("service/no-readiness", Error, "probes", "no readiness probe: an instance gets traffic as soon as its port opens, before it can serve",
			"add probes.readiness: {http: {path: /ready}} answering 200 only once the app can serve")
	}
	if r != nil && l != nil && reflect.DeepEqual(checkOf(r), checkOf(l)) {
		add("service/liveness-is-readiness", Warning, "probes.liveness", "liveness checks the same thing as readiness: a dependency outage restarts every instance instead of only taking them out of traffic",
			"make liveness check only that the process is alive (tcp: {} or a /livez that touches no dependency)")
	}
}

// checkOf is what a probe checks, without its timing.
func checkOf(p *spec.Probe) spec.Probe {
	return spec.Probe{HTTP: p.HTTP, TCP: p.TCP, Exec: p.Exec}
}

func checkShutdown(s *spec.Service, add pathAdd) {
	if s.Route.DrainTimeout > s.StopGrace {
		add("service/drain-exceeds-grace", Error, "route.drain_timeout",
			fmt.Sprintf("route.drain_timeout %s is longer than stop_grace %s: requests still draining are cut when the instance is killed", s.Route.DrainTimeout, s.StopGrace),
			"make stop_grace at least route.drain_timeout plus the app's own shutdown time")
	}
	if s.Run.Image != "" && (s.Run.Container == nil || s.Run.Container.Memory == "" || s.Run.Container.CPUs == 0) {
		add("service/no-resource-limits", Warning, "run", "the container has no memory or CPU limit: one leak or busy loop starves the host and every other service",
			"set run.container.memory (256m) and run.container.cpus (0.5) from what the app uses under load")
	}
}

func checkScale(s *spec.Service, add pathAdd) {
	if s.Replicas < 2 {
		add("service/one-replica", Warning, "replicas", "one replica: a crash or a host hiccup is an outage until it restarts",
			"run replicas: 2 or more")
	}
	if s.RevisionHistoryLimit < 2 {
		add("service/no-rollback-window", Error, "revision_history_limit", "revision_history_limit below 2 keeps no earlier revision: there is nothing to roll back to",
			"keep revision_history_limit at 2 or more (default 10)")
	}
	if s.Hooks.PostPromote == nil {
		add("service/no-notifications", Warning, "hooks", "nothing tells anyone a deployment ended: no hooks.post_promote",
			"add hooks.post_promote with a command that posts to your chat or incident tool; `cutover events --follow` in CI")
	}
	if s.Run.Image != "" && !spec.PinnedImage(s.Run.Image) {
		add("service/unpinned-image", Error, "run.image", fmt.Sprintf("image %s has no version: each deploy may run a different one", s.Run.Image),
			"deploy a version tag or digest (--image app:1.4.2 or app@sha256:...)")
	}
}

func checkStrategy(s *spec.Service, add pathAdd) {
	switch st := s.Strategy; {
	case st.Recreate != nil:
		add("service/recreate", Warning, "strategy.recreate", "strategy recreate stops every instance before starting the new ones: requests fail until the new revision is ready",
			"use rolling (start-first) or blue_green")
	case st.Canary != nil && !st.Canary.Analysis.HasMetric():
		add("service/canary-judges-nothing", Error, "strategy.canary", "the canary's analysis judges nothing: a bad canary is never rolled back by itself",
			"turn on strategy.canary.analysis errors or latency, or set max_error_rate / max_p99")
	case st.BlueGreen != nil && st.BlueGreen.ScaleDownDelay == 0:
		add("service/no-rollback-window", Warning, "strategy.blue_green", "blue_green with scale_down_delay 0 stops blue at once: a rollback must start it again",
			"keep blue warm: strategy.blue_green.scale_down_delay: 10m")
	}
}

// checkConfig flags what the spec's config list leaves open: no list, env the list does not
// declare, secret values written in the spec.
func checkConfig(s *spec.Service, add pathAdd) {
	declared := map[string]spec.ConfigVar{}
	for _, c := range s.Config {
		declared[c.Name] = c
	}
	if len(s.Config) == 0 {
		add("service/no-config-schema", Warning, "run", "no config list: a missing or malformed variable is found when the app crashes, not before the deploy",
			"declare the env the app needs under config: (name, type, required or default, secret)")
	}
	for _, name := range sortedKeys(s.Run.Env) {
		v := s.Run.Env[name]
		c, ok := declared[name]
		if c.Secret || spec.IsSecret(name) || spec.IsSecretValue(name, v) || slices.Contains(s.Run.Secrets, name) {
			add("service/secret-in-spec", Error, "run.env."+name, fmt.Sprintf("run.env.%s: a secret written in the spec file ends up in version control", name),
				fmt.Sprintf("remove it from the spec and run `cutover secrets set %s %s` (value on standard input)", s.Name, name))
		}
		if !ok && len(s.Config) > 0 {
			add("service/undeclared-env", Warning, "run.env."+name, fmt.Sprintf("run.env.%s is not in the config list", name),
				fmt.Sprintf("declare it: config: [{name: %s, type: ...}]", name))
		}
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
