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
// the newest revision, the fingerprint its containers run and their IDs. Without Docker,
// nothing.
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
		if st.Revision >= r.Revision && st.State != runtime.StateExited {
			r.Revision, r.Fingerprint = st.Revision, stack.FingerprintOf(st.Service, st.ID)
		}
		out[st.Service] = r
	}
	return out
}

// replaceService deploys a changed or new stateful or worker service: its new container,
// then the old ones stopped (worker), or the old ones stopped first (stateful).
func (a *app) replaceService(ctx context.Context, project string, st stack.Step, running stack.Running, built string) error {
	d, err := a.stackDocker(project)
	if err != nil {
		return fmt.Errorf("deploy %s: %w", st.Service.Name, err)
	}
	defer d.Close()
	s := st.Service
	is := stack.InstanceSpec(s, stack.NewInstanceID(s), running.Revision+1, built)
	u := stack.Update{Kind: st.Kind, New: is, Old: slices.Clone(running.Instances), MinReady: s.MinReady, Timeout: s.Timeout}
	say := func(format string, args ...any) { fmt.Fprintf(a.stdout, format+"\n", args...) }
	if err := stack.Replace(ctx, d, u, say); err != nil {
		return &exitError{code: ExitFailed, err: err}
	}
	return nil
}

// deployContainers deploys one stateful or worker step of the plan: an unchanged one is
// left alone, as compose does.
func (a *app) deployContainers(ctx context.Context, project string, st stack.Step, built string) error {
	if st.Change == stack.Unchanged {
		fmt.Fprintf(a.stdout, "%s: unchanged, left alone\n", st.Service.Name)
		return nil
	}
	return a.replaceService(ctx, project, st, a.stackRunning(ctx, project)[st.Service.Name], built)
}
