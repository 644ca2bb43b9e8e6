// Package control is the control API's use cases (api.Backend): deploy, roll back, retry and
// act on a deployment, and read services, revisions, deployments, events and logs. It checks a
// request whole before it records anything, records a deployment before handing it on to be
// driven, and rolls back inside the warm window through the rollout controller's switch.
//
// It reaches the store, the fleet, the proxy, the controller and the migration coordinator
// through interfaces it declares; the daemon wires the concrete parts in.
package control

import (
	"context"
	"io"
	"log/slog"

	"github.com/cutover/cutover/internal/attest"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/crashpoint"
	"github.com/cutover/cutover/internal/fleet"
	"github.com/cutover/cutover/internal/proxy"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// Store is the record the use cases read and begin deployments in.
type Store interface {
	ListServices(ctx context.Context) ([]store.Service, error)
	GetService(ctx context.Context, name string) (store.Service, error)
	ListRevisions(ctx context.Context, service string) ([]store.Revision, error)
	GetRevision(ctx context.Context, service string, n int) (store.Revision, error)
	ActiveDeployment(ctx context.Context, service string) (store.Deployment, error)
	GetDeployment(ctx context.Context, id int64) (store.Deployment, error)
	ListDeployments(ctx context.Context, service string, limit int) ([]store.Deployment, error)
	MigrationFiles(ctx context.Context, service string, n int) ([]store.MigrationFile, error)
	ListEvents(ctx context.Context, f store.EventFilter) ([]store.Event, error)
	// BeginDeployment records the service, the revision (new when its Number is 0) and the
	// deployment in one transaction.
	BeginDeploymentThen(ctx context.Context, svc store.Service, rev store.Revision, d store.Deployment,
		then func(tx *store.Store, rev store.Revision, d *store.Deployment) error) (store.Revision, store.Deployment, error)
	// Secrets lists a service's current secrets, opened; PutSecret records a new version.
	Secrets(ctx context.Context, service string) ([]store.Secret, error)
	PutSecret(ctx context.Context, sec store.Secret) (store.Secret, error)
}

// Fleet is the live view of services and instances the use cases read and check against.
type Fleet interface {
	Serving(service string) (stable int, deploying bool)
	StableRoute(service string) *proxy.Route
	RouteOwner(name string, route proxy.Route) string
	Check(ctx context.Context, s spec.Service) error
	NoteRevision(service string, rev int, rs spec.Service)
	ActiveDeployment(service string) *fleet.Active
	Weights(service string) map[int]int
	InstanceViews(service string) []fleet.InstanceView
	Warm(service string) map[int]bool
	LogSources(ctx context.Context, service string, revision int) ([]string, error)
	Logs(ctx context.Context, ids []string, follow bool, redact func(string) string, w io.Writer) error
}

// Proxy is the part of the proxy a deployment's route is set on, and its counters.
type Proxy interface {
	SetRoute(r proxy.Route) error
	RemoveRoute(service string)
	Stats(service string) map[int]proxy.Counts
}

// Recorder persists a deployment's state and a warm switch.
type Recorder interface {
	rollout.SwitchRecorder
	SaveState(ctx context.Context, dep *rollout.Deployment) error
}

// Switcher moves a service's traffic to a warm revision in one swap (rollout.Controller).
type Switcher interface {
	Switch(ctx context.Context, rec rollout.SwitchRecorder, s spec.Service, from, to int) (*rollout.Deployment, error)
}

// Migrations checks a service's database before a deployment or a rollback
// (coordinator.Coordinator).
type Migrations interface {
	CheckDatabase(ctx context.Context, s *spec.Service) ([]string, []store.MigrationFile, error)
	// CheckCarried is CheckDatabase for migration files that come with a promotion.
	CheckCarried(ctx context.Context, s *spec.Service, files []store.MigrationFile) ([]string, []store.MigrationFile, error)
	CheckRollback(ctx context.Context, service string, stable, to int, target spec.Service, req api.RollbackRequest) (string, error)
}

// Events records one transition of a service for people and the log.
type Events interface {
	Record(ctx context.Context, service string, deploymentID int64, typ, message string, data map[string]any)
}

// Config is what New needs; every field is required.
type Config struct {
	Store      Store
	Fleet      Fleet
	Proxy      Proxy
	Recorder   Recorder
	Switcher   Switcher
	Migrations Migrations
	Events     Events
	Logger     *slog.Logger
	// Activate registers a recorded deployment with the fleet and queues it for driving.
	Activate func(*rollout.Deployment)
	// RequireApproval makes every new deployment wait, before anything starts, for an
	// approval by a token other than the one that started it (optional).
	RequireApproval bool
	// Crash kills the process at a named step, for crash tests (nil: never).
	Crash *crashpoint.At
	// Environment is this daemon's environment name (serve --environment), for promotions.
	Environment string
	// Attest signs the promotions this daemon hands out (nil: it signs none).
	Attest *attest.Signer
	// Trust holds, by environment name, the keys whose signed promotions this daemon accepts
	// (serve --trust-environment); a promotion from any other environment is refused.
	Trust map[string]attest.PublicKey
	// Usage returns an instance's newest CPU use (percent of a core) and resident memory;
	// nil or false: unknown.
	Usage func(instanceID string) (cpuPercent float64, memoryBytes int64, ok bool)
}

// Backend is the control API's use cases.
type Backend struct {
	store    Store
	fleet    Fleet
	proxy    Proxy
	recorder Recorder
	ctrl     Switcher
	mig      Migrations
	events   Events
	logger   *slog.Logger
	activate func(*rollout.Deployment)
	// requireApproval: see Config.RequireApproval.
	requireApproval bool
	crash           *crashpoint.At
	environment     string
	attest          *attest.Signer
	trust           map[string]attest.PublicKey
	usage           func(string) (float64, int64, bool)
}

var _ api.Backend = (*Backend)(nil)

// New returns the use cases over the given parts. It starts nothing.
func New(cfg Config) *Backend {
	return &Backend{store: cfg.Store, fleet: cfg.Fleet, proxy: cfg.Proxy, recorder: cfg.Recorder, ctrl: cfg.Switcher,
		mig: cfg.Migrations, events: cfg.Events, logger: cfg.Logger, activate: cfg.Activate, requireApproval: cfg.RequireApproval, crash: cfg.Crash,
		environment: cfg.Environment, attest: cfg.Attest, trust: cfg.Trust, usage: cfg.Usage}
}
