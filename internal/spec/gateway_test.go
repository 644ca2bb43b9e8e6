package spec

import (
	"strings"
	"testing"
)

// kubeBase is a valid Kubernetes spec of six lines.
const kubeBase = `name: web
run:
  image: app:1.2
  runtime: kubernetes
route:
  listen: ":8080"
`

const gatewayCanary = `strategy:
  canary:
    steps: [weight: 10, analysis: {duration: 1m}]
    analysis:
      errors: false
      latency: false
      prometheus: [{name: app, url: "http://prom:9090", requests: 'sum(r{revision="{{revision}}"})', errors: 'sum(e{revision="{{revision}}"})'}]
`

func TestGatewayValidation(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string // "path: text"
	}{
		{"valid", kubeBase + "  gateway: {httproute: web, namespace: edge}\n" + gatewayCanary, nil},
		{"valid rolling", kubeBase + "  gateway: {httproute: web}\n", nil},
		{"name missing", kubeBase + "  gateway: {namespace: edge}\n", []string{"route.gateway.httproute: required"}},
		{"bad names", kubeBase + "  gateway: {httproute: Web_1, namespace: a.b}\n",
			[]string{"route.gateway.httproute: \"Web_1\" is not a Kubernetes object name", "route.gateway.namespace: \"a.b\" is not a Kubernetes namespace"}},
		{"not kubernetes", strings.Replace(kubeBase, "  runtime: kubernetes\n", "", 1) + "  gateway: {httproute: web}\n",
			[]string{"route.gateway: needs run.runtime: kubernetes"}},
		{"canary judged by the proxy", kubeBase + "  gateway: {httproute: web}\nstrategy:\n  canary:\n    steps: [weight: 10, ramp: {max: 50}]\n",
			[]string{"strategy.canary.analysis.prometheus: required with route.gateway", "strategy.canary.analysis.errors: must be false",
				"strategy.canary.analysis.latency: must be false", "strategy.canary.steps[1].ramp: not available"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc), "web.yaml")
			var got []string
			if err != nil {
				for _, e := range fieldErrors(t, err) {
					got = append(got, e.Path+": "+e.Message)
				}
			}
			if len(got) != len(tc.want) {
				t.Fatalf("errors %q, want %q", got, tc.want)
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("error %d = %q, want it to start with %q", i, got[i], w)
				}
			}
		})
	}
}
