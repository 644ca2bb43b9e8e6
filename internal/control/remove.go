package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/fleet"
	"github.com/cutover/cutover/internal/store"
)

// Retirer is the part of the fleet that stops a service for good.
type Retirer interface {
	Retire(ctx context.Context, service string) error
	Forget(service string)
}

// Forgetter is the part of the store that forgets a removed service.
type Forgetter interface {
	DeleteService(ctx context.Context, name string) error
}

// Remove stops a service and forgets it (down -f of a compose stack): no stable revision is
// recorded first, so nothing starts it again; then its instances drain and stop, its route
// (and the port it listens on) goes, and its record, revisions and deployments are deleted;
// its events stay. A running deployment is a conflict: abort it first. A kill -9 at any
// point leaves a service that a second Remove finishes.
func Remove(ctx context.Context, st Forgetter, rt Retirer, px Proxy, ev Events, service string) error {
	err := rt.Retire(ctx, service)
	switch {
	case errors.Is(err, fleet.ErrDeploying):
		return fmt.Errorf("service %s: a deployment runs (cutover abort %s first): %w", service, service, api.ErrConflict)
	case err != nil:
		return err
	}
	px.RemoveRoute(service)
	if err := st.DeleteService(ctx, service); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("service %s: %w", service, api.ErrNotFound)
		}
		return err
	}
	rt.Forget(service)
	ev.Record(ctx, service, 0, "service_removed", fmt.Sprintf("service %s removed: its instances stopped, its route and history deleted", service), nil)
	return nil
}
