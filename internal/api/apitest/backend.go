// Package apitest provides a programmable api.Backend for unit tests of the API's handlers,
// client and CLI. It is a test double: evidence that a feature works comes from tests
// against the real daemon.
package apitest

import (
	"context"
	"errors"
	"io"

	"github.com/cutover/cutover/internal/api"
)

// ErrUnset is returned (and so answered as a 500) by a method whose function is not set.
var ErrUnset = errors.New("apitest: method not set")

// Backend is an api.Backend whose methods call the matching function field; a nil field
// makes the method fail with ErrUnset. Set the fields before serving; they may be called
// concurrently, so they guard their own state.
type Backend struct {
	DeployFunc      func(ctx context.Context, req api.DeployRequest) (api.Deployment, error)
	RollbackFunc    func(ctx context.Context, service string, req api.RollbackRequest) (api.Deployment, error)
	ActFunc         func(ctx context.Context, service, action string) (api.Deployment, error)
	CheckSpecFunc   func(ctx context.Context, yaml []byte, file string) (api.CheckResult, error)
	ServicesFunc    func(ctx context.Context) ([]api.Service, error)
	ServiceFunc     func(ctx context.Context, name string) (api.Service, error)
	HistoryFunc     func(ctx context.Context, service string) ([]api.Revision, error)
	DeploymentFunc  func(ctx context.Context, id int64) (api.Deployment, error)
	DeploymentsFunc func(ctx context.Context, service string, limit int) ([]api.Deployment, error)
	EventsFunc      func(ctx context.Context, q api.EventQuery) ([]api.Event, error)
	LogsFunc        func(ctx context.Context, service string, revision int, follow bool, w io.Writer) error
}

var _ api.Backend = (*Backend)(nil)

// Deploy calls DeployFunc.
func (b *Backend) Deploy(ctx context.Context, req api.DeployRequest) (api.Deployment, error) {
	if b.DeployFunc == nil {
		return api.Deployment{}, ErrUnset
	}
	return b.DeployFunc(ctx, req)
}

// Rollback calls RollbackFunc.
func (b *Backend) Rollback(ctx context.Context, service string, req api.RollbackRequest) (api.Deployment, error) {
	if b.RollbackFunc == nil {
		return api.Deployment{}, ErrUnset
	}
	return b.RollbackFunc(ctx, service, req)
}

// Act calls ActFunc.
func (b *Backend) Act(ctx context.Context, service, action string) (api.Deployment, error) {
	if b.ActFunc == nil {
		return api.Deployment{}, ErrUnset
	}
	return b.ActFunc(ctx, service, action)
}

// CheckSpec calls CheckSpecFunc.
func (b *Backend) CheckSpec(ctx context.Context, yaml []byte, file string) (api.CheckResult, error) {
	if b.CheckSpecFunc == nil {
		return api.CheckResult{}, ErrUnset
	}
	return b.CheckSpecFunc(ctx, yaml, file)
}

// Services calls ServicesFunc.
func (b *Backend) Services(ctx context.Context) ([]api.Service, error) {
	if b.ServicesFunc == nil {
		return nil, ErrUnset
	}
	return b.ServicesFunc(ctx)
}

// Service calls ServiceFunc.
func (b *Backend) Service(ctx context.Context, name string) (api.Service, error) {
	if b.ServiceFunc == nil {
		return api.Service{}, ErrUnset
	}
	return b.ServiceFunc(ctx, name)
}

// History calls HistoryFunc.
func (b *Backend) History(ctx context.Context, service string) ([]api.Revision, error) {
	if b.HistoryFunc == nil {
		return nil, ErrUnset
	}
	return b.HistoryFunc(ctx, service)
}

// Deployment calls DeploymentFunc.
func (b *Backend) Deployment(ctx context.Context, id int64) (api.Deployment, error) {
	if b.DeploymentFunc == nil {
		return api.Deployment{}, ErrUnset
	}
	return b.DeploymentFunc(ctx, id)
}

// Deployments calls DeploymentsFunc.
func (b *Backend) Deployments(ctx context.Context, service string, limit int) ([]api.Deployment, error) {
	if b.DeploymentsFunc == nil {
		return nil, ErrUnset
	}
	return b.DeploymentsFunc(ctx, service, limit)
}

// Events calls EventsFunc.
func (b *Backend) Events(ctx context.Context, q api.EventQuery) ([]api.Event, error) {
	if b.EventsFunc == nil {
		return nil, ErrUnset
	}
	return b.EventsFunc(ctx, q)
}

// Logs calls LogsFunc.
func (b *Backend) Logs(ctx context.Context, service string, revision int, follow bool, w io.Writer) error {
	if b.LogsFunc == nil {
		return ErrUnset
	}
	return b.LogsFunc(ctx, service, revision, follow, w)
}
