// Command demoapp is a small HTTP app for trying cutover: every behaviour a deployment has to
// cope with (slow start, never ready, errors, latency, crashes, slow or ignored shutdown,
// streaming, long requests) is switched on by an environment variable. See app/config.go for
// the variables and app/handlers.go for the endpoints. It uses only the standard library and
// builds with CGO_ENABLED=0, so a FROM scratch image can run it. The same app is built into
// cutover as the hidden `cutover demoapp` command, which `cutover demo` runs.
package main

import (
	"os"

	"github.com/cutover/cutover/examples/demoapp/app"
)

func main() {
	os.Exit(app.Run(os.Getenv, os.Stdout, os.Stderr))
}
