package spec

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Config variable types.
const (
	ConfigString   = "string"
	ConfigInt      = "int"
	ConfigBool     = "bool"
	ConfigURL      = "url"
	ConfigDuration = "duration"
	ConfigEnum     = "enum"
)

var configTypes = []string{ConfigString, ConfigInt, ConfigBool, ConfigURL, ConfigDuration, ConfigEnum}

// ConfigVar declares one environment variable the app needs (the spec's config list): its
// type, whether it must be given, its default, and whether it is a secret. A deploy whose
// env misses a required one or holds a malformed one is refused before anything starts.
type ConfigVar struct {
	Name string `yaml:"name" json:"name"`
	// Type is string (the default), int, bool, url, duration or enum (one of Values).
	Type   string   `yaml:"type" json:"type"`
	Values []string `yaml:"values" json:"values,omitempty"`
	// Required defaults to true unless a Default is given.
	Required *bool `yaml:"required" json:"required,omitempty"`
	// Default is given to the app when the env has no value.
	Default *string `yaml:"default" json:"default,omitempty"`
	// Secret marks the value as one to redact everywhere (and to keep in `cutover secrets`).
	Secret      bool   `yaml:"secret" json:"secret,omitempty"`
	Description string `yaml:"description" json:"description,omitempty"`
}

// IsRequired reports whether a deploy must give the variable.
func (c ConfigVar) IsRequired() bool {
	if c.Required != nil {
		return *c.Required
	}
	return c.Default == nil
}

// Expect describes what the variable takes, for error messages ("url", "one of a, b").
func (c ConfigVar) Expect() string {
	if c.Type == ConfigEnum {
		return "one of " + strings.Join(c.Values, ", ")
	}
	return c.typ()
}

func (c ConfigVar) typ() string {
	if c.Type == "" {
		return ConfigString
	}
	return c.Type
}

// Check returns why value does not fit the variable's type, or "" when it does. The
// reason never quotes the value: it may be a secret.
func (c ConfigVar) Check(value string) string {
	switch c.typ() {
	case ConfigInt:
		if _, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64); err != nil {
			return "must be an integer"
		}
	case ConfigBool:
		if _, err := strconv.ParseBool(value); err != nil {
			return "must be true or false (also 1/0, t/f)"
		}
	case ConfigURL:
		u, err := url.Parse(value)
		if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "") {
			return "must be an absolute URL with a scheme and a host (scheme://host/...)"
		}
	case ConfigDuration:
		if _, err := ParseDuration(value); err != nil {
			return "must be a duration with a unit (500ms, 30s, 5m)"
		}
	case ConfigEnum:
		if !slices.Contains(c.Values, value) {
			return "must be one of " + strings.Join(c.Values, ", ")
		}
	}
	return ""
}

// validateConfig checks the declarations themselves: names, types, enum values, defaults.
func validateConfig(errs *Errors, config []ConfigVar) {
	seen := map[string]bool{}
	for i, c := range config {
		path := indexPath("config", i)
		switch {
		case !envKeyRE.MatchString(c.Name):
			errs.add(path+".name", "must be an env name: letters, digits and '_', not starting with a digit")
		case c.Name == "PORT":
			errs.add(path+".name", "PORT is set by cutover for each instance")
		case seen[c.Name]:
			errs.add(path+".name", "%s is declared twice", c.Name)
		}
		seen[c.Name] = true
		if !slices.Contains(configTypes, c.typ()) {
			errs.add(path+".type", "must be one of %s", strings.Join(configTypes, ", "))
			continue
		}
		if (c.Type == ConfigEnum) != (len(c.Values) > 0) {
			errs.add(path+".values", "values are given exactly when type is enum")
		}
		if c.Default != nil {
			if why := c.Check(*c.Default); why != "" {
				errs.add(path+".default", "%s", why)
			}
			if c.Secret {
				errs.add(path+".default", "a secret has no default in the spec: keep it in `cutover secrets set`")
			}
		}
	}
}

// ApplyConfig checks s.Run.Env against s.Config before anything starts: it returns one error
// per missing or malformed variable, at path run.env.NAME, naming what was expected and never
// the value. When there is none, it sets the defaults of the missing optional variables in
// Run.Env (recorded in Run.Defaulted) and adds the secret ones to Run.Secrets.
func ApplyConfig(s *Service) Errors {
	var errs Errors
	for i, c := range s.Config {
		path := joinPath("run.env", c.Name)
		v, ok := s.Run.Env[c.Name]
		switch {
		case !ok && c.IsRequired():
			errs.add(path, "required by config[%d] (%s): not set; set it in run.env, with --env, or with `cutover secrets set %s %s`",
				i, c.Expect(), s.Name, c.Name)
		case ok:
			if why := c.Check(v); why != "" {
				errs.add(path, "config[%d] (%s): %s", i, c.Expect(), why)
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	for _, c := range s.Config {
		if _, ok := s.Run.Env[c.Name]; !ok && c.Default != nil {
			if s.Run.Env == nil {
				s.Run.Env = map[string]string{}
			}
			s.Run.Env[c.Name] = *c.Default
			s.Run.Defaulted = append(s.Run.Defaulted, c.Name)
		}
		if _, ok := s.Run.Env[c.Name]; ok && c.Secret && !slices.Contains(s.Run.Secrets, c.Name) {
			s.Run.Secrets = append(s.Run.Secrets, c.Name)
		}
	}
	return nil
}

// StripProvided removes from Run what cutover added at the last deploy (defaults of the
// config and values of the secrets store), so that the next deploy builds on what the spec
// and its overrides say and adds them afresh.
func StripProvided(r *Run) {
	for _, name := range r.Defaulted {
		delete(r.Env, name)
	}
	for name := range r.SecretVersions {
		delete(r.Env, name)
		r.Secrets = slices.DeleteFunc(r.Secrets, func(s string) bool { return s == name })
	}
	r.Defaulted, r.SecretVersions = nil, nil
	if len(r.Env) == 0 {
		r.Env = nil
	}
	if len(r.Secrets) == 0 {
		r.Secrets = nil
	}
}
