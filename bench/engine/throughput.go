package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// benchThroughput compares closed-loop throughput and latency of one demo app instance served
// directly and through the daemon's proxy, trials interleaved (direct, proxy, direct, ...).
func benchThroughput(ctx context.Context, r *runEnv) ([]Row, error) {
	conns, err := parseInts(r.flags.conns)
	if err != nil {
		return nil, err
	}
	e, listen, err := r.engineWithRoute(ctx, "throughput")
	if err != nil {
		return nil, err
	}
	defer r.stopEngine(e)
	s := svc{Name: "tp", Listen: listen, Version: "v1", Replicas: 1, Period: time.Second,
		Strategy: "rolling: {max_surge: 1, max_unavailable: 0}"}
	if _, _, err := e.deploy(ctx, s, time.Minute); err != nil {
		return nil, err
	}
	st, err := e.client.Service(ctx, "tp")
	if err != nil {
		return nil, fmt.Errorf("service tp: %w", err)
	}
	if len(st.Instances) != 1 || st.Instances[0].Addr == "" {
		return nil, errors.New("service tp: want one instance with an address")
	}
	urls := map[string]string{"direct": "http://" + st.Instances[0].Addr + "/", "proxy": "http://" + listen + "/"}
	var rows []Row
	for _, c := range conns {
		got := map[string][]closedResult{}
		for rep := 0; rep < r.flags.reps; rep++ {
			for _, via := range []string{"direct", "proxy"} {
				res, err := closedLoop(ctx, urls[via], c, 300*time.Millisecond, r.flags.duration)
				if err != nil {
					return nil, err
				}
				r.logf("  %2d conns %-6s %8.0f req/s  p50 %s  p99 %s  errors %d  bench process CPU %s/request",
					c, via, res.rps(), ms(res.p50), ms(res.p99), res.errors, us(res.cpuPerRequest()))
				got[via] = append(got[via], res)
			}
		}
		rows = append(rows, throughputRows(c, got["direct"], got["proxy"], r.flags.duration)...)
	}
	return rows, nil
}

// throughputRows averages the trials of one connection count and states the ratios.
func throughputRows(conns int, direct, proxied []closedResult, dur time.Duration) []Row {
	d, p := mean(direct), mean(proxied)
	b := "5 throughput"
	trials := fmt.Sprintf("%d interleaved trials of %s each way, mean", len(direct), dur)
	return []Row{
		{b, fmt.Sprintf("%d conns: req/s direct → proxy", conns),
			fmt.Sprintf("%.0f → %.0f (×%.2f)", d.rps, p.rps, p.rps/d.rps), "", "", trials},
		{b, fmt.Sprintf("%d conns: p50 direct → proxy", conns),
			fmt.Sprintf("%s → %s (×%.2f)", ms(d.p50), ms(p.p50), float64(p.p50)/float64(d.p50)), "", "", ""},
		{b, fmt.Sprintf("%d conns: p99 direct → proxy", conns),
			fmt.Sprintf("%s → %s (×%.2f)", ms(d.p99), ms(p.p99), float64(p.p99)/float64(d.p99)), "", "",
			fmt.Sprintf("errors direct %d, proxy %d", d.errors, p.errors)},
		{b, fmt.Sprintf("%d conns: CPU per request in the bench process, direct → proxy", conns),
			fmt.Sprintf("%s → %s", us(d.cpu), us(p.cpu)), "", "",
			fmt.Sprintf("the difference, ≈%s, is the in-process proxy's own CPU per request (the generator's is in both)", us(p.cpu-d.cpu))},
	}
}

type meanResult struct {
	rps           float64
	p50, p99, cpu time.Duration
	errors        int64
}

func mean(rs []closedResult) meanResult {
	var m meanResult
	for _, r := range rs {
		m.rps += r.rps()
		m.p50 += r.p50
		m.p99 += r.p99
		m.cpu += r.cpuPerRequest()
		m.errors += r.errors
	}
	n := len(rs)
	m.rps /= float64(n)
	m.p50 /= time.Duration(n)
	m.p99 /= time.Duration(n)
	m.cpu /= time.Duration(n)
	return m
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("count %q: want a positive integer", f)
		}
		out = append(out, n)
	}
	return out, nil
}
