package spec

import (
	"maps"
	"slices"
	"strings"
)

// Redaction replaces a secret value wherever a spec's env is shown.
const Redaction = "[redacted]"

var (
	secretSuffixes = []string{"_KEY", "_SECRET", "_TOKEN", "_PASSWORD"}
	secretNames    = []string{"PASSWORD", "SECRET", "TOKEN", "API_KEY"}
	urlSuffixes    = []string{"_URL", "_DSN"}
)

// IsSecret reports whether an env name looks like it holds a secret: it ends in _KEY, _SECRET,
// _TOKEN or _PASSWORD, or is PASSWORD, SECRET, TOKEN or API_KEY, in any case.
func IsSecret(name string) bool {
	up := strings.ToUpper(name)
	if slices.Contains(secretNames, up) {
		return true
	}
	return slices.ContainsFunc(secretSuffixes, func(s string) bool { return strings.HasSuffix(up, s) })
}

// IsSecretValue reports whether a URL-like env value carries credentials: the name is URL or DSN
// or ends in _URL or _DSN (DATABASE_URL, SENTRY_DSN), and the value has a password before an "@"
// ("postgres://app:pw@db/app", "redis://:pw@cache", "app:pw@tcp(db:3306)/app").
func IsSecretValue(name, value string) bool {
	up := strings.ToUpper(name)
	urlish := up == "URL" || up == "DSN" ||
		slices.ContainsFunc(urlSuffixes, func(s string) bool { return strings.HasSuffix(up, s) })
	if !urlish {
		return false
	}
	rest := value
	if _, after, ok := strings.Cut(value, "://"); ok {
		rest = after
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i] // credentials come before the path and query
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return false
	}
	userinfo := rest[:at]
	_, password, ok := strings.Cut(userinfo, ":")
	return ok && password != ""
}

// Redacted returns a copy of Env with every secret value replaced by Redaction: the keys named
// in Secrets and those IsSecret or IsSecretValue picks out. It returns nil for an empty Env.
func (r Run) Redacted() map[string]string {
	if len(r.Env) == 0 {
		return nil
	}
	out := maps.Clone(r.Env)
	for k, v := range out {
		if slices.Contains(r.Secrets, k) || IsSecret(k) || IsSecretValue(k, v) {
			out[k] = Redaction
		}
	}
	return out
}
