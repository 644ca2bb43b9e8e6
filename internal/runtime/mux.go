package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrNoContainers is returned for an image spec by a Mux without a container driver.
var ErrNoContainers = errors.New("no container runtime is configured")

// ErrNoKubernetes is returned for a spec with runtime kubernetes by a Mux without that driver.
var ErrNoKubernetes = errors.New("no Kubernetes cluster is configured (set CUTOVER_KUBECONFIG for the daemon)")

// UnavailableError is Mux.List's error when the container driver did not answer: the
// statuses returned alongside it are the processes' only, and the caller must not take a
// container missing from them as gone.
type UnavailableError struct{ Err error }

func (e *UnavailableError) Error() string { return "container runtime unavailable: " + e.Err.Error() }
func (e *UnavailableError) Unwrap() error { return e.Err }

// pinger is a driver that can tell whether its backend answers (the Docker driver).
type pinger interface {
	Ping(ctx context.Context) error
}

// Mux is one Driver over several: specs naming runtime kubernetes (or, when it is the
// default, any image spec) run on the Kubernetes driver, other specs with an image on the
// container driver, the others on the process driver. Every other call goes to the driver that runs the instance, learnt
// at Start and List; an instance not learnt yet is looked up in both. It is safe for
// concurrent use.
type Mux struct {
	process   Driver
	container Driver // nil: image specs fail with ErrNoContainers
	kube      Driver // nil: specs with runtime kubernetes fail with ErrNoKubernetes
	// kubeDefault sends image specs that name no runtime to kube.
	kubeDefault bool

	mu    sync.Mutex
	owner map[string]Driver
}

var _ Driver = (*Mux)(nil)

// NewMux returns a Mux over a process driver and a container driver (nil: none).
func NewMux(process, container Driver) *Mux {
	return &Mux{process: process, container: container, owner: map[string]Driver{}}
}

// WithKubernetes adds the Kubernetes driver; asDefault also sends it every image spec that
// names no runtime. It returns m.
func (m *Mux) WithKubernetes(d Driver, asDefault bool) *Mux {
	m.kube, m.kubeDefault = d, asDefault
	return m
}

// forSpec picks the driver that runs s.
func (m *Mux) forSpec(s InstanceSpec) (Driver, error) {
	if s.Runtime == "kubernetes" || (s.Runtime == "" && s.Image != "" && m.kubeDefault) {
		if m.kube == nil {
			return nil, fmt.Errorf("runtime kubernetes: %w", ErrNoKubernetes)
		}
		return m.kube, nil
	}
	if s.Image == "" || s.Runtime == "process" {
		return m.process, nil
	}
	if m.container == nil {
		return nil, fmt.Errorf("image %s: %w", s.Image, ErrNoContainers)
	}
	return m.container, nil
}

func (m *Mux) remember(id string, drv Driver) {
	m.mu.Lock()
	m.owner[id] = drv
	m.mu.Unlock()
}

func (m *Mux) forget(id string) {
	m.mu.Lock()
	delete(m.owner, id)
	m.mu.Unlock()
}

func (m *Mux) learnt(id string) Driver {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.owner[id]
}

// resolve returns the driver that runs id: the one learnt, else the first whose Status
// knows it. It fails with ErrNotFound when none does, or with the error of a driver that
// did not answer.
func (m *Mux) resolve(ctx context.Context, id string) (Driver, error) {
	if drv := m.learnt(id); drv != nil {
		return drv, nil
	}
	var errs []error
	for _, drv := range m.all() {
		_, err := drv.Status(ctx, id)
		if err == nil {
			m.remember(id, drv)
			return drv, nil
		}
		if !errors.Is(err, ErrNotFound) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return nil, fmt.Errorf("instance %s: %w", id, ErrNotFound)
}

// all is every configured driver, the process driver first.
func (m *Mux) all() []Driver {
	out := []Driver{m.process}
	for _, d := range []Driver{m.container, m.kube} {
		if d != nil {
			out = append(out, d)
		}
	}
	return out
}

// Start implements Driver: each spec goes to its driver; every spec is routed before any
// starts, so one without a runtime starts nothing.
func (m *Mux) Start(ctx context.Context, specs []InstanceSpec) error {
	batches := map[Driver][]InstanceSpec{}
	var order []Driver
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

// Check implements Driver. For an image it first checks that the container runtime
// answers, so the error says so rather than a pull failure.
func (m *Mux) Check(ctx context.Context, s InstanceSpec) error {
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

// Stop implements Driver; an instance no driver knows is already stopped.
func (m *Mux) Stop(ctx context.Context, id string) error {
	drv, err := m.resolve(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop %s: %w", id, err)
	}
	return drv.Stop(ctx, id)
}

// Restart implements Driver.
func (m *Mux) Restart(ctx context.Context, id string) error {
	drv, err := m.resolve(ctx, id)
	if err != nil {
		return fmt.Errorf("restart %s: %w", id, err)
	}
	return drv.Restart(ctx, id)
}

// Status implements Driver.
func (m *Mux) Status(ctx context.Context, id string) (Status, error) {
	drv, err := m.resolve(ctx, id)
	if err != nil {
		return Status{}, fmt.Errorf("status %s: %w", id, err)
	}
	return drv.Status(ctx, id)
}

// Adopt implements Driver.
func (m *Mux) Adopt(ctx context.Context, ids []string) error {
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

// Remove implements Driver; the instance is forgotten here too.
func (m *Mux) Remove(ctx context.Context, id string) error {
	drv, err := m.resolve(ctx, id)
	if err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	err = drv.Remove(ctx, id)
	m.forget(id)
	return err
}

// Logs implements Driver.
func (m *Mux) Logs(ctx context.Context, id string, follow bool, w io.Writer) error {
	drv, err := m.resolve(ctx, id)
	if errors.Is(err, ErrNotFound) {
		// A removed process instance keeps its log file; the process driver still serves it.
		return m.process.Logs(ctx, id, follow, w)
	}
	if err != nil {
		return fmt.Errorf("logs %s: %w", id, err)
	}
	return drv.Logs(ctx, id, follow, w)
}

// List implements Driver: every driver's instances. When the container or Kubernetes
// driver does not answer, it returns the others' with an *UnavailableError.
func (m *Mux) List(ctx context.Context) ([]Status, error) {
	out, err := m.process.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range out {
		m.remember(st.ID, m.process)
	}
	var down []error
	for _, drv := range m.all()[1:] {
		list, err := drv.List(ctx)
		if err != nil {
			down = append(down, err)
			continue
		}
		for _, st := range list {
			m.remember(st.ID, drv)
		}
		out = append(out, list...)
	}
	if len(down) > 0 {
		return out, &UnavailableError{Err: errors.Join(down...)}
	}
	return out, nil
}

// Close implements Driver: it closes every driver.
func (m *Mux) Close() error {
	var errs []error
	for _, drv := range m.all() {
		errs = append(errs, drv.Close())
	}
	return errors.Join(errs...)
}
