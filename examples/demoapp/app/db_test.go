package app

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/pgtest"
)

// testDB returns the DSN of an empty database of its own for driver and a handle on it:
// a SQLite file, or a PostgreSQL database from internal/pgtest.
func testDB(t *testing.T, driver string) (string, *sql.DB) {
	t.Helper()
	if driver == "sqlite" {
		dsn := filepath.Join(t.TempDir(), "app.db")
		return dsn, openTestDB(t, "sqlite", dsn)
	}
	return pgtest.Database(t, "demoapp_test_")
}

func openTestDB(t *testing.T, driver, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t *testing.T, db *sql.DB, q string) {
	t.Helper()
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// call sends method url with body (JSON unless nil) and returns status and body.
func call(t *testing.T, method, url string, body any) (int, string) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDBConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown driver", map[string]string{"DATABASE_URL": "x", "DB_DRIVER": "mysql", "DEMO_DB_SCHEMA": "v0"}, `DB_DRIVER "mysql"`},
		{"unknown schema", map[string]string{"DATABASE_URL": "x", "DEMO_DB_SCHEMA": "v3"}, `DEMO_DB_SCHEMA "v3"`},
		{"schema without url", map[string]string{"DEMO_DB_SCHEMA": "v1"}, "DATABASE_URL is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.env["PORT"] = "0"
			_, err := loadConfig(envFunc(tt.env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("loadConfig(%v) = %v, want an error containing %q", tt.env, err, tt.want)
			}
		})
	}
	c, err := loadConfig(envFunc(map[string]string{"PORT": "0", "DATABASE_URL": "postgres://h/db", "DEMO_DB_SCHEMA": "v1"}))
	if err != nil || c.DB != (dbConfig{URL: "postgres://h/db", Driver: "postgres", Schema: schemaV1}) {
		t.Errorf("loadConfig with DATABASE_URL and DEMO_DB_SCHEMA = %+v, %v; want postgres, v1", c.DB, err)
	}
	// A spec that binds a database sets DATABASE_URL for its migrations; the app ignores it.
	c, err = loadConfig(envFunc(map[string]string{"PORT": "0", "DATABASE_URL": "app.db", "DB_DRIVER": "mysql"}))
	if err != nil || c.DB.enabled() {
		t.Errorf("loadConfig with DATABASE_URL but no DEMO_DB_SCHEMA = %+v, %v; want database mode off", c.DB, err)
	}
}

// TestUsersBySchema checks, on both drivers, that each schema writes and reads the columns
// it names, and the endpoints' answers to bad input.
func TestUsersBySchema(t *testing.T) {
	idType := map[string]string{"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgres": "bigserial PRIMARY KEY"}
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			dsn, db := testDB(t, driver)
			exec(t, db, "CREATE TABLE users (id "+idType[driver]+", name text, full_name text)")
			for _, s := range []schema{schemaV0, schemaV1, schemaV2} {
				a := startApp(t, map[string]string{"DATABASE_URL": dsn, "DB_DRIVER": driver, "DEMO_DB_SCHEMA": string(s)})
				checkUserColumns(t, a.url, db, s)
			}
			a := startApp(t, map[string]string{"DATABASE_URL": dsn, "DB_DRIVER": driver, "DEMO_DB_SCHEMA": "v0"})
			bad := []struct {
				method, path string
				body         any
				want         int
				msg          string
			}{
				{"GET", "/users/999999", nil, 404, "no such user"},
				{"PUT", "/users/999999", user{Name: "x"}, 404, "no such user"},
				{"GET", "/users/abc", nil, 400, `id "abc"`},
				{"POST", "/users", map[string]string{}, 400, "name: required"},
				{"POST", "/users", map[string]int{"name": 1}, 400, "body:"},
				{"POST", "/users", map[string]string{"name": strings.Repeat("x", 201)}, 400, "name: want"},
			}
			for _, b := range bad {
				code, body := call(t, b.method, a.url+b.path, b.body)
				if code != b.want || !strings.Contains(body, b.msg) {
					t.Errorf("%s %s %v = %d %q, want %d %q", b.method, b.path, b.body, code, body, b.want, b.msg)
				}
			}
		})
	}
}

// checkUserColumns creates and renames a user through the app of schema s and checks the
// row's name and full_name columns.
func checkUserColumns(t *testing.T, base string, db *sql.DB, s schema) {
	t.Helper()
	code, body := call(t, "POST", base+"/users", user{Name: "ann " + string(s)})
	var u user
	if err := json.Unmarshal([]byte(body), &u); code != 201 || err != nil || u.ID <= 0 {
		t.Fatalf("%s: POST /users = %d %q, want 201 with an id", s, code, body)
	}
	path := base + "/users/" + jsonNumber(u.ID)
	if code, body := call(t, "PUT", path, user{Name: "bob " + string(s)}); code != 200 {
		t.Fatalf("%s: PUT = %d %q", s, code, body)
	}
	code, body = call(t, "GET", path, nil)
	if want := `{"id":` + jsonNumber(u.ID) + `,"name":"bob ` + string(s) + `"}` + "\n"; code != 200 || body != want {
		t.Errorf("%s: GET = %d %q, want 200 %q", s, code, body, want)
	}
	var name, full sql.NullString
	if err := db.QueryRow("SELECT name, full_name FROM users WHERE id = $1", u.ID).Scan(&name, &full); err != nil {
		t.Fatal(err)
	}
	want := map[schema][2]sql.NullString{
		schemaV0: {{String: "bob v0", Valid: true}, {}},
		schemaV1: {{String: "bob v1", Valid: true}, {String: "bob v1", Valid: true}},
		schemaV2: {{}, {String: "bob v2", Valid: true}},
	}[s]
	if d := cmp.Diff([2]sql.NullString{name, full}, want); d != "" {
		t.Errorf("%s: columns name, full_name (-got +want):\n%s", s, d)
	}
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestReadinessNeedsColumns: an app whose columns are missing is not ready until they exist,
// so a revision deployed before its expand never gets traffic.
func TestReadinessNeedsColumns(t *testing.T) {
	dsn, db := testDB(t, "sqlite")
	exec(t, db, "CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name text NOT NULL)")
	v0 := startApp(t, map[string]string{"DATABASE_URL": dsn, "DB_DRIVER": "sqlite", "DEMO_DB_SCHEMA": "v0"})
	v1 := startApp(t, map[string]string{"DATABASE_URL": dsn, "DB_DRIVER": "sqlite", "DEMO_DB_SCHEMA": "v1"})
	if code, body, _ := get(t, v0.url+"/healthz"); code != 200 {
		t.Errorf("v0 GET /healthz = %d %q, want 200", code, body)
	}
	if code, body, _ := get(t, v1.url+"/healthz"); code != 503 || !strings.Contains(body, "full_name") {
		t.Errorf("v1 GET /healthz before full_name exists = %d %q, want 503 naming full_name", code, body)
	}
	exec(t, db, "ALTER TABLE users ADD COLUMN full_name text")
	if code, body, _ := get(t, v1.url+"/healthz"); code != 200 {
		t.Errorf("v1 GET /healthz after ADD COLUMN = %d %q, want 200", code, body)
	}
	missing := startApp(t, map[string]string{"DATABASE_URL": filepath.Join(t.TempDir(), "no", "dir", "x.db"), "DB_DRIVER": "sqlite", "DEMO_DB_SCHEMA": "v0"})
	if code, body, _ := get(t, missing.url+"/healthz"); code != 503 || !strings.HasPrefix(body, "database: ") {
		t.Errorf("GET /healthz with an unreachable database = %d %q, want 503", code, body)
	}
}

// TestCreateTable: with DEMO_DB_CREATE=1 an SQLite database without a users table creates
// it, and is ready; without it, the same fresh file is not.
func TestCreateTable(t *testing.T) {
	env := func(create string) map[string]string {
		return map[string]string{"DATABASE_URL": filepath.Join(t.TempDir(), "app.db"), "DB_DRIVER": "sqlite",
			"DEMO_DB_SCHEMA": "v0", "DEMO_DB_CREATE": create}
	}
	if code, body, _ := get(t, startApp(t, env("1")).url+"/healthz"); code != 200 {
		t.Errorf("GET /healthz with DEMO_DB_CREATE=1 = %d %q, want 200", code, body)
	}
	if code, _, _ := get(t, startApp(t, env("")).url+"/healthz"); code != 503 {
		t.Errorf("GET /healthz of a fresh file without DEMO_DB_CREATE = %d, want 503", code)
	}
}
