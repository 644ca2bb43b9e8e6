package daemon

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
)

// TestPromotionCarriesTheRevision runs a staging and a production daemon: production
// refuses a plain deploy of a spec that requires staging; a revision that succeeded in
// staging is promoted with production's own env (its own database) and the migration files
// staging ran, even once the directory has changed; a revision staging never made stable is
// not handed out.
func TestPromotionCarriesTheRevision(t *testing.T) {
	staging := startWith(t, Options{Environment: "staging"})
	production := startWith(t, Options{Environment: "production"})
	ctx := context.Background()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"0001_items.sql": createItems})
	extra := dbSpec("sqlite", dir, "") + "promotion: {require_from: staging}\n"
	stagingDB, productionDB := filepath.Join(t.TempDir(), "staging.db"), filepath.Join(t.TempDir(), "production.db")
	s := appSpec{Name: "web", Listen: freeAddr(t), Version: "v1", Replicas: 1, Env: map[string]string{"DATABASE_URL": stagingDB}, Extra: extra}
	if d := staging.wait(staging.deploy(s).ID, 30*time.Second); d.Status != "succeeded" {
		t.Fatalf("staging: %s %s", d.Status, d.Reason)
	}
	prodListen := freeAddr(t)
	plain := strings.Replace(staging.yaml(s), stagingDB, productionDB, 1)
	if _, err := production.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: plain}); !isErr(err, api.ErrInvalid) ||
		!strings.Contains(err.Error(), "promotion.require_from") {
		t.Fatalf("a plain deploy to production: %v, want refused naming promotion.require_from", err)
	}
	// The directory changes after staging ran it: the promotion carries what staging ran.
	if err := os.WriteFile(filepath.Join(dir, "0001_items.sql"), []byte("-- +cutover expand\nCREATE TABLE other (id INTEGER);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := staging.client.Promotion(ctx, "web", 0)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(p.Spec), stagingDB) || len(p.Migrations) != 1 || p.Environment != "staging" {
		t.Fatalf("promotion = %s, %d files, environment %q; want no staging env, 1 file, staging", p.Spec, len(p.Migrations), p.Environment)
	}
	p.From = p.Environment
	dep, err := production.client.Deploy(ctx, api.DeployRequest{Service: "web", Promotion: &p,
		Env: []string{"DATABASE_URL=" + productionDB}, Set: []string{"route.listen=" + prodListen}})
	if err != nil {
		t.Fatal(err)
	}
	if d := production.wait(dep.ID, 30*time.Second); d.Status != "succeeded" {
		t.Fatalf("production: %s %s", d.Status, d.Reason)
	}
	var tables []string
	rows, err := openSQLite(t, productionDB).QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	if !slices.Contains(tables, "items") || slices.Contains(tables, "other") {
		t.Fatalf("production tables %v: want staging's migration (items), not the changed directory's (other)", tables)
	}
	hist, err := production.client.History(ctx, "web")
	if err != nil || len(hist) != 1 || !strings.HasPrefix(hist[0].Message, "promoted from staging (revision 1") ||
		hist[0].Env["DATABASE_URL"] == "" {
		t.Fatalf("production history %+v, %v: want revision 1 promoted from staging with production's database", hist, err)
	}
	// A revision that never became stable in staging is not handed out.
	s.Env = map[string]string{"DATABASE_URL": stagingDB, "NEVER_READY": "1"}
	s.Version = "v2"
	s.Strategy = "rolling: {progress_deadline: 2s}\n"
	writeFiles(t, dir, map[string]string{"0001_items.sql": createItems})
	if d := staging.wait(staging.deploy(s).ID, 60*time.Second); d.Status == "succeeded" {
		t.Fatalf("a never-ready revision succeeded in staging")
	}
	if _, err := staging.client.Promotion(ctx, "web", 2); !isErr(err, api.ErrConflict) {
		t.Fatalf("promotion of revision 2: %v, want a conflict (it never succeeded)", err)
	}
}
