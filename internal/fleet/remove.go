package fleet

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/store"
)

// ErrDeploying is returned by Retire while a deployment of the service runs.
var ErrDeploying = errors.New("a deployment of the service runs")

// Retire stops a service for good: its stable revision is recorded as none (so that neither
// the reconciler nor a restarted daemon starts it again), then every instance leaves the
// proxy, drains and stops. Retire returns once they are all gone, or when ctx ends. The
// caller removes the route and then Forgets the service.
func (f *Fleet) Retire(ctx context.Context, service string) error {
	ids, ok := f.view.retireService(service)
	if !ok {
		return fmt.Errorf("retire %s: %w", service, ErrDeploying)
	}
	if err := f.store.Tx(ctx, func(tx *store.Store) error { return tx.SetStable(ctx, service, 0) }); err != nil {
		return fmt.Errorf("retire %s: %w", service, err)
	}
	if err := f.sup.stop(ctx, service, ids); err != nil {
		return fmt.Errorf("retire %s: %w", service, err)
	}
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for f.view.instanceCount(service) > 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("retire %s: waiting for its instances to stop: %w", service, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Forget drops a retired service from the live view and the spec cache.
func (f *Fleet) Forget(service string) {
	f.view.drop(service)
	f.specs.forget(service)
}
