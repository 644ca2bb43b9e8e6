package analysis

import "testing"

// TestSkipErrorsIgnoresErrorCounts: with the error test off, a canary with ten times the
// baseline's errors is not failed by the sequential test; with it on, it is.
func TestSkipErrorsIgnoresErrorCounts(t *testing.T) {
	for _, skip := range []bool{false, true} {
		j, err := New(Config{SkipErrors: skip, SkipLatency: true})
		if err != nil {
			t.Fatal(err)
		}
		var s Sample
		j.Observe(s)
		for range 600 {
			s.Canary.Requests += 10
			s.Baseline.Requests += 90
			s.Canary.Errors += 1
			s.Baseline.Errors += 1
			j.Observe(s)
		}
		got := j.Verdict().Outcome
		if skip && got == Fail {
			t.Errorf("SkipErrors: verdict %s, want no failure from error counts", got)
		}
		if !skip && got != Fail {
			t.Errorf("error test on: verdict %s, want fail", got)
		}
	}
}
