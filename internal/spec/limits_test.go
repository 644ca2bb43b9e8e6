package spec

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestRouteLimitsParse(t *testing.T) {
	for _, tc := range []struct {
		name      string
		route     string // YAML appended under route:
		wantBody  int64
		wantConc  int
		wantQueue time.Duration
		wantTLS   *RouteTLS
	}{
		{"defaults", "", DefaultMaxBody, 0, 0, nil},
		{"body with unit", "  max_body: 10m\n", 10 << 20, 0, 0, nil},
		{"body in bytes", "  max_body: \"1000\"\n", 1000, 0, 0, nil},
		{"body uncapped", "  max_body: \"0\"\n", 0, 0, 0, nil},
		{"concurrency takes the default queue timeout", "  max_concurrency: 100\n", DefaultMaxBody, 100, DefaultQueueTimeout.D(), nil},
		{"concurrency with queue timeout", "  max_concurrency: 5\n  queue_timeout: 2s\n", DefaultMaxBody, 5, 2 * time.Second, nil},
		{"concurrency refusing at once", "  max_concurrency: 5\n  queue_timeout: 0s\n", DefaultMaxBody, 5, 0, nil},
		{"tls", "  tls: {cert: /etc/web.crt, key: /etc/web.key}\n", DefaultMaxBody, 0, 0, &RouteTLS{Cert: "/etc/web.crt", Key: "/etc/web.key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse([]byte(base+tc.route), "")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			r := s.Route
			if got := r.MaxBodyBytes(); got != tc.wantBody {
				t.Errorf("MaxBodyBytes = %d, want %d", got, tc.wantBody)
			}
			if r.MaxConcurrency != tc.wantConc || r.QueueTimeout.D() != tc.wantQueue {
				t.Errorf("max_concurrency %d queue_timeout %v, want %d %v", r.MaxConcurrency, r.QueueTimeout, tc.wantConc, tc.wantQueue)
			}
			if (r.TLS == nil) != (tc.wantTLS == nil) || (r.TLS != nil && *r.TLS != *tc.wantTLS) {
				t.Errorf("tls %+v, want %+v", r.TLS, tc.wantTLS)
			}
		})
	}
}

func TestRouteLimitsValidation(t *testing.T) {
	for _, tc := range []struct {
		name  string
		route string
		want  []wantErr
	}{
		{"body garbage", "  max_body: lots\n", []wantErr{{"route.max_body", 6, "want a size"}}},
		{"body negative", "  max_body: \"-5\"\n", []wantErr{{"route.max_body", 6, "want a size"}}},
		{"concurrency negative", "  max_concurrency: -1\n", []wantErr{{"route.max_concurrency", 6, "negative"}}},
		{"concurrency too large", "  max_concurrency: 2000000\n", []wantErr{{"route.max_concurrency", 6, "at most"}}},
		{"queue timeout negative", "  max_concurrency: 2\n  queue_timeout: -1s\n", []wantErr{{"route.queue_timeout", 7, "negative"}}},
		{"queue timeout without a cap", "  queue_timeout: 1s\n", []wantErr{{"route.queue_timeout", 6, "needs route.max_concurrency"}}},
		{"tls without files", "  tls: {}\n", []wantErr{{"route.tls.cert", 6, "required"}, {"route.tls.key", 6, "required"}}},
		{"tls unknown field", "  tls: {cert: a, key: b, ca: c}\n", []wantErr{{"route.tls.ca", 6, "unknown field"}}},
		{"acme without hosts", "  tls: {acme: true}\n", []wantErr{{"route.tls.acme", 6, "needs route.hosts"}}},
		{"acme with files", "  hosts: [a.example]\n  tls: {acme: true, cert: a, key: b}\n", []wantErr{{"route.tls.acme", 7, "cannot be combined"}}},
		{"acme wildcard", "  hosts: [\"*.a.example\"]\n  tls: {acme: true}\n", []wantErr{{"route.hosts[0]", 6, "wildcard"}}},
		{"http listen bad", "  hosts: [a.example]\n  tls: {acme: true, http_listen: nowhere, hsts: -1s}\n", []wantErr{{"route.tls.http_listen", 7, "host:port"}, {"route.tls.hsts", 7, "negative"}}},
		{"protocol unknown", "  protocol: h3\n", []wantErr{{"route.protocol", 6, "http1 or h2c"}}},
		{"acme ok", "  hosts: [a.example]\n  tls: {acme: true, http_listen: \":8081\", hsts: 8760h}\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(base+tc.route), "")
			var got []wantErr
			if err != nil {
				for _, e := range fieldErrors(t, err) {
					got = append(got, wantErr{e.Path, e.Line, e.Message})
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("Parse(%q) errors:\n%v\nwant %d: %v", tc.route, err, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				g := got[i]
				if g.path != w.path || g.line != w.line || !strings.Contains(g.msg, w.msg) {
					t.Errorf("error %d = %s (line %d): %s; want %s (line %d) containing %q", i, g.path, g.line, g.msg, w.path, w.line, w.msg)
				}
			}
		})
	}
}

// TestRouteLimitsKeepHash: a spec that sets no limit hashes as it did before limits existed,
// so redeploying it after an upgrade is not a new revision.
func TestRouteLimitsKeepHash(t *testing.T) {
	s, err := Parse([]byte(base), "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range []string{"max_body", "max_concurrency", "queue_timeout", "tls"} {
		if strings.Contains(string(b), field) {
			t.Errorf("JSON of a spec without limits holds %q: %s", field, b)
		}
	}
}
