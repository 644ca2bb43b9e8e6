package daemon

import (
	"log/slog"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/fleet"
	"github.com/cutover/cutover/internal/migrate/coordinator"
	"github.com/cutover/cutover/internal/proxy"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/store"
)

// backend is the control API's use cases (api.Backend): it reads the store and the fleet,
// records deployments and hands them on to be driven, and rolls back through the
// controller's warm switch.
type backend struct {
	store  *store.Store
	fleet  *fleet.Fleet
	proxy  *proxy.Proxy
	ctrl   *rollout.Controller
	mig    *coordinator.Coordinator
	events eventLog
	logger *slog.Logger
	// activate registers a recorded deployment with the fleet and queues it for driving.
	activate func(*rollout.Deployment)
}

var _ api.Backend = (*backend)(nil)

// backend returns the daemon's use cases for the control API.
func (d *Daemon) backend() *backend {
	return &backend{store: d.store, fleet: d.fleet, proxy: d.proxy, ctrl: d.ctrl, mig: d.mig, events: d.events,
		logger: d.logger, activate: d.activate}
}
