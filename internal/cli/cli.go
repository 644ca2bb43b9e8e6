// Package cli owns the cutover command line: its subcommands, their flags and help, the
// text and JSON output formats and the exit codes. It reaches the daemon only through
// api.Client; running the daemon, the demo and local spec checks is delegated to the
// functions in Commands, so it imports neither the daemon nor its parts.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/attest"
	"github.com/cutover/cutover/internal/buildinfo"

	"github.com/spf13/cobra"

	"github.com/cutover/cutover/internal/api"
)

// Commands are the parts of the CLI that run in this process rather than through the API.
// A nil function makes its subcommand fail with a clear error.
type Commands struct {
	// Serve runs the daemon until ctx ends.
	Serve func(ctx context.Context, opts ServeOptions) error
	// Demo runs the self-contained demo, writing its narration to out.
	Demo func(ctx context.Context, opts DemoOptions, out io.Writer) error
	// CheckSpec checks a spec file's text locally, without a daemon; file names it in messages.
	CheckSpec func(yaml []byte, file string) api.CheckResult
	// LintMigrations lints a migrations directory locally; driver is postgres or sqlite.
	LintMigrations func(dir, driver string) (api.MigrationLint, error)
	// Cluster runs a controller or proxy replica inside a Kubernetes cluster until ctx ends.
	Cluster func(ctx context.Context, opts ClusterOptions) error
}

// ServeOptions configure `cutover serve`.
type ServeOptions struct {
	// StateDir holds the store, the token and the address file.
	StateDir string
	// Listen is the control API's address ("127.0.0.1:7070"; port 0 picks one).
	Listen string
	// AddrFile, when set, is a second file to write the API address to; the daemon always
	// writes it to <StateDir>/api.addr, where the CLI looks for it.
	AddrFile string
	// StopInstancesOnExit stops the services' instances when the daemon exits.
	StopInstancesOnExit bool
	// LogLevel is debug, info, warn or error; LogFormat is text (logfmt) or json.
	LogLevel, LogFormat string
	// NotifyConfig is a YAML file of daemon-wide notify targets ("": none).
	NotifyConfig string
	// RequireApproval makes every deployment wait for an approval by another token.
	RequireApproval bool
	// Environment names the daemon's environment (staging, production) for promotions.
	Environment string
	// Trust holds the keys of the environments whose promotions the daemon accepts.
	Trust map[string]attest.PublicKey
	// HandoffTimeout bounds how long a successor may take to serve on SIGHUP / upgrade.
	HandoffTimeout time.Duration
	// ShutdownTimeout bounds the wait for the control API's in-flight requests on exit;
	// StopTimeout bounds the wait for instances to stop under --stop-instances.
	ShutdownTimeout, StopTimeout time.Duration
	// APITLSCert and APITLSKey, both or neither, make the control API serve HTTPS.
	APITLSCert, APITLSKey string
	// APILimits bound the control API's requests.
	APILimits api.Limits
	// ProxyReadHeaderTimeout, ProxyIdleTimeout and ProxyMaxHeaderBytes bound the proxy's
	// client connections; TrustedProxies are the client networks whose X-Forwarded-* headers
	// the proxy keeps.
	ProxyReadHeaderTimeout, ProxyIdleTimeout time.Duration
	ProxyMaxHeaderBytes                      int
	// ProxyStdHTTP1 serves plain listeners with net/http alone (proxy.Config.StdHTTP1).
	ProxyStdHTTP1  bool
	TrustedProxies []netip.Prefix
	// ACMEDirectory, ACMEEmail and ACMECA configure automatic HTTPS (route.tls.acme): the
	// directory URL, the account's contact and the PEM roots of a private directory.
	ACMEDirectory, ACMEEmail, ACMECA string
}

// DemoOptions configure `cutover demo`.
type DemoOptions struct {
	// Exit ends the demo after the tour instead of serving until Ctrl-C.
	Exit bool
	// Rate is the demo's constant load, in requests per second.
	Rate int
}

// app is one run of the CLI: its streams, commands and resolved global flags.
type app struct {
	cmds   Commands
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// stdoutFile is the standard output as given, before any wrapping (to ask if it is a terminal).
	stdoutFile io.Writer

	stateDir string
	addr     string
	token    string
	// addrFrom and tokenFrom say where the address and token came from: a flag, a variable or
	// a file; set once resolved, for explain.
	addrFrom, tokenFrom string
	ca                  string
	output              string
	// contextName is --context; stateFlag records that --state was given (see contextSelection).
	contextName string
	stateFlag   bool
	// term escapes the text output's control characters (see terminalWriter); nil with -o json.
	term *terminalWriter
	// started is set once a subcommand's run begins: errors before it are usage errors.
	started bool
}

// Main runs the CLI with args (without the program name) and returns the process exit code
// (see the Exit constants). Errors are printed once, as "error: <chain>", on stderr.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, cmds Commands) int {
	errOut := newTerminalWriter(stderr)
	defer errOut.Flush()
	stderr = errOut
	a := &app{cmds: cmds, stdin: stdin, stdout: stdout, stderr: stderr, stdoutFile: stdout}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if a.term != nil {
		_ = a.term.Flush()
	}
	if err == nil {
		return ExitOK
	}
	if !a.started {
		err = &usageError{err: err}
	}
	err = a.explain(err)
	var ee *exitError
	if !errors.As(err, &ee) || !ee.silent {
		fmt.Fprintf(stderr, "error: %v\n", err)
	}
	code := exitCode(err)
	if code == ExitUsage && !a.started && cmd != nil {
		fmt.Fprintf(stderr, "run '%s --help' for usage\n", cmd.CommandPath())
	}
	return code
}

// rootCmd builds the command tree.
func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "cutover",
		Short: "Deploy HTTP services with zero failed requests",
		Long: `cutover runs your HTTP services behind its own reverse proxy and moves traffic to new
revisions with rolling, blue-green or canary strategies, gated by health probes, rolling
back by itself when a release is bad.

Start the daemon with 'cutover serve' (or try 'cutover demo'); the other commands talk
to it over its token-protected HTTP API.`,
		Version:           buildinfo.Read(Version).String(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return a.begin(cmd) },
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	f := root.PersistentFlags()
	f.StringVar(&a.stateDir, "state", "",
		"state directory (default $CUTOVER_STATE, else $XDG_STATE_HOME/cutover, else ~/.local/state/cutover)")
	f.StringVar(&a.addr, "addr", "", "daemon API address (default $CUTOVER_ADDR, else read from <state>/api.addr)")
	f.StringVar(&a.token, "token", "",
		"API token (default $CUTOVER_TOKEN, else read from <state>/token); prefer the file: flags show in ps")
	f.StringVar(&a.ca, "ca", "", "CA certificate (PEM) to trust for a daemon serving HTTPS (default $CUTOVER_CA)")
	f.StringVarP(&a.output, "output", "o", "text", "output format: text or json")
	f.StringVar(&a.contextName, "context", "", "the named daemon to talk to (default $CUTOVER_CONTEXT, else the current one; see 'cutover context')")
	root.AddCommand(
		a.serveCmd(), a.demoCmd(), a.deployCmd(), a.rollbackCmd(), a.statusCmd(), a.historyCmd(),
		a.logsCmd(), a.actionCmd("pause"), a.actionCmd("resume"), a.pauseTrafficCmd(), a.resumeTrafficCmd(), a.actionCmd("abort"), a.actionCmd("retry"), a.actionCmd("approve"), a.promoteCmd(),
		a.waitCmd(), a.specCmd(), a.eventsCmd(), a.versionCmd(), a.flagsCmd(), a.upgradeCmd(), a.migrateCmd(),
		a.apiTokenCmd(), a.notifyCmd(), a.downCmd(), a.secretsCmd(), a.configCmd(), a.checkCmd(), a.contextCmd(), a.clusterCmd(),
		a.attestationKeyCmd(),
	)
	a.addCompletion(root)
	return root
}

// begin checks and resolves the global flags once the command line has parsed.
func (a *app) begin(cmd *cobra.Command) error {
	a.started = true
	sarif := cmd.Annotations["sarif"] == "true"
	if a.output != "text" && a.output != "json" && (a.output != "sarif" || !sarif) {
		if sarif {
			return usagef("--output %q: want text, json or sarif", a.output)
		}
		return usagef("--output %q: want text or json", a.output)
	}
	a.stateFlag = a.stateDir != ""
	dir, err := stateDir(a.stateDir)
	if err != nil {
		return err
	}
	a.stateDir = dir
	if a.output == "text" {
		a.term = newTerminalWriter(a.stdout)
		a.stdout = a.term
	}
	return nil
}

// json reports whether output is JSON.
func (a *app) json() bool { return a.output == "json" }

// exactArgs requires exactly the named positional arguments.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == len(names):
		case len(names) == 0:
			return fmt.Errorf("%s takes no arguments, got %q", cmd.CommandPath(), args)
		default:
			return fmt.Errorf("%s wants %s, got %d argument(s)", cmd.CommandPath(), strings.Join(names, " "), len(args))
		}
		return nil
	}
}
