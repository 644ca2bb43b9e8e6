// Command demoapp is a small HTTP app for trying cutover: every behaviour a deployment has to
// cope with (slow start, never ready, errors, latency, crashes, slow or ignored shutdown,
// streaming, long requests) is switched on by an environment variable. See app/config.go for
// the variables and app/handlers.go for the endpoints. With DEMO_DB_SCHEMA set it also keeps
// users in PostgreSQL (pgx) or SQLite (modernc.org/sqlite) at DATABASE_URL, in the columns it
// names (app/db.go), for the rename-column exercise. Both drivers are pure Go: it builds
// with CGO_ENABLED=0, so a FROM scratch image can run it. The same app is built into cutover
// as the hidden `cutover demoapp` command, which `cutover demo` runs.
package main

import (
	"os"

	"github.com/cutover/cutover/examples/demoapp/app"
)

func main() {
	os.Exit(app.Run(os.Getenv, os.Stdout, os.Stderr))
}
