package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/buildinfo"
	"github.com/cutover/cutover/internal/spec"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
)

// Version is the release version, set at build time with
// -ldflags "-X github.com/cutover/cutover/internal/cli.Version=v1.2.3"; when empty, the
// module version from the build information is shown.
var Version = ""

func (a *app) serveCmd() *cobra.Command {
	var o ServeOptions
	var pf proxyServeFlags
	var af apiServeFlags
	var trust []string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the daemon: API, proxy and deployment controller",
		Long: `Run the cutover daemon in the foreground until SIGINT or SIGTERM. It keeps its state
(store, API token, address file, pid file, lock) in the state directory, serves the control
API on --listen and writes the address it got to the address file for the other commands.
One daemon per state directory: a second one is refused. A --listen address that is not
loopback needs --api-tls-cert and --api-tls-key, or --insecure-listen to serve the API and
its bearer token in plain HTTP to the network.

SIGINT and SIGTERM stop it gracefully: it stops accepting, finishes the requests in flight
(up to 30s) and exits. Services' instances keep running unless --stop-instances is given; a
daemon that starts again adopts them.

SIGHUP (or 'cutover upgrade') restarts it without a failed request: a new process of the
same executable path (a replaced binary is an upgrade) inherits the sockets, adopts the
instances and serves; then the old process drains and exits. Its pid is in
<state>/cutover.pid. If the new process does not serve within --handoff-timeout, the old
one keeps serving. Under systemd: Type=simple is not enough, as the pid changes; see
docs/operations.md.`,
		Example: `  cutover serve
  cutover serve --listen 127.0.0.1:0 --state /tmp/cutover --log-level debug
  cutover serve --log-format json 2>>/var/log/cutover.jsonl`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch o.LogLevel {
			case "debug", "info", "warn", "error":
			default:
				return usagef("--log-level %q: want debug, info, warn or error", o.LogLevel)
			}
			if o.LogFormat != "text" && o.LogFormat != "json" {
				return usagef("--log-format %q: want text or json", o.LogFormat)
			}
			for _, t := range []struct {
				flag string
				d    time.Duration
			}{{"handoff-timeout", o.HandoffTimeout}, {"shutdown-timeout", o.ShutdownTimeout}, {"stop-timeout", o.StopTimeout}} {
				if t.d <= 0 {
					return usagef("--%s %s: want a duration above 0", t.flag, t.d)
				}
			}
			if err := checkAPIServeFlags(o, af, a.stderr); err != nil {
				return err
			}
			if err := checkProxyServeFlags(&o, pf); err != nil {
				return err
			}
			if a.cmds.Serve == nil {
				return errors.New("serve: not available in this build")
			}
			if o.Environment != "" && !spec.ValidEnvironment(o.Environment) {
				return usagef("--environment %q: want 1-63 lowercase letters, digits, '.', '_' or '-'", o.Environment)
			}
			t, err := parseTrust(trust)
			if err != nil {
				return err
			}
			o.Trust = t
			o.StateDir = a.stateDir
			return a.cmds.Serve(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Listen, "listen", "127.0.0.1:7070", "control API address (port 0 picks a free one)")
	f.StringVar(&o.AddrFile, "addr-file", "", "also write the API address to this file (it is always in <state>/api.addr)")
	f.BoolVar(&o.StopInstancesOnExit, "stop-instances", false, "stop every service's instances on exit")
	f.StringVar(&o.Environment, "environment", "", "this daemon's environment name (staging, production): promotions name it")
	f.StringArrayVar(&trust, "trust-environment", nil,
		"accept 'deploy --from ENV' only when ENV signed the revision: ENV=ed25519:KEY, as 'cutover --context ENV attestation-key' prints it (repeatable)")
	f.BoolVar(&o.RequireApproval, "require-approval", false,
		"every deployment waits, before anything starts, for 'cutover approve' by another token (approver or admin)")
	f.StringVar(&o.LogLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&o.LogFormat, "log-format", "text", "text (logfmt) or json (one JSON object a line)")
	f.StringVar(&o.NotifyConfig, "notify-config", "", "YAML file of daemon-wide notify targets (webhook, slack); see docs/notifications.md")
	f.DurationVar(&o.HandoffTimeout, "handoff-timeout", time.Minute, "on SIGHUP, how long the new process may take to serve")
	f.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", 10*time.Second, "on exit, how long the control API's requests in flight may take to finish")
	f.DurationVar(&o.StopTimeout, "stop-timeout", 2*time.Minute, "with --stop-instances, how long the instances may take to drain and stop on exit")
	addAPIServeFlags(f, &o, &af)
	addProxyServeFlags(f, &o, &pf)
	return cmd
}

func (a *app) demoCmd() *cobra.Command {
	var o DemoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Show a zero-downtime deployment under load, on this machine",
		Long: `Start a private daemon in a temporary directory, deploy the bundled demo app, send it
constant load through the proxy, then do a rolling deploy, a blue-green deploy and a rollback
while printing progress and a running tally of requests served and failed. Afterwards it
prints URLs to try and keeps serving until Ctrl-C, which stops and removes everything.`,
		Example: `  cutover demo
  cutover demo --rate 500 --exit`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Rate <= 0 {
				return usagef("--rate %d: want requests per second above 0", o.Rate)
			}
			if a.cmds.Demo == nil {
				return errors.New("demo: not available in this build")
			}
			return a.cmds.Demo(cmd.Context(), o, a.stdout)
		},
	}
	cmd.Flags().IntVar(&o.Rate, "rate", 200, "load in requests per second")
	cmd.Flags().BoolVar(&o.Exit, "exit", false, "end after the tour instead of serving until Ctrl-C")
	return cmd
}

func (a *app) specCmd() *cobra.Command {
	spec := &cobra.Command{
		Use:   "spec",
		Short: "Work with spec files",
	}
	spec.AddCommand(&cobra.Command{
		Use:   "check FILE",
		Short: "Check a spec file, without a daemon",
		Long: `Check a spec file here, without a daemon: every error with its field path and line.
Exits 0 when the spec is valid, 2 when it is not. FILE - reads standard input.`,
		Example: `  cutover spec check cutover.yaml`,
		Args:    exactArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.cmds.CheckSpec == nil {
				return errors.New("spec check: not available in this build")
			}
			data, err := a.readInput(args[0])
			if err != nil {
				return &usageError{err: fmt.Errorf("read spec: %w", err)}
			}
			return a.reportCheck(args[0], a.cmds.CheckSpec(data, args[0]), ExitUsage)
		},
	})
	return spec
}

// reportCheck prints a spec check's result; an invalid spec exits with code (ExitUsage for
// spec check, ExitFindings for config check).
func (a *app) reportCheck(file string, res api.CheckResult, code int) error {
	for _, w := range res.Warnings {
		fmt.Fprintln(a.stderr, "warning: "+w)
	}
	if a.json() {
		if err := printJSON(a.stdout, res); err != nil {
			return err
		}
		if !res.Valid {
			return &exitError{code: code, silent: true}
		}
		return nil
	}
	if !res.Valid {
		return &exitError{code: code, err: &api.ValidationError{File: file, Fields: res.Errors}}
	}
	fmt.Fprintf(a.stdout, "%s: valid\n", file)
	return nil
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version and build information (the same as --version)",
		Args:  exactArgs(),
		RunE: func(*cobra.Command, []string) error {
			info := buildinfo.Read(Version)
			if a.json() {
				return printJSON(a.stdout, info)
			}
			fmt.Fprintln(a.stdout, info)
			return nil
		},
	}
}
