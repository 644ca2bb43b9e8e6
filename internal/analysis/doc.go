// Package analysis owns the judgement of a canary: it turns per-window counts of requests,
// errors and latencies of a canary revision and of the revision it is compared with (stable or
// a fresh baseline) into a verdict — pass, fail or inconclusive — that always carries its
// evidence. It is pure: no clock, no I/O, no goroutines, no logging. The controller feeds it
// samples and carries out the verdict; the proxy measures. It imports only the standard library
// and package latency (the histogram layout).
// The one exception is PrometheusSource, a small HTTP client for the Prometheus checks (see
// "Prometheus checks" below); judging their answers (Check, Combine) is pure again.
//
// # Errors: a conditional count test
//
// In one window the proxy sends n_c requests to the canary and n_b to the baseline. Model each
// revision's errors as rare events with per-request rates r_c and r_b, and let rho = r_c/r_b be
// the rate ratio. Given the request counts and the number of errors E in the window, each error
// came from the canary with probability
//
//	q = rho*p / (rho*p + 1 - p),   where p = n_c / (n_c + n_b) is the window's realised share.
//
// The hypothesis "the canary is no worse" is rho <= 1, i.e. q <= p: a count test that needs no
// knowledge of the baseline's error rate, and stays exact when traffic shares change, because
// every window is judged at its own share. Time-varying load, bursts of errors shared by both
// revisions and the absolute error level all cancel out of the comparison.
//
// For one alternative rho the likelihood ratio of a window with e_c canary and e_b baseline
// errors is
//
//	L_rho = (q/p)^e_c * ((1-q)/(1-p))^e_b = rho^e_c / (1 + (rho-1)*p)^(e_c+e_b).
//
// The product of these factors over windows is a nonnegative martingale when rho_true = 1 and
// a supermartingale when rho_true < 1 (each factor's expectation grows with q_true and equals 1
// at q_true = p). When errors are Bernoulli per request rather than Poisson, the split of E is
// hypergeometric rather than binomial; the factor is a convex function of e_c, and Hoeffding's
// inequality for sampling without replacement keeps its expectation at most 1, so the test is
// conservative there, never anti-conservative.
//
// Because the size of a regression is unknown, the judge does not bet on one rho: it averages
// the products over a fixed prior on a grid of ratios (1.25× to 50×, most weight around 2× and
// around 10×; see mixture.go).
// A fixed mixture of test supermartingales is one too, so its value E_t — an e-value — obeys
// Ville's inequality: P(sup_t E_t >= 1/alpha) <= alpha under "canary no worse". The judge fails
// the canary the first time E_t >= 1/alpha, however often it looks: the false-rollback
// probability per analysis is at most alpha, with no correction for peeking.
//
// # Latency: the same test on slow requests, at the median and in the tail
//
// The proxy counts each request's latency in a fine log-linear histogram (package latency: 64
// buckets to each power of two, each at most 1.6% wide), so any quantile of any revision can
// be read to within 1.6%, whatever the shape of the distribution. Two tests compare the
// canary with the baseline, one at the median and one at a tail quantile q (LatencyQuantile,
// default 0.95). Before each window, once the baseline has served LatencyBurnIn requests, a
// test reads the baseline's q-quantile T from the baseline's windows so far. A baseline
// request of the window is slow when it took longer than T, a canary request when it took
// longer than T×(1+LatencyTolerance), rounded up to a bucket bound (default tolerance 5%).
//
// "The canary is no worse" is here: for every x, P(canary latency > (1+tolerance)x) <=
// P(baseline latency > x). Under it, given the window's request counts and its number of slow
// requests, each slow request is the canary's with probability at most the window's share p —
// for any T fixed before the window's requests were seen. That is the error test's structure,
// so the same mixture applies to slow-request counts, window by window (the split of a
// window's slow requests is hypergeometric when latencies are independent, which Hoeffding's
// argument above covers). T follows the baseline between windows, never within one: it is
// chosen from past data only, so each window's factor still has expectation at most 1 given
// the past, and the product stays a test supermartingale although T is estimated and moves.
// The tolerance keeps small, harmless differences (a canary 2% slower on a narrow
// distribution) from being rolled back; zero makes the test see any slowdown.
//
// # max_p99: a one-sample sequential test
//
// MaxP99 is "at most 1% of the canary's requests take longer than max_p99". Each canary
// request is slow (longer than max_p99 rounded up to a bucket bound) with probability a; the
// hypothesis is a <= 1%. For an alternative a1 = rho×1% the likelihood ratio of a window with s
// slow requests out of n is rho^s×((1-a1)/0.99)^(n-s), a supermartingale when a <= 1%; the
// test averages it over the same grid and prior of rho (a1 from 1.25% to 50%).
//
// # One e-value, one alpha
//
// The tests that are on are combined as a weighted average of their e-values — errors 0.9,
// the median and tail latency tests 0.05 each, max_p99 0.05, scaled to add up to 1 — which is
// again a test supermartingale: alpha bounds the false alarms of all of them together. The
// rule of a failure is the test with the largest weighted term.
//
// # Absolute limits and evidence
//
// MaxErrorRate is a plain threshold, as in Argo Rollouts and Flagger, applied to the canary's
// counts since the analysis began once it has MinRequests requests; alpha does not cover it.
// The error-ratio and slow-ratio estimates in the evidence carry a conventional (fixed-sample,
// not anytime-valid) 1-alpha interval from the Wilson interval of the canary's share of events.
//
// # Resumption
//
// Snapshot gives the judge's evidence (counts, the e-processes' log likelihood ratios per grid
// point, the latency tests' histograms and counts, a failure that stands) for storing with the
// deployment, and Resume continues from it after a restart: the e-processes go on multiplying,
// so alpha bounds false rollbacks per deployment however often the daemon restarts. The
// proxy's counters restart with the daemon, so the first sample after a resumption is a new
// starting point, and the requests between the last stored look and it are left out, for a
// reason that has nothing to do with their outcome.
//
// # Strata: endpoints judged apart
//
// Strata runs one Judge on the whole traffic and one on each of the route's endpoints (from
// Counts.Endpoints), alpha split by a union bound: half to the whole traffic, half shared
// equally by the endpoints. A regression confined to an endpoint with 2% of the requests is
// diluted in the whole traffic by the healthy rest; its own test sees it undiluted. An
// endpoint has few requests a second, so most of its one-second windows are one-sided (one
// revision served none), which says nothing about the split of errors; its judge folds such a
// window into the next one instead (the choice depends on request counts, which the test
// conditions on). Absolute limits and the pass rules apply to the whole traffic only.
//
// # Margin tests: evidence for an evidence-paced ramp
//
// StartMargin(m) starts tests of the opposite hypothesis, "the canary's events are at least m
// times as frequent as the baseline's" (errors, and slow requests at each latency test's
// thresholds), by the same conditional count turned round (see margin.go). Each is a test
// supermartingale under its hypothesis, so reaching 1/alpha shows the canary within m at
// level alpha under continuous monitoring: the ramp raises the share on that, never on a
// fixed-sample interval. The tests run on the whole traffic, start afresh at each share, and
// are part of the Snapshot.
//
// # Prometheus checks
//
// For metrics the proxy does not see, a check runs a PromQL instant query every interval and
// judges its one number by a condition such as "result < 0.01". A run passes when the
// condition holds, fails when it does not, and is inconclusive when there is no number to
// judge: the server is unreachable or too slow, answers an HTTP error or something that is not
// Prometheus JSON, the vector is empty ("query returned no data"), has more than one element,
// is a matrix, or the value is NaN. An inconclusive run is never a pass.
//
// Check turns runs into a standing: fail for good after failure_limit+1 fails in a row (an
// inconclusive run neither breaks nor extends that streak); the last conclusive result while
// at most inconclusive_limit inconclusive runs follow it; inconclusive otherwise. Combine
// merges the standings with the judge's verdict: any fail fails; a pass needs every part to
// pass; anything else is inconclusive with every pending reason, so that at the end of an
// analysis step the strategy applies its inconclusive setting (pause, fail or pass) to it.
// Alpha does not cover Prometheus checks: they are thresholds, like max_error_rate.
package analysis
