package spec

import (
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
)

// PrometheusAuth authenticates a check to its Prometheus. Credentials are never written in the
// spec: each *_env field names a variable of the service's env (run.env, where the secrets
// store's values arrive: `cutover secret set`), read when the canary's analysis starts and
// shown nowhere. Give a bearer token or a username and password (basic auth), not both.
type PrometheusAuth struct {
	BearerTokenEnv string `yaml:"bearer_token_env" json:"bearer_token_env,omitempty"`
	Username       string `yaml:"username" json:"username,omitempty"`
	PasswordEnv    string `yaml:"password_env" json:"password_env,omitempty"`
}

// PrometheusTLS is how a check trusts its Prometheus over https: CAFile (PEM) adds the CAs
// that may sign the server's certificate (the system's are used without it), CertFile and
// KeyFile (PEM, both or neither) are a client certificate for servers that ask for one, and
// ServerName is the name the certificate must carry when the URL's host is another (an IP
// address). Paths are absolute, on the daemon's machine.
type PrometheusTLS struct {
	CAFile     string `yaml:"ca_file" json:"ca_file,omitempty"`
	CertFile   string `yaml:"cert_file" json:"cert_file,omitempty"`
	KeyFile    string `yaml:"key_file" json:"key_file,omitempty"`
	ServerName string `yaml:"server_name" json:"server_name,omitempty"`
}

// markPromCredentials lists the env variables that hold Prometheus checks' credentials in
// run.secrets when run.env sets them, so that they are redacted wherever the spec's env is
// shown, whatever their name (values from the secrets store are listed there already).
func markPromCredentials(s *Service) {
	c := s.Strategy.Canary
	if c == nil {
		return
	}
	for _, p := range c.Analysis.Prometheus {
		if p.Auth == nil {
			continue
		}
		for _, name := range []string{p.Auth.BearerTokenEnv, p.Auth.PasswordEnv} {
			if _, set := s.Run.Env[name]; set && !slices.Contains(s.Run.Secrets, name) {
				s.Run.Secrets = append(s.Run.Secrets, name)
			}
		}
	}
}

var envRefRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// validatePromAuth checks a check's auth and tls at path p; u is its URL (already checked).
func validatePromAuth(errs *Errors, c PrometheusCheck, p string) {
	if u, err := url.Parse(c.URL); err == nil && u.User != nil {
		errs.add(p+".url", "must not carry credentials (user@ or user:password@): name them in auth instead, from the service's env or secrets")
	}
	if a := c.Auth; a != nil {
		validateAuth(errs, *a, p+".auth")
	}
	if t := c.TLS; t != nil {
		if u, err := url.Parse(c.URL); err == nil && u.Scheme != "https" {
			errs.add(p+".tls", "is for an https:// url; %q is not one", c.URL)
		}
		for _, f := range []struct{ field, path string }{{"ca_file", t.CAFile}, {"cert_file", t.CertFile}, {"key_file", t.KeyFile}} {
			if f.path != "" && !filepath.IsAbs(f.path) {
				errs.add(p+".tls."+f.field, "%q must be an absolute path on the daemon's machine", f.path)
			}
		}
		if (t.CertFile == "") != (t.KeyFile == "") {
			errs.add(p+".tls", "give cert_file and key_file together (a client certificate and its key), or neither")
		}
	}
}

func validateAuth(errs *Errors, a PrometheusAuth, p string) {
	basic := a.Username != "" || a.PasswordEnv != ""
	switch {
	case a.BearerTokenEnv != "" && basic:
		errs.add(p, "give bearer_token_env or username and password_env (basic auth), not both")
	case a.BearerTokenEnv == "" && !basic:
		errs.add(p, "give bearer_token_env, or username and password_env (basic auth)")
	case basic && (a.Username == "" || a.PasswordEnv == ""):
		errs.add(p, "basic auth needs both username and password_env")
	}
	for _, f := range []struct{ field, name string }{{"bearer_token_env", a.BearerTokenEnv}, {"password_env", a.PasswordEnv}} {
		if f.name != "" && !envRefRE.MatchString(f.name) {
			errs.add(p+"."+f.field, "%q must name an env variable of the service (letters, digits, '_'), not hold the credential", f.name)
		}
	}
}

// PrometheusCredentials reads a check's credentials from env (the service's run.env): the
// bearer token, or the basic-auth password. It names a missing variable, never a value.
func PrometheusCredentials(a *PrometheusAuth, env map[string]string) (token, password string, err error) {
	if a == nil {
		return "", "", nil
	}
	get := func(field, name string) (string, error) {
		if name == "" {
			return "", nil
		}
		v, ok := env[name]
		if !ok || v == "" {
			return "", fmt.Errorf("auth.%s: %s is not set in the service's env or secrets", field, name)
		}
		return v, nil
	}
	if token, err = get("bearer_token_env", a.BearerTokenEnv); err != nil {
		return "", "", err
	}
	password, err = get("password_env", a.PasswordEnv)
	return token, password, err
}
