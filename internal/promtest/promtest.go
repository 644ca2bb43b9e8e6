// Package promtest is test support: it finds the throwaway Prometheus server that
// scripts/install-prometheus starts for the tests, and its file_sd targets directory. It
// skips a test when the server is missing, except under CI=true, where it fails it.
package promtest

import (
	"cmp"
	"fmt"
	"net/http"
	"os"
	"testing"
)

// Require returns the test Prometheus' base URL (CUTOVER_TEST_PROM_URL, default
// http://127.0.0.1:9091) and the directory of its scrape targets (CUTOVER_TEST_PROM_TARGETS,
// default /tmp/cutover-prometheus/targets), or skips t (fails it under CI=true).
func Require(t testing.TB) (base, targets string) {
	t.Helper()
	base = cmp.Or(os.Getenv("CUTOVER_TEST_PROM_URL"), "http://127.0.0.1:9091")
	targets = cmp.Or(os.Getenv("CUTOVER_TEST_PROM_TARGETS"), "/tmp/cutover-prometheus/targets")
	resp, err := http.Get(base + "/-/ready")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
	}
	if _, serr := os.Stat(targets); err == nil && serr != nil {
		err = serr
	}
	if err != nil {
		msg := fmt.Sprintf("no test Prometheus at %s with targets in %s (%v): run scripts/install-prometheus", base, targets, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return base, targets
}
