package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	rate           float64 // open loop: the rate asked for
	genTicks       int64   // the load generator's CPU time
	foreign        float64 // share of the machine's CPU used by processes outside the bench
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

// openLoop runs vegeta at rate requests/s against t for d (keep-alive, 5s timeout) and
// computes exact percentiles from every result.
func (b *bench) openLoop(ctx context.Context, t *target, rate int, d time.Duration) (sample, error) {
	bin := filepath.Join(b.o.workDir, "vegeta-"+t.name+".bin")
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	attack := exec.CommandContext(ctx, "vegeta", "attack", fmt.Sprintf("-rate=%d/s", rate),
		fmt.Sprintf("-duration=%ds", int(d.Seconds())), "-timeout=5s", "-keepalive=true", "-max-body=0", "-output="+bin)
	attack.Stdin = strings.NewReader(fmt.Sprintf("GET http://127.0.0.1:%d/\n", t.port))
	m := b.startMeter(t)
	if out, err := attack.CombinedOutput(); err != nil {
		return sample{}, fmt.Errorf("vegeta attack %s: %w: %s", t.name, err, out)
	}
	s := sample{seconds: time.Since(m.start).Seconds(), rate: float64(rate)}
	m.stop(b, t, &s, childTicks(attack))
	lat, errs, err := decodeVegeta(ctx, bin)
	if err != nil {
		return sample{}, fmt.Errorf("vegeta %s: %w", t.name, err)
	}
	_ = os.Remove(bin)
	s.requests, s.errors = int64(len(lat))+errs, errs
	s.p50, s.p99, s.p999 = pct(lat, 50), pct(lat, 99), pct(lat, 99.9)
	return s, nil
}

// decodeVegeta returns the latencies of the successful results and the count of failed ones.
func decodeVegeta(ctx context.Context, bin string) ([]time.Duration, int64, error) {
	cmd := exec.CommandContext(ctx, "vegeta", "encode", "-to=json", bin)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, 0, fmt.Errorf("encode: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, 0, fmt.Errorf("encode: %w", err)
	}
	var lat []time.Duration
	var errs int64
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var r struct {
			Code    int   `json:"code"`
			Latency int64 `json:"latency"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, 0, fmt.Errorf("decode result: %w", err)
		}
		if r.Code != 200 {
			errs++
			continue
		}
		lat = append(lat, time.Duration(r.Latency))
	}
	if err := cmd.Wait(); err != nil {
		return nil, 0, fmt.Errorf("encode: %w", err)
	}
	slices.Sort(lat)
	return lat, errs, nil
}

// pct is the p-th percentile (nearest rank) of sorted latencies.
func pct(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
