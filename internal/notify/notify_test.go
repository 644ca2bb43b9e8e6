package notify

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/spec"
)

func TestSignMatchesGitHubScheme(t *testing.T) {
	// HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a published vector.
	got := Sign("key", []byte("The quick brown fox jumps over the lazy dog"))
	if want := "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"; got != want {
		t.Errorf("Sign: got %s, want %s", got, want)
	}
}

func TestRedactURLKeepsOnlySchemeAndHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T0/B0/SECRET": "https://hooks.slack.com/…",
		"http://user:pw@127.0.0.1:9/x?token=y":          "http://127.0.0.1:9/…",
		"not a url":                                     "(a URL)",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadConfigNamesTheField(t *testing.T) {
	for body, want := range map[string]string{
		"notify:\n  - {name: a, type: sms, url: 'https://x/y'}\n":                        "notify[0].type",
		"notify:\n  - {name: a, type: webhook, url: 'ftp://x/y'}\n":                      "notify[0].url",
		"notify:\n  - {name: a, type: slack, url: 'https://x/y', secret: s}\n":           "notify[0].secret",
		"notify:\n  - {name: a, type: webhook, url: 'https://x/y', events: [boom]}\n":    "notify[0].events[0]",
		"notify:\n  - {name: a, type: webhook, url: 'https://x/SECRETPATH', bogus: 1}\n": "bogus",
	} {
		p := filepath.Join(t.TempDir(), "n.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(p)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "SECRETPATH") {
			t.Errorf("LoadConfig(%q): %v; want an error naming %s, without the URL's path", body, err, want)
		}
	}
}

func TestEventNamesAgreeWithSpec(t *testing.T) {
	if strings.Join(Events, ",") != strings.Join(spec.NotifyEvents, ",") {
		t.Errorf("notify.Events %v and spec.NotifyEvents %v differ", Events, spec.NotifyEvents)
	}
}

func TestNameOfRecordedEvents(t *testing.T) {
	for typ, want := range map[string]string{"deployment_started": EventStarted, "deployment_rolled_back": EventRolledBack,
		"deployment_promote_full_requested": EventPromoted, "instance_ready": "", "instance_crash_loop": EventCrashLoop} {
		if got := Name(api.Event{Type: typ}); got != want {
			t.Errorf("Name(%s) = %q, want %q", typ, got, want)
		}
	}
	if got := Name(api.Event{Type: "deployment_progress", Message: "awaiting promote step 2"}); got != EventWaiting {
		t.Errorf("a deployment awaiting a promote is %q, want %q", got, EventWaiting)
	}
}

func TestBackoffDoublesUpToTheCap(t *testing.T) {
	n := New(nil, nil, nil, nil, Config{MinBackoff: time.Second, MaxBackoff: 10 * time.Second})
	var got []time.Duration
	for a := range 6 {
		got = append(got, n.backoff(a))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("backoff: got %v, want %v", got, want)
		}
	}
}
