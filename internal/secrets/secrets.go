// Package secrets owns what a service's secrets store accepts and how its values reach a
// revision: names and values are checked here, and Inject puts the current values into a
// spec's env, records the version of each and marks them for redaction. Storing them sealed
// is the store's job; this package never logs, prints or returns a value in an error.
package secrets

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// MaxValue is the largest secret value accepted, in bytes.
const MaxValue = 64 << 10

// ErrInvalid marks a name or value the store does not take.
var ErrInvalid = errors.New("invalid secret")

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// CheckName refuses a name that cannot be an env variable of an instance.
func CheckName(name string) error {
	switch {
	case !nameRE.MatchString(name):
		return fmt.Errorf("secret name %q: use letters, digits and '_', not starting with a digit: %w", name, ErrInvalid)
	case name == "PORT":
		return fmt.Errorf("secret name PORT: PORT is set by cutover for each instance: %w", ErrInvalid)
	}
	return nil
}

// CheckValue refuses a value an env variable cannot hold, without quoting it.
func CheckValue(name, value string) error {
	switch {
	case value == "":
		return fmt.Errorf("secret %s: empty value (to remove it, unset it): %w", name, ErrInvalid)
	case len(value) > MaxValue:
		return fmt.Errorf("secret %s: value of %d bytes, at most %d: %w", name, len(value), MaxValue, ErrInvalid)
	case strings.ContainsRune(value, 0):
		return fmt.Errorf("secret %s: value holds a NUL byte, which an env variable cannot: %w", name, ErrInvalid)
	case !utf8.ValidString(value):
		return fmt.Errorf("secret %s: value is not UTF-8 text: %w", name, ErrInvalid)
	}
	return nil
}

// Inject sets each current secret in s.Run.Env (over a value the spec gives), records its
// version in s.Run.SecretVersions and lists it in s.Run.Secrets so it is redacted wherever
// the spec is shown. s must have been stripped of what the last deploy provided
// (spec.StripProvided). It returns the names whose spec value a secret replaced.
func Inject(s *spec.Service, current []store.Secret) (replaced []string) {
	if len(current) == 0 {
		return nil
	}
	if s.Run.Env == nil {
		s.Run.Env = map[string]string{}
	}
	s.Run.SecretVersions = map[string]int{}
	for _, sec := range current {
		if _, ok := s.Run.Env[sec.Name]; ok {
			replaced = append(replaced, sec.Name)
		}
		s.Run.Env[sec.Name] = string(sec.Value)
		s.Run.SecretVersions[sec.Name] = sec.Version
		if !slices.Contains(s.Run.Secrets, sec.Name) {
			s.Run.Secrets = append(s.Run.Secrets, sec.Name)
		}
	}
	return replaced
}
