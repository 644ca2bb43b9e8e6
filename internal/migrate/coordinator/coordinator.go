// Package coordinator binds a service's database migrations to its deployments: it expands
// before a deployment's instances start, contracts once no running revision predates a
// contract part, keeps the migration files each revision carries, refuses a rollback to a
// revision that predates an applied contract, lints at deploy time, and serves the
// operator's migration commands (api.MigrateBackend).
//
// It owns the per-service migration locks, the contract parts waiting to run and the lint
// cache. It reads the state through Store, learns what runs from Fleet and Specs and
// records through Recorder, all declared here; it does not start or stop instances, move
// traffic or parse migration files itself (internal/migrate does).
package coordinator

import (
	"context"
	"log/slog"
	"time"

	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// Store is the part of the state the coordinator reads.
type Store interface {
	GetService(ctx context.Context, name string) (store.Service, error)
	GetDeployment(ctx context.Context, id int64) (store.Deployment, error)
	ActiveDeployment(ctx context.Context, service string) (store.Deployment, error)
	ListRevisions(ctx context.Context, service string) ([]store.Revision, error)
	MigrationFiles(ctx context.Context, service string, revision int) ([]store.MigrationFile, error)
}

// Fleet tells which revisions run. Its methods must not block on I/O.
type Fleet interface {
	// RunningRevisions lists, in order, the revisions of service that have instances,
	// stopping ones too.
	RunningRevisions(service string) []int
	// Serving reports service's stable revision and whether a deployment of it is active.
	Serving(service string) (stable int, deploying bool)
	// Stables lists every known service with its stable revision (0: none yet) and the
	// database section of its current spec (nil: none).
	Stables() map[string]Stable
}

// Stable is a service's stable revision and the database section of its current spec.
type Stable struct {
	Revision int
	Database *spec.Database
}

// Specs returns the spec a revision of a service was deployed with.
type Specs interface {
	RevisionSpec(ctx context.Context, service string, revision int) (spec.Service, error)
}

// Recorder records the coordinator's events and the state of a deployment it fails.
type Recorder interface {
	// Event records one event of service (deploymentID 0: of no deployment).
	Event(ctx context.Context, service string, deploymentID int64, typ, message string, data map[string]any)
	// SaveState persists a deployment's state.
	SaveState(ctx context.Context, dep *rollout.Deployment) error
}

// Config is what New needs. Store, Fleet, Specs and Recorder are required.
type Config struct {
	Store    Store
	Fleet    Fleet
	Specs    Specs
	Recorder Recorder
	Logger   *slog.Logger
	// Lint lints a service's PostgreSQL migrations before a deployment (nil: the real
	// parser in this process).
	Lint Linter
	// ContractCheck is how often contract parts waiting for an old revision to be gone
	// look again (default 1s).
	ContractCheck time.Duration
}

// defaultContractCheck is how often waiting contract parts look at the running revisions.
const defaultContractCheck = time.Second

// Coordinator runs migrations for deployments and operators. Its methods may be called
// concurrently; create it with New, then Run its contract loop.
type Coordinator struct {
	store  Store
	fleet  Fleet
	specs  Specs
	rec    Recorder
	logger *slog.Logger
	lint   Linter
	every  time.Duration
	locks  locks
	lints  lintCache
}

// New returns a coordinator; it starts nothing.
func New(cfg Config) *Coordinator {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ContractCheck <= 0 {
		cfg.ContractCheck = defaultContractCheck
	}
	return &Coordinator{store: cfg.Store, fleet: cfg.Fleet, specs: cfg.Specs, rec: cfg.Recorder,
		logger: cfg.Logger, lint: cfg.Lint, every: cfg.ContractCheck}
}
