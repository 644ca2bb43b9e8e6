package analysis

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// endpointScenario is a canary whose requests to one endpoint (a share of all requests) fail
// at their own rate; every other request fails at the common rate, on both revisions.
type endpointScenario struct {
	name               string
	share              float64 // the canary's share of traffic
	endpointShare      float64 // the endpoint's share of requests
	baseErr, canaryErr float64 // on the endpoint; elsewhere both fail at baseErr
	runs               int
	wantFail           bool
}

// endpointWindow is the judgement interval of the endpoint simulation, in seconds.
const endpointWindow = 10

// simulateEndpoint runs one hour of sc (errors only, judged every 10 s; one-sided windows are merged, so 1 s looks give the same) through a Strata
// that names the endpoint, or not, and returns when it failed (-1: never), the endpoint the
// verdict named.
func simulateEndpoint(sc endpointScenario, stratified bool, seed uint64) (int, string) {
	r := rand.New(rand.NewPCG(seed, 0xe4d))
	var names []string
	if stratified {
		names = []string{"checkout"}
	}
	j, err := NewStrata(Config{SkipLatency: true}, names, nil)
	if err != nil {
		panic(err)
	}
	var s Sample
	s.Canary.Endpoints, s.Baseline.Endpoints = map[string]Counts{}, map[string]Counts{}
	add := func(c *Counts, n int, errRate float64) int {
		e := binomial(r, n, errRate)
		c.Requests, c.Errors = c.Requests+int64(n), c.Errors+int64(e)
		return e
	}
	j.Observe(s)
	for t := endpointWindow; t <= simDuration; t += endpointWindow {
		nc := binomial(r, simRate*endpointWindow, sc.share)
		for _, side := range []struct {
			c     *Counts
			n     int
			epErr float64
		}{{&s.Canary, nc, sc.canaryErr}, {&s.Baseline, simRate*endpointWindow - nc, sc.baseErr}} {
			ne := binomial(r, side.n, sc.endpointShare)
			ep := side.c.Endpoints["checkout"]
			e := add(&ep, ne, side.epErr)
			side.c.Endpoints["checkout"] = ep
			side.c.Requests += int64(ne)
			side.c.Errors += int64(e)
			add(side.c, side.n-ne, sc.baseErr)
		}
		j.Observe(s)
		if v := j.Verdict(); v.Outcome == Fail {
			return t, v.Evidence.Endpoint
		}
	}
	return -1, ""
}

// TestEndpointSimulation: a regression confined to an endpoint with 2% of the requests
// (0.1% → 5% errors there) is caught with the endpoint named, far sooner than by the judge of
// the whole traffic alone; a healthy canary stays within alpha with the strata. Run it with
// -v for the table of docs/benchmarks.md.
func TestEndpointSimulation(t *testing.T) {
	if testing.Short() {
		t.Skip("simulation: skipped in -short mode")
	}
	scs := []endpointScenario{
		{name: "healthy, 5% share", share: 0.05, endpointShare: 0.02, baseErr: 0.001, canaryErr: 0.001, runs: simRuns(t, 200, false)},
		{name: "checkout (2% of requests) 0.1%→5% errors, 5% share", share: 0.05, endpointShare: 0.02, baseErr: 0.001, canaryErr: 0.05, runs: simRuns(t, 200, false), wantFail: true},
		{name: "checkout (2% of requests) 0.1%→5% errors, 20% share", share: 0.20, endpointShare: 0.02, baseErr: 0.001, canaryErr: 0.05, runs: simRuns(t, 200, false), wantFail: true},
	}
	var b strings.Builder
	b.WriteString("| scenario | runs | whole traffic only | with the endpoint named | verdicts naming the endpoint |\n|---|---|---|---|---|\n")
	for _, sc := range scs {
		var plain, strat []int
		named := 0
		for seed := uint64(1); seed <= uint64(sc.runs); seed++ {
			at, _ := simulateEndpoint(sc, false, seed)
			plain = append(plain, at)
			at, ep := simulateEndpoint(sc, true, seed)
			strat = append(strat, at)
			if ep == "checkout" {
				named++
			}
		}
		p, s := statOf(plain), statOf(strat)
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %d |\n", sc.name, sc.runs, cell(p, sc.runs, sc.wantFail), cell(s, sc.runs, sc.wantFail), named)
		if !sc.wantFail {
			if !withinRate(s.fails, sc.runs, DefaultAlpha) {
				t.Errorf("%s: %d of %d false rollbacks with strata, want at most alpha (+3 SE)", sc.name, s.fails, sc.runs)
			}
			continue
		}
		if !atLeastRate(s.fails, sc.runs, 0.99) || named < s.fails/2 || !(s.median < p.median) {
			t.Errorf("%s: strata caught %d of %d (%d naming the endpoint), median %v s, whole traffic alone %v s; want 99%% caught (-3 SE), half of them naming it, sooner",
				sc.name, s.fails, sc.runs, named, s.median, p.median)
		}
	}
	t.Log("\n" + b.String())
}
