package spec

import "regexp"

// Promotion says how revisions of the service reach this environment.
type Promotion struct {
	// RequireFrom names the environment (a daemon's --environment) a revision must have
	// succeeded in before it is deployed anywhere else: `cutover deploy SERVICE --from NAME`.
	RequireFrom string `yaml:"require_from" json:"require_from,omitempty"`
}

var environmentRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidEnvironment reports whether name is a valid environment name: 1-63 lowercase letters,
// digits, '.', '_' or '-', starting with a letter or digit.
func ValidEnvironment(name string) bool { return environmentRE.MatchString(name) }

func validatePromotion(errs *Errors, p *Promotion) {
	if p != nil && !ValidEnvironment(p.RequireFrom) {
		errs.add("promotion.require_from", "must name an environment: 1-63 lowercase letters, digits, '.', '_' or '-'")
	}
}
