// Package migrate owns cutover's database migrations: it loads a migrations directory, lints it
// with the real PostgreSQL parser, and applies its expand, contract and down parts to PostgreSQL
// (through pgx) or SQLite (modernc.org/sqlite), recording every part in a version table.
//
// It must not decide when a part runs: the deployment controller calls Expand before any
// instance of a new revision starts, Contract once no older revision is left that predates the
// contract, and Down only on an operator's explicit request. It never logs or returns a DSN.
//
// # File format
//
// A migrations directory holds one file per migration named NNNN_name.sql: a decimal version
// (any number of digits, unique in the directory), an underscore and a name of letters, digits,
// '_' or '-'. Other .sql names are an error; files that do not end in .sql are ignored. Each
// file is split into sections by marker lines:
//
//	-- +cutover expand     required (may be empty): runs before the new revision starts
//	-- +cutover contract   optional: runs once no revision that predates it is serving
//	-- +cutover down       optional: undoes the expand; runs only on explicit request
//
// Directive lines apply to the whole migration and may appear anywhere on their own line:
//
//	-- +cutover no-transaction              run statements one by one, outside a transaction
//	                                        (required by CREATE INDEX CONCURRENTLY)
//	-- +cutover lock_timeout 2s             Go duration or 0 (wait forever); default 2s
//	-- +cutover statement_timeout 1m        Go duration or 0 (none); default 0
//	-- +cutover lint-override RULE reason: TEXT   accept one lint rule for this migration
//
// Only comments and blank lines may come before the first marker; a marker that appears twice,
// an unknown directive, a bad duration or an override without a reason is an error that names
// file:line. Statements end at ';' outside quotes, comments and dollar quotes (a CREATE TRIGGER's
// BEGIN … END body is kept whole). The checksum of a section is the SHA-256 of its text with
// leading and trailing white space removed, so adding a contract section later does not change
// the recorded checksum of the expand.
//
// # Version table
//
// cutover_migrations is an append-only log: one row per part applied (version, name, phase
// expand|contract|down, checksum, revision, started_at, duration_ms). A migration is expanded
// when its latest expand row is newer than its latest down row; a down row also clears the
// contract. A section whose checksum differs from the applied one is refused with both
// checksums. Rows for versions that are not in the directory are kept and ignored, so a
// rollback to a revision with fewer migrations still works.
//
// # Safety
//
// Each migration runs in its own transaction with SET LOCAL lock_timeout and statement_timeout,
// unless it says no-transaction (then session settings, reset afterwards). A lock timeout
// (SQLSTATE 55P03, or SQLITE_BUSY) is retried with exponential backoff; other errors stop the
// run at once, leaving every earlier migration applied and returning a *StatementError that
// names file:line and the statement. On PostgreSQL a session advisory lock keyed on the table
// name serialises runners; on SQLite each migration runs under BEGIN IMMEDIATE and re-reads the
// log inside it, and the lock timeout becomes busy_timeout.
//
// # Lint
//
// Lint parses expand, contract and down sections whole with the PostgreSQL parser (go-pgquery),
// takes statements at the parser's own boundaries, reports malformed SQL with file:line, and
// refuses a section the runner's splitter above would cut differently (statement-split). In expand and contract parts it flags statements that
// take long locks or rewrite tables; in expand parts it also flags changes that break the
// revision still serving (drops, renames, type changes, NOT NULL columns without a default).
// Each finding carries a rule id (see Rules) and the safe alternative. Lint speaks PostgreSQL:
// SQLite migrations should not be linted.
package migrate
