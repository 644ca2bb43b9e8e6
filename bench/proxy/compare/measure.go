package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// results holds every sample: closed[target][conns], open[target] and fixed[target], one per
// round each.
type results struct {
	targets   []string
	skipped   map[string]string
	closed    map[string]map[int][]sample
	open      map[string][]sample // open loop at half the target's saturation
	fixed     map[string][]sample // open loop at options.fixedRate
	rss       map[string]int64    // peak RSS of each target's processes, bytes
	fixedRate int                 // the common open-loop rate; 0: none
}

// measure runs the closed-loop rounds, interleaved across targets, then the open-loop rounds
// (half of each target's saturation, then the fixed rate), then reads each target's peak RSS.
func (b *bench) measure(ctx context.Context) (*results, error) {
	res := &results{skipped: b.skipped, closed: map[string]map[int][]sample{},
		open: map[string][]sample{}, fixed: map[string][]sample{}, rss: map[string]int64{}}
	for _, t := range b.targets {
		res.targets = append(res.targets, t.name)
		res.closed[t.name] = map[int][]sample{}
		// Warm up: connections, upstream pools, Go heaps and CPU frequency.
		if _, err := b.closedLoop(ctx, t, 64, b.o.warmup); err != nil {
			return nil, err
		}
	}
	n := len(b.targets)
	for rep := range b.o.reps {
		for ci, conns := range b.o.conns {
			for i := range n {
				// Rotate the order so no target always runs first or right after another.
				t := b.targets[(i+rep+ci)%n]
				s, err := b.closedLoop(ctx, t, conns, b.o.duration)
				if err != nil {
					return nil, err
				}
				fmt.Fprintf(b.log, "compare: round %d %-8s c=%-3d %8.0f req/s p50 %v p99 %v errors %d cpu %.1f µs/req other %.0f%%\n",
					rep+1, t.name, conns, s.throughput(), s.p50, s.p99, s.errors, s.cpuPerReq(), 100*s.foreign)
				res.closed[t.name][conns] = append(res.closed[t.name][conns], s)
			}
		}
	}
	res.fixedRate = b.o.fixedRate
	if res.fixedRate == 0 {
		res.fixedRate = res.commonRate()
	}
	for rep := range b.o.reps {
		for i := range n {
			t := b.targets[(i+rep)%n]
			sat, _ := res.saturation(t.name)
			if err := b.openRound(ctx, res, t, max(int(sat/2), 1), res.open); err != nil {
				return nil, err
			}
			if res.fixedRate > 0 {
				if err := b.openRound(ctx, res, t, res.fixedRate, res.fixed); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, t := range b.targets {
		res.rss[t.name] = peakRSS(t.pids)
	}
	return res, nil
}

// openRound runs one open-loop run and appends it to into[t.name].
func (b *bench) openRound(ctx context.Context, res *results, t *target, rate int, into map[string][]sample) error {
	s, err := b.openLoop(ctx, t, rate, b.o.openLoop)
	if err != nil {
		return err
	}
	fmt.Fprintf(b.log, "compare: open loop %-8s %d req/s (achieved %.0f) p50 %v p99 %v p99.9 %v errors %d send lag p99 %v other %.0f%%\n",
		t.name, rate, s.throughput(), s.p50, s.p99, s.p999, s.errors, s.lagP99, 100*s.foreign)
	into[t.name] = append(into[t.name], s)
	return nil
}

// commonRate is half the lowest peak closed-loop throughput among the proxies (direct left
// out): a rate every proxy can sustain, so that their latencies compare at the same load.
func (r *results) commonRate() int {
	var low float64
	for _, name := range r.targets {
		if sat, _ := r.saturation(name); name != "direct" && (low == 0 || sat < low) {
			low = sat
		}
	}
	return max(int(low/2), 1)
}

// saturation is a target's highest closed-loop throughput (best round) and the connections
// it took.
func (r *results) saturation(name string) (float64, int) {
	var best float64
	var at int
	for conns, ss := range r.closed[name] {
		if m := bestThroughput(ss); m > best {
			best, at = m, conns
		}
	}
	return best, at
}

// bestThroughput is the highest throughput of the rounds: on a shared machine, the round
// least disturbed by other work.
func bestThroughput(ss []sample) float64 {
	var best float64
	for _, s := range ss {
		best = max(best, s.throughput())
	}
	return best
}

// bestLatency is the round with the lowest p99.
func bestLatency(ss []sample) sample {
	var best sample
	for i, s := range ss {
		if i == 0 || s.p99 < best.p99 {
			best = s
		}
	}
	return best
}

func meanThroughput(ss []sample) float64 {
	if len(ss) == 0 {
		return 0
	}
	var sum float64
	for _, s := range ss {
		sum += s.throughput()
	}
	return sum / float64(len(ss))
}

// profileCutover runs a fresh cutover harness with -cpuprofile under closed-loop load and
// returns `go tool pprof -top` of the profile.
func (b *bench) profileCutover(ctx context.Context) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	prof, err := filepath.Abs(b.o.profile)
	if err != nil {
		return "", fmt.Errorf("profile path: %w", err)
	}
	p, err := b.startCutover(port, "cutover-profiled", prof)
	if err != nil {
		return "", err
	}
	defer p.stop()
	if err := waitReady(ctx, p, fmt.Sprintf("http://127.0.0.1:%d/", port), bodySize); err != nil {
		return "", err
	}
	t := &target{name: "cutover-profiled", port: port, proc: p, pids: []int{p.cmd.Process.Pid}}
	s, err := b.closedLoop(ctx, t, b.o.profileConn, b.o.profileDur)
	if err != nil {
		return "", err
	}
	fmt.Fprintf(b.log, "compare: profiled cutover c=%d %.0f req/s\n", b.o.profileConn, s.throughput())
	p.stop() // the harness writes the profile as it exits
	bin, _ := filepath.Abs(filepath.Join(b.o.binDir, "cutoverproxy"))
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	flat, err := exec.CommandContext(cctx, "go", "tool", "pprof", "-top", "-nodecount=25", bin, prof).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("pprof: %w: %s", err, flat)
	}
	cum, err := exec.CommandContext(cctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=30", bin, prof).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("pprof: %w: %s", err, cum)
	}
	top := fmt.Sprintf("Profiled run: %d connections, %s, %.0f req/s under the profiler.\n\n"+
		"$ go tool pprof -top -nodecount=25 cutoverproxy %s\n%s\n"+
		"$ go tool pprof -top -cum -nodecount=30 cutoverproxy %s\n%s",
		b.o.profileConn, b.o.profileDur, s.throughput(), filepath.Base(prof), flat, filepath.Base(prof), cum)
	_ = os.WriteFile(prof+".top.txt", []byte(top), 0o644)
	return top, nil
}
