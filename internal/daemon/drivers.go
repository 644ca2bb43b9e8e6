package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sync"

	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/runtime/docker"
	"github.com/cutover/cutover/internal/runtime/process"
)

// defaultDrivers is the process driver under StateDir/run, its records' env sealed by
// sealer, and the Docker driver owning the containers labelled with StateDir. The Docker engine is not contacted here: when it
// does not answer, processes still run and image deployments fail at their check.
func defaultDrivers(opts Options, sealer process.Sealer) (*drivers, error) {
	logger := opts.Logger.With("component", "runtime")
	pd, err := process.New(filepath.Join(opts.StateDir, "run"), logger, process.Options{Sealer: sealer})
	if err != nil {
		return nil, fmt.Errorf("process runtime: %w", err)
	}
	owner, err := filepath.Abs(opts.StateDir)
	if err != nil {
		owner = opts.StateDir
	}
	dd, err := docker.New(logger, docker.Options{Owner: owner})
	if err != nil {
		// Only a broken DOCKER_* environment gets here; processes must still run.
		opts.Logger.Warn("docker runtime unavailable", "error", err)
		return newDrivers(pd, nil), nil
	}
	return newDrivers(pd, dd), nil
}

// errNoContainers is returned for an image spec when the daemon has no container runtime.
var errNoContainers = errors.New("no container runtime is configured")

// unavailableError is List's error when the container runtime did not answer: the statuses
// returned alongside it are the processes' only, and the caller must not take a container
// missing from them as gone.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string { return "container runtime unavailable: " + e.err.Error() }
func (e *unavailableError) Unwrap() error { return e.err }

// pinger is a driver that can tell whether its backend answers (the Docker driver).
type pinger interface {
	Ping(ctx context.Context) error
}

// drivers is the daemon's runtime.Driver over two drivers: specs with an image run as
// containers, the others as processes. Every other call goes to the driver that runs the
// instance, learnt at Start and List; an instance not learnt yet is looked up in both.
type drivers struct {
	process   runtime.Driver
	container runtime.Driver // nil: image specs fail with errNoContainers

	mu    sync.Mutex
	owner map[string]runtime.Driver
}

var _ runtime.Driver = (*drivers)(nil)

func newDrivers(process, container runtime.Driver) *drivers {
	return &drivers{process: process, container: container, owner: map[string]runtime.Driver{}}
}

// forSpec picks the driver that runs s.
func (m *drivers) forSpec(s runtime.InstanceSpec) (runtime.Driver, error) {
	if s.Image == "" {
		return m.process, nil
	}
	if m.container == nil {
		return nil, fmt.Errorf("image %s: %w", s.Image, errNoContainers)
	}
	return m.container, nil
}

func (m *drivers) remember(id string, drv runtime.Driver) {
	m.mu.Lock()
	m.owner[id] = drv
	m.mu.Unlock()
}

// resolve returns the driver that runs id: the one learnt, else the first whose Status
// knows it. It fails with runtime.ErrNotFound when none does, or with the error of a
// driver that did not answer.
func (m *drivers) resolve(ctx context.Context, id string) (runtime.Driver, error) {
	m.mu.Lock()
	drv := m.owner[id]
	m.mu.Unlock()
	if drv != nil {
		return drv, nil
	}
	all := []runtime.Driver{m.process}
	if m.container != nil {
		all = append(all, m.container)
	}
	var errs []error
	for _, drv := range all {
		_, err := drv.Status(ctx, id)
		if err == nil {
			m.remember(id, drv)
			return drv, nil
		}
		if !errors.Is(err, runtime.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return nil, fmt.Errorf("instance %s: %w", id, runtime.ErrNotFound)
}

// Start implements runtime.Driver: each spec goes to its driver; every spec is routed
// before any starts, so one without a runtime starts nothing.
func (m *drivers) Start(ctx context.Context, specs []runtime.InstanceSpec) error {
	batches := map[runtime.Driver][]runtime.InstanceSpec{}
	var order []runtime.Driver
	for _, s := range specs {
		drv, err := m.forSpec(s)
		if err != nil {
			return fmt.Errorf("start %s: %w", s.ID, err)
		}
		if _, ok := batches[drv]; !ok {
			order = append(order, drv)
		}
		batches[drv] = append(batches[drv], s)
	}
	for _, drv := range order {
		for _, s := range batches[drv] {
			m.remember(s.ID, drv)
		}
		if err := drv.Start(ctx, batches[drv]); err != nil {
			return err
		}
	}
	return nil
}

// Check implements runtime.Driver. For an image it first checks that the container
// runtime answers, so the error says so rather than a pull failure.
func (m *drivers) Check(ctx context.Context, s runtime.InstanceSpec) error {
	drv, err := m.forSpec(s)
	if err != nil {
		return err
	}
	if p, ok := drv.(pinger); ok && s.Image != "" {
		if err := p.Ping(ctx); err != nil {
			return fmt.Errorf("image %s: container runtime unreachable: %w", s.Image, err)
		}
	}
	return drv.Check(ctx, s)
}

// Stop implements runtime.Driver; an instance no driver knows is already stopped.
func (m *drivers) Stop(ctx context.Context, id string) error {
	drv, err := m.resolve(ctx, id)
	if errors.Is(err, runtime.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	return drv.Stop(ctx, id)
}

// Restart implements runtime.Driver.
func (m *drivers) Restart(ctx context.Context, id string) error {
	drv, err := m.resolve(ctx, id)
	if err != nil {
		return fmt.Errorf("restart %s: %w", id, err)
	}
	return drv.Restart(ctx, id)
}

// Status implements runtime.Driver.
func (m *drivers) Status(ctx context.Context, id string) (runtime.Status, error) {
	drv, err := m.resolve(ctx, id)
	if err != nil {
		return runtime.Status{}, fmt.Errorf("status %s: %w", id, err)
	}
	return drv.Status(ctx, id)
}

// Adopt implements runtime.Driver.
func (m *drivers) Adopt(ctx context.Context, ids []string) error {
	for _, id := range ids {
		drv, err := m.resolve(ctx, id)
		if err != nil {
			return fmt.Errorf("adopt %s: %w", id, err)
		}
		if err := drv.Adopt(ctx, []string{id}); err != nil {
			return err
		}
	}
	return nil
}

// Remove implements runtime.Driver; the instance is forgotten here too.
func (m *drivers) Remove(ctx context.Context, id string) error {
	drv, err := m.resolve(ctx, id)
	if err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	err = drv.Remove(ctx, id)
	m.mu.Lock()
	delete(m.owner, id)
	m.mu.Unlock()
	return err
}

// Logs implements runtime.Driver.
func (m *drivers) Logs(ctx context.Context, id string, follow bool, w io.Writer) error {
	drv, err := m.resolve(ctx, id)
	if errors.Is(err, runtime.ErrNotFound) {
		// A removed process instance keeps its log file; the process driver still serves it.
		return m.process.Logs(ctx, id, follow, w)
	}
	if err != nil {
		return fmt.Errorf("logs %s: %w", id, err)
	}
	return drv.Logs(ctx, id, follow, w)
}

// List implements runtime.Driver: both drivers' instances. When the container runtime
// does not answer, it returns the processes with an *unavailableError.
func (m *drivers) List(ctx context.Context) ([]runtime.Status, error) {
	out, err := m.process.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range out {
		m.remember(st.ID, m.process)
	}
	if m.container == nil {
		return out, nil
	}
	cs, err := m.container.List(ctx)
	if err != nil {
		return out, &unavailableError{err: err}
	}
	for _, st := range cs {
		m.remember(st.ID, m.container)
	}
	return append(out, cs...), nil
}

// Close implements runtime.Driver: it closes both drivers.
func (m *drivers) Close() error {
	err := m.process.Close()
	if m.container != nil {
		err = errors.Join(err, m.container.Close())
	}
	return err
}
