package migrate

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var baseFiles = map[string]string{
	"0001_users.sql": "-- +cutover expand\nCREATE TABLE users (id integer PRIMARY KEY, name text);\nINSERT INTO users (id, name) VALUES (1, 'ada');\n-- +cutover down\nDROP TABLE users;\n",
	"0002_email.sql": "-- +cutover lock_timeout 2s\n-- +cutover expand\nALTER TABLE users ADD COLUMN email text;\n-- +cutover contract\nALTER TABLE users DROP COLUMN name;\n-- +cutover down\nALTER TABLE users DROP COLUMN email;\n",
	"0003_audit.sql": "-- +cutover expand\nCREATE TABLE audit (id integer PRIMARY KEY, n integer);\n-- +cutover down\nDROP TABLE audit;\n",
}

// summary renders applied parts as "version phase" for comparison.
func summary(as []Applied) []string {
	var out []string
	for _, a := range as {
		out = append(out, fmt.Sprintf("%d %s", a.Version, a.Phase))
	}
	return out
}

func steps(ss []Step) []string {
	var out []string
	for _, s := range ss {
		out = append(out, fmt.Sprintf("%d %s needs_expand=%v", s.Version, s.Phase, s.NeedsExpand))
	}
	return out
}

func TestApplyStatusPlan(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		_, migs := migrations(t, baseFiles)
		r := b.open(t)
		ctx := t.Context()
		st, err := r.Status(ctx, migs)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 3 || st[0].Expand != nil || b.tableExists(t, Table) {
			t.Fatalf("status before any run: %+v (version table exists: %v), want 3 unapplied and no table", st, b.tableExists(t, Table))
		}
		p, err := r.Plan(ctx, migs)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(steps(p.Expand), []string{"1 expand needs_expand=false", "2 expand needs_expand=false", "3 expand needs_expand=false"}); diff != "" {
			t.Errorf("plan expand (-got +want):\n%s", diff)
		}
		if diff := cmp.Diff(steps(p.Contract), []string{"2 contract needs_expand=true"}); diff != "" {
			t.Errorf("plan contract (-got +want):\n%s", diff)
		}

		got, err := r.Expand(ctx, migs, 7)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(summary(got), []string{"1 expand", "2 expand", "3 expand"}); diff != "" {
			t.Errorf("expand (-got +want):\n%s", diff)
		}
		if n := b.count(t, "SELECT count(*) FROM users WHERE email IS NULL AND name = 'ada'"); n != 1 {
			t.Errorf("users after expand: %d rows with email column and name ada, want 1", n)
		}
		st, err = r.Status(ctx, migs)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if s.Expand == nil || s.Expand.Revision != 7 || s.Expand.Checksum != migs[s.Version-1].Expand.Checksum || s.Contract != nil {
				t.Errorf("status of %d after expand: %+v, want expand by revision 7 with the file's checksum, no contract", s.Version, s)
			}
		}
		if !st[1].HasContract || st[2].HasContract {
			t.Errorf("status HasContract: %v %v, want true false", st[1].HasContract, st[2].HasContract)
		}
		if again, err := r.Expand(ctx, migs, 8); err != nil || len(again) != 0 {
			t.Errorf("second expand: applied %v, %v; want nothing", summary(again), err)
		}
		p, _ = r.Plan(ctx, migs)
		if diff := cmp.Diff(steps(p.Contract), []string{"2 contract needs_expand=false"}); diff != "" || len(p.Expand) != 0 {
			t.Errorf("plan after expand: %v, contract (-got +want):\n%s", steps(p.Expand), diff)
		}
		got, err = r.Contract(ctx, migs, 8, 0)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(summary(got), []string{"2 contract"}); diff != "" {
			t.Errorf("contract (-got +want):\n%s", diff)
		}
		if _, err := b.db.ExecContext(ctx, "SELECT name FROM users"); err == nil {
			t.Errorf("column name still exists after contract")
		}
		if n := b.count(t, "SELECT count(*) FROM "+Table); n != 4 {
			t.Errorf("version table rows: %d, want 4", n)
		}
	})
}

func TestChecksumChanged(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		dir, migs := migrations(t, baseFiles)
		r := b.open(t)
		if _, err := r.Expand(t.Context(), migs, 1); err != nil {
			t.Fatal(err)
		}
		write(t, dir, "0002_email.sql", strings.Replace(baseFiles["0002_email.sql"], "email text", "email varchar(200)", 1))
		changed, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Expand(t.Context(), changed, 2)
		var ce *ChecksumError
		if !errors.As(err, &ce) {
			t.Fatalf("expand with a changed file: %v, want a *ChecksumError", err)
		}
		for _, want := range []string{"0002_email.sql", migs[1].Expand.Checksum, changed[1].Expand.Checksum} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
		}
		if _, err := r.Plan(t.Context(), changed); !errors.As(err, &ce) {
			t.Errorf("plan with a changed file: %v, want a *ChecksumError", err)
		}
		st, _ := r.Status(t.Context(), changed)
		if len(st[1].Changed) != 1 || len(st[0].Changed) != 0 {
			t.Errorf("status Changed: %v / %v, want one mismatch on migration 2 only", st[0].Changed, st[1].Changed)
		}
	})
}

func TestConcurrentRunners(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		files := map[string]string{"0001_hits.sql": "-- +cutover expand\nCREATE TABLE hits (n integer);\n"}
		for v := 2; v <= 6; v++ {
			files[fmt.Sprintf("%04d_hit.sql", v)] = fmt.Sprintf("-- +cutover expand\nINSERT INTO hits (n) VALUES (%d);\n", v)
		}
		_, migs := migrations(t, files)
		const n = 4
		runners := make([]*Runner, n)
		for i := range runners {
			runners[i] = b.open(t)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var all []string
		start := make(chan struct{})
		for i, r := range runners {
			wg.Go(func() {
				<-start
				got, err := r.Expand(t.Context(), migs, i+1)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("runner %d: %v", i, err)
				}
				all = append(all, summary(got)...)
			})
		}
		close(start)
		wg.Wait()
		if got := b.count(t, "SELECT count(*) FROM hits"); got != 5 {
			t.Errorf("hits rows: %d, want 5 (each insert exactly once)", got)
		}
		if got := b.count(t, "SELECT count(*) FROM "+Table+" WHERE phase = 'expand'"); got != 6 {
			t.Errorf("version table expand rows: %d, want 6", got)
		}
		if len(all) != 6 {
			t.Errorf("parts reported applied across runners: %v, want 6", all)
		}
	})
}

func TestFailureHalfway(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		dir, migs := migrations(t, map[string]string{
			"0001_ok.sql":   "-- +cutover expand\nCREATE TABLE t1 (id integer);\n",
			"0002_bad.sql":  "-- +cutover expand\nCREATE TABLE t2 (id integer);\nINSERT INTO t2 (id) VALUES (1);\n\nINSERT INTO missing_table (id)\n  VALUES (1);\n",
			"0003_next.sql": "-- +cutover expand\nCREATE TABLE t3 (id integer);\n",
		})
		r := b.open(t)
		got, err := r.Expand(t.Context(), migs, 1)
		var se *StatementError
		if !errors.As(err, &se) {
			t.Fatalf("expand: %v, want a *StatementError", err)
		}
		file := filepath.Join(dir, "0002_bad.sql")
		if se.File != file || se.Line != 5 || !strings.Contains(err.Error(), file+":5: expand of migration 2: INSERT INTO missing_table (id) VALUES (1)") {
			t.Errorf("error %q: want it to name %s:5 and the statement", err, file)
		}
		if diff := cmp.Diff(summary(got), []string{"1 expand"}); diff != "" {
			t.Errorf("applied before the failure (-got +want):\n%s", diff)
		}
		if !b.tableExists(t, "t1") || b.tableExists(t, "t2") || b.tableExists(t, "t3") {
			t.Errorf("tables t1 t2 t3 exist: %v %v %v, want true false false", b.tableExists(t, "t1"), b.tableExists(t, "t2"), b.tableExists(t, "t3"))
		}
		st, _ := r.Status(t.Context(), migs)
		if st[0].Expand == nil || st[1].Expand != nil || st[2].Expand != nil {
			t.Errorf("status: want only migration 1 applied, got %+v", st)
		}
	})
}

func TestContractWithoutExpand(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		_, migs := migrations(t, baseFiles)
		r := b.open(t)
		got, err := r.Contract(t.Context(), migs, 1, 0)
		if !errors.Is(err, ErrContractWithoutExpand) || !strings.Contains(err.Error(), "0002_email.sql: migration 2") {
			t.Fatalf("contract before expand: %v, want ErrContractWithoutExpand naming 0002_email.sql", err)
		}
		if len(got) != 0 || b.count(t, "SELECT count(*) FROM "+Table) != 0 {
			t.Errorf("contract without expand applied %v", summary(got))
		}
		if got, err := r.Contract(t.Context(), migs, 1, 1); err != nil || len(got) != 0 {
			t.Errorf("contract up to 1 (no contract parts): %v, %v; want nothing and no error", summary(got), err)
		}
	})
}

func TestDown(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		_, migs := migrations(t, baseFiles)
		r := b.open(t)
		ctx := t.Context()
		if _, err := r.Expand(ctx, migs, 1); err != nil {
			t.Fatal(err)
		}
		got, err := r.Down(ctx, migs, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(summary(got), []string{"3 down", "2 down"}); diff != "" {
			t.Errorf("down (-got +want):\n%s", diff)
		}
		if b.tableExists(t, "audit") {
			t.Errorf("table audit exists after down")
		}
		if _, err := b.db.ExecContext(ctx, "SELECT email FROM users"); err == nil {
			t.Errorf("column email exists after down")
		}
		if got, err := r.Expand(ctx, migs, 3); err != nil || len(got) != 2 {
			t.Fatalf("expand after down: %v, %v; want 2 and 3 again", summary(got), err)
		}
		if _, err := r.Contract(ctx, migs, 3, 0); err != nil {
			t.Fatal(err)
		}
		_, err = r.Down(ctx, migs, 4, 1)
		if err == nil || !strings.Contains(err.Error(), "migration 2 has its contract applied") {
			t.Errorf("down over a contracted migration: %v, want a refusal", err)
		}
		if !b.tableExists(t, "audit") {
			t.Errorf("down refused but migration 3 was undone")
		}
		_, err = r.Down(ctx, migs[2:], 4, 2)
		if err != nil {
			t.Fatalf("down to 2: %v", err)
		}
		_, err = r.Down(ctx, migs, 4, 0)
		if err == nil || !strings.Contains(err.Error(), "migration 2 has its contract applied") {
			t.Errorf("down to 0: %v, want a refusal", err)
		}
	})
}

func TestNoTransaction(t *testing.T) {
	backends(t, func(t *testing.T, b backend) {
		concurrently := "CONCURRENTLY "
		if b.driver == "sqlite" {
			concurrently = ""
		}
		_, migs := migrations(t, map[string]string{
			"0001_users.sql": baseFiles["0001_users.sql"],
			"0002_idx.sql":   "-- +cutover no-transaction\n-- +cutover expand\nCREATE INDEX " + concurrently + "users_name ON users (name);\n",
		})
		r := b.open(t)
		if _, err := r.Expand(t.Context(), migs, 1); err != nil {
			t.Fatal(err)
		}
		q := "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'users_name'"
		if b.driver == "postgres" {
			q = "SELECT count(*) FROM pg_indexes WHERE indexname = 'users_name'"
		}
		if n := b.count(t, q); n != 1 {
			t.Errorf("index users_name: %d, want 1", n)
		}
	})
}
