package api

import (
	"context"
	"net/http"
)

// MigrationStatus returns where the service's database stands.
func (c *Client) MigrationStatus(ctx context.Context, service string) (MigrationStatus, error) {
	var st MigrationStatus
	err := c.call(ctx, http.MethodGet, servicePath(service, "migrations"), nil, nil, &st)
	return st, err
}

// MigrationPlan returns what up and contract would apply now.
func (c *Client) MigrationPlan(ctx context.Context, service string) (MigrationPlan, error) {
	var p MigrationPlan
	err := c.call(ctx, http.MethodGet, servicePath(service, "migrations/plan"), nil, nil, &p)
	return p, err
}

// MigrateUp applies the pending expand parts.
func (c *Client) MigrateUp(ctx context.Context, service string, req MigrateRequest) (MigrationRun, error) {
	return c.migrateRun(ctx, service, "up", req)
}

// MigrateContract applies the pending contract parts that no running revision predates
// (all of them with req.Force and a req.Reason).
func (c *Client) MigrateContract(ctx context.Context, service string, req MigrateRequest) (MigrationRun, error) {
	return c.migrateRun(ctx, service, "contract", req)
}

// MigrateDown runs down parts back to version req.To.
func (c *Client) MigrateDown(ctx context.Context, service string, req MigrateRequest) (MigrationRun, error) {
	return c.migrateRun(ctx, service, "down", req)
}

func (c *Client) migrateRun(ctx context.Context, service, what string, req MigrateRequest) (MigrationRun, error) {
	var res MigrationRun
	err := c.call(ctx, http.MethodPost, servicePath(service, "migrations/"+what), nil, req, &res)
	return res, err
}
