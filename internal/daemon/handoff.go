package daemon

import (
	"github.com/cutover/cutover/internal/buildinfo"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/handoff"
)

// A hand-off replaces a running daemon by a new process of the same (or an upgraded) binary
// without refusing a connection: the old daemon stops its control plane, starts the
// successor with the API and route listeners and the state lock as inherited descriptors,
// and waits for it to say it serves. Then the old one stops accepting, finishes its in-flight
// requests and exits, leaving the instances running for the successor, which adopted them.
// If the successor is not ready in time, the old daemon resumes its control plane and keeps
// serving.

// lockFile is the state directory's flock, held by the serving daemon (and its successor).
const lockFile = "lock"

// lockState takes the state directory's lock, or the one inherited from the daemon this
// one replaces, so that two daemons never share a state directory.
func lockState(opts Options) (*os.File, error) {
	if f := opts.inherited.Lock(); f != nil {
		if err := handoff.WritePID(f, os.Getpid()); err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	f, err := handoff.Lock(filepath.Join(opts.StateDir, lockFile))
	if errors.Is(err, handoff.ErrLocked) {
		return nil, fmt.Errorf("state directory %s is used by another cutover serve: %w", opts.StateDir, err)
	}
	return f, err
}

// listenersOf returns the listeners inherited in opts, or an empty registry.
func listenersOf(opts Options) *handoff.Listeners {
	if opts.inherited != nil {
		return opts.inherited.Listeners
	}
	return handoff.NewListeners()
}

// proxyListen opens (or takes over) the listener of a route address.
func (d *Daemon) proxyListen(addr string) (net.Listener, error) {
	return d.listeners.Listen("route "+addr, addr)
}

// startControl launches the control plane's loops under the tasks' current context.
func (d *Daemon) startControl() {
	d.tasks.launch(d.logger, "fleet", d.fleet.Run)
	d.tasks.launch(d.logger, "deployments", d.launcher.run)
	d.tasks.launch(d.logger, "flags", d.flags.Run)
	d.tasks.launch(d.logger, "migrations", d.mig.Run)
	d.tasks.launch(d.logger, "notify", d.notifier.Run)
	if d.gateway != nil {
		d.tasks.launch(d.logger, "gateway", d.gateway.Run)
	}
	d.tasks.launch(d.logger, "series", d.sampleTraffic)
}

// announce runs once the daemon serves: it tells the daemon it replaces (if any), closes
// the inherited listeners no route claimed and records its pid.
func (d *Daemon) announce() {
	if err := d.opts.inherited.NotifyReady(); err != nil {
		d.logger.Warn("notify systemd", "error", err)
	}
	if err := d.opts.inherited.Ready(d.opts.Version); err != nil {
		d.logger.Error("tell the previous daemon we are ready", "error", err)
	}
	if names := d.listeners.CloseUnclaimed(); len(names) > 0 {
		d.logger.Info("inherited listeners closed: no route uses them", "listeners", strings.Join(names, ", "))
	}
	if err := handoff.WritePIDFile(d.opts.StateDir, os.Getpid()); err != nil {
		d.logger.Warn("write pid file", "error", err)
	}
}

// handOff hands the daemon over to a successor. It returns true once the successor serves:
// the caller then stops accepting, drains and exits without stopping instances. Otherwise
// the control plane runs again, under the stop function it returns.
func (d *Daemon) handOff(ctx context.Context, stopWork context.CancelFunc) (bool, context.CancelFunc) {
	if d.opts.Successor == nil {
		d.logger.Warn("hand-off requested but not available: no successor command")
		return false, stopWork
	}
	d.handingOff.Store(true)
	d.logger.Info("hand-off started", "version", d.opts.Version)
	// Only the successor may act on instances and deployments from here on.
	stopWork()
	_ = d.tasks.wait() // each loop's error is logged where it ends
	d.launcher.drop()
	status := handoff.Status{OldPID: os.Getpid(), OldVersion: d.opts.Version}
	pid, version, err := d.startSuccessor(ctx)
	status.NewPID, status.Version, status.At = pid, version, time.Now().UTC()
	if err == nil {
		status.OK = true
		d.logger.Info("hand-off done: successor serves; draining", "pid", pid, "version", version)
		if err := d.opts.inherited.NotifyMainPID(pid); err != nil {
			d.logger.Warn("notify systemd", "error", err)
		}
		d.writeHandoffStatus(status)
		d.events.Record(ctx, "", 0, "daemon_upgraded", fmt.Sprintf("daemon handed over from pid %d (%s) to pid %d (%s)",
			status.OldPID, status.OldVersion, pid, version), map[string]any{"old_pid": status.OldPID, "new_pid": pid, "version": version})
		return true, stopWork
	}
	status.Error = err.Error()
	d.logger.Error("hand-off failed: this daemon keeps serving", "error", err)
	d.writeHandoffStatus(status)
	stop := d.resumeControl(ctx)
	d.handingOff.Store(false)
	return false, stop
}

// startSuccessor starts the successor on duplicates of the listeners and waits until it is
// ready or the hand-off timeout passes.
func (d *Daemon) startSuccessor(ctx context.Context) (int, string, error) {
	files, err := d.listeners.Files()
	if err != nil {
		return 0, "", err
	}
	cmd := *d.opts.Successor
	cmd.Lock, cmd.Listeners = d.lock, files
	succ, err := handoff.Start(cmd)
	handoff.CloseFiles(files) // the successor has its own copies
	if err != nil {
		return 0, "", err
	}
	d.logger.Info("successor started", "pid", succ.PID(), "executable", cmd.Path)
	wctx, cancel := context.WithTimeout(ctx, d.opts.HandoffTimeout)
	defer cancel()
	version, err := succ.WaitReady(wctx)
	return succ.PID(), version, err
}

// resumeControl rebuilds the live view from the store, as after a restart, and starts the
// control plane again. The proxy keeps its listeners and serves throughout.
func (d *Daemon) resumeControl(ctx context.Context) context.CancelFunc {
	workCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	d.tasks.start(workCtx)
	d.fleet.Reset()
	if err := d.launcher.recover(workCtx); err != nil {
		d.logger.Error("resume after a failed hand-off", "error", err)
	}
	d.startControl()
	d.logger.Info("control plane resumed")
	return stop
}

func (d *Daemon) writeHandoffStatus(s handoff.Status) {
	if err := handoff.WriteStatus(d.opts.StateDir, s); err != nil {
		d.logger.Warn("write hand-off status", "error", err)
	}
}

// gate refuses changes through the control API (/v1/) while a hand-off runs: the control
// plane that would carry them out is stopped. Reads are served, and so are flag evaluations
// (OFREP's POSTs change nothing).
func (d *Daemon) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		change := r.Method != http.MethodGet && r.Method != http.MethodHead && strings.HasPrefix(r.URL.Path, "/v1/")
		if change && d.handingOff.Load() {
			w.Header().Set("Retry-After", "2")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error":"the daemon is handing over to a new process; retry"}` + "\n"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// countAPIConn keeps d.apiConns as the API server's ConnState hook.
func (d *Daemon) countAPIConn(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		d.apiConns.Add(1)
	case http.StateClosed, http.StateHijacked:
		d.apiConns.Add(-1)
	}
}

// drainAPI stops the API server without dropping a request: Shutdown would drop one it reads
// once shutting down (on a connection accepted just before the listener closed), so it
// first stops accepting and turns keep-alives off, which closes idle connections and each
// busy one after its answer, and shuts down once none is left or ctx ends.
func (d *Daemon) drainAPI(ctx context.Context, srv *http.Server) {
	d.flags.Shutdown() // OFREP event streams end now; SDKs reconnect (to the successor)
	d.dash.Shutdown()  // and so do the dashboard's
	_ = d.apiLn.Close()
	srv.SetKeepAlivesEnabled(false)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for d.apiConns.Load() > 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	_ = srv.Shutdown(ctx)
}

// DaemonInfo is the answer of GET /v1/daemon: the build (as `cutover --version` prints it),
// the pid, the start time, the environment and the public key its promotions are signed with.
type DaemonInfo struct {
	buildinfo.Info
	PID            int       `json:"pid"`
	StartedAt      time.Time `json:"started_at"`
	Environment    string    `json:"environment,omitempty"`
	AttestationKey string    `json:"attestation_key"`
}

func (d *Daemon) daemonInfo() http.Handler {
	info := DaemonInfo{Info: buildinfo.Read(d.opts.Version), PID: os.Getpid(), StartedAt: time.Now().UTC(),
		Environment: d.opts.Environment, AttestationKey: d.attest.PublicKey()}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(info)
	})
}
