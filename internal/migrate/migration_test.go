package migrate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	text := `-- add email
-- +cutover no-transaction
-- +cutover lock_timeout 1s
-- +cutover statement_timeout 0
-- +cutover lint-override create-index-non-concurrently reason: table has 10 rows
-- +cutover expand
CREATE TABLE a (id int, note text DEFAULT 'x;y');
CREATE INDEX a_id ON a (id);

-- +cutover contract
ALTER TABLE a DROP COLUMN note;
-- +cutover down
DROP TABLE a;
`
	m, err := Parse("dir/0042_add_email.sql", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	second, zero := time.Second, time.Duration(0)
	want := Migration{
		Version: 42, Name: "add_email", File: "dir/0042_add_email.sql",
		Expand: &Section{Phase: PhaseExpand, Line: 6, SQL: "CREATE TABLE a (id int, note text DEFAULT 'x;y');\nCREATE INDEX a_id ON a (id);", SQLLine: 7,
			Statements: []Statement{{"CREATE TABLE a (id int, note text DEFAULT 'x;y')", 7}, {"CREATE INDEX a_id ON a (id)", 8}}},
		Contract: &Section{Phase: PhaseContract, Line: 10, SQL: "ALTER TABLE a DROP COLUMN note;", SQLLine: 11,
			Statements: []Statement{{"ALTER TABLE a DROP COLUMN note", 11}}},
		Down:          &Section{Phase: PhaseDown, Line: 12, SQL: "DROP TABLE a;", SQLLine: 13, Statements: []Statement{{"DROP TABLE a", 13}}},
		NoTransaction: true, LockTimeout: &second, StatementTimeout: &zero,
		Overrides: []Override{{Rule: "create-index-non-concurrently", Reason: "table has 10 rows", Line: 5}},
	}
	if diff := cmp.Diff(m, want, cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Checksum" }, cmp.Ignore())); diff != "" {
		t.Errorf("Parse (-got +want):\n%s", diff)
	}
	if len(m.Expand.Checksum) != 64 || m.Expand.Checksum == m.Contract.Checksum {
		t.Errorf("checksums %q %q: want distinct hex sha256", m.Expand.Checksum, m.Contract.Checksum)
	}
	noContract, err := Parse("0042_add_email.sql", []byte(text[:strings.Index(text, "-- +cutover contract")]))
	if err != nil {
		t.Fatal(err)
	}
	if noContract.Expand.Checksum != m.Expand.Checksum {
		t.Errorf("expand checksum changed when the contract section was removed")
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, file, text, want string }{
		{"bad name", "add.sql", "-- +cutover expand\n", "add.sql:1: file name must be"},
		{"no expand", "0001_a.sql", "-- +cutover down\nDROP TABLE a;\n", "0001_a.sql:1: no \"-- +cutover expand\" section"},
		{"sql before marker", "0001_a.sql", "-- hi\nCREATE TABLE a ();\n-- +cutover expand\n", "0001_a.sql:2: SQL before the first section marker"},
		{"duplicate section", "0001_a.sql", "-- +cutover expand\nSELECT 1;\n-- +cutover expand\n", "0001_a.sql:3: section expand appears twice (first at line 1)"},
		{"unknown directive", "0001_a.sql", "-- +cutover expand\n-- +cutover no-transactions\n", "0001_a.sql:2: unknown directive \"no-transactions\""},
		{"bad duration", "0001_a.sql", "-- +cutover lock_timeout 5\n-- +cutover expand\n", "0001_a.sql:1: lock_timeout: \"5\" is not a duration"},
		{"override without reason", "0001_a.sql", "-- +cutover lint-override drop-column\n-- +cutover expand\n", "0001_a.sql:1: lint-override wants"},
		{"override unknown rule", "0001_a.sql", "-- +cutover lint-override drop-colum reason: x\n-- +cutover expand\n", "0001_a.sql:1: lint-override: unknown rule \"drop-colum\""},
		{"unterminated string", "0001_a.sql", "-- +cutover expand\nSELECT 1;\nINSERT INTO a VALUES ('x);\n", "0001_a.sql:3: unterminated string literal"},
		{"unterminated dollar", "0001_a.sql", "-- +cutover expand\n\nDO $body$ BEGIN END;\n", "0001_a.sql:3: unterminated dollar-quoted string $body$"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.file, []byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse: error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestSplit(t *testing.T) {
	tests := []struct {
		name, text string
		want       []Statement
	}{
		{"comments and quotes", "-- a; b\nSELECT ';' /* ; /* ; */ */, \"x;\"\"\";\n\nSELECT E'\\';';",
			[]Statement{{"SELECT ';' /* ; /* ; */ */, \"x;\"\"\"", 2}, {"SELECT E'\\';'", 4}}},
		{"dollar quotes", "CREATE FUNCTION f() RETURNS int AS $f$ SELECT 1; $f$ LANGUAGE sql;\nSELECT $1;",
			[]Statement{{"CREATE FUNCTION f() RETURNS int AS $f$ SELECT 1; $f$ LANGUAGE sql", 1}, {"SELECT $1", 2}}},
		{"sqlite trigger", "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = CASE WHEN n > 0 THEN 1 ELSE 0 END;\n  DELETE FROM c;\nEND;\nSELECT 2;",
			[]Statement{{"CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE b SET n = CASE WHEN n > 0 THEN 1 ELSE 0 END;\n  DELETE FROM c;\nEND", 1}, {"SELECT 2", 5}}},
		{"rule with a list of actions", "CREATE RULE r AS ON INSERT TO a DO ALSO (INSERT INTO b VALUES (1); INSERT INTO c VALUES (2));\nSELECT 3;",
			[]Statement{{"CREATE RULE r AS ON INSERT TO a DO ALSO (INSERT INTO b VALUES (1); INSERT INTO c VALUES (2))", 1}, {"SELECT 3", 2}}},
		{"parameter named begin", "CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql AS 'SELECT 1';\nSELECT 2;",
			[]Statement{{"CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql AS 'SELECT 1'", 1}, {"SELECT 2", 2}}},
		{"begin atomic body", "CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END;\nSELECT 2;",
			[]Statement{{"CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END", 1}, {"SELECT 2", 2}}},
		{"no trailing semicolon", "\n\n  SELECT 1", []Statement{{"SELECT 1", 3}}},
		{"only comments", "-- nothing\n/* here */\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, line, msg := split(tc.text, 1)
			if msg != "" {
				t.Fatalf("split: line %d: %s", line, msg)
			}
			if diff := cmp.Diff(got, tc.want); diff != "" {
				t.Errorf("split(%q) (-got +want):\n%s", tc.text, diff)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "0002_b.sql", "-- +cutover expand\nSELECT 2;\n")
	write(t, dir, "0001_a.sql", "-- +cutover expand\nSELECT 1;\n")
	write(t, dir, "README.md", "not a migration")
	migs, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range migs {
		got = append(got, filepath.Base(m.File))
	}
	if diff := cmp.Diff(got, []string{"0001_a.sql", "0002_b.sql"}); diff != "" {
		t.Errorf("Load order (-got +want):\n%s", diff)
	}

	write(t, dir, "002_dup.sql", "-- +cutover expand\n")
	write(t, dir, "0003_bad.sql", "-- +cutover bogus\n-- +cutover expand\n")
	_, err = Load(dir)
	for _, want := range []string{"version 2 is also used by", "0003_bad.sql:1: unknown directive"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Load: error %v, want it to contain %q", err, want)
		}
	}
}

func write(t *testing.T, dir, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
