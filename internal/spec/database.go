package spec

import (
	"slices"
	"time"
)

// Database drivers, contract timings and defaults of a spec's database section.
const (
	DriverPostgres = "postgres"
	DriverSQLite   = "sqlite"

	// ContractAfterPromote runs contract parts once the deployment succeeded and no instance
	// of a revision that predates them is left.
	ContractAfterPromote = "after-promote"
	// ContractNextDeploy runs them at the start of the next deployment, before its expand.
	ContractNextDeploy = "next-deploy"

	DefaultDSNEnv          = "DATABASE_URL"
	DefaultMigrationsDir   = "./migrations"
	DefaultDBLockTimeout   = Duration(2 * time.Second)
	MaxDBStatementTimeout  = Duration(24 * time.Hour)
	maxDBLockTimeoutConfig = Duration(time.Hour)
)

// Database binds a service to the database its migrations change. The DSN is never in the
// spec: DSNEnv names the run.env key that holds it, and that key is always redacted.
type Database struct {
	// Driver is postgres or sqlite.
	Driver string `yaml:"driver" json:"driver"`
	// DSNEnv is the run.env key whose value is the DSN (default DATABASE_URL).
	DSNEnv string `yaml:"dsn_env" json:"dsn_env"`
	// Migrations is the migrations directory. A relative path resolves against the spec
	// file's directory; the CLI sends it absolute.
	Migrations string `yaml:"migrations" json:"migrations"`
	// Contract is when contract parts run: after-promote (default) or next-deploy.
	Contract string `yaml:"contract" json:"contract"`
	// LockTimeout and StatementTimeout are the defaults of migrations that set none (0: none).
	LockTimeout      Duration `yaml:"lock_timeout" json:"lock_timeout"`
	StatementTimeout Duration `yaml:"statement_timeout" json:"statement_timeout"`
	// Parts is set by the daemon when it records a revision: the migration parts the
	// revision carries. It tells which running revisions predate a contract part.
	Parts []MigrationPart `yaml:"-" json:"parts,omitempty"`
}

// MigrationPart is one migration a revision carries, with the checksums of its sections
// ("" when the file has no such section).
type MigrationPart struct {
	Version  int    `json:"version"`
	Expand   string `json:"expand"`
	Contract string `json:"contract,omitempty"`
}

// HasContract reports whether the revision carried version's contract part with checksum sum.
func (d *Database) HasContract(version int, sum string) bool {
	if d == nil {
		return false
	}
	return slices.ContainsFunc(d.Parts, func(p MigrationPart) bool { return p.Version == version && p.Contract == sum })
}

func (df defaulter) database(s *Service) {
	db := s.Database
	if db == nil {
		return
	}
	df.str(&db.DSNEnv, "database.dsn_env", DefaultDSNEnv)
	df.str(&db.Migrations, "database.migrations", DefaultMigrationsDir)
	df.str(&db.Contract, "database.contract", ContractAfterPromote)
	df.dur(&db.LockTimeout, "database.lock_timeout", DefaultDBLockTimeout)
	// The DSN is a secret whatever its key is called and whether or not it has a password.
	if _, ok := s.Run.Env[db.DSNEnv]; ok && !slices.Contains(s.Run.Secrets, db.DSNEnv) {
		s.Run.Secrets = append(s.Run.Secrets, db.DSNEnv)
	}
}

func validateDatabase(errs *Errors, s *Service) {
	db := s.Database
	if db == nil {
		return
	}
	switch db.Driver {
	case DriverPostgres, DriverSQLite:
	case "":
		errs.add("database.driver", "required: postgres or sqlite")
	default:
		errs.add("database.driver", "unknown driver %q: want postgres or sqlite", db.Driver)
	}
	switch {
	case db.DSNEnv == "":
		errs.add("database.dsn_env", "must name a key of run.env that holds the DSN")
	case !envKeyRE.MatchString(db.DSNEnv):
		errs.add("database.dsn_env", "invalid env name %q", db.DSNEnv)
	default:
		if v, ok := s.Run.Env[db.DSNEnv]; !ok || v == "" {
			errs.add("database.dsn_env", "names %s, which is not set in run.env: put the DSN there (it is redacted everywhere)", db.DSNEnv)
		}
	}
	if db.Migrations == "" {
		errs.add("database.migrations", "required: the migrations directory (like ./migrations)")
	}
	if db.Contract != ContractAfterPromote && db.Contract != ContractNextDeploy {
		errs.add("database.contract", "%q: want %s or %s", db.Contract, ContractAfterPromote, ContractNextDeploy)
	}
	if db.LockTimeout < 0 || db.LockTimeout > maxDBLockTimeoutConfig {
		errs.add("database.lock_timeout", "must be between 0 (wait forever) and %s", maxDBLockTimeoutConfig)
	}
	if db.StatementTimeout < 0 || db.StatementTimeout > MaxDBStatementTimeout {
		errs.add("database.statement_timeout", "must be between 0 (none) and %s", MaxDBStatementTimeout)
	}
}
