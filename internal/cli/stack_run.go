package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/stack"
)

// stackDocker is the Docker runtime of a project's stateful and worker containers: its own
// owner (the state directory, "stack" and the project), so the daemon's fleet never
// adopts nor sweeps them, with Docker restarting a crashed one.
func (a *app) stackDocker(project string) (*docker.Driver, error) {
	dir, err := filepath.Abs(a.stateDir)
	if err != nil {
		return nil, err
	}
	return docker.New(nil, docker.Options{Owner: stackOwner(dir, project), RestartPolicy: "unless-stopped"})
}

// stackOwner is the owner label of a project's stateful and worker containers.
func stackOwner(stateDir, project string) string {
	return filepath.Join(stateDir, "stack", project)
}

// stackRunning is what runs of the project's stateful and worker services, by service:
// the revision and fingerprint of the newest container that did not exit, every container's
// ID and the highest revision any ran. Without Docker, nothing.
func (a *app) stackRunning(ctx context.Context, project string) map[string]stack.Running {
	out := map[string]stack.Running{}
	d, err := a.stackDocker(project)
	if err != nil {
		return out
	}
	defer d.Close()
	list, err := d.List(ctx)
	if err != nil {
		return out
	}
	for _, st := range list {
		r := out[st.Service]
		r.Instances = append(r.Instances, st.ID)
		r.Latest = max(r.Latest, st.Revision)
		if st.Revision >= r.Revision && st.State != runtime.StateExited {
			r.Revision, r.Fingerprint = st.Revision, stack.FingerprintOf(st.Service, st.ID)
		}
		out[st.Service] = r
	}
	return out
}

// replaceService deploys a changed or new stateful or worker service: its new container,
// then the old ones stopped (worker), or the old ones stopped first (stateful). It returns
// the new container's revision.
func (a *app) replaceService(ctx context.Context, project string, st stack.Step, running stack.Running, built string) (int, error) {
	d, err := a.stackDocker(project)
	if err != nil {
		return 0, fmt.Errorf("deploy %s: %w", st.Service.Name, err)
	}
	defer d.Close()
	s := st.Service
	rev := max(running.Latest, running.Revision) + 1
	is := stack.InstanceSpec(s, stack.NewInstanceID(s), rev, built)
	u := stack.Update{Kind: st.Kind, New: is, Old: slices.Clone(running.Instances), MinReady: s.MinReady, Timeout: s.Timeout}
	if err := stack.Replace(ctx, d, u, a.say); err != nil {
		return 0, &exitError{code: ExitFailed, err: err}
	}
	return rev, nil
}

// say writes one step of a stack deploy on standard output.
func (a *app) say(format string, args ...any) { fmt.Fprintf(a.stdout, format+"\n", args...) }

// deployContainers deploys one stateful or worker step of the plan and returns the
// revision that runs: an unchanged one is left alone, as compose does, but for the
// containers an interrupted deploy left beside it, removed once it is ready.
func (a *app) deployContainers(ctx context.Context, project string, st stack.Step, built string) (int, error) {
	running := a.stackRunning(ctx, project)[st.Service.Name]
	if st.Change != stack.Unchanged {
		return a.replaceService(ctx, project, st, running, built)
	}
	var current string
	var others []string
	for _, id := range running.Instances {
		if current == "" && stack.FingerprintOf(st.Service.Name, id) == running.Fingerprint {
			if ok, _ := a.runs(ctx, project, id); ok {
				current = id
				continue
			}
		}
		others = append(others, id)
	}
	if current == "" {
		fmt.Fprintf(a.stdout, "%s: unchanged, but none of its containers runs: replacing them\n", st.Service.Name)
		return a.replaceService(ctx, project, st, running, built)
	}
	fmt.Fprintf(a.stdout, "%s: unchanged, left alone\n", st.Service.Name)
	if len(others) == 0 {
		return running.Revision, nil
	}
	d, err := a.stackDocker(project)
	if err != nil {
		return 0, fmt.Errorf("deploy %s: %w", st.Service.Name, err)
	}
	defer d.Close()
	s := st.Service
	u := stack.Update{Kind: st.Kind, New: runtime.InstanceSpec{ID: current, Service: s.Name}, Old: others,
		MinReady: s.MinReady, Timeout: s.Timeout}
	if err := stack.Settle(ctx, d, u, a.say); err != nil {
		return 0, &exitError{code: ExitFailed, err: err}
	}
	return running.Revision, nil
}

// runs reports whether the stack container id exists and runs (started, not exited).
func (a *app) runs(ctx context.Context, project, id string) (bool, error) {
	d, err := a.stackDocker(project)
	if err != nil {
		return false, err
	}
	defer d.Close()
	st, err := d.Status(ctx, id)
	if err != nil {
		return false, err
	}
	return st.State == runtime.StateRunning, nil
}
