package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/compose"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/stack"
)

func (a *app) downCmd() *cobra.Command {
	var files []string
	var volumes bool
	cmd := &cobra.Command{
		Use:   "down -f compose.yaml [--volumes]",
		Short: "Stop every service of a compose stack and remove its networks",
		Long: `Stop every service of a compose stack, the services that depend on others first: a
routed service is removed from the daemon (its instances drain and stop, its route and
published port are released, its revisions and deployments are forgotten; its events stay),
the containers of the stateful and worker services are stopped and removed. Then the
stack's networks are removed. Named volumes, and so the stack's data, are kept unless
--volumes is given, which also forgets which jobs completed (they run again at the next
deploy). Running down again after an interruption finishes the job.`,
		Example: `  cutover down -f compose.yaml
  cutover down -f compose.yaml --volumes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return usagef("down needs the stack's compose file: -f compose.yaml")
			}
			return a.down(cmd.Context(), files, volumes)
		},
	}
	cmd.Flags().StringArrayVarP(&files, "file", "f", nil, "compose file of the stack (repeatable; later files override)")
	cmd.Flags().BoolVar(&volumes, "volumes", false, "also remove the stack's named volumes and the data in them")
	return cmd
}

// down stops the stack's services in reverse dependency order (routed ones through the
// daemon), then removes its networks, and its volumes when asked.
func (a *app) down(ctx context.Context, files []string, volumes bool) error {
	plan, _, err := a.planStack(ctx, files)
	if err != nil {
		return err
	}
	d, err := a.stackDocker(plan.Project)
	if err != nil {
		return fmt.Errorf("down %s: %w", plan.Project, err)
	}
	defer d.Close()
	running := a.stackRunning(ctx, plan.Project)
	for _, st := range slices.Backward(plan.Steps) {
		name := st.Service.Name
		if st.Kind == stack.Routed {
			if err := a.removeRouted(ctx, name); err != nil {
				return fmt.Errorf("down %s: %w", name, err)
			}
			continue
		}
		for _, id := range running[name].Instances {
			fmt.Fprintf(a.stdout, "%s: stopping %s\n", name, id)
			if err := d.Stop(ctx, id); err != nil {
				return fmt.Errorf("down %s: %w", name, err)
			}
			if err := d.Remove(ctx, id); err != nil {
				return fmt.Errorf("down %s: %w", name, err)
			}
		}
	}
	return a.removeProject(ctx, plan.Project, volumes)
}

// removeRouted removes a routed service from the daemon, when the daemon runs it.
func (a *app) removeRouted(ctx context.Context, name string) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	if _, err := c.Service(ctx, name); errors.Is(err, api.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s: removing from the daemon (instances drained and stopped, route released)\n", name)
	if err := c.RemoveService(ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s: removed\n", name)
	return nil
}

// removeProject removes the project's networks, and its volumes when asked.
func (a *app) removeProject(ctx context.Context, project string, volumes bool) error {
	d, err := a.docker("")
	if err != nil {
		return fmt.Errorf("down %s: %w", project, err)
	}
	defer d.Close()
	if err := d.RemoveNetworks(ctx, project); err != nil {
		return fmt.Errorf("down %s: %w", project, err)
	}
	fmt.Fprintf(a.stdout, "networks of %s removed\n", project)
	if !volumes {
		fmt.Fprintf(a.stdout, "volumes of %s kept (--volumes removes them)\n", project)
		return nil
	}
	if err := d.RemoveVolumes(ctx, project); err != nil {
		return fmt.Errorf("down %s: %w", project, err)
	}
	if err := a.forgetJobs(project); err != nil {
		return fmt.Errorf("down %s: %w", project, err)
	}
	fmt.Fprintf(a.stdout, "volumes of %s removed\n", project)
	return nil
}

// stackRow is one service of a stack in status -f.
type stackRow struct {
	Service   string   `json:"service"`
	Kind      string   `json:"kind"`
	Revision  int      `json:"revision,omitempty"`
	State     string   `json:"state"`
	Instances []string `json:"instances,omitempty"`
}

// stackStatus shows each service of the stack: its kind, the revision that runs and its
// state, from the daemon for routed services and from Docker for the others.
func (a *app) stackStatus(ctx context.Context, files []string) error {
	p, err := compose.LoadStack(ctx, files, compose.Options{Env: environ()})
	if err != nil {
		return &usageError{err: err}
	}
	builtImages(ctx, p)
	services := make([]*stack.Service, len(p.Services))
	for i := range p.Services {
		services[i] = &p.Services[i]
	}
	_, _ = a.applyNames(ctx, services) // as deploy fingerprints them; without Docker, as written
	running, jobs := a.stackRunning(ctx, p.Name), a.completedJobs(p.Name)
	var rows []stackRow
	for i := range p.Services {
		s := &p.Services[i]
		r := stackRow{Service: s.Name, Kind: string(stack.KindOf(p, s)), State: "not running"}
		switch stack.Kind(r.Kind) {
		case stack.Routed:
			a.routedRow(ctx, &r)
		case stack.Job:
			r.State = "not run yet (runs at the next deploy)"
			if fp, ok := jobs[s.Name]; ok && fp == stack.Fingerprint(s) {
				r.State = "completed with this definition (left alone by the next deploy)"
			} else if ok {
				r.State = "completed with another definition (runs again at the next deploy)"
			}
		default:
			a.containerRow(ctx, p.Name, running[s.Name], &r)
		}
		rows = append(rows, r)
	}
	if a.json() {
		return printJSON(a.stdout, map[string]any{"project": p.Name, "services": rows})
	}
	fmt.Fprintf(a.stdout, "stack %s\n", p.Name)
	t := newTable(a.stdout)
	row(t, "SERVICE", "KIND", "REVISION", "STATE")
	for _, r := range rows {
		rev := "-"
		if r.Revision > 0 {
			rev = strconv.Itoa(r.Revision)
		}
		row(t, r.Service, r.Kind, rev, r.State)
	}
	return t.Flush()
}

// routedRow fills a routed service's row from the daemon.
func (a *app) routedRow(ctx context.Context, r *stackRow) {
	c, err := a.client()
	if err != nil {
		r.State = "unknown: " + err.Error()
		return
	}
	svc, err := c.Service(ctx, r.Service)
	if errors.Is(err, api.ErrNotFound) {
		return
	}
	if err != nil {
		r.State = "unknown: " + err.Error()
		return
	}
	ready := 0
	for _, in := range svc.Instances {
		r.Instances = append(r.Instances, in.ID)
		if in.Ready && in.Revision == svc.Stable {
			ready++
		}
	}
	r.Revision = svc.Stable
	r.State = fmt.Sprintf("%d/%d ready on %s", ready, svc.Replicas, svc.Listen)
	if svc.Deployment != nil {
		r.State += fmt.Sprintf(" (deployment %d %s)", svc.Deployment.ID, svc.Deployment.Status)
	}
}

// containerRow fills a stateful or worker service's row from its containers.
func (a *app) containerRow(ctx context.Context, project string, run stack.Running, r *stackRow) {
	if len(run.Instances) == 0 {
		return
	}
	d, err := a.stackDocker(project)
	if err != nil {
		r.State = "unknown: " + err.Error()
		return
	}
	defer d.Close()
	r.Revision, r.Instances, r.State = run.Revision, run.Instances, ""
	for _, id := range run.Instances {
		st, err := d.Status(ctx, id)
		if err != nil {
			continue
		}
		state := string(st.State)
		if st.Health != runtime.HealthUnknown {
			state += " (" + string(st.Health) + ")"
		}
		if r.State != "" {
			r.State += ", "
		}
		r.State += fmt.Sprintf("revision %d %s", st.Revision, state)
	}
}
