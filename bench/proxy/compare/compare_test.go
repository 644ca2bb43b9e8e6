package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name, in string
		want     stat
		wantErr  bool
	}{
		{name: "plain", in: "123 (nginx) S 1 123 123 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0",
			want: stat{ppid: 1, utime: 250, stime: 75}},
		{name: "name with spaces and parens", in: "9 (a b) c)) R 42 9 9 0 -1 0 0 0 0 0 7 3 0 0",
			want: stat{ppid: 42, utime: 7, stime: 3}},
		{name: "truncated", in: "9 (x) R 42 9", wantErr: true},
		{name: "no name", in: "garbage", wantErr: true},
	}
	for _, tt := range tests {
		got, err := parseStat([]byte(tt.in))
		if (err != nil) != tt.wantErr {
			t.Errorf("parseStat(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff(got, tt.want, cmp.AllowUnexported(stat{})); !tt.wantErr && diff != "" {
			t.Errorf("parseStat(%q) (-got +want):\n%s", tt.in, diff)
		}
	}
}

func TestPct(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var hundred []time.Duration
	for i := 1; i <= 100; i++ {
		hundred = append(hundred, ms(i))
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", []time.Duration{ms(7)}, 99.9, ms(7)},
		{"median of 100", hundred, 50, ms(50)},
		{"p99 of 100", hundred, 99, ms(99)},
		{"p99.9 of 100 is the max", hundred, 99.9, ms(100)},
		{"p0 is the min", hundred, 0, ms(1)},
	}
	for _, tt := range tests {
		if got := pct(tt.sorted, tt.p); got != tt.want {
			t.Errorf("%s: pct(p=%v) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestHeadlineTakesBestRounds(t *testing.T) {
	r := &results{
		closed: map[string]map[int][]sample{"x": {
			16: {{requests: 900, seconds: 1}},
			64: {{requests: 500, seconds: 1, cpuTicks: 5}, {requests: 1000, seconds: 1, cpuTicks: 10}},
		}},
		open: map[string][]sample{"x": {{p99: 9 * time.Millisecond, rate: 500}, {p99: 3 * time.Millisecond, rate: 500}}},
		rss:  map[string]int64{"x": 1 << 20},
	}
	got := r.headline("x")
	if got.tp64 != 1000 || got.peak != 1000 || got.peakConns != 64 {
		t.Errorf("headline throughput = %v at 64, peak %v at %d; want 1000, 1000 at 64", got.tp64, got.peak, got.peakConns)
	}
	if got.p99 != 3*time.Millisecond {
		t.Errorf("headline p99 = %v, want the best round's 3ms", got.p99)
	}
	// 15 ticks of 10 ms over 1500 requests: 100 µs each.
	if got.cpu64 != 100 {
		t.Errorf("headline CPU at 64 = %v µs/req, want 100", got.cpu64)
	}
}

func TestRatio(t *testing.T) {
	if got := ratio(3, 2); got != "×1.50" {
		t.Errorf("ratio(3, 2) = %q, want ×1.50", got)
	}
	if got := ratio(3, 0); got != "-" {
		t.Errorf("ratio(3, 0) = %q, want -", got)
	}
}
