package userload

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cutover/cutover/internal/testbin"
	_ "modernc.org/sqlite"
)

// startDemoapp runs the real demo app binary on an SQLite file and returns its URL.
func startDemoapp(t *testing.T, dsn string) string {
	t.Helper()
	cmd := exec.Command(testbin.Demoapp(t))
	cmd.Env = []string{"LISTEN_ADDR=127.0.0.1:0", "VERSION=t1", "DATABASE_URL=" + dsn, "DB_DRIVER=sqlite", "DEMO_DB_SCHEMA=v0"}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(line, "listening on ")
	if err != nil || !ok {
		t.Fatalf("demoapp's first line = %q, %v; want \"listening on ADDR ...\"", line, err)
	}
	return "http://" + strings.Fields(addr)[0]
}

func TestRunAgainstDemoapp(t *testing.T) {
	dsn := filepath.Join(t.TempDir(), "app.db")
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{"CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, name text NOT NULL)",
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 50) INSERT INTO users (name) SELECT 'seed' FROM n"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	url := startDemoapp(t, dsn)
	rep, err := Run(t.Context(), Config{URL: url, Rate: 200, MaxTasks: 300, Workers: 300, Seed: 50})
	if err != nil {
		t.Fatal(err)
	}
	if n := rep.FailedRequests(); n != 0 || rep.Dropped != 0 {
		t.Fatalf("failed %d (%v), dropped %d; errors: %q", n, rep.Failed, rep.Dropped, rep.Errors)
	}
	if rep.Tasks != 300 || rep.Requests != 600 || rep.ByVersion["t1"] != 600 {
		t.Errorf("tasks %d, requests %d, by version %v; want 300, 600, all t1", rep.Tasks, rep.Requests, rep.ByVersion)
	}
	actual := readUsers(t, db)
	renamed := 0
	for _, name := range actual {
		if strings.Contains(name, "renamed") {
			renamed++
		}
	}
	seeded := 0
	for id := range rep.Users {
		if id <= 50 {
			seeded++
		}
	}
	if len(rep.Users) < 150 || renamed == 0 || seeded == 0 {
		t.Errorf("%d users acknowledged (%d seeded ones), %d renamed in the table; want >= 150, some seeded, some renamed",
			len(rep.Users), seeded, renamed)
	}
	if missing, wrong := rep.Check(actual); len(missing)+len(wrong) != 0 {
		t.Errorf("Check: missing %v, wrong %v", missing, wrong)
	}
	// The check must see a lost and a changed row: two acknowledged rows (the table may hold
	// rows no answer acknowledged, which the check rightly ignores).
	acked := slices.Sorted(maps.Keys(rep.Users))
	delete(actual, acked[0])
	actual[acked[1]] = "changed"
	if missing, wrong := rep.Check(actual); len(missing) != 1 || len(wrong) != 1 {
		t.Errorf("Check after deleting and changing a row: missing %v, wrong %v; want one each", missing, wrong)
	}
}

func readUsers(t *testing.T, db *sql.DB) map[int64]string {
	t.Helper()
	rows, err := db.Query("SELECT id, name FROM users")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		out[id] = name
	}
	return out
}

// faultyApp is an in-memory /users app that loses or alters what it was told, to show that
// Run notices: every third read of a user answers 404 (lose) or another name (alter).
func faultyApp(fault string) http.Handler {
	var mu sync.Mutex
	users := map[string]string{}
	reads := 0
	mux := http.NewServeMux()
	mux.HandleFunc("POST /users", func(w http.ResponseWriter, r *http.Request) {
		var u user
		json.NewDecoder(r.Body).Decode(&u)
		mu.Lock()
		u.ID = int64(len(users) + 1)
		users[fmt.Sprint(u.ID)] = u.Name
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(u)
	})
	mux.HandleFunc("PUT /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		var u user
		json.NewDecoder(r.Body).Decode(&u)
		mu.Lock()
		users[r.PathValue("id")] = u.Name
		mu.Unlock()
	})
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		name := users[r.PathValue("id")]
		reads++
		bad := reads%3 == 0
		mu.Unlock()
		switch {
		case bad && fault == "lose":
			http.Error(w, "no such user", http.StatusNotFound)
		case bad && fault == "alter":
			name += "?"
			fallthrough
		default:
			fmt.Fprintf(w, `{"id": %s, "name": %q}`, r.PathValue("id"), name)
		}
	})
	return mux
}

func TestRunNoticesLostAndAlteredWrites(t *testing.T) {
	for _, fault := range []string{"lose", "alter"} {
		t.Run(fault, func(t *testing.T) {
			srv := httptest.NewServer(faultyApp(fault))
			defer srv.Close()
			rep, err := Run(t.Context(), Config{URL: srv.URL, Rate: 100, MaxTasks: 30, Workers: 30})
			if err != nil {
				t.Fatal(err)
			}
			// As many workers as tasks: none is dropped, each reads once, in any order.
			reads := rep.Tasks - rep.Dropped
			got := map[string]int{"lose": rep.Lost, "alter": rep.Mismatches}[fault]
			if reads != 30 || got != 10 || rep.FailedRequests() != 10 {
				t.Errorf("%s: %d reads; lost %d, mismatches %d, failed %d; want every third read counted",
					fault, reads, rep.Lost, rep.Mismatches, rep.FailedRequests())
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		cfg  Config
		want string
	}{
		{Config{URL: "http://10.1.2.3:80", Rate: 1, MaxTasks: 1}, "not a loopback address"},
		{Config{URL: "http://127.0.0.1:1", Rate: 0, MaxTasks: 1}, "rate 0"},
		{Config{URL: "http://127.0.0.1:1", Rate: 1}, "duration or max tasks"},
		{Config{URL: "ftp://127.0.0.1:1", Rate: 1, MaxTasks: 1}, "scheme must be http"},
	}
	for _, tt := range tests {
		_, err := Run(context.Background(), tt.cfg)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run(%+v) = %v, want an error containing %q", tt.cfg, err, tt.want)
		}
	}
	_, err := Run(context.Background(), Config{URL: "http://example.com", Rate: 1, MaxTasks: 1})
	if !errors.Is(err, ErrNotLoopback) {
		t.Errorf("Run(example.com) = %v, want ErrNotLoopback", err)
	}
}
