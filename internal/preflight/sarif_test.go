package preflight

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	// The SARIF 2.1.0 schema comes from go-sarif's source; the import keeps the module.
	_ "github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
	"github.com/xeipuuv/gojsonschema"
)

// sarifSchema reads the SARIF 2.1.0 JSON schema that go-sarif ships in its source.
func sarifSchema(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/owenrumney/go-sarif/v3").Output()
	if err != nil {
		t.Fatalf("find go-sarif: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "pkg/report/v210/sarif/schema.go"))
	if err != nil {
		t.Fatal(err)
	}
	first, last := bytes.IndexByte(src, '`'), bytes.LastIndexByte(src, '`')
	if first < 0 || last <= first {
		t.Fatal("go-sarif's schema.go holds no schema")
	}
	return string(src[first+1 : last])
}

// validateSARIF validates a SARIF log against the SARIF 2.1.0 schema.
func validateSARIF(t *testing.T, schema string, data []byte) []string {
	t.Helper()
	res, err := gojsonschema.Validate(gojsonschema.NewStringLoader(schema), gojsonschema.NewBytesLoader(data))
	if err != nil {
		t.Fatalf("validate SARIF: %v", err)
	}
	var errs []string
	for _, e := range res.Errors() {
		errs = append(errs, e.String())
	}
	return errs
}

func TestSARIFValidates(t *testing.T) {
	schema := sarifSchema(t)
	fs := badDockerfile(t)
	fs[0].Override = "a reason"
	var buf bytes.Buffer
	if err := SARIF(&buf, "test", fs); err != nil {
		t.Fatal(err)
	}
	if errs := validateSARIF(t, schema, buf.Bytes()); len(errs) > 0 {
		t.Fatalf("SARIF log does not validate: %v\n%s", errs, buf.String())
	}
	if n := strings.Count(buf.String(), `"ruleId"`); n != len(fs) {
		t.Errorf("results: %d, want %d", n, len(fs))
	}
	if !strings.Contains(buf.String(), `"justification": "a reason"`) {
		t.Errorf("the overridden finding carries no suppression")
	}
	broken := bytes.Replace(buf.Bytes(), []byte(`"level": "error"`), []byte(`"level": "fatal"`), 1)
	if errs := validateSARIF(t, schema, broken); len(errs) == 0 {
		t.Errorf("a log with level fatal validates: the validation checks nothing")
	}
	var empty bytes.Buffer
	if err := SARIF(&empty, "test", nil); err != nil {
		t.Fatal(err)
	}
	if errs := validateSARIF(t, schema, empty.Bytes()); len(errs) > 0 {
		t.Errorf("an empty SARIF log does not validate: %v", errs)
	}
}
