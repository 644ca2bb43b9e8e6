// Package hooks runs a deployment's hooks (pre_deploy, smoke, post_promote) for the rollout
// controller: each hook is a command in a process group of its own, with the deployment's
// facts in its env, killed with its children at its timeout; a failure carries the redacted
// tail of what it printed. It decides nothing about the deployment: the controller does.
package hooks

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cutover/cutover/internal/procgroup"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
)

// Targets finds where a revision serves.
type Targets interface {
	// TargetURL is the URL of one serving instance of the service's revision, or "".
	TargetURL(service string, revision int) string
}

// Redactor hides a service's secrets in text.
type Redactor interface {
	// Redact returns text with every secret value of s replaced.
	Redact(s spec.Service, text string) string
}

// API is the control API as a hook reaches it to run cutover commands.
type API interface {
	// URL is the API's address as clients use it.
	URL() string
	// Token returns a bearer token for the hook named name, whose requests the API records
	// under that name, and the release to call once the hook has ended.
	Token(name string) (token string, release func(), err error)
}

// Config tunes a Runner; zero fields take the defaults.
type Config struct {
	// APICA is the API's TLS certificate file, given to hooks as CUTOVER_CA ("" without TLS).
	APICA string
	// WaitDelay bounds how long, after a hook is killed or has exited, its children may keep
	// its output open (default 1s).
	WaitDelay time.Duration
	// OutputLimit is how many trailing bytes of a hook's output are kept (default 64 KiB);
	// the error quotes at most its last 5 lines and 500 bytes.
	OutputLimit int
}

// Runner runs hooks; it implements rollout.HookRunner. It is safe for concurrent use.
type Runner struct {
	targets  Targets
	redactor Redactor
	api      API
	logger   *slog.Logger
	cfg      Config
}

// NewRunner returns a Runner that finds target URLs with targets, hides secrets with
// redactor and gives hooks the address and token of api.
func NewRunner(targets Targets, redactor Redactor, api API, logger *slog.Logger, cfg Config) *Runner {
	if cfg.WaitDelay <= 0 {
		cfg.WaitDelay = time.Second
	}
	if cfg.OutputLimit <= 0 {
		cfg.OutputLimit = 64 << 10
	}
	return &Runner{targets: targets, redactor: redactor, api: api, logger: logger, cfg: cfg}
}

// RunHook runs hook name of dep as a command with the daemon's env, the hook's env and the
// deployment's facts (see environ), in the new revision's run directory. It returns nil
// when the command exits 0; otherwise an error saying how it ended (exit status, or the
// timeout), followed by the redacted tail of its output, which becomes the deployment's
// reason. At hook.Timeout or when ctx ends, the command and its children are killed.
func (r *Runner) RunHook(ctx context.Context, dep *rollout.Deployment, name string, hook spec.Hook) error {
	token, release, err := r.api.Token(fmt.Sprintf("hook %s of %s deployment %d", name, dep.Service, dep.ID))
	if err != nil {
		return fmt.Errorf("hook %s: api token: %w", name, err)
	}
	defer release()
	ctx, cancel := context.WithTimeout(ctx, hook.Timeout.D())
	defer cancel()
	cmd := procgroup.Command(ctx, hook.Command, hook.Args...)
	cmd.Dir = dep.Spec.Run.Dir
	cmd.Env = environ(dep, name, hook, facts{
		api: r.api.URL(), token: token, ca: r.cfg.APICA,
		target: r.targets.TargetURL(dep.Service, dep.State.To),
	})
	cmd.WaitDelay = r.cfg.WaitDelay
	start := time.Now()
	out, err := procgroup.CombinedOutput(cmd, r.cfg.OutputLimit)
	r.logger.Info("hook finished", "service", dep.Service, "deployment_id", dep.ID, "hook", name,
		"duration", time.Since(start), "error", err)
	if err == nil {
		return nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("timed out after %s", hook.Timeout.D())
	}
	text := completeLines(out, r.cfg.OutputLimit)
	if tail := procgroup.LastLines(r.redactor.Redact(dep.Spec, text), 5, 500); tail != "" {
		return fmt.Errorf("%w: %s", err, tail)
	}
	return err
}
