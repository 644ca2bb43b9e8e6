package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// row is one target's headline figures.
type row struct {
	name           string
	tp64, peak     float64
	peakConns      int
	rate           float64
	p50, p99, p999 time.Duration
	openErrors     int64
	cpu64, cpuOpen float64
	rss            int64
	open, fixed    sample
}

// headline reduces a target's samples to its row.
func (r *results) headline(name string) row {
	w := row{name: name}
	w.tp64 = bestThroughput(r.closed[name][64])
	w.peak, w.peakConns = r.saturation(name)
	var ticks, reqs int64
	for _, s := range r.closed[name][64] {
		ticks += s.cpuTicks
		reqs += s.requests
	}
	w.cpu64 = sample{cpuTicks: ticks, requests: reqs}.cpuPerReq()
	o := bestLatency(r.open[name])
	w.rate, w.p50, w.p99, w.p999, w.openErrors = o.rate, o.p50, o.p99, o.p999, o.errors
	w.cpuOpen = o.cpuPerReq()
	w.open, w.fixed = o, bestLatency(r.fixed[name])
	w.rss = r.rss[name]
	return w
}

// report renders the Markdown report.
func report(o options, r *results, machine, profile string, took time.Duration) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "Measured %s, took %s.\n\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"), took.Round(time.Second))
	if o.command != "" {
		fmt.Fprintf(&sb, "Command: `%s`\n\n", o.command)
	}
	sb.WriteString(machine + "\n")
	rows := make(map[string]row)
	for _, name := range r.targets {
		rows[name] = r.headline(name)
	}
	sb.WriteString("### Headline\n\n")
	fmt.Fprintf(&sb, "Best of %d rounds: throughput is the round with the most requests/s, latency the open-loop "+
		"round with the lowest p99 (the rounds least disturbed by other work; every round is listed below). "+
		"p50/p99/p99.9 are open loop (bench/proxy/openloop, latency from each request's scheduled send time) at half "+
		"the target's peak; \"p99 at common rate\" is the same generator at %d req/s for every target. CPU is the "+
		"target's own processes (direct: the upstreams').\n\n", o.reps, r.fixedRate)
	sb.WriteString("| target | req/s at 64 conns | peak req/s (conns) | open-loop rate (achieved) | p50 | p99 | p99.9 | open-loop errors | p99 at common rate | CPU µs/req at 64 conns | CPU µs/req open loop | peak RSS |\n")
	sb.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, name := range r.targets {
		w := rows[name]
		fmt.Fprintf(&sb, "| %s | %.0f | %.0f (%d) | %.0f/s (%.0f/s) | %s | %s | %s | %d | %s | %.1f | %.1f | %.1f MiB |\n",
			name, w.tp64, w.peak, w.peakConns, w.rate, w.open.throughput(), ms(w.p50), ms(w.p99), ms(w.p999), w.openErrors, ms(w.fixed.p99),
			w.cpu64, w.cpuOpen, float64(w.rss)/(1<<20))
	}
	for _, ref := range []string{"direct", "nginx"} {
		if base, ok := rows[ref]; ok {
			ratioTable(&sb, r.targets, rows, base)
		}
	}
	openTable(&sb, r)
	detailTable(&sb, r)
	notes(&sb, o, r)
	if profile != "" {
		sb.WriteString("\n### CPU profile of cutover's proxy\n\n```\n" + strings.TrimSpace(profile) + "\n```\n")
	}
	return sb.String()
}

func ratioTable(sb *strings.Builder, names []string, rows map[string]row, base row) {
	fmt.Fprintf(sb, "\n### Ratio to %s\n\n", base.name)
	sb.WriteString("| target | req/s at 64 | peak req/s | p50 | p99 | p99.9 | p99 at common rate | CPU/req at 64 | CPU/req open loop | peak RSS |\n")
	sb.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, name := range names {
		w := rows[name]
		fmt.Fprintf(sb, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", name,
			ratio(w.tp64, base.tp64), ratio(w.peak, base.peak), ratio(float64(w.p50), float64(base.p50)),
			ratio(float64(w.p99), float64(base.p99)), ratio(float64(w.p999), float64(base.p999)),
			ratio(float64(w.fixed.p99), float64(base.fixed.p99)),
			ratio(w.cpu64, base.cpu64), ratio(w.cpuOpen, base.cpuOpen), ratio(float64(w.rss), float64(base.rss)))
	}
}

func openTable(sb *strings.Builder, r *results) {
	sb.WriteString("\n### Open loop (bench/proxy/openloop), every round\n\n")
	sb.WriteString("At half of each target's peak closed-loop throughput, then at one common rate for all. " +
		"Latency runs from each request's scheduled send time to the last byte of its answer. `send lag p99` " +
		"is how late the generator wrote the request past its scheduled time (its own delay plus waiting for " +
		"a free connection while the target was slow); when it is large, the machine could not keep up.\n\n")
	sb.WriteString("| target | load | round | rate asked | achieved | p50 | p99 | p99.9 | errors (unsent) | send lag p99 | target CPU µs/req | generator CPU µs/req | other load |\n")
	sb.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, run := range []string{"50% of peak", "common rate"} {
		for _, name := range r.targets {
			ss := r.open[name]
			if run == "common rate" {
				ss = r.fixed[name]
			}
			for i, o := range ss {
				openRow(sb, name, run, i+1, o)
			}
		}
	}
}

func openRow(sb *strings.Builder, name, run string, round int, o sample) {
	fmt.Fprintf(sb, "| %s | %s | %d | %.0f/s | %.0f/s | %s | %s | %s | %d (%d) | %s | %.1f | %.1f | %.0f%% |\n", name, run, round, o.rate,
		o.throughput(), ms(o.p50), ms(o.p99), ms(o.p999), o.errors, o.unsent, ms(o.lagP99), o.cpuPerReq(),
		sample{cpuTicks: o.genTicks, requests: o.requests}.cpuPerReq(), 100*o.foreign)
}

func detailTable(sb *strings.Builder, r *results) {
	sb.WriteString("\n### Closed loop (wrk), every concurrency\n\n")
	sb.WriteString("Mean of the rounds (min–max); latencies are wrk's (closed loop, so they include queueing " +
		"behind the generator's own connections); errors are summed over the rounds.\n\n")
	sb.WriteString("| target | conns | req/s | p50 | p99 | p99.9 | errors | CPU µs/req | wrk CPU µs/req | other load |\n")
	sb.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var conns []int
	for c := range r.closed[r.targets[0]] {
		conns = append(conns, c)
	}
	slices.Sort(conns)
	for _, c := range conns {
		for _, name := range r.targets {
			ss := r.closed[name][c]
			lo, hi := ss[0].throughput(), ss[0].throughput()
			var p50, p99, p999 time.Duration
			var errs, ticks, reqs, gen int64
			var foreign float64
			for _, s := range ss {
				gen, foreign = gen+s.genTicks, foreign+s.foreign/float64(len(ss))
				lo, hi = min(lo, s.throughput()), max(hi, s.throughput())
				p50, p99, p999 = p50+s.p50, p99+s.p99, p999+s.p999
				errs, ticks, reqs = errs+s.errors, ticks+s.cpuTicks, reqs+s.requests
			}
			n := time.Duration(len(ss))
			fmt.Fprintf(sb, "| %s | %d | %.0f (%.0f–%.0f) | %s | %s | %s | %d | %.1f | %.1f | %.0f%% |\n", name, c,
				meanThroughput(ss), lo, hi, ms(p50/n), ms(p99/n), ms(p999/n), errs,
				sample{cpuTicks: ticks, requests: reqs}.cpuPerReq(),
				sample{cpuTicks: gen, requests: reqs}.cpuPerReq(), 100*foreign)
		}
	}
}

func notes(sb *strings.Builder, o options, r *results) {
	sb.WriteString("\n### How it was measured\n\n")
	fmt.Fprintf(sb, "- Upstreams: %d instances of `bench/proxy/upstream` (Go net/http, a fixed %d-byte body), "+
		"GOMAXPROCS 2 each. Direct load goes to the first instance (wrk takes one address).\n", o.upstreams, bodySize)
	sb.WriteString("- Every proxy: listens on 127.0.0.1, HTTP/1.1, keep-alive to the client and to the upstreams, " +
		"round robin over the same upstreams, no access log, sets X-Forwarded-For/-Proto/-Host and an " +
		"X-Request-Id (upstream and response) as cutover does. cutover: `bench/proxy/cutoverproxy` " +
		"(internal/proxy with one route, as the daemon sets it up; GOMAXPROCS 2; 256 idle upstream " +
		"connections per host); nginx: 2 worker processes, `keepalive 256` per worker; HAProxy: " +
		"`nbthread 2`, `http-reuse always`; Caddy: GOMAXPROCS 2, `keepalive_idle_conns_per_host 256`.\n")
	fmt.Fprintf(sb, "- Closed loop: wrk, 2 threads (1 at 1 connection), %s per run at %v connections, "+
		"after a %s warm-up per target; %d rounds, targets interleaved and rotated within each round.\n",
		o.duration, o.conns, o.warmup, o.reps)
	fmt.Fprintf(sb, "- Open loop: bench/proxy/openloop for %s at half of each target's peak closed-loop "+
		"throughput, then at %d req/s (half the lowest proxy peak unless -fixed-rate says otherwise), %d rounds, "+
		"targets rotated. Request i is due at start + i/rate; it goes out on a free keep-alive connection of a "+
		"pool sized to the rate (rate/200, 8 to 256), each connection woken by its own timerfd; latency is from "+
		"the due time (no coordinated omission); p50/p99/p99.9 are exact over every 200 response.\n", o.openLoop, r.fixedRate, o.reps)
	sb.WriteString("- CPU µs/req: utime+stime of the target's processes (nginx: master and workers; direct: " +
		"both upstreams) from /proc/<pid>/stat over the run ÷ requests; 10 ms tick resolution. Peak RSS: " +
		"VmHWM from /proc/<pid>/status, summed over the same processes, after every run.\n")
	sb.WriteString("- Other load: the share of the machine's CPU (all cores) used during a run by processes " +
		"outside the bench (machine busy time from /proc/stat minus the targets, the upstreams and the " +
		"load generator). Other sessions shared this machine; runs with a high figure are disturbed.\n")
	sb.WriteString("- Everything shares the 2 cores: the load generator, the proxy and the upstreams compete, " +
		"so absolute figures are lower than on separate machines; the ratios are the point.\n")
	for name, why := range r.skipped {
		fmt.Fprintf(sb, "- %s left out: %s.\n", name, why)
	}
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("×%.2f", a/b)
}
