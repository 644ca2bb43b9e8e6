package spec

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIsSecret(t *testing.T) {
	for name, want := range map[string]bool{
		"STRIPE_KEY": true, "api_key": true, "API_KEY": true, "JWT_SECRET": true, "GITHUB_TOKEN": true,
		"DB_PASSWORD": true, "password": true, "Secret": true, "TOKEN": true,
		"KEYBOARD": false, "LOG_LEVEL": false, "TOKENS_PER_MINUTE": false, "PASSWORD_MIN_LENGTH": false, "DATABASE_URL": false,
	} {
		if got := IsSecret(name); got != want {
			t.Errorf("IsSecret(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestIsSecretValue(t *testing.T) {
	for _, tc := range []struct {
		name, value string
		want        bool
	}{
		{"DATABASE_URL", "postgres://app:hunter2@db:5432/app", true},
		{"database_url", "postgres://app:hunter2@db/app?sslmode=off", true},
		{"REDIS_URL", "redis://:pw@cache:6379", true},
		{"MYSQL_DSN", "app:pw@tcp(db:3306)/app", true},
		{"SENTRY_DSN", "https://public@sentry.example.com/1", false},
		{"DATABASE_URL", "postgres://db:5432/app", false},
		{"DATABASE_URL", "postgres://app@db/app", false},
		{"DATABASE_URL", "postgres://db/app?user=a@b:c", false},
		{"HOME_PAGE", "https://u:p@example.com", false},
		{"URL", "https://u:p@example.com", true},
	} {
		if got := IsSecretValue(tc.name, tc.value); got != tc.want {
			t.Errorf("IsSecretValue(%q, %q) = %v, want %v", tc.name, tc.value, got, tc.want)
		}
	}
}

func TestRedacted(t *testing.T) {
	r := Run{
		Env: map[string]string{
			"LOG_LEVEL":    "debug",
			"STRIPE_KEY":   "sk_live",
			"SESSION":      "abc",
			"DATABASE_URL": "postgres://app:pw@db/app",
			"CACHE_URL":    "redis://cache:6379",
		},
		Secrets: []string{"SESSION"},
	}
	want := map[string]string{
		"LOG_LEVEL":    "debug",
		"STRIPE_KEY":   "[redacted]",
		"SESSION":      "[redacted]",
		"DATABASE_URL": "[redacted]",
		"CACHE_URL":    "redis://cache:6379",
	}
	if diff := cmp.Diff(want, r.Redacted()); diff != "" {
		t.Errorf("Redacted (-want +got):\n%s", diff)
	}
	if r.Env["STRIPE_KEY"] != "sk_live" {
		t.Errorf("Redacted changed the Run's own env: %v", r.Env)
	}
	if got := (Run{}).Redacted(); got != nil {
		t.Errorf("Run{}.Redacted() = %v, want nil", got)
	}
}
