package main

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cutover/cutover/internal/loadgen"
)

func TestMedian(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		in   []time.Duration
		want time.Duration
	}{{nil, 0}, {[]time.Duration{3 * ms}, 3 * ms}, {[]time.Duration{5 * ms, 1 * ms, 3 * ms}, 3 * ms}} {
		if diff := cmp.Diff(tc.want, median(tc.in)); diff != "" {
			t.Errorf("median(%v) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestReportHasFiguresAndRatio(t *testing.T) {
	ms := time.Millisecond
	roll := []rollout{{tool: "docker-compose up -d", took: 2 * time.Second,
		sum: loadgen.Summary{Sent: 100, Failed: 7, Errors: map[string]int64{"refused": 7}}}}
	md := report(flags{rate: 200}, roll, roll, startup{docker: []time.Duration{400 * ms, 500 * ms}, cutover: []time.Duration{500 * ms, 600 * ms}})
	for _, want := range []string{"| `docker-compose up -d` | 100 | 7 | refused:7 |", "**1.20**", "200 req/s"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
