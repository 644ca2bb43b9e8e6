package daemon

import (
	"github.com/cutover/cutover/internal/hooks"
	"github.com/cutover/cutover/internal/redact"
	"github.com/cutover/cutover/internal/spec"
)

// newHookRunner wires hooks.Runner to the fleet, the services' secrets and the API.
func (d *Daemon) newHookRunner() *hooks.Runner {
	return hooks.NewRunner(d.fleet, hookRedactor{}, hookAPI{d}, d.logger,
		hooks.Config{APICA: d.opts.APITLSCert})
}

// hookRedactor adapts redaction of a service's secrets to hooks.Redactor.
type hookRedactor struct{}

// Redact replaces, in text a hook printed, every secret value of the service's env and of
// its hooks' env, and the password of each URL with credentials, with spec.Redaction.
func (hookRedactor) Redact(s spec.Service, text string) string {
	return redact.Service(s)(text)
}

// hookAPI adapts the daemon's control API to hooks.API.
type hookAPI struct{ d *Daemon }

func (a hookAPI) URL() string { return a.d.apiURL() }

// Token issues the hook a token of its own, named after it, so that what it changes is
// recorded as its doing.
func (a hookAPI) Token(name string) (string, func(), error) { return a.d.tokens.keys.Issue(name) }
