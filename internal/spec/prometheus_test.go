package spec

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCondition(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Condition
		err  string
	}{
		{"result < 0.01", Condition{"<", 0.01}, ""},
		{"result <= 1", Condition{"<=", 1}, ""},
		{"result > -3", Condition{">", -3}, ""},
		{"result >= 0.95", Condition{">=", 0.95}, ""},
		{"result == 0", Condition{"==", 0}, ""},
		{"result != 2e3", Condition{"!=", 2000}, ""},
		{"result<0.5", Condition{"<", 0.5}, ""},
		{"  result   >=   7  ", Condition{">=", 7}, ""},
		{"", Condition{}, "must read"},
		{"result", Condition{}, "must read"},
		{"result < ", Condition{}, "must read"},
		{"value < 1", Condition{}, "must read"},
		{"result = 1", Condition{}, "must read"},
		{"result => 1", Condition{}, "must read"},
		{"result <> 1", Condition{}, "must read"}, {"result <>1", Condition{}, "not a finite number"},
		{"1 > result", Condition{}, "must read"},
		{"result < abc", Condition{}, "not a finite number"},
		{"result < NaN", Condition{}, "not a finite number"},
		{"result < +Inf", Condition{}, "not a finite number"},
		{"result < 1 and result > 0", Condition{}, "must read"},
	} {
		got, err := ParseCondition(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseCondition(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseCondition(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestExpandQuery(t *testing.T) {
	v := QueryVars{Service: "web", Canary: 7, Stable: 6}
	for _, tc := range []struct{ in, want string }{
		{`sum(rate(x{service="{{service}}",revision="{{canary}}"}[1m]))`, `sum(rate(x{service="web",revision="7"}[1m]))`},
		{`a{revision="{{ revision }}"} / b{revision="{{stable}}"}`, `a{revision="7"} / b{revision="6"}`},
		{`up{job="{{other}}"}`, `up{job="{{other}}"}`},
		{`vector(1)`, `vector(1)`},
	} {
		if got := ExpandQuery(tc.in, v); got != tc.want {
			t.Errorf("ExpandQuery(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	v.Revision = 6 // a counts query about stable
	if got, want := ExpandQuery(`r{revision="{{revision}}"} + {{canary}}`, v), `r{revision="6"} + 7`; got != want {
		t.Errorf("ExpandQuery with Revision = %q, want %q", got, want)
	}
}

// promDoc is a canary spec with the given prometheus list (YAML flow items, one per line).
func promDoc(items ...string) string {
	doc := base + "strategy:\n  canary:\n    steps: [weight: 5, analysis: {duration: 1m}]\n    analysis:\n      prometheus:\n"
	for _, it := range items {
		doc += "        - " + it + "\n"
	}
	return doc
}

const goodCheck = `{name: err, url: "http://127.0.0.1:9090", query: "sum(x)", condition: "result < 0.01"}`

func TestPrometheusValidation(t *testing.T) {
	const p = "strategy.canary.analysis.prometheus"
	for _, tc := range []struct {
		name string
		doc  string
		want []wantErr
	}{
		{"valid", promDoc(goodCheck), nil},
		{"valid https with path", promDoc(`{name: a, url: "https://mon.example.com/prom", query: "up", condition: "result == 1", failure_limit: 2, inconclusive_limit: 3}`), nil},
		{"name missing", promDoc(`{url: "http://p:9090", query: "up", condition: "result == 1"}`), []wantErr{{p + "[0].name", 0, "required"}}},
		{"name with space", promDoc(`{name: "a b", url: "http://p:9090", query: "up", condition: "result == 1"}`), []wantErr{{p + "[0].name", 0, "letters, digits"}}},
		{"name twice", promDoc(goodCheck, goodCheck), []wantErr{{p + "[1].name", 0, "already the name"}}},
		{"url missing", promDoc(`{name: a, query: "up", condition: "result == 1"}`), []wantErr{{p + "[0].url", 0, "required"}}},
		{"url scheme", promDoc(`{name: a, url: "ftp://p", query: "up", condition: "result == 1"}`), []wantErr{{p + "[0].url", 0, "http:// or https://"}}},
		{"url no host", promDoc(`{name: a, url: "http://", query: "up", condition: "result == 1"}`), []wantErr{{p + "[0].url", 0, "no host"}}},
		{"url relative", promDoc(`{name: a, url: "prometheus:9090", query: "up", condition: "result == 1"}`), []wantErr{{p + "[0].url", 0, "http:// or https://"}}},
		{"url with query", promDoc(`{name: a, url: "http://p/api/v1/query?query=up", query: "up", condition: "result == 1"}`), []wantErr{{p + "[0].url", 0, "base address"}}},
		{"query missing", promDoc(`{name: a, url: "http://p", query: "  ", condition: "result == 1"}`), []wantErr{{p + "[0].query", 0, "required"}}},
		{"query unknown placeholder", promDoc(`{name: a, url: "http://p", query: "up{x=\"{{svc}}\"}", condition: "result == 1"}`), []wantErr{{p + "[0].query", 0, "unknown placeholder {{svc}}"}}},
		{"condition missing", promDoc(`{name: a, url: "http://p", query: "up"}`), []wantErr{{p + "[0].condition", 0, "required"}}},
		{"condition bad", promDoc(`{name: a, url: "http://p", query: "up", condition: "up < 1"}`), []wantErr{{p + "[0].condition", 0, "must read \"result <op> number\""}}},
		{"intervals zero", promDoc(`{name: a, url: "http://p", query: "up", condition: "result == 1", interval: 0s, timeout: 0s}`),
			[]wantErr{{p + "[0].interval", 0, "greater than 0"}, {p + "[0].timeout", 0, "greater than 0"}}},
		{"limits negative", promDoc(`{name: a, url: "http://p", query: "up", condition: "result == 1", failure_limit: -1, inconclusive_limit: -2}`),
			[]wantErr{{p + "[0].failure_limit", 0, "negative"}, {p + "[0].inconclusive_limit", 0, "negative"}}},
		{"unknown field", promDoc(`{name: a, url: "http://p", query: "up", condition: "result == 1", step: 1m}`), []wantErr{{p + "[0].step", 0, "unknown field"}}},
		{"counts valid", promDoc(`{name: a, url: "http://p", requests: "sum(r{rev=\"{{revision}}\"})", errors: "sum(e{rev=\"{{ revision }}\"})"}`), nil},
		{"counts without revision", promDoc(`{name: a, url: "http://p", requests: "sum(r{rev=\"{{canary}}\"})", errors: "sum(e)"}`),
			[]wantErr{{p + "[0].requests", 0, "{{revision}}"}, {p + "[0].errors", 0, "{{revision}}"}}},
		{"counts half", promDoc(`{name: a, url: "http://p", requests: "sum(r{rev=\"{{revision}}\"})"}`), []wantErr{{p + "[0].errors", 0, "required"}}},
		{"counts and threshold", promDoc(`{name: a, url: "http://p", requests: "r{x=\"{{revision}}\"}", errors: "e{x=\"{{revision}}\"}", query: "up", condition: "result == 1"}`),
			[]wantErr{{p + "[0]", 0, "not both"}}},
		{"auth and tls valid", promDoc(`{name: a, url: "https://p", query: "up", condition: "result == 1", auth: {username: u, password_env: PROM_PASS}, tls: {ca_file: /etc/ca.pem, cert_file: /etc/c.pem, key_file: /etc/c.key, server_name: prom}}`), nil},
		{"bearer valid", promDoc(`{name: a, url: "https://p", query: "up", condition: "result == 1", auth: {bearer_token_env: PROM_TOKEN}}`), nil},
		{"auth both kinds", promDoc(`{name: a, url: "https://p", query: "up", condition: "result == 1", auth: {bearer_token_env: T, username: u, password_env: P}}`), []wantErr{{p + "[0].auth", 0, "not both"}}},
		{"auth empty", promDoc(`{name: a, url: "https://p", query: "up", condition: "result == 1", auth: {}}`), []wantErr{{p + "[0].auth", 0, "give bearer_token_env, or username"}}},
		{"auth half basic", promDoc(`{name: a, url: "https://p", query: "up", condition: "result == 1", auth: {username: u}}`), []wantErr{{p + "[0].auth", 0, "both username and password_env"}}},
		{"auth credential inline", promDoc(`{name: a, url: "https://p", query: "up", condition: "result == 1", auth: {bearer_token_env: "eyJ.abc-def"}}`), []wantErr{{p + "[0].auth.bearer_token_env", 0, "must name an env variable"}}},
		{"credentials in url", promDoc(`{name: a, url: "https://u:pw@p", query: "up", condition: "result == 1"}`), []wantErr{{p + "[0].url", 0, "must not carry credentials"}}},
		{"tls on http", promDoc(`{name: a, url: "http://p", query: "up", condition: "result == 1", tls: {ca_file: /ca.pem}}`), []wantErr{{p + "[0].tls", 0, "https://"}}},
		{"tls relative and half", promDoc(`{name: a, url: "https://p", query: "up", condition: "result == 1", tls: {ca_file: ca.pem, cert_file: /c.pem}}`),
			[]wantErr{{p + "[0].tls", 0, "cert_file and key_file together"}, {p + "[0].tls.ca_file", 0, "absolute path"}}},
		{"tls unknown field", promDoc(`{name: a, url: "https://p", query: "up", condition: "result == 1", tls: {insecure: true}}`), []wantErr{{p + "[0].tls.insecure", 0, "unknown field"}}},
		{"only prometheus is a metric", strings.Replace(promDoc(goodCheck), "    analysis:\n", "    analysis:\n      errors: false\n      latency: false\n", 1), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "")
			var got []wantErr
			if err != nil {
				for _, e := range fieldErrors(t, err) {
					got = append(got, wantErr{e.Path, 0, e.Message})
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Parse errors:\n%v\nwant %d: %v\ndoc:\n%s", err, len(tc.want), tc.want, tc.doc)
			}
			for i, w := range tc.want {
				if g := got[i]; g.path != w.path || !strings.Contains(g.msg, w.msg) {
					t.Errorf("error %d = %s: %s; want %s containing %q", i, g.path, g.msg, w.path, w.msg)
				}
			}
		})
	}
}

func TestPrometheusDefaultsAndRoundTrip(t *testing.T) {
	s := mustParse(t, []byte(promDoc(goodCheck, `{name: b, url: "http://p", query: "up", condition: "result == 1", interval: 1m, timeout: 2s, failure_limit: 3, inconclusive_limit: 4}`)))
	got := s.Strategy.Canary.Analysis.Prometheus
	want := []PrometheusCheck{
		{Name: "err", URL: "http://127.0.0.1:9090", Query: "sum(x)", Condition: "result < 0.01", Interval: sec(10), Timeout: sec(5)},
		{Name: "b", URL: "http://p", Query: "up", Condition: "result == 1", Interval: sec(60), Timeout: sec(2), FailureLimit: 3, InconclusiveLimit: 4},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("parsed checks (-want +got):\n%s", diff)
	}
	out, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, mustParse(t, out)); diff != "" {
		t.Errorf("Parse(Marshal) (-want +got):\n%s\n%s", diff, out)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Service
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, &back); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}

func TestPrometheusIsAMetric(t *testing.T) {
	a := CanaryAnalysis{Errors: new(false), Latency: new(false)}
	if a.HasMetric() {
		t.Fatalf("HasMetric() without anything = true")
	}
	a.Prometheus = []PrometheusCheck{{Name: "x"}}
	if !a.HasMetric() {
		t.Errorf("HasMetric() with a prometheus check = false, want true")
	}
}

// TestPrometheusCredentialsRedacted: a variable named by a check's auth is listed among the
// run's secrets, so the spec's env shows it redacted whatever its name; the credentials are
// read from env, and a missing one is named, its value never.
func TestPrometheusCredentialsRedacted(t *testing.T) {
	doc := strings.Replace(promDoc(`{name: a, url: "https://p", query: "up", condition: "result == 1", auth: {username: u, password_env: PROM_BASIC}}`),
		"run:\n", "run:\n  env: {PROM_BASIC: hunter22}\n", 1)
	s := mustParse(t, []byte(doc))
	if got := s.Run.Redacted()["PROM_BASIC"]; got != Redaction {
		t.Errorf("PROM_BASIC shown as %q, want %q", got, Redaction)
	}
	a := s.Strategy.Canary.Analysis.Prometheus[0].Auth
	if _, pw, err := PrometheusCredentials(a, s.Run.Env); err != nil || pw != "hunter22" {
		t.Errorf("PrometheusCredentials = %q, %v; want the password", pw, err)
	}
	if _, _, err := PrometheusCredentials(a, nil); err == nil || !strings.Contains(err.Error(), "PROM_BASIC is not set") {
		t.Errorf("PrometheusCredentials without env: %v, want it to name PROM_BASIC", err)
	}
}
