// Package testbin gives tests the real binaries they run: the demo app and cutover itself,
// taken from $CUTOVER_TEST_BIN when the test command built them, else built once per test
// process into a temporary directory. It is imported only by tests.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	mu    sync.Mutex
	built = map[string]string{}
	dir   string
)

// Demoapp returns the path of a static demo app binary (examples/demoapp).
func Demoapp(t testing.TB) string { return binary(t, "demoapp", "./examples/demoapp") }

// GRPCApp returns the path of a static gRPC test service binary (internal/testbin/grpcapp).
func GRPCApp(t testing.TB) string { return binary(t, "grpcapp", "./internal/testbin/grpcapp") }

// Cutover returns the path of the cutover binary (cmd/cutover).
func Cutover(t testing.TB) string { return binary(t, "cutover", "./cmd/cutover") }

func binary(t testing.TB, name, pkg string) string {
	t.Helper()
	if d := os.Getenv("CUTOVER_TEST_BIN"); d != "" {
		p := filepath.Join(d, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	if dir == "" {
		d, err := os.MkdirTemp("", "cutover-testbin-")
		if err != nil {
			t.Fatalf("testbin: %v", err)
		}
		dir = d
	}
	out := filepath.Join(dir, name)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = moduleRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testbin: build %s: %v\n%s", pkg, err, b)
	}
	built[name] = out
	return out
}

// moduleRoot is the repository root, found from this file's location.
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}
