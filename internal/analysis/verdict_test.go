package analysis

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestIntervalJSON(t *testing.T) {
	tests := []struct {
		iv   Interval
		want string
	}{
		{Interval{Estimate: 2, Low: 0.5, High: 8, Level: 0.95}, `{"estimate":2,"low":0.5,"high":8,"level":0.95}`},
		{Interval{Estimate: math.Inf(1), Low: 14.8, High: math.Inf(1), Level: 0.95}, `{"estimate":null,"low":14.8,"high":null,"level":0.95}`},
	}
	for _, tt := range tests {
		b, err := json.Marshal(tt.iv)
		if err != nil {
			t.Fatalf("marshal %+v: %v", tt.iv, err)
		}
		if string(b) != tt.want {
			t.Errorf("marshal %+v = %s, want %s", tt.iv, b, tt.want)
		}
		var back Interval
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		if diff := cmp.Diff(back, tt.iv); diff != "" {
			t.Errorf("round trip of %s (-got +want):\n%s", b, diff)
		}
	}
}

func TestVerdictJSONWithInfiniteRatio(t *testing.T) {
	j, err := New(Config{SkipLatency: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range windows(window(50, 3, 950, 0)) {
		j.Observe(s)
	}
	v := j.Verdict()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal verdict %+v: %v", v, err)
	}
	var back Verdict
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("unmarshal %s: %v", b, err)
	}
	if diff := cmp.Diff(back, v); diff != "" {
		t.Errorf("round trip (-got +want):\n%s", diff)
	}
}

func TestRatioInterval(t *testing.T) {
	tests := []struct {
		name           string
		ec, nc, eb, nb int64
		want           *Interval
	}{
		{name: "no events", ec: 0, nc: 100, eb: 0, nb: 900, want: nil},
		{name: "no canary requests", ec: 0, nc: 0, eb: 3, nb: 900, want: nil},
		// 10 of 20 errors from a canary with 10% of traffic: pi in Wilson [0.299, 0.701]; with
		// no events on one side the Wilson bound at 0 or 1 is (z²/n)/(1+z²/n), 0.299 for 9 events.
		{name: "tenfold", ec: 10, nc: 100, eb: 10, nb: 900, want: &Interval{Estimate: 9, Low: 3.84, High: 21.1, Level: 0.95}},
		{name: "no canary errors", ec: 0, nc: 100, eb: 9, nb: 900, want: &Interval{Estimate: 0, Low: 0, High: 3.84, Level: 0.95}},
		{name: "no baseline errors", ec: 2, nc: 100, eb: 0, nb: 900, want: &Interval{Estimate: math.Inf(1), Low: 4.69, High: math.Inf(1), Level: 0.95}},
	}
	round := cmp.Comparer(func(a, b float64) bool {
		return a == b || math.Abs(a-b) <= 0.01*math.Abs(b)
	})
	for _, tt := range tests {
		got := ratioInterval(tt.ec, tt.nc, tt.eb, tt.nb, 0.95)
		if diff := cmp.Diff(got, tt.want, round); diff != "" {
			t.Errorf("%s: ratioInterval (-got +want):\n%s", tt.name, diff)
		}
	}
}
