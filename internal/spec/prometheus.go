package spec

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// PrometheusCheck is one query to a Prometheus server, run every Interval during a canary
// analysis and judged by Condition. The canary fails once FailureLimit+1 checks in a row
// fail; an unanswered check (unreachable server, HTTP error, no data, NaN) is inconclusive,
// never a pass.
type PrometheusCheck struct {
	// Name identifies the check in verdicts ("prometheus:NAME"); unique within the analysis.
	Name string `yaml:"name" json:"name"`
	// URL is the Prometheus server's base address ("http://prometheus:9090"); the check asks
	// its instant-query endpoint, URL + "/api/v1/query".
	URL string `yaml:"url" json:"url"`
	// Query is PromQL returning one number (a scalar or a one-element vector). The
	// placeholders {{service}}, {{canary}} (also {{revision}}) and {{stable}} are replaced by
	// the service's name and the canary's and stable revision numbers.
	Query string `yaml:"query" json:"query"`
	// Condition is what the query's result must satisfy: "result <op> number" with op one of
	// < <= > >= == !=, e.g. "result < 0.01".
	Condition string `yaml:"condition" json:"condition"`
	// Requests and Errors, instead of Query and Condition, make the check a source of counts:
	// PromQL giving one revision's cumulative request and error counts (counters, such as
	// sum(http_requests_total{revision="{{revision}}"})), asked for the canary and for stable
	// with {{revision}} replaced by each. The judge tests them with the same exact sequential
	// test as the proxy's counts, under the analysis' alpha.
	Requests string `yaml:"requests" json:"requests,omitempty"`
	Errors   string `yaml:"errors" json:"errors,omitempty"`
	// Interval is the time between two checks (default 10s); Timeout bounds one (default 5s).
	Interval Duration `yaml:"interval" json:"interval"`
	Timeout  Duration `yaml:"timeout" json:"timeout"`
	// FailureLimit is how many failed checks in a row are tolerated (default 0: the first
	// failed check fails the canary).
	FailureLimit int `yaml:"failure_limit" json:"failure_limit"`
	// InconclusiveLimit is how many inconclusive checks in a row may follow a conclusive one
	// and still leave that result standing (default 0: every inconclusive check makes the
	// check inconclusive at once).
	InconclusiveLimit int `yaml:"inconclusive_limit" json:"inconclusive_limit"`
	// Auth and TLS: how the check reaches a Prometheus that asks for credentials or serves
	// https with a private CA (see PrometheusAuth, PrometheusTLS).
	Auth *PrometheusAuth `yaml:"auth" json:"auth,omitempty"`
	TLS  *PrometheusTLS  `yaml:"tls" json:"tls,omitempty"`
}

// Defaults of a Prometheus check.
const (
	DefaultPrometheusInterval = Duration(10 * time.Second)
	DefaultPrometheusTimeout  = Duration(5 * time.Second)
)

// Condition is a parsed Prometheus check condition: result Op Threshold.
type Condition struct {
	Op        string
	Threshold float64
}

// ConditionOps are the comparisons a condition may use.
var ConditionOps = []string{"<", "<=", ">", ">=", "==", "!="}

// conditionRE reads "result <op> number"; the number is checked by strconv.
var conditionRE = regexp.MustCompile(`^\s*result\s*(<=|>=|==|!=|<|>)\s*(\S+)\s*$`)

// ParseCondition parses "result <op> number" (op one of ConditionOps, number finite).
func ParseCondition(s string) (Condition, error) {
	m := conditionRE.FindStringSubmatch(s)
	if m == nil {
		return Condition{}, fmt.Errorf("%q must read \"result <op> number\" with op one of %s, like \"result < 0.01\"",
			s, strings.Join(ConditionOps, " "))
	}
	x, err := strconv.ParseFloat(m[2], 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return Condition{}, fmt.Errorf("%q: %q is not a finite number", s, m[2])
	}
	return Condition{Op: m[1], Threshold: x}, nil
}

// queryVarRE finds "{{name}}" placeholders (spaces inside the braces allowed).
var queryVarRE = regexp.MustCompile(`\{\{\s*([^{}\s]*)\s*\}\}`)

// QueryVars are the values of a query's placeholders for one deployment.
type QueryVars struct {
	Service        string
	Canary, Stable int
	// Revision, when non-zero, is the value of {{revision}} (the revision a counts query asks
	// about); zero: {{revision}} is the canary.
	Revision int
}

// ExpandQuery replaces the placeholders of q by v's values; unknown ones stay as written
// (Validate refuses them).
func ExpandQuery(q string, v QueryVars) string {
	return queryVarRE.ReplaceAllStringFunc(q, func(m string) string {
		switch queryVarRE.FindStringSubmatch(m)[1] {
		case "service":
			return v.Service
		case "revision":
			if v.Revision != 0 {
				return strconv.Itoa(v.Revision)
			}
			return strconv.Itoa(v.Canary)
		case "canary":
			return strconv.Itoa(v.Canary)
		case "stable":
			return strconv.Itoa(v.Stable)
		}
		return m
	})
}

var checkNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// validatePrometheus checks each Prometheus check of a canary analysis at path.
func validatePrometheus(errs *Errors, checks []PrometheusCheck, path string) {
	seen := map[string]bool{}
	for i, c := range checks {
		p := indexPath(path, i)
		switch {
		case c.Name == "":
			errs.add(p+".name", "required (it names the check in verdicts, like error-rate)")
		case !checkNameRE.MatchString(c.Name):
			errs.add(p+".name", "%q must be letters, digits, '_', '.' or '-', starting with a letter or digit", c.Name)
		case seen[c.Name]:
			errs.add(p+".name", "%q is already the name of another check", c.Name)
		}
		seen[c.Name] = true
		if msg := checkURL(c.URL); msg != "" {
			errs.add(p+".url", "%s", msg)
		} else {
			validatePromAuth(errs, c, p)
		}
		if c.Requests != "" || c.Errors != "" {
			validateCounts(errs, c, p)
		} else {
			validateThreshold(errs, c, p)
		}
		positive(errs, c.Interval, p+".interval")
		positive(errs, c.Timeout, p+".timeout")
		if c.FailureLimit < 0 {
			errs.add(p+".failure_limit", "must not be negative (0: the first failed check fails the canary)")
		}
		if c.InconclusiveLimit < 0 {
			errs.add(p+".inconclusive_limit", "must not be negative")
		}
	}
}

// validateThreshold checks a check's query and condition.
func validateThreshold(errs *Errors, c PrometheusCheck, p string) {
	validateQuery(errs, c.Query, p+".query")
	if c.Condition == "" {
		errs.add(p+".condition", "required, like \"result < 0.01\" (or give requests and errors)")
	} else if _, err := ParseCondition(c.Condition); err != nil {
		errs.add(p+".condition", "%v", err)
	}
}

// validateCounts checks a counts check: both queries, each about {{revision}}, and neither
// query nor condition.
func validateCounts(errs *Errors, c PrometheusCheck, p string) {
	for _, q := range []struct{ field, q string }{{"requests", c.Requests}, {"errors", c.Errors}} {
		validateQuery(errs, q.q, p+"."+q.field)
		if strings.TrimSpace(q.q) != "" && !strings.Contains(ExpandQuery(q.q, QueryVars{Revision: -7}), "-7") {
			errs.add(p+"."+q.field, "must name the revision it counts with {{revision}}")
		}
	}
	if c.Query != "" || c.Condition != "" {
		errs.add(p, "give either query and condition (a threshold) or requests and errors (counts), not both")
	}
}

// checkURL returns what is wrong with a Prometheus base URL, or "".
func checkURL(s string) string {
	if s == "" {
		return "required, like http://prometheus:9090"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("%q is not a URL: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q must start with http:// or https://", s)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Sprintf("%q has no host", s)
	case u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("%q must be the server's base address, without ?query or #fragment", s)
	}
	return ""
}

func validateQuery(errs *Errors, q, path string) {
	if strings.TrimSpace(q) == "" {
		errs.add(path, "required: a PromQL expression returning one number")
		return
	}
	for _, m := range queryVarRE.FindAllStringSubmatch(q, -1) {
		switch m[1] {
		case "service", "canary", "revision", "stable":
		default:
			errs.add(path, "unknown placeholder %s: use {{service}}, {{canary}}, {{revision}} or {{stable}}", m[0])
		}
	}
}
