// Package redact hides a service's secret values in text its instances and hooks print: the
// values of its secret env variables, of its hooks' env, and the password of each URL with
// credentials among them.
package redact

import (
	"cmp"
	"slices"
	"strings"

	"github.com/cutover/cutover/internal/spec"
)

// minSecretLen is the shortest value a redactor looks for: shorter ones would garble
// ordinary text and are not worth hiding.
const minSecretLen = 4

// Values lists the secret values of s's env and of its hooks' env, and the password of
// each URL with credentials among them.
func Values(s spec.Service) []string {
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

// Redactor hides a set of secret values in text.
type Redactor struct{ values []string }

// New keeps the values worth hiding, longest first, so that one containing another
// is hidden whole.
func New(values []string) Redactor {
	var keep []string
	for _, v := range values {
		if len(v) >= minSecretLen && !slices.Contains(keep, v) {
			keep = append(keep, v)
		}
	}
	slices.SortFunc(keep, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return Redactor{values: keep}
}

// Redact replaces every secret value in text with spec.Redaction.
func (r Redactor) Redact(text string) string {
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

// Service hides rs's secret values in text (fleet.Config.Secrets).
func Service(rs spec.Service) func(string) string {
	return New(Values(rs)).Redact
}
