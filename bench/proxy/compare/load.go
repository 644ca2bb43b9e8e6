package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// sample is one measured load run against one target.
type sample struct {
	requests       int64
	errors         int64
	seconds        float64
	p50, p99, p999 time.Duration
	cpuTicks       int64
	rate           float64       // open loop: the rate asked for
	genTicks       int64         // the load generator's CPU time
	foreign        float64       // share of the machine's CPU used by processes outside the bench
	lagP99         time.Duration // open loop: p99 of the generator's delay past the scheduled send time
	unsent         int64         // open loop: requests the generator could not send within the run's bound
}

func (s sample) throughput() float64 { return float64(s.requests) / s.seconds }

// cpuPerReq is the measured processes' CPU time per request, in microseconds.
func (s sample) cpuPerReq() float64 {
	if s.requests == 0 {
		return 0
	}
	return float64(s.cpuTicks) * (1e6 / clockTicks) / float64(s.requests)
}

// wrkScript prints the figures wrk's summary lacks (p99.9) on one parsable line.
const wrkScript = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
`

// closedLoop runs wrk with conns connections against t for d and reads the CPU the target's
// processes used meanwhile.
func (b *bench) closedLoop(ctx context.Context, t *target, conns int, d time.Duration) (sample, error) {
	script := filepath.Join(b.o.workDir, "result.lua")
	if _, err := os.Stat(script); err != nil {
		if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
			return sample{}, fmt.Errorf("write wrk script: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, d+20*time.Second)
	defer cancel()
	threads := min(2, conns)
	url := fmt.Sprintf("http://127.0.0.1:%d/", t.port)
	cmd := exec.CommandContext(ctx, "wrk", "-t", fmt.Sprint(threads), "-c", fmt.Sprint(conns),
		"-d", fmt.Sprintf("%ds", int(d.Seconds())), "--timeout", "5s", "-s", script, url)
	m := b.startMeter(t)
	out, err := cmd.Output()
	if err != nil {
		return sample{}, fmt.Errorf("wrk %s c=%d: %w", t.name, conns, err)
	}
	for line := range strings.SplitSeq(string(out), "\n") {
		var s sample
		var durUS, p50, p99, p999 int64
		if n, _ := fmt.Sscanf(line, "RESULT %d %d %d %d %d %d", &s.requests, &durUS, &s.errors, &p50, &p99, &p999); n == 6 {
			s.seconds = float64(durUS) / 1e6
			s.p50, s.p99, s.p999 = us(p50), us(p99), us(p999)
			m.stop(b, t, &s, childTicks(cmd))
			return s, nil
		}
	}
	return sample{}, fmt.Errorf("wrk %s c=%d: no RESULT line in %q", t.name, conns, out)
}

func us(n int64) time.Duration { return time.Duration(n) * time.Microsecond }

// openLoop runs bench/proxy/openloop at rate requests/s against t for d (keep-alive, a pool
// of connections sized to the rate, 5s timeout); its latencies are measured from each
// request's scheduled send time and its percentiles are exact over every response.
func (b *bench) openLoop(ctx context.Context, t *target, rate int, d time.Duration) (sample, error) {
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	gen := exec.CommandContext(ctx, filepath.Join(b.o.binDir, "openloop"), fmt.Sprintf("-rate=%d", rate),
		fmt.Sprintf("-duration=%s", d), "-timeout=5s", fmt.Sprintf("-addr=127.0.0.1:%d", t.port))
	var stderr strings.Builder
	gen.Stderr = &stderr
	m := b.startMeter(t)
	out, err := gen.Output()
	if err != nil {
		return sample{}, fmt.Errorf("openloop %s: %w: %s", t.name, err, stderr.String())
	}
	var r struct {
		OK     int64          `json:"ok"`
		Failed int64          `json:"failed"`
		Unsent int64          `json:"unsent"`
		Secs   float64        `json:"seconds"`
		P50    float64        `json:"p50_us"`
		P99    float64        `json:"p99_us"`
		P999   float64        `json:"p999_us"`
		LagP99 float64        `json:"lag_p99_us"`
		Errors map[string]int `json:"errors"`
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return sample{}, fmt.Errorf("openloop %s: decode %q: %w", t.name, out, err)
	}
	s := sample{seconds: r.Secs, rate: float64(rate), requests: r.OK + r.Failed, errors: r.Failed + r.Unsent,
		p50: usf(r.P50), p99: usf(r.P99), p999: usf(r.P999), lagP99: usf(r.LagP99), unsent: r.Unsent}
	m.stop(b, t, &s, childTicks(gen))
	if len(r.Errors) > 0 {
		fmt.Fprintf(b.log, "compare: open loop %s errors: %v\n", t.name, r.Errors)
	}
	return s, nil
}

func usf(v float64) time.Duration { return time.Duration(v * float64(time.Microsecond)) }

// pct is the p-th percentile (nearest rank) of sorted latencies.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
