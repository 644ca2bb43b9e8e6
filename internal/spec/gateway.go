package spec

import "regexp"

// Gateway steers a Gateway API HTTPRoute that a gateway already in the cluster serves:
// cutover sets the weights of its backendRefs, one Service per revision, instead of routing
// the users' traffic itself (docs/kubernetes.md). The service runs on Kubernetes, and a
// canary is judged from Prometheus (strategy.canary.analysis.prometheus), since cutover's
// proxy sees none of the gateway's traffic.
type Gateway struct {
	// HTTPRoute names the HTTPRoute whose rules' backendRefs cutover owns.
	HTTPRoute string `yaml:"httproute" json:"httproute"`
	// Namespace is the HTTPRoute's namespace (default: the namespace of the pods).
	Namespace string `yaml:"namespace" json:"namespace,omitempty"`
}

// k8sName is a Kubernetes object name (RFC 1123 subdomain) and k8sNamespace a namespace
// (RFC 1123 label).
var (
	k8sName      = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)
	k8sNamespace = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// validateGateway checks route.gateway and what it needs of the rest of the spec.
func validateGateway(errs *Errors, s *Service) {
	g := s.Route.Gateway
	if g == nil {
		return
	}
	switch {
	case g.HTTPRoute == "":
		errs.add("route.gateway.httproute", "required: the name of the HTTPRoute whose backends cutover weighs")
	case len(g.HTTPRoute) > 253 || !k8sName.MatchString(g.HTTPRoute):
		errs.add("route.gateway.httproute", "%q is not a Kubernetes object name (lowercase letters, digits, '-' and '.')", g.HTTPRoute)
	}
	if g.Namespace != "" && !k8sNamespace.MatchString(g.Namespace) {
		errs.add("route.gateway.namespace", "%q is not a Kubernetes namespace name (a DNS label)", g.Namespace)
	}
	if s.Run.Runtime != "kubernetes" {
		errs.add("route.gateway", "needs run.runtime: kubernetes (the HTTPRoute's backends are Services over pods)")
	}
	if len(s.Name) > 50 {
		errs.add("route.gateway", "the service name must be at most 50 characters: each revision's Service is named NAME-rREVISION")
	}
	if c := s.Strategy.Canary; c != nil {
		validateGatewayCanary(errs, c)
	}
}

// validateGatewayCanary: a canary's judge watches it from its first weight to the end, and
// with a gateway only Prometheus sees its requests.
func validateGatewayCanary(errs *Errors, c *Canary) {
	for i, st := range c.Steps {
		if st.Ramp != nil {
			errs.add(indexPath("strategy.canary.steps", i)+".ramp", "not available with route.gateway: a ramp reads cutover's proxy counts")
		}
	}
	if len(c.Analysis.Prometheus) == 0 {
		errs.add("strategy.canary.analysis.prometheus", "required with route.gateway: the gateway's traffic does not pass cutover's proxy, so only Prometheus can judge the canary")
	}
	for _, on := range []struct {
		field string
		v     *bool
	}{{"errors", c.Analysis.Errors}, {"latency", c.Analysis.Latency}} {
		if on.v == nil || *on.v {
			errs.add("strategy.canary.analysis."+on.field, "must be false with route.gateway: cutover's proxy sees none of the gateway's requests (judge them with analysis.prometheus)")
		}
	}
}
