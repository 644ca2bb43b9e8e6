// Package analysis owns the judgement of a canary: it turns per-window counts of requests,
// errors and latencies of a canary revision and of the revision it is compared with (stable or
// a fresh baseline) into a verdict — pass, fail or inconclusive — that always carries its
// evidence. It is pure: no clock, no I/O, no goroutines, no logging. The controller feeds it
// samples and carries out the verdict; the proxy measures. It imports only the standard library.
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
// # Latency: the same test on slow requests
//
// Latency arrives as fixed-bucket histograms (the proxy uses Prometheus' default bounds). After a
// burn-in of baseline samples, the judge fixes a threshold T: the largest bucket bound that at
// least 1-LatencyQuantile of the baseline's requests exceed (so T sits at or just below the
// baseline's p99). A request is slow when it takes longer than T. If the canary's latency is no
// worse than the baseline's (stochastically), a slow request comes from the canary with
// probability at most its share, so the same mixture test applies to slow-request counts. T is
// chosen from data before the windows it judges, which keeps the test valid.
//
// The two e-processes are combined as a weighted average, 0.9 for errors and 0.1 for latency
// (errors are scarce, latencies plentiful), which is again a test supermartingale: alpha bounds
// the false alarms of both rules together, and the latency rule's alone by alpha/10.
//
// # Absolute limits and evidence
//
// MaxErrorRate and MaxP99 are plain thresholds, as in Argo Rollouts and Flagger, applied to the
// canary's counts since the analysis began once it has MinRequests requests; alpha does not
// cover them. The error-ratio estimate in the evidence carries a conventional (fixed-sample,
// not anytime-valid) 1-alpha interval from the Wilson interval of the canary's share of errors.
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
