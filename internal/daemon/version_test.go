package daemon

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestVersionAgreesAndLogsJSON: `cutover --version` prints what GET /v1/daemon answers, and
// `serve --log-format json` writes one JSON object a line.
func TestVersionAgreesAndLogsJSON(t *testing.T) {
	p := startDaemonProc(t, "--log-format", "json")
	info, err := p.info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(p.bin, "--version").Output()
	if err != nil {
		t.Fatalf("--version: %v", err)
	}
	if got, want := strings.TrimSpace(string(out)), info.Info.String(); got != want || info.Go == "" {
		t.Errorf("--version prints %q, GET /v1/daemon says %q (%+v)", got, want, info)
	}
	lines := 0
	sc := bufio.NewScanner(strings.NewReader(p.log()))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec["msg"] == nil {
			t.Errorf("log line %q is not a JSON record: %v", sc.Text(), err)
		}
		lines++
	}
	if lines == 0 {
		t.Error("the daemon logged nothing")
	}
}
