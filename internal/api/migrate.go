package api

import (
	"context"
	"time"
)

// MigrateBackend is what the migration routes need from the daemon, apart from Backend so
// that the rest of the API can be served without it. Errors follow Backend's rules.
type MigrateBackend interface {
	// MigrationStatus reports, per migration of the service's stable revision, which parts
	// are applied and which revisions need them.
	MigrationStatus(ctx context.Context, service string) (MigrationStatus, error)
	// MigrationPlan reports what up and contract would apply now, without changing anything.
	MigrationPlan(ctx context.Context, service string) (MigrationPlan, error)
	// MigrateUp applies the pending expand parts of the stable revision's migrations.
	MigrateUp(ctx context.Context, service string, req MigrateRequest) (MigrationRun, error)
	// MigrateContract applies the pending contract parts; it refuses (ErrConflict) while a
	// revision that predates one of them is running, unless req.Force with a reason.
	MigrateContract(ctx context.Context, service string, req MigrateRequest) (MigrationRun, error)
	// MigrateDown runs down parts of every applied migration above req.To, newest first.
	MigrateDown(ctx context.Context, service string, req MigrateRequest) (MigrationRun, error)
}

// WithMigrations serves the migration routes (/v1/services/{name}/migrations...) over mb.
func WithMigrations(mb MigrateBackend) Option {
	return func(h *handler) { h.migrate = mb }
}

// MigrateRequest is the body of up, contract and down.
type MigrateRequest struct {
	// Who is ignored: the daemon records the name of the token that made the request.
	Who string `json:"who,omitempty"`
	// To is the version down keeps (every applied migration above it is undone).
	To int `json:"to,omitempty"`
	// Force runs contract parts although a revision that predates them still runs; Reason
	// is then required and recorded.
	Force  bool   `json:"force,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// MigrationStatus is where a service's database stands.
type MigrationStatus struct {
	Service    string           `json:"service"`
	Driver     string           `json:"driver"`
	Dir        string           `json:"dir"`
	Revision   int              `json:"revision"` // the revision whose migrations are shown
	Running    []int            `json:"running"`  // revisions with instances now
	Migrations []MigrationState `json:"migrations"`
}

// MigrationState is one migration: its parts and who needs them.
type MigrationState struct {
	Version     int    `json:"version"`
	Name        string `json:"name"`
	File        string `json:"file,omitempty"` // empty: applied, but not in the directory
	HasContract bool   `json:"has_contract"`
	HasDown     bool   `json:"has_down"`
	// Expand and Contract are the rows that applied those parts; nil when not applied.
	Expand   *MigrationApplied `json:"expand,omitempty"`
	Contract *MigrationApplied `json:"contract,omitempty"`
	// CarriedBy lists the revisions in history that carry this migration (they need its
	// expand); ContractBlockedBy the running revisions that predate its pending contract.
	CarriedBy         []int `json:"carried_by"`
	ContractBlockedBy []int `json:"contract_blocked_by,omitempty"`
	// Incompatible lists the revisions in history that predate its applied contract part:
	// they would run against a schema without what they need, so a rollback to one of them
	// is refused without --force.
	Incompatible []int `json:"incompatible,omitempty"`
	// Changed describes applied parts whose file section changed (both checksums).
	Changed []string `json:"changed,omitempty"`
}

// MigrationApplied is one part recorded in the version table.
type MigrationApplied struct {
	Version    int       `json:"version"`
	Name       string    `json:"name"`
	Phase      string    `json:"phase"`
	Checksum   string    `json:"checksum"`
	Revision   int       `json:"revision"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int64     `json:"duration_ms"`
}

// MigrationPlan is what up and contract would run now.
type MigrationPlan struct {
	Service  string          `json:"service"`
	Expand   []MigrationStep `json:"expand"`
	Contract []MigrationStep `json:"contract"`
}

// MigrationStep is one part a run would apply. Blocked says why a contract part may not
// run yet ("" when it may).
type MigrationStep struct {
	Version       int    `json:"version"`
	Name          string `json:"name"`
	File          string `json:"file"`
	Line          int    `json:"line"`
	Phase         string `json:"phase"`
	Statements    int    `json:"statements"`
	NoTransaction bool   `json:"no_transaction,omitempty"`
	Blocked       string `json:"blocked,omitempty"`
}

// MigrationRun is what up, contract or down applied.
type MigrationRun struct {
	Service string             `json:"service"`
	Applied []MigrationApplied `json:"applied"`
}

// MigrationLint is the result of linting a migrations directory.
type MigrationLint struct {
	Dir      string        `json:"dir"`
	Findings []LintFinding `json:"findings"`
	Blocking int           `json:"blocking"`
}

// LintFinding is one lint result: file:line, the rule, what is wrong and the safe
// alternative, and the migration's override of the rule if it has one.
type LintFinding struct {
	File         string `json:"file"`
	Line         int    `json:"line"`
	Rule         string `json:"rule"`
	Severity     string `json:"severity"` // error (blocks unless overridden) or warning (a style rule)
	Version      int    `json:"version"`
	Phase        string `json:"phase"`
	Message      string `json:"message"`
	Override     string `json:"override,omitempty"` // the override's reason
	OverrideLine int    `json:"override_line,omitempty"`
}
