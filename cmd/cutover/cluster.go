package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/cutover/cutover/internal/cli"
	"github.com/cutover/cutover/internal/cluster"
)

// runCluster runs `cutover cluster controller|proxy`.
func runCluster(ctx context.Context, o cli.ClusterOptions) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if o.Role == "proxy" {
		id := o.Identity
		if id == "" {
			id = cluster.DefaultIdentity(true)
		}
		return cluster.RunProxy(ctx, o.Kubeconfig, cluster.ProxyConfig{Namespace: o.Namespace, Replica: id, Listen: o.Listen,
			ShutdownDelay: o.ShutdownDelay}, logger)
	}
	raw, err := os.ReadFile(o.TokenFile)
	if err != nil {
		return fmt.Errorf("--token-file: %w", err)
	}
	token := strings.TrimSpace(string(raw))
	if token == "" {
		return fmt.Errorf("--token-file %s: empty", o.TokenFile)
	}
	id := o.Identity
	if id == "" {
		id = cluster.DefaultIdentity(false)
	}
	return cluster.RunController(ctx, o.Kubeconfig, cluster.Config{Namespace: o.Namespace, Identity: id, Listen: o.Listen, Token: token,
		LeaseDuration: o.LeaseDuration, RenewDeadline: o.RenewDeadline, RetryPeriod: o.RetryPeriod}, logger)
}
