package daemon

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/attest"

	"github.com/cutover/cutover/internal/api"
)

// TestPromotionCarriesTheRevision runs a staging and a production daemon: production
// refuses a plain deploy of a spec that requires staging; a revision that succeeded in
// staging is promoted with production's own env (its own database) and the migration files
// staging ran, even once the directory has changed; a revision staging never made stable is
// not handed out. Production verifies that staging signed what it deploys: an unsigned
// promotion, one whose spec or migration files were changed, one signed by another key and
// one claiming another environment are each refused, with nothing recorded.
func TestPromotionCarriesTheRevision(t *testing.T) {
	ctx := context.Background()
	staging := startWith(t, Options{Environment: "staging"})
	id, err := staging.client.Identity(ctx)
	if err != nil || id.Environment != "staging" {
		t.Fatalf("staging identity %+v, %v", id, err)
	}
	stagingKey, err := attest.ParsePublicKey(id.AttestationKey)
	if err != nil {
		t.Fatal(err)
	}
	production := startWith(t, Options{Environment: "production", Trust: map[string]attest.PublicKey{"staging": stagingKey}})
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
	refusePromotionForgeries(t, production, p, []string{"DATABASE_URL=" + productionDB, "route.listen=" + prodListen})
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

// refusePromotionForgeries sends production altered copies of a genuine promotion p from
// staging: each is refused as invalid, naming the attestation, and production records no
// service.
func refusePromotionForgeries(t *testing.T, production *harness, p api.Promotion, envAndListen []string) {
	t.Helper()
	ctx := context.Background()
	other, err := attest.LoadOrCreate(filepath.Join(t.TempDir(), attest.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	forged := map[string]func(q *api.Promotion){
		"unsigned":          func(q *api.Promotion) { q.Attestation = "" },
		"changed spec":      func(q *api.Promotion) { q.Spec = []byte(strings.Replace(string(q.Spec), `"version"`, `"versio"`, 1)) },
		"changed migration": func(q *api.Promotion) { q.Migrations[0].Content = []byte("-- +cutover expand\nDROP TABLE users;\n") },
		"other revision":    func(q *api.Promotion) { q.Revision++ },
		"claims qa":         func(q *api.Promotion) { q.Environment, q.From = "qa", "qa" },
		"from mismatch":     func(q *api.Promotion) { q.From = "qa" },
		"signed by another key": func(q *api.Promotion) {
			q.Attestation = other.Sign(attest.Statement{Environment: q.Environment, Service: q.Service, Revision: q.Revision,
				Spec: q.Spec, SucceededAt: q.SucceededAt})
		},
		"no environment": func(q *api.Promotion) { q.Environment, q.From = "", "" },
	}
	for name, forge := range forged {
		q := p
		q.Spec = append([]byte(nil), p.Spec...)
		q.Migrations = append([]api.MigrationFile(nil), p.Migrations...)
		q.From = q.Environment
		forge(&q)
		_, err := production.client.Deploy(ctx, api.DeployRequest{Service: "web", Promotion: &q,
			Env: envAndListen[:1], Set: envAndListen[1:]})
		if !isErr(err, api.ErrInvalid) || !strings.Contains(err.Error(), "promotion") {
			t.Errorf("%s promotion: %v, want refused as invalid, naming the promotion", name, err)
		}
	}
	if svcs, err := production.client.Services(ctx); err != nil || len(svcs) != 0 {
		t.Fatalf("production services after forged promotions: %+v, %v; want none", svcs, err)
	}
}
