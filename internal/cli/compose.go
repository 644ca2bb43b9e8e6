package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/compose"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/stack"
)

// deployCompose plans the compose files as a stack (an invalid one is a usage error), and,
// unless dryRun, builds the selected services that have build (every build before any
// deploy, so a failing one changes nothing) and deploys them (all when none is named) in
// dependency order, a built service's revision running the exact image ID built.
// Every warning is printed first. A service that another one depends on with condition
// service_healthy is waited for before the dependent is deployed; with --wait every service is.
func (a *app) deployCompose(ctx context.Context, files, services []string, message string, wf waitFlags, dryRun bool) error {
	if err := wf.check(); err != nil {
		return err
	}
	plan, against, err := a.planStack(ctx, files)
	if err != nil {
		return err
	}
	if dryRun {
		return a.printPlan(plan, against, services)
	}
	images, err := a.buildImages(ctx, plan, services)
	if err != nil {
		return err
	}
	routed := selectedOf(plan, services, stack.Routed)
	p := &compose.Project{Name: plan.Project}
	if len(routed) > 0 {
		if p, err = compose.Load(ctx, files, routed, compose.Options{Env: environ(), Images: images}); err != nil {
			return &usageError{err: err}
		}
	}
	for _, w := range p.Warnings {
		fmt.Fprintln(a.stderr, "warning: "+w)
	}
	awaited := map[string]bool{}
	for _, imp := range p.Services {
		for _, w := range imp.Warnings {
			fmt.Fprintln(a.stderr, "warning: "+w)
		}
		for _, dep := range imp.DependsOn {
			if dep.Condition == compose.ConditionHealthy {
				awaited[dep.Service] = true
			}
		}
	}
	attached := map[string]*spec.Container{}
	imports := map[string]compose.Import{}
	for _, imp := range p.Services {
		attached[imp.Spec.Name], imports[imp.Spec.Name] = imp.Spec.Run.Container, imp
	}
	for _, st := range plan.Steps {
		if st.Kind != stack.Routed && selected(services, st.Service.Name) {
			attached[st.Service.Name] = st.Service.Container
		}
	}
	if err := a.ensureAttachments(ctx, plan.Project, attached); err != nil {
		return err
	}
	if err := a.nameRoutes(ctx, plan, imports); err != nil {
		return err
	}
	run := &stackRun{files: files, message: message, wf: wf, awaited: awaited, images: images, imports: imports}
	return a.deploySteps(ctx, run, plan, services)
}

// stackRun is what deploying one step of a stack needs besides the step.
type stackRun struct {
	files   []string
	message string
	wf      waitFlags
	awaited map[string]bool
	images  map[string]string
	imports map[string]compose.Import
	client  *api.Client
}

// deployStep deploys one service of the stack and says how it ended: a job run or left
// alone, a stateful or worker service replaced or left alone, a routed one deployed
// through the daemon.
func (a *app) deployStep(ctx context.Context, run *stackRun, project string, st stack.Step) (stackOutcome, error) {
	name := st.Service.Name
	out := stackOutcome{Service: name, Kind: string(st.Kind), Change: string(st.Change)}
	switch st.Kind {
	case stack.Job:
		return a.deployJob(ctx, run, project, st, out)
	case stack.Stateful, stack.Worker:
		rev, err := a.deployContainers(ctx, project, st, run.images[name])
		if err != nil {
			return out, err
		}
		out.Revision = rev
		if st.Change == stack.Unchanged {
			out.Outcome = "unchanged"
			return out, nil
		}
		out.Outcome = "new container ready"
		return out, nil
	}
	imp, ok := run.imports[name]
	if !ok {
		out.Outcome = "not deployed"
		return out, nil
	}
	if run.client == nil {
		c, err := a.client()
		if err != nil {
			return out, err
		}
		run.client = c
	}
	s := imp.Spec
	doc, err := spec.Marshal(&s)
	if err != nil {
		return out, fmt.Errorf("deploy %s: %w", name, err)
	}
	req := api.DeployRequest{Service: name, Spec: string(doc), SpecFile: run.files[0] + " (service " + name + ")",
		Message: run.message}
	d, err := run.client.Deploy(ctx, req)
	if err != nil {
		return out, fmt.Errorf("deploy %s: %w", name, err)
	}
	out.Revision, out.Deployment = d.To, d.ID
	swf := run.wf
	swf.wait = run.wf.wait || run.awaited[name]
	if err := a.afterStart(ctx, run.client, d, swf); err != nil {
		return out, fmt.Errorf("deploy %s: %w", name, err)
	}
	if swf.wait {
		out.Outcome = fmt.Sprintf("revision %d deployed", d.To)
		return out, nil
	}
	out.Outcome = fmt.Sprintf("revision %d deployment %d started", d.To, d.ID)
	return out, nil
}

// deployJob runs a job unless it already completed with this definition (see
// stack_jobs.go), and records its success.
func (a *app) deployJob(ctx context.Context, run *stackRun, project string, st stack.Step, out stackOutcome) (stackOutcome, error) {
	s := st.Service
	if st.Change == stack.Unchanged {
		fmt.Fprintf(a.stdout, "job %s: unchanged and completed before, left alone\n", s.Name)
		out.Outcome = "unchanged, completed before"
		return out, nil
	}
	if err := a.forgetJob(project, s.Name); err != nil {
		return out, err
	}
	if err := a.runJob(ctx, s, run.images[s.Name]); err != nil {
		if s.Pos.Line > 0 {
			err = fmt.Errorf("%s:%d:%d: %w", s.Pos.File, s.Pos.Line, s.Pos.Column, err)
		}
		return out, &exitError{code: ExitFailed, err: err}
	}
	if err := a.recordJob(project, s); err != nil {
		fmt.Fprintf(a.stderr, "warning: job %s completed, but its record was not written (it runs again next time): %v\n", s.Name, err)
	}
	out.Outcome = "job completed"
	return out, nil
}

// environ is the process environment as a map, for compose interpolation.
func environ() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// buildImages builds every selected service that has build, through the Docker Engine API
// on this machine, its progress on standard error, and returns the image IDs by service.
func (a *app) buildImages(ctx context.Context, plan *stack.Plan, selected []string) (map[string]string, error) {
	var b *docker.Driver
	images := map[string]string{}
	for _, st := range plan.Steps {
		bs := st.Service.Build
		if bs == nil || st.Service.Image != "" || (len(selected) > 0 && !slices.Contains(selected, st.Service.Name)) {
			continue
		}
		if b == nil {
			d, err := docker.New(nil, docker.Options{})
			if err != nil {
				return nil, fmt.Errorf("build %s: %w", st.Service.Name, err)
			}
			defer d.Close()
			b = d
		}
		fmt.Fprintf(a.stderr, "building %s from %s as %s\n", st.Service.Name, bs.Context, bs.Tag)
		id, err := b.Build(ctx, docker.BuildSpec{Context: bs.Context, Dockerfile: bs.Dockerfile, Args: bs.Args,
			Target: bs.Target, Tag: bs.Tag}, a.stderr)
		if err != nil {
			return nil, fmt.Errorf("build %s (nothing was deployed): %w", st.Service.Name, err)
		}
		fmt.Fprintf(a.stderr, "built %s: %s\n", st.Service.Name, id)
		images[st.Service.Name] = id
	}
	return images, nil
}

// ensureAttachments creates the networks and named volumes the services join or mount,
// labelled with the project and the state directory, unless they exist. Volumes are never
// removed by a deploy.
func (a *app) ensureAttachments(ctx context.Context, project string, containers map[string]*spec.Container) error {
	var d *docker.Driver
	for _, name := range slices.Sorted(maps.Keys(containers)) {
		c := containers[name]
		if c == nil || (len(c.Networks) == 0 && len(c.Mounts) == 0) {
			continue
		}
		if d == nil {
			var err error
			if d, err = a.docker(""); err != nil {
				return fmt.Errorf("deploy %s: %w", name, err)
			}
			defer d.Close()
		}
		for _, n := range c.Networks {
			if _, err := d.EnsureNetwork(ctx, n.Name, project); err != nil {
				return fmt.Errorf("deploy %s: %w", name, err)
			}
		}
		for _, m := range c.Mounts {
			if m.Volume == "" {
				continue
			}
			if err := d.EnsureVolume(ctx, m.Volume, project); err != nil {
				return fmt.Errorf("deploy %s: %w", name, err)
			}
		}
	}
	return nil
}

// docker is a Docker runtime owning what this state directory's daemon owns.
func (a *app) docker(restart string) (*docker.Driver, error) {
	owner, err := filepath.Abs(a.stateDir)
	if err != nil {
		return nil, err
	}
	return docker.New(nil, docker.Options{Owner: owner, RestartPolicy: restart})
}

// runJob runs a job's container to completion before its dependents are deployed.
func (a *app) runJob(ctx context.Context, s *stack.Service, built string) error {
	d, err := a.docker("no")
	if err != nil {
		return fmt.Errorf("job %s: %w", s.Name, err)
	}
	defer d.Close()
	var b [4]byte
	_, _ = rand.Read(b[:])
	is := stack.InstanceSpec(s, s.Name+"-job-"+hex.EncodeToString(b[:]), 0, built)
	fmt.Fprintf(a.stdout, "job %s: running\n", s.Name)
	if err := stack.RunJob(ctx, d, is, s.Timeout); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "job %s: completed\n", s.Name)
	return nil
}

// selected reports whether name is among the selected services (all are when none is).
func selected(services []string, name string) bool {
	return len(services) == 0 || slices.Contains(services, name)
}

// selectedOf is the names of the selected services of a kind, in plan order.
func selectedOf(plan *stack.Plan, services []string, k stack.Kind) []string {
	var out []string
	for _, st := range plan.Steps {
		if st.Kind == k && selected(services, st.Service.Name) {
			out = append(out, st.Service.Name)
		}
	}
	return out
}
