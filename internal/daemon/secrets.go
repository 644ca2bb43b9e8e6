package daemon

import (
	"cmp"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/spec"
)

// minSecretLen is the shortest value a redactor looks for: shorter ones would garble
// ordinary text and are not worth hiding.
const minSecretLen = 4

// secretValues lists the secret values of s's env and of its hooks' env, and the password of
// each URL with credentials among them.
func secretValues(s spec.Service) []string {
	var values []string
	add := func(env map[string]string, listed []string) {
		for k, v := range env {
			if slices.Contains(listed, k) || spec.IsSecret(k) || spec.IsSecretValue(k, v) {
				values = append(values, v, urlPassword(v))
			}
		}
	}
	add(s.Run.Env, s.Run.Secrets)
	for _, h := range []*spec.Hook{s.Hooks.PreDeploy, s.Hooks.Smoke, s.Hooks.PostPromote} {
		if h != nil {
			add(h.Env, nil)
		}
	}
	return values
}

// redactor hides a set of secret values in text.
type redactor struct{ values []string }

// newRedactor keeps the values worth hiding, longest first, so that one containing another
// is hidden whole.
func newRedactor(values []string) redactor {
	var keep []string
	for _, v := range values {
		if len(v) >= minSecretLen && !slices.Contains(keep, v) {
			keep = append(keep, v)
		}
	}
	slices.SortFunc(keep, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return redactor{values: keep}
}

func (r redactor) redact(text string) string {
	for _, v := range r.values {
		text = strings.ReplaceAll(text, v, spec.Redaction)
	}
	return text
}

// urlPassword returns the password in a URL-like value ("postgres://app:pw@db/app" → "pw"),
// or "".
func urlPassword(v string) string {
	rest := v
	if _, after, ok := strings.Cut(v, "://"); ok {
		rest = after
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return ""
	}
	_, pw, _ := strings.Cut(rest[:at], ":")
	return pw
}

// secretsOf hides rs's secret values in text (fleet.Config.Secrets).
func secretsOf(rs spec.Service) func(string) string {
	return newRedactor(secretValues(rs)).redact
}
