package stack

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/cutover/cutover/internal/spec"
)

// Running is what runs now for one service: its stable revision.
type Running struct {
	Revision int
	Image    string
	Command  string
	Args     []string
	Env      map[string]string
	// SpecHash is spec.Hash of the revision's spec; empty for services cutover did not
	// deploy from a spec.
	SpecHash string
	// Fingerprint is the Fingerprint of the definition a stateful or worker service's
	// container runs; empty for the services the daemon deploys.
	Fingerprint string
	// Instances are the IDs of a stateful or worker service's containers, exited ones too.
	Instances []string
	// Latest is the highest revision any of those containers ran, exited ones too: the
	// next container's revision is Latest+1.
	Latest int
}

// Change says what a deployment would do to one service.
type Change string

// The changes.
const (
	New       Change = "new"       // nothing runs: started
	Changed   Change = "changed"   // runs with a different image, config or environment: replaced
	Unchanged Change = "unchanged" // left alone, as compose does
)

// Plan is the deployment of a stack, service by service in dependency order.
type Plan struct {
	Project  string
	Steps    []Step
	Warnings []string
}

// Step is one service's part of the plan.
type Step struct {
	Service  *Service
	Kind     Kind
	Strategy string
	Change   Change
	// Differences name what changed, one phrase each ("image a -> b", "env FOO changed");
	// values of environment variables are never shown.
	Differences []string
	// Downtime says the step stops the service before its replacement starts.
	Downtime bool
}

// Make plans p against what runs now (by service name; missing means nothing runs). The
// error is spec.Errors naming every problem at once, or a dependency cycle.
func Make(p *Project, running map[string]Running, files FileSystem) (*Plan, error) {
	kinds := map[string]Kind{}
	for i := range p.Services {
		kinds[p.Services[i].Name] = KindOf(p, &p.Services[i])
	}
	names, err := order(p)
	if err != nil {
		return nil, err
	}
	if errs := validate(p, kinds, files); len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *spec.FieldError) int {
			return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, errs
	}
	byName := map[string]*Service{}
	for i := range p.Services {
		byName[p.Services[i].Name] = &p.Services[i]
	}
	plan := &Plan{Project: p.Name, Warnings: slices.Clone(p.Warnings)}
	for _, n := range names {
		s := byName[n]
		step := Step{Service: s, Kind: kinds[n], Strategy: strategy(kinds[n], s)}
		step.Change, step.Differences = compare(s, running, n)
		step.Downtime = step.Kind == Stateful && step.Change == Changed
		plan.Steps = append(plan.Steps, step)
		plan.Warnings = append(plan.Warnings, s.Warnings...)
		plan.Warnings = append(plan.Warnings, kindWarnings(s, kinds, byName)...)
	}
	return plan, nil
}

// strategy names how a kind is deployed; a routed service uses its spec's strategy.
func strategy(k Kind, s *Service) string {
	switch k {
	case Routed:
		if s.Spec != nil {
			return s.Spec.Strategy.Type
		}
		return "rolling"
	case Stateful:
		return "stop-then-start"
	case Worker:
		return "start-first"
	}
	return "run to completion"
}

// kindWarnings warn about what a kind will not do as the file might expect.
func kindWarnings(s *Service, kinds map[string]Kind, byName map[string]*Service) []string {
	var out []string
	k := kinds[s.Name]
	if v := namedVolume(s); v != "" && (k == Routed || k == Worker) {
		out = append(out, fmt.Sprintf("service %s: %s with named volume %s: old and new instances share it during a deploy "+
			"(x-cutover: {kind: stateful} stops the old one first)", s.Name, k, v))
	}
	for _, d := range s.DependsOn {
		if dep := byName[d.Service]; d.Condition == ConditionHealthy && dep != nil && !dep.Healthcheck {
			out = append(out, fmt.Sprintf("service %s: depends_on %s is service_healthy, but %s has no healthcheck: "+
				"cutover waits for it to be ready (routed: its readiness probe; other kinds: running for min_ready)",
				s.Name, d.Service, d.Service))
		}
	}
	return out
}

// compare tells how s differs from what runs under name.
func compare(s *Service, running map[string]Running, name string) (Change, []string) {
	r, ok := running[name]
	if !ok {
		return New, nil
	}
	if r.Fingerprint == "" && len(r.Instances) > 0 {
		return Changed, []string{"none of its containers runs (stopped by hand or by an interrupted deploy)"}
	}
	if r.Fingerprint != "" {
		if r.Fingerprint == Fingerprint(s) {
			return Unchanged, nil
		}
		return Changed, []string{"definition changed (image, command, environment, networks, mounts, healthcheck or stop grace)"}
	}
	var diffs []string
	image := s.Image
	if s.Spec != nil && s.Spec.Run.Image != "" {
		image = s.Spec.Run.Image
	}
	if image != r.Image {
		diffs = append(diffs, fmt.Sprintf("image %s -> %s", orNone(r.Image), orNone(image)))
	}
	command, args := s.Command, s.Args
	if s.Spec != nil {
		command, args = s.Spec.Run.Command, s.Spec.Run.Args
	}
	if command != r.Command || !slices.Equal(args, r.Args) {
		diffs = append(diffs, "command changed")
	}
	env := s.Env
	if s.Spec != nil {
		env = s.Spec.Run.Env
	}
	diffs = append(diffs, envDiff(r.Env, env)...)
	if len(diffs) == 0 && s.Spec != nil && r.SpecHash != "" && spec.Hash(s.Spec) != r.SpecHash {
		diffs = append(diffs, "config changed (probes, route, strategy or container options)")
	}
	if len(diffs) == 0 {
		return Unchanged, nil
	}
	return Changed, diffs
}

// envDiff names the variables added, removed or changed, never their values.
func envDiff(old, cur map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(cur)) {
		v, ok := old[k]
		switch {
		case !ok:
			out = append(out, "env "+k+" added")
		case v != cur[k]:
			out = append(out, "env "+k+" changed")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(old)) {
		if _, ok := cur[k]; !ok {
			out = append(out, "env "+k+" removed")
		}
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
