// Command cutover deploys HTTP services with zero failed requests. See internal/cli for the
// commands and internal/daemon for what `cutover serve` runs.
package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cutover/cutover/examples/demoapp/app"
	"github.com/cutover/cutover/internal/cli"
	"github.com/cutover/cutover/internal/control"
	"github.com/cutover/cutover/internal/crashpoint"
	"github.com/cutover/cutover/internal/daemon"
	"github.com/cutover/cutover/internal/demo"
	"github.com/cutover/cutover/internal/migrate/coordinator"
	"github.com/cutover/cutover/internal/proxy"
)

func main() {
	// The demo app is built in, so `cutover demo` needs nothing else installed.
	if len(os.Args) > 1 && os.Args[1] == "demoapp" {
		os.Exit(app.Run(os.Getenv, os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, cli.Commands{
		Serve: func(ctx context.Context, o cli.ServeOptions) error {
			return daemon.Serve(ctx, daemon.Options{StateDir: o.StateDir, Listen: o.Listen, AddrFile: o.AddrFile,
				StopInstancesOnExit: o.StopInstancesOnExit, LogLevel: o.LogLevel, LogFormat: o.LogFormat, NotifyConfig: o.NotifyConfig, Crash: crashpoint.FromEnv(),
				HandoffTimeout: o.HandoffTimeout, ShutdownTimeout: o.ShutdownTimeout, StopTimeout: o.StopTimeout,
				Version: cli.BuildVersion(), RequireApproval: o.RequireApproval, Environment: o.Environment, Trust: o.Trust,
				APITLSCert: o.APITLSCert, APITLSKey: o.APITLSKey, APILimits: o.APILimits,
				ACME: daemon.ACMEOptions{Directory: o.ACMEDirectory, Email: o.ACMEEmail, CAFile: o.ACMECA},
				Proxy: proxy.Config{ReadHeaderTimeout: o.ProxyReadHeaderTimeout, IdleTimeout: o.ProxyIdleTimeout,
					MaxHeaderBytes: o.ProxyMaxHeaderBytes, TrustedProxies: o.TrustedProxies, StdHTTP1: o.ProxyStdHTTP1}})
		},
		Demo: func(ctx context.Context, o cli.DemoOptions, out io.Writer) error {
			return demo.Run(ctx, demo.Options{Rate: o.Rate, Exit: o.Exit, Start: startDemoDaemon}, out)
		},
		CheckSpec:      control.CheckSpec,
		LintMigrations: coordinator.LintMigrations,
		Cluster:        runCluster,
	})
	stop()
	os.Exit(code)
}

// startDemoDaemon is the demo's private daemon: a loopback port, a fast reconcile tick, its
// instances stopped on exit.
func startDemoDaemon(ctx context.Context, stateDir string, log io.Writer) (demo.Daemon, error) {
	return daemon.New(ctx, daemon.Options{StateDir: stateDir, Listen: "127.0.0.1:0", StopInstancesOnExit: true,
		Logger: slog.New(slog.NewTextHandler(log, nil)), Tick: 100 * time.Millisecond})
}
