package daemon

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/examples/demoapp/userload"
	"github.com/cutover/cutover/internal/api"
)

// renameColumn deploys the releases of examples/rename-column to one service.
type renameColumn struct {
	t      *testing.T
	h      *harness
	dsn    string
	listen string
}

// spec is examples/rename-column/release-N/cutover.yaml made runnable here: the demo app's
// path, the test's database and address, absolute migrations, a shorter min_ready, and the
// strategy block replaced when strategy is not empty. Each edit must apply exactly once, so
// the test fails loudly when the example changes shape.
func (rc renameColumn) spec(n int, strategy string) string {
	rc.t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "examples", "rename-column", fmt.Sprintf("release-%d", n)))
	if err != nil {
		rc.t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "cutover.yaml"))
	if err != nil {
		rc.t.Fatal(err)
	}
	text := string(data)
	edits := []struct{ re, to string }{
		{`command: demoapp`, "command: " + rc.h.app},
		{`DATABASE_URL: \S+`, fmt.Sprintf("DATABASE_URL: %q", rc.dsn)},
		{`listen: 127\.0\.0\.1:8081`, "listen: " + rc.listen},
		{`migrations: \./migrations`, "migrations: " + filepath.Join(dir, "migrations")},
		{`min_ready: 2s`, "min_ready: 300ms"},
	}
	if strategy != "" {
		edits = append(edits, struct{ re, to string }{`(?s)\nstrategy:\n.*?\n\n`, "\nstrategy:\n" + indent(strategy, "  ") + "\n"})
	}
	for _, e := range edits {
		re := regexp.MustCompile(e.re)
		if m := len(re.FindAllStringIndex(text, -1)); m != 1 {
			rc.t.Fatalf("release-%d/cutover.yaml: %d matches of %q, want 1", n, m, e.re)
		}
		text = re.ReplaceAllLiteralString(text, e.to)
	}
	return text
}

func (rc renameColumn) deploy(n int, strategy string) api.Deployment {
	rc.t.Helper()
	dep, err := rc.h.client.Deploy(context.Background(), api.DeployRequest{Service: "users", Spec: rc.spec(n, strategy), Who: "test"})
	if err != nil {
		rc.t.Fatalf("deploy release %d: %v", n, err)
	}
	return dep
}

// firstDeploy deploys release 0, on another free address if the one picked was taken
// meanwhile (other tests and their instances pick ports too).
func (rc *renameColumn) firstDeploy() api.Deployment {
	rc.t.Helper()
	for i := 0; ; i++ {
		dep, err := rc.h.client.Deploy(context.Background(), api.DeployRequest{Service: "users", Spec: rc.spec(0, ""), Who: "test"})
		if err == nil {
			return dep
		}
		if i == 3 || !strings.Contains(err.Error(), "address already in use") {
			rc.t.Fatalf("deploy release 0: %v", err)
		}
		rc.listen = freeAddr(rc.t)
	}
}

// succeed waits for the deployment and fails the test unless it succeeded.
func (rc renameColumn) succeed(what string, dep api.Deployment) {
	rc.t.Helper()
	if got := rc.h.wait(dep.ID, 60*time.Second); got.Status != "succeeded" {
		rc.t.Fatalf("%s: deployment %d %s: %s", what, dep.ID, got.Status, got.Reason)
	}
}

// TestMigrateRenameColumn is the seeds' exercise on a real PostgreSQL with the real daemon and
// demo app, under steady load that writes and reads back through the proxy all along:
// release 0 (users.name); release 1 expands (full_name, a trigger for old writers, a
// batched backfill) and rolls out; a rollback to release 0 still works; release 2 (full_name
// only) is aborted halfway as a canary and release 1 serves again with name intact; release
// 2 again, whose contract drops name once release 1 is gone. Then: no failed request, and
// every acknowledged write is in the table with its last acknowledged name.
func TestMigrateRenameColumn(t *testing.T) {
	dsn, db := pgDatabase(t)
	h := newMigrateHarness(t)
	rc := renameColumn{t: t, h: h, dsn: dsn, listen: freeAddr(t)}

	rc.succeed("release 0", rc.firstDeploy())
	stopLoad := startUserLoad(t, "http://"+rc.listen)
	waitRows(t, db, 100)

	rc.succeed("release 1", rc.deploy(1, ""))
	if n := count(t, db, "SELECT count(*) FROM users WHERE full_name IS NULL OR full_name <> name"); n != 0 {
		t.Errorf("after release 1: %d rows whose full_name is not name (backfill or trigger missed them)", n)
	}

	rb, err := h.client.Rollback(context.Background(), "users", api.RollbackRequest{Who: "test"})
	if err != nil {
		t.Fatalf("rollback of release 1: %v", err)
	}
	rc.succeed("rollback to release 0", rb)
	waitRows(t, db, count(t, db, "SELECT count(*) FROM users")+50) // release 0 writes on the expanded table

	rc.succeed("release 1 again", rc.deploy(1, ""))

	rc.abortedRelease2(db)

	rc.succeed("release 2", rc.deploy(2, ""))
	waitFor(t, 30*time.Second, "the contract of release 2 to drop users.name", func() bool {
		return count(t, db, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'name'") == 0
	})
	waitRows(t, db, count(t, db, "SELECT count(*) FROM users")+50) // release 2 writes after the contract
	// The check below wants 500 acknowledged writes, however quick the deploys were.
	waitRows(t, db, 520)

	rep := stopLoad()
	t.Logf("load: %d tasks, %d requests, by version %v, p50 %s, p99 %s, max %s", rep.Tasks, rep.Requests,
		rep.ByVersion, rep.Quantile(0.5), rep.Quantile(0.99), rep.Max())
	if n := rep.FailedRequests(); n != 0 || rep.Dropped != 0 {
		t.Errorf("failed requests %d %v, lost %d, mismatches %d, dropped %d; first errors: %q",
			n, rep.Failed, rep.Lost, rep.Mismatches, rep.Dropped, rep.Errors)
	}
	for _, v := range []string{"r0", "r1", "r2"} {
		if rep.ByVersion[v] == 0 {
			t.Errorf("no request answered by %s: %v", v, rep.ByVersion)
		}
	}
	missing, wrong := rep.Check(tableNames(t, db, "full_name"))
	if len(rep.Users) < 500 || len(missing) != 0 || len(wrong) != 0 {
		t.Errorf("%d acknowledged users; missing from the table: %v; with a wrong full_name: %v", len(rep.Users), missing, wrong)
	}
	want := []string{"1 expand", "2 expand", "3 expand", "4 expand", "5 expand", "5 contract"}
	if got := versionPhases(t, db); !slices.Equal(got, want) {
		t.Errorf("version table phases %q, want %q (no down part, contract once)", got, want)
	}
}

// abortedRelease2 deploys release 2 as a canary that pauses at 50%, writes through the proxy
// until release 2 has answered a write, aborts, and checks that release 1 reads that write
// and that the contract did not run.
func (rc renameColumn) abortedRelease2(db *sql.DB) {
	t := rc.t
	dep := rc.deploy(2, "canary:\n  steps:\n    - weight: 50\n    - pause: {}\n")
	waitFor(t, 60*time.Second, "release 2's canary to pause at 50%", func() bool {
		d, err := rc.h.client.Deployment(context.Background(), dep.ID)
		if err == nil && d.Final() {
			t.Fatalf("release 2 canary ended %s: %s", d.Status, d.Reason)
		}
		return err == nil && strings.Contains(d.Phase, "promote") // waiting for a manual promote
	})
	var id int64
	for i := 0; id == 0; i++ {
		if i == 100 {
			t.Fatal("100 writes through the proxy at 50% and none answered by release 2")
		}
		if got, version := postUser(t, rc.listen, fmt.Sprintf("canary-%d", i)); version == "r2" {
			id = got
		}
	}
	if _, err := rc.h.client.Abort(context.Background(), "users"); err != nil {
		t.Fatalf("abort release 2: %v", err)
	}
	if got := rc.h.wait(dep.ID, 60*time.Second); got.Status == "succeeded" {
		t.Fatalf("aborted release 2: deployment %s", got.Status)
	}
	assertServes(t, rc.listen, "r1")
	resp, err := http.Get(fmt.Sprintf("http://%s/users/%d", rc.listen, id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var u struct{ Name string }
	json.NewDecoder(resp.Body).Decode(&u)
	if resp.StatusCode != 200 || !strings.HasPrefix(u.Name, "canary-") {
		t.Errorf("release 1 reading user %d that release 2 wrote: %d %+v", id, resp.StatusCode, u)
	}
	if n := count(t, db, "SELECT count(*) FROM users WHERE name IS NULL OR name <> full_name"); n != 0 {
		t.Errorf("after the abort: %d rows whose name is not full_name; release 1 would misread them", n)
	}
	if slices.Contains(versionPhases(t, db), "5 contract") {
		t.Error("the contract of release 2 ran although its deployment was aborted")
	}
}

// startUserLoad writes and reads users through the proxy at 100 tasks (200 requests) per
// second until the returned stop is called (or 5 minutes pass).
func startUserLoad(t *testing.T, url string) (stop func() userload.Report) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan userload.Report, 1)
	go func() {
		rep, err := userload.Run(ctx, userload.Config{URL: url, Rate: 100, Workers: 1024, Duration: 5 * time.Minute})
		if err != nil {
			t.Errorf("userload: %v", err)
		}
		done <- rep
	}()
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			cancel()
			<-done
		}
	})
	return func() userload.Report {
		stopped = true
		cancel()
		return <-done
	}
}

func postUser(t *testing.T, listen, name string) (int64, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name})
	resp, err := http.Post("http://"+listen+"/users", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST /users: %v", err)
	}
	defer resp.Body.Close()
	var u struct{ ID int64 }
	if err := json.NewDecoder(resp.Body).Decode(&u); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /users: %d %v", resp.StatusCode, err)
	}
	return u.ID, resp.Header.Get("X-Version")
}

func count(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func waitRows(t *testing.T, db *sql.DB, n int) {
	t.Helper()
	waitFor(t, 30*time.Second, fmt.Sprintf("%d users", n), func() bool { return count(t, db, "SELECT count(*) FROM users") >= n })
}

func tableNames(t *testing.T, db *sql.DB, column string) map[int64]string {
	t.Helper()
	rows, err := db.Query("SELECT id, " + column + " FROM users")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var name sql.NullString
		if err := rows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		out[id] = name.String
	}
	return out
}

// versionPhases lists the version table as "version phase", in order.
func versionPhases(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	for _, r := range versionRows(t, db) {
		f := strings.Fields(r)
		out = append(out, f[0]+" "+f[1])
	}
	return out
}
