package daemon

import (
	"github.com/cutover/cutover/internal/control"
)

// backend returns the control API's use cases over the daemon's parts.
func (d *Daemon) backend() *control.Backend {
	return control.New(control.Config{Store: d.store, Fleet: d.fleet, Proxy: d.proxy, Recorder: d.fleet.Recorder(),
		Switcher: d.ctrl, Migrations: d.mig, Events: d.events, Logger: d.logger, Activate: d.launcher.activate,
		RequireApproval: d.opts.RequireApproval, Crash: d.opts.Crash, Environment: d.opts.Environment,
		Attest: d.attest, Trust: d.opts.Trust, Usage: d.instanceUsage})
}
