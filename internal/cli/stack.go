package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/compose"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/stack"
)

// planStack loads the compose files as a stack and plans it against what the daemon runs
// (nothing when no daemon answers). An invalid file is a usage error (exit 2).
func (a *app) planStack(ctx context.Context, files []string) (*stack.Plan, string, error) {
	p, err := compose.LoadStack(ctx, files, compose.Options{Env: environ()})
	if err != nil {
		return nil, "", &usageError{err: err}
	}
	builtImages(ctx, p)
	services := make([]*stack.Service, len(p.Services))
	for i := range p.Services {
		services[i] = &p.Services[i]
	}
	warnings, err := a.applyNames(ctx, services)
	if err != nil {
		return nil, "", err
	}
	p.Warnings = append(p.Warnings, warnings...)
	running, against := a.running(ctx, p)
	for name, r := range a.stackRunning(ctx, p.Name) {
		if _, ok := running[name]; !ok {
			running[name] = r
		}
	}
	jobs := a.completedJobs(p.Name)
	for i := range p.Services {
		s := &p.Services[i]
		if fp, ok := jobs[s.Name]; ok && stack.KindOf(p, s) == stack.Job {
			running[s.Name] = stack.Running{Fingerprint: fp}
		}
	}
	plan, err := stack.Make(p, running, stack.OSFiles{})
	if err != nil {
		return nil, "", &usageError{err: fmt.Errorf("plan stack %s: %w", p.Name, err)}
	}
	return plan, against, nil
}

// running asks the daemon what runs for each service of p, and says what was planned against.
func (a *app) running(ctx context.Context, p *stack.Project) (map[string]stack.Running, string) {
	out := map[string]stack.Running{}
	c, err := a.client()
	if err != nil {
		return out, "no daemon found: planned against nothing running"
	}
	if err := c.Health(ctx); err != nil {
		return out, "no daemon answered: planned against nothing running"
	}
	for _, s := range p.Services {
		revs, err := c.History(ctx, s.Name)
		if errors.Is(err, api.ErrNotFound) {
			continue
		}
		if err != nil {
			return map[string]stack.Running{}, fmt.Sprintf("the daemon did not answer for %s (%v): planned against nothing running", s.Name, err)
		}
		for _, r := range revs {
			if r.Stable {
				out[s.Name] = stack.Running{Revision: r.Number, Image: r.Image, Command: r.Command,
					Args: r.Args, Env: r.Env, SpecHash: r.SpecHash}
			}
		}
	}
	return out, "planned against what the daemon runs"
}

// printPlan writes the plan of the selected services (all when none is named) and its
// warnings; nothing is deployed.
func (a *app) printPlan(plan *stack.Plan, against string, selected []string) error {
	if a.json() {
		return printJSON(a.stdout, planJSON(plan, selected))
	}
	fmt.Fprintf(a.stdout, "stack %s: %s\n", plan.Project, against)
	t := newTable(a.stdout)
	row(t, "SERVICE", "KIND", "STRATEGY", "CHANGE")
	for _, st := range plan.Steps {
		if len(selected) > 0 && !slices.Contains(selected, st.Service.Name) {
			continue
		}
		change := string(st.Change)
		if len(st.Differences) > 0 {
			change += ": " + strings.Join(st.Differences, ", ")
		}
		if st.Downtime {
			change += " (downtime: stopped before its replacement starts)"
		}
		row(t, st.Service.Name, string(st.Kind), st.Strategy, change)
	}
	if err := t.Flush(); err != nil {
		return err
	}
	for _, w := range plan.Warnings {
		fmt.Fprintln(a.stdout, "warning: "+w)
	}
	fmt.Fprintln(a.stdout, "dry run: nothing was changed")
	return nil
}

// planStep is one step of a plan in -o json.
type planStep struct {
	Service     string   `json:"service"`
	Kind        string   `json:"kind"`
	Strategy    string   `json:"strategy"`
	Change      string   `json:"change"`
	Differences []string `json:"differences,omitempty"`
	Downtime    bool     `json:"downtime,omitempty"`
}

func planJSON(plan *stack.Plan, selected []string) map[string]any {
	steps := []planStep{}
	for _, st := range plan.Steps {
		if len(selected) > 0 && !slices.Contains(selected, st.Service.Name) {
			continue
		}
		steps = append(steps, planStep{Service: st.Service.Name, Kind: string(st.Kind), Strategy: st.Strategy,
			Change: string(st.Change), Differences: st.Differences, Downtime: st.Downtime})
	}
	return map[string]any{"project": plan.Project, "services": steps, "warnings": plan.Warnings}
}

// builtImages puts in the spec of each routed service with build the ID of the image its
// content tag names, when this machine has it, so a build whose inputs did not change plans
// as unchanged. Without Docker the tag stays, and the service plans as changed.
func builtImages(ctx context.Context, p *stack.Project) {
	var d *docker.Driver
	for i := range p.Services {
		s := &p.Services[i]
		if s.Build == nil || s.Spec == nil || s.Image != "" {
			continue
		}
		if d == nil {
			var err error
			if d, err = docker.New(nil, docker.Options{}); err != nil {
				return
			}
			defer d.Close()
		}
		if id, err := d.ImageID(ctx, s.Build.Tag); err == nil && id != "" {
			s.Spec.Run.Image = id
		}
	}
}
