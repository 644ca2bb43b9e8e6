package deploymetrics

import (
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cutover/cutover/internal/proxy"
)

const monitoringDir = "../../docs/monitoring"

// TestAlertRulesPassPromtool: docs/monitoring/cutover-alerts.yml is accepted by
// `promtool check rules` (Debian's prometheus package; skipped without it unless CI=true).
func TestAlertRulesPassPromtool(t *testing.T) {
	bin, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is not installed (scripts/install-prometheus installs it)")
		}
		t.Skip("promtool is not installed")
	}
	out, err := exec.Command(bin, "check", "rules", filepath.Join(monitoringDir, "cutover-alerts.yml")).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules: %v\n%s", err, out)
	}
}

// TestMonitoringFilesNameExportedSeries: every cutover_* series the alert rules and the
// Grafana dashboard query is one the daemon exports (this package's or the proxy's).
func TestMonitoringFilesNameExportedSeries(t *testing.T) {
	known := map[string]bool{}
	ch := make(chan *prometheus.Desc, 32)
	New(nil).Describe(ch)
	proxy.New(slog.New(slog.DiscardHandler), proxy.Config{}).Collector().Describe(ch)
	close(ch)
	name := regexp.MustCompile(`fqName: "([a-z_]+)"`)
	for d := range ch {
		known[name.FindStringSubmatch(d.String())[1]] = true
	}
	rules, err := os.ReadFile(filepath.Join(monitoringDir, "cutover-alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	dash, err := os.ReadFile(filepath.Join(monitoringDir, "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct{ Targets []struct{ Expr string } }
	}
	if err := json.Unmarshal(dash, &d); err != nil || len(d.Panels) == 0 {
		t.Fatalf("grafana-dashboard.json: %v (%d panels)", err, len(d.Panels))
	}
	text := string(rules)
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			text += "\n" + tg.Expr
		}
	}
	series := regexp.MustCompile(`cutover_[a-z0-9_]+`).FindAllString(text, -1)
	for _, s := range series {
		base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(s, "_bucket"), "_sum"), "_count")
		if !known[base] && !strings.HasPrefix(s, "cutover_test") {
			t.Errorf("the monitoring files query %s, which cutover does not export (known: %v)", s, known)
		}
	}
	if len(series) < 5 {
		t.Errorf("only %d series named in the monitoring files", len(series))
	}
}
