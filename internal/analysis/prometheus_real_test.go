package analysis

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/promtest"
)

// realPrometheus returns the URL of the test Prometheus started by scripts/install-prometheus
// and makes it scrape handler (served on 127.0.0.1:0) under a label cutover_test_run=<run>,
// waiting until the first scrape is visible. It skips when the server is missing, except
// under CI, where it fails.
func realPrometheus(t *testing.T, handler http.Handler) (base, run string) {
	t.Helper()
	base, targets := promtest.Require(t)
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	run = hex.EncodeToString(b)
	file := filepath.Join(targets, "run-"+run+".json")
	sd := fmt.Sprintf(`[{"targets":[%q],"labels":{"cutover_test_run":%q}}]`, strings.TrimPrefix(srv.URL, "http://"), run)
	// Write then rename, so that Prometheus never reads half a file.
	if err := os.WriteFile(file+".tmp", []byte(sd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(file) })
	src := NewPrometheusSource(base, nil)
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, err := src.Query(t.Context(), fmt.Sprintf(`count(up{cutover_test_run=%q} == 1)`, run))
		if err == nil && v == 1 {
			return base, run
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus at %s did not scrape the test target within 30s: last answer %v, %v", base, v, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// exporter serves metrics in Prometheus' text format: an error ratio per revision and a NaN.
const exporter = `# TYPE cutover_test_error_ratio gauge
cutover_test_error_ratio{revision="1"} 0.002
cutover_test_error_ratio{revision="2"} 0.05
# TYPE cutover_test_nan gauge
cutover_test_nan NaN
`

// TestRealPrometheus asks a real Prometheus about metrics it scraped from the test, through
// PrometheusSource and EvaluateCheck, for each kind of answer a check can meet.
func TestRealPrometheus(t *testing.T) {
	base, run := realPrometheus(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, exporter)
	}))
	sel := fmt.Sprintf(`cutover_test_run=%q`, run)
	lt := Condition{"<", 0.01}
	for _, tc := range []struct {
		name   string
		query  string
		want   Outcome
		value  float64
		reason string
	}{
		{"stable passes", `cutover_test_error_ratio{` + sel + `,revision="1"}`, Pass, 0.002, "result 0.002 satisfies result < 0.01"},
		{"canary fails", `cutover_test_error_ratio{` + sel + `,revision="2"}`, Fail, 0.05, "result 0.05 does not satisfy result < 0.01"},
		{"scalar", `scalar(sum(cutover_test_error_ratio{` + sel + `}))`, Fail, 0.052, "does not satisfy result < 0.01"},
		{"no data", `cutover_test_error_ratio{` + sel + `,revision="9"}`, Inconclusive, math.NaN(), "query returned no data"},
		{"two series", `cutover_test_error_ratio{` + sel + `}`, Inconclusive, math.NaN(), "query returned 2 series, want one"},
		{"matrix", `cutover_test_error_ratio{` + sel + `,revision="1"}[1m]`, Inconclusive, math.NaN(), `"matrix" result`},
		{"NaN", `cutover_test_nan{` + sel + `}`, Inconclusive, math.NaN(), "query returned NaN"},
		{"0/0", `sum(cutover_test_error_ratio{` + sel + `,revision="1"}) * 0 / 0`, Inconclusive, math.NaN(), "query returned NaN"},
		{"bad PromQL", `sum(cutover_test_error_ratio{` + sel + `}`, Inconclusive, math.NaN(), "answered HTTP 400"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewPrometheusSource(base, nil).Query(t.Context(), tc.query)
			got := EvaluateCheck(lt, v, err)
			if got.Outcome != tc.want || !strings.Contains(got.Reason, tc.reason) {
				t.Fatalf("query %s: %+v (err %v), want %s with reason containing %q", tc.query, got, err, tc.want, tc.reason)
			}
			if !math.IsNaN(tc.value) && math.Abs(got.Value-tc.value) > 1e-12 {
				t.Errorf("query %s: value %v, want %v", tc.query, got.Value, tc.value)
			}
			if tc.name == "no data" && !errors.Is(err, ErrNoData) {
				t.Errorf("query %s: error %v is not ErrNoData", tc.query, err)
			}
		})
	}
	u, _ := url.Parse(base)
	v, err := NewPrometheusSource(u.String()+"/", nil).Query(t.Context(), fmt.Sprintf(`count(up{cutover_test_run=%q})`, run))
	if err != nil || v != 1 {
		t.Errorf("Query via %s/ (trailing slash): %v, %v; want 1", base, v, err)
	}
}
