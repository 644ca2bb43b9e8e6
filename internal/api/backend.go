package api

import (
	"context"
	"io"
)

// Backend is what the handlers need from the daemon. Errors wrap ErrNotFound, ErrConflict,
// ErrInvalid or are a *ValidationError where the caller is at fault; anything else is a 500.
type Backend interface {
	Deploy(ctx context.Context, req DeployRequest) (Deployment, error)
	Rollback(ctx context.Context, service string, req RollbackRequest) (Deployment, error)
	// Act applies an operator action to the service's active deployment:
	// "pause", "resume", "abort" or "promote" (promote --full is "promote_full"); "retry"
	// starts a new deployment of the revision whose latest deployment failed or was aborted.
	Act(ctx context.Context, service, action string) (Deployment, error)
	CheckSpec(ctx context.Context, yaml []byte, file string) (CheckResult, error)
	Services(ctx context.Context) ([]Service, error)
	Service(ctx context.Context, name string) (Service, error)
	History(ctx context.Context, service string) ([]Revision, error)
	Deployment(ctx context.Context, id int64) (Deployment, error)
	Deployments(ctx context.Context, service string, limit int) ([]Deployment, error)
	Events(ctx context.Context, q EventQuery) ([]Event, error)
	// Logs writes the logs of the service's instances (revision 0: every revision).
	Logs(ctx context.Context, service string, revision int, follow bool, w io.Writer) error
}
