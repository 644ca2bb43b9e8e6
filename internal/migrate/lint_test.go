package migrate

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// lintText parses text as migration 0001_t.sql and lints it.
func lintText(t *testing.T, text string) []Finding {
	t.Helper()
	m, err := Parse("0001_t.sql", []byte(text))
	if err != nil {
		t.Fatalf("parse %q: %v", text, err)
	}
	return Lint([]Migration{m})
}

func rulesOf(fs []Finding) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.Rule)
	}
	return ids
}

const lt = "-- +cutover lock_timeout 2s\n"

func TestLintRules(t *testing.T) {
	lintOutsideRace(t)
	tests := []struct {
		rule       string
		bad, good  string // expand sections (the marker is added)
		contractOK bool   // the rule does not apply to contract parts
	}{
		{"drop-column", "ALTER TABLE users DROP COLUMN email;", "ALTER TABLE users ADD COLUMN email2 text;", true},
		{"drop-table", "DROP TABLE users;", "DROP VIEW users_v;", true},
		{"truncate-table", "TRUNCATE users;", "DELETE FROM users WHERE id < 100;", true},
		{"add-column-required", "ALTER TABLE users ADD COLUMN age int NOT NULL;", "ALTER TABLE users ADD COLUMN age int NOT NULL DEFAULT 0;", true},
		{"rename-column", "ALTER TABLE users RENAME COLUMN email TO mail;", "ALTER TABLE users ADD COLUMN mail text;", false},
		{"rename-table", "ALTER TABLE users RENAME TO people;", "CREATE TABLE people (id bigint);", false},
		{"change-column-type", "ALTER TABLE users ALTER COLUMN id TYPE bigint;", "ALTER TABLE users ALTER COLUMN id SET DEFAULT 1;", false},
		{"set-not-null", "ALTER TABLE users ALTER COLUMN email SET NOT NULL;",
			"ALTER TABLE users ADD CONSTRAINT email_nn CHECK (email IS NOT NULL) NOT VALID;\nALTER TABLE users VALIDATE CONSTRAINT email_nn;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;", false},
		{"add-column-volatile-default", "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid();", "ALTER TABLE users ADD COLUMN created timestamptz DEFAULT now();", false},
		{"add-column-volatile-default", "ALTER TABLE users ADD COLUMN r float8 DEFAULT random() * 10;", "ALTER TABLE users ADD COLUMN n int DEFAULT 42;", false},
		{"add-column-volatile-default", "ALTER TABLE users ADD COLUMN seq bigserial;", "ALTER TABLE users ADD COLUMN seq bigint;", false},
		{"add-column-volatile-default", "ALTER TABLE users ADD COLUMN low text GENERATED ALWAYS AS (lower(email)) STORED;", "ALTER TABLE users ADD COLUMN low text;", false},
		{"create-index-non-concurrently", "CREATE INDEX users_email ON users (email);",
			"-- +cutover no-transaction\nCREATE INDEX CONCURRENTLY users_email ON users (email);", false},
		{"create-index-non-concurrently", "CREATE UNIQUE INDEX users_email ON users (email);",
			"CREATE TABLE t2 (id int);\nCREATE INDEX t2_id ON t2 (id);", false},
		{"drop-index-non-concurrently", "DROP INDEX users_email;", "-- +cutover no-transaction\nDROP INDEX CONCURRENTLY users_email;", false},
		{"reindex-non-concurrently", "REINDEX INDEX users_email;", "-- +cutover no-transaction\nREINDEX INDEX CONCURRENTLY users_email;", false},
		{"constraint-missing-not-valid", "ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id);",
			"ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;", false},
		{"constraint-missing-not-valid", "ALTER TABLE orders ADD CONSTRAINT pos CHECK (amount > 0);",
			"ALTER TABLE orders ADD CONSTRAINT pos CHECK (amount > 0) NOT VALID;", false},
		{"constraint-missing-not-valid", "ALTER TABLE orders ADD COLUMN user_id bigint REFERENCES users (id);", "ALTER TABLE orders ADD COLUMN user_id bigint;", false},
		{"add-unique-without-index", "ALTER TABLE users ADD CONSTRAINT users_pk PRIMARY KEY (id);",
			"ALTER TABLE users ADD CONSTRAINT users_pk PRIMARY KEY USING INDEX users_id_idx;", false},
		{"add-unique-without-index", "ALTER TABLE users ADD CONSTRAINT email_uq UNIQUE (email);",
			"ALTER TABLE users ADD CONSTRAINT email_uq UNIQUE USING INDEX users_email;", false},
		{"add-unique-without-index", "ALTER TABLE users ADD COLUMN code text UNIQUE;", "ALTER TABLE users ADD COLUMN code text;", false},
		{"concurrently-in-transaction", "CREATE INDEX CONCURRENTLY users_email ON users (email);",
			"-- +cutover no-transaction\nCREATE INDEX CONCURRENTLY users_email ON users (email);", false},
		{"concurrently-in-transaction", "VACUUM users;", "-- +cutover no-transaction\nVACUUM users;", false},
		{"transaction-control", "BEGIN;\nALTER TABLE users ADD COLUMN x int;\nCOMMIT;", "ALTER TABLE users ADD COLUMN x int;", false},
		{"vacuum-full", "-- +cutover no-transaction\nVACUUM FULL users;", "-- +cutover no-transaction\nVACUUM ANALYZE users;", false},
		{"cluster", "CLUSTER users USING users_pkey;", "ANALYZE users;", false},
		{"refresh-matview-non-concurrently", "REFRESH MATERIALIZED VIEW stats;", "REFRESH MATERIALIZED VIEW CONCURRENTLY stats;", false},
		{"set-logged", "ALTER TABLE users SET LOGGED;", "ALTER TABLE users SET (fillfactor = 90);", false},
		{"prefer-bigint", "CREATE TABLE t (id int);", "CREATE TABLE t (id bigint);", false},
		{"prefer-bigint", "ALTER TABLE users ADD COLUMN n smallint;", "ALTER TABLE users ADD COLUMN n bigint;", false},
		{"prefer-identity", "CREATE TABLE t (id bigserial);", "CREATE TABLE t (id bigint GENERATED BY DEFAULT AS IDENTITY);", false},
		{"prefer-text-field", "CREATE TABLE t (name varchar(40));", "CREATE TABLE t (name text CHECK (length(name) <= 40));", false},
		{"ban-char-field", "CREATE TABLE t (code char(3));", "CREATE TABLE t (code text);", false},
		{"prefer-timestamptz", "ALTER TABLE users ADD COLUMN seen timestamp;", "ALTER TABLE users ADD COLUMN seen timestamptz;", false},
		{"add-column-volatile-default", "ALTER TABLE users ADD COLUMN code text DEFAULT make_code();", "ALTER TABLE users ADD COLUMN slug text DEFAULT lower('X');", false},
		{"validate-in-same-transaction", "ALTER TABLE orders ADD CONSTRAINT pos CHECK (amount > 0) NOT VALID;\nALTER TABLE orders VALIDATE CONSTRAINT pos;",
			"ALTER TABLE orders VALIDATE CONSTRAINT pos;", false},
		{"concurrently-in-transaction", "ALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;",
			"-- +cutover no-transaction\nALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;", false},
		{"create-index-non-concurrently", "CREATE TABLE app.users (id int);\nCREATE INDEX users_id ON public.users (id);",
			"CREATE TABLE app.users (id int);\nCREATE INDEX users_id ON app.users (id);", false},
		// squawk's rules that had no equivalent (issue 17).
		{"drop-not-null", "ALTER TABLE users ALTER COLUMN email DROP NOT NULL;", "ALTER TABLE users ALTER COLUMN email SET DEFAULT '';", true},
		{"drop-database", "DROP DATABASE app;", "DROP VIEW app;", false},
		{"detach-partition-non-concurrently", "ALTER TABLE events DETACH PARTITION events_2020;",
			"-- +cutover no-transaction\nALTER TABLE events DETACH PARTITION events_2020 CONCURRENTLY;", false},
		{"alter-domain-add-constraint", "ALTER DOMAIN positive ADD CONSTRAINT pos CHECK (VALUE > 0);",
			"ALTER DOMAIN positive ADD CONSTRAINT pos CHECK (VALUE > 0) NOT VALID;", false},
		{"create-domain-with-constraint", "CREATE DOMAIN positive AS bigint CHECK (VALUE > 0);", "CREATE DOMAIN label AS text;", false},
		{"enum-value-ordering", "ALTER TYPE status ADD VALUE 'pending_review';", "ALTER TYPE status ADD VALUE 'pending_review' BEFORE 'approved';", false},
		{"identifier-too-long", "CREATE TABLE t (" + strings.Repeat("c", 64) + " bigint);",
			"CREATE TABLE t (" + strings.Repeat("c", 63) + " bigint);", false},
		{"identifier-too-long", "ALTER TABLE users ADD COLUMN \"" + strings.Repeat("é", 32) + "\" text;",
			"ALTER TABLE users ADD COLUMN \"" + strings.Repeat("é", 31) + "\" text;", false},
		{"prefer-robust-stmts", "-- +cutover no-transaction\nCREATE INDEX CONCURRENTLY users_email ON users (email);",
			"-- +cutover no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email);", false},
		{"prefer-robust-stmts", "-- +cutover no-transaction\nALTER TABLE users ADD COLUMN x text;",
			"ALTER TABLE users ADD COLUMN x text;", false},
		{"statement-timeout-missing", "ALTER TABLE users ALTER COLUMN id TYPE bigint;",
			"-- +cutover statement_timeout 5m\nALTER TABLE users ALTER COLUMN id TYPE bigint;", false},
		{"statement-timeout-missing", "ALTER TABLE users ADD CONSTRAINT pos CHECK (amount > 0);",
			"SET statement_timeout = '5min';\nALTER TABLE users ADD CONSTRAINT pos CHECK (amount > 0);", false},
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		covered[tc.rule] = true
		t.Run(tc.rule, func(t *testing.T) {
			bad := lintText(t, lt+"-- +cutover expand\n"+tc.bad)
			if !slices.Contains(rulesOf(bad), tc.rule) {
				t.Errorf("expand %q: rules %v, want %s", tc.bad, rulesOf(bad), tc.rule)
			}
			for _, f := range bad {
				if f.Rule == tc.rule && (f.Line < 3 || f.File != "0001_t.sql" || !strings.Contains(f.Message, ";")) {
					t.Errorf("finding %v: want file 0001_t.sql, a line in the section and a safe alternative after ';'", f)
				}
			}
			good := lintText(t, lt+"-- +cutover expand\n"+tc.good)
			if slices.Contains(rulesOf(good), tc.rule) {
				t.Errorf("expand %q: flagged %s: %v", tc.good, tc.rule, good)
			}
			inContract := lintText(t, lt+"-- +cutover expand\n-- +cutover contract\n"+tc.bad)
			if got := slices.Contains(rulesOf(inContract), tc.rule); got == tc.contractOK {
				t.Errorf("contract %q: flagged %s = %v, want %v", tc.bad, tc.rule, got, !tc.contractOK)
			}
		})
	}
	for _, r := range Rules {
		if !covered[r.ID] && r.ID != "lock-timeout-missing" {
			t.Errorf("rule %s has no case in the table", r.ID)
		}
	}
}

func TestLintLockTimeout(t *testing.T) {
	lintOutsideRace(t)
	tests := []struct {
		name, text string
		want       bool
	}{
		{"alter without directive", "-- +cutover expand\nALTER TABLE users ADD COLUMN x int;", true},
		{"alter with directive", "-- +cutover lock_timeout 1s\n-- +cutover expand\nALTER TABLE users ADD COLUMN x int;", false},
		{"alter with SET", "-- +cutover expand\nSET lock_timeout = '1s';\nALTER TABLE users ADD COLUMN x int;", false},
		{"lock_timeout 0", "-- +cutover lock_timeout 0\n-- +cutover expand\nALTER TABLE users ADD COLUMN x int;", true},
		{"create table only", "-- +cutover expand\nCREATE TABLE t (id int);\nALTER TABLE t ADD COLUMN x int;", false},
		{"insert only", "-- +cutover expand\nINSERT INTO users (id) VALUES (1);", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := slices.Contains(rulesOf(lintText(t, tc.text)), "lock-timeout-missing")
			if got != tc.want {
				t.Errorf("lock-timeout-missing flagged = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLintSyntaxLine(t *testing.T) {
	lintOutsideRace(t)
	text := "-- +cutover expand\nCREATE TABLE a (id int);\n\nALTER TABLE a\n  ADD COLUMN x int,\n  ADD COLUMN y intt eger;\n-- +cutover down\nDROP TABL a;\n"
	got := lintText(t, text)
	var lines []int
	for _, f := range got {
		if f.Rule == RuleSyntax {
			lines = append(lines, f.Line)
		}
	}
	if diff := cmp.Diff(lines, []int{6, 8}); diff != "" {
		t.Errorf("syntax finding lines (-got +want):\n%s\nfindings: %v", diff, got)
	}
}

func TestLintOverride(t *testing.T) {
	lintOutsideRace(t)
	text := "-- +cutover lock_timeout 1s\n-- +cutover lint-override drop-column reason: column unused since release 41\n-- +cutover expand\nALTER TABLE users DROP COLUMN legacy;\nDROP TABLE old;\n"
	got := lintText(t, text)
	var over, blocking []string
	for _, f := range got {
		if f.Override != nil {
			over = append(over, f.Rule+": "+f.Override.Reason)
		}
	}
	for _, f := range Blocking(got) {
		blocking = append(blocking, f.Rule)
	}
	if diff := cmp.Diff(over, []string{"drop-column: column unused since release 41"}); diff != "" {
		t.Errorf("overridden findings (-got +want):\n%s", diff)
	}
	if diff := cmp.Diff(blocking, []string{"drop-table"}); diff != "" {
		t.Errorf("blocking findings (-got +want):\n%s", diff)
	}
}

func TestLintSetNotNullAcrossMigrations(t *testing.T) {
	lintOutsideRace(t)
	m1, err := Parse("0001_check.sql", []byte(lt+"-- +cutover expand\nALTER TABLE users ADD CONSTRAINT c CHECK (email IS NOT NULL) NOT VALID;\n"))
	if err != nil {
		t.Fatal(err)
	}
	m2, err := Parse("0002_validate.sql", []byte(lt+"-- +cutover expand\nALTER TABLE users VALIDATE CONSTRAINT c;\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := rulesOf(Lint([]Migration{m1, m2})); len(got) != 0 {
		t.Errorf("check, validate, set not null over two migrations: got %v, want none", got)
	}
	if got := rulesOf(Lint([]Migration{m2})); !slices.Contains(got, "set-not-null") {
		t.Errorf("set not null without the check: got %v, want set-not-null", got)
	}
}

// TestLintStyleRulesDoNotBlock: a style finding is reported as a warning and blocks nothing.
func TestLintStyleRulesDoNotBlock(t *testing.T) {
	lintOutsideRace(t)
	got := lintText(t, lt+"-- +cutover expand\nCREATE TABLE t (id serial, at timestamp, code char(2), name varchar(9));\n")
	want := []string{"ban-char-field", "prefer-bigint", "prefer-identity", "prefer-text-field", "prefer-timestamptz"}
	rules := rulesOf(got)
	slices.Sort(rules)
	if diff := cmp.Diff(rules, want); diff != "" {
		t.Errorf("style findings (-got +want):\n%s", diff)
	}
	if b := Blocking(got); len(b) != 0 {
		t.Errorf("style findings block: %v", b)
	}
	if b := Blocking(lintText(t, lt+"-- +cutover expand\nDROP TABLE t;\n")); len(b) != 1 {
		t.Errorf("a drop-table finding does not block: %v", b)
	}
}

// TestLintParserBoundaries: the lint takes statements where PostgreSQL's parser ends them,
// each with its file line, and refuses a part that the runner's own split would send
// differently.
func TestLintParserBoundaries(t *testing.T) {
	lintOutsideRace(t)
	text := lt + "-- +cutover expand\n" +
		"CREATE RULE r AS ON INSERT TO a DO ALSO (INSERT INTO b VALUES (1); DELETE FROM c);\n" + // line 3
		"CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql AS 'SELECT 1';\n" + // line 4
		"/* a comment; with a semicolon */ CREATE FUNCTION g() RETURNS int LANGUAGE sql\nBEGIN ATOMIC SELECT 1; END;\n" + // line 5
		"ALTER TABLE users DROP COLUMN email;\n" // line 7
	m, err := Parse("0001_t.sql", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	got := Lint([]Migration{m})
	var lines []string
	for _, f := range got {
		lines = append(lines, fmt.Sprintf("%d %s", f.Line, f.Rule))
	}
	// The rule's actions, the parameter named begin and the BEGIN ATOMIC body end no
	// statement (no syntax finding, no split finding); the DROP COLUMN after them is line 7.
	if diff := cmp.Diff(lines, []string{"7 drop-column"}); diff != "" {
		t.Errorf("findings (-got +want):\n%s\n%v", diff, got)
	}
	// A runner split that differs from the parser's (as a splitter bug would make it) is a
	// finding that blocks and that no override accepts.
	bad := m
	exp := *m.Expand
	exp.Statements = append([]Statement{{SQL: "CREATE RULE r AS ON INSERT TO a DO ALSO (INSERT INTO b VALUES (1)", Line: 3},
		{SQL: "DELETE FROM c)", Line: 3}}, exp.Statements[1:]...)
	bad.Expand = &exp
	split := Blocking(Lint([]Migration{bad}))
	if len(split) == 0 || split[0].Rule != RuleSplit || split[0].Line != 3 {
		t.Fatalf("a runner split differing from the parser's: %v, want a blocking %s at line 3", split, RuleSplit)
	}
	if _, err := Parse("0001_t.sql", []byte("-- +cutover lint-override statement-split reason: trust me\n-- +cutover expand\n")); err == nil {
		t.Error("an override of statement-split was accepted")
	}
}
