package spec

import (
	"strings"
	"testing"
	"time"
)

const dbBase = "name: web\nrun:\n  command: ./app\n  env:\n    DATABASE_URL: postgres://app@db/app\nroute:\n  listen: 127.0.0.1:8080\n"

func TestDatabaseDefaults(t *testing.T) {
	s, err := Parse([]byte(dbBase+"database:\n  driver: postgres\n"), "web.yaml")
	if err != nil {
		t.Fatal(err)
	}
	db := s.Database
	if db.DSNEnv != "DATABASE_URL" || db.Migrations != "./migrations" || db.Contract != ContractAfterPromote ||
		db.LockTimeout.D() != 2*time.Second || db.StatementTimeout != 0 {
		t.Errorf("defaults: %+v", db)
	}
	// The DSN has no password, so only the database section makes it a secret.
	if got := s.Run.Redacted()["DATABASE_URL"]; got != Redaction {
		t.Errorf("DATABASE_URL shown as %q, want redacted", got)
	}
	s, err = Parse([]byte(dbBase+"database:\n  driver: sqlite\n  lock_timeout: 0s\n  contract: next-deploy\n"), "web.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Database.LockTimeout != 0 || s.Database.Contract != ContractNextDeploy {
		t.Errorf("explicit values: %+v", s.Database)
	}
	out, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(out, "marshalled")
	if err != nil || Hash(back) != Hash(s) {
		t.Errorf("round trip: %v\n%s", err, out)
	}
}

func TestDatabaseValidation(t *testing.T) {
	cases := []struct{ name, db, path, msg string }{
		{"no driver", "database:\n  migrations: ./m\n", "database.driver", "required"},
		{"unknown driver", "database:\n  driver: mysql\n", "database.driver", `unknown driver "mysql"`},
		{"dsn_env not in env", "database:\n  driver: postgres\n  dsn_env: APP_DB\n", "database.dsn_env", "APP_DB"},
		{"bad contract", "database:\n  driver: postgres\n  contract: later\n", "database.contract", "after-promote"},
		{"negative lock timeout", "database:\n  driver: postgres\n  lock_timeout: -1s\n", "database.lock_timeout", "between"},
		{"empty migrations", "database:\n  driver: postgres\n  migrations: \"\"\n", "database.migrations", "required"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(dbBase+c.db), "web.yaml")
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %s: %s", c.name, err, c.path, c.msg)
		}
	}
}
