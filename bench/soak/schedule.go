package main

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Kind is one kind of fault the soak injects.
type Kind string

// The faults, in the order the report lists them.
const (
	DeployRolling   Kind = "deploy_rolling"
	DeployBlueGreen Kind = "deploy_blue_green"
	DeployCanary    Kind = "deploy_canary"
	Rollback        Kind = "rollback"
	KillInstance    Kind = "kill_instance"
	HandOff         Kind = "handoff"
	KillDaemon      Kind = "kill_daemon"
	FillDisk        Kind = "fill_disk"
)

// kinds are drawn with these weights: deploys most often, the daemon's death least.
var kinds = []struct {
	kind   Kind
	weight int
}{
	{DeployRolling, 4}, {DeployBlueGreen, 3}, {DeployCanary, 3}, {Rollback, 2},
	{KillInstance, 4}, {HandOff, 3}, {KillDaemon, 2}, {FillDisk, 1},
}

// Fault is one planned fault: at At from the start of the load, against service Service
// (0 or 1). Pick chooses among instances (kill_instance); Hold is how long the daemon stays
// dead (kill_daemon) or the disk stays full (fill_disk).
type Fault struct {
	At      time.Duration
	Kind    Kind
	Service int
	Pick    int
	Hold    time.Duration
}

func (f Fault) String() string {
	s := fmt.Sprintf("%8s %-17s svc=%d", f.At.Round(100*time.Millisecond), f.Kind, f.Service)
	if f.Hold > 0 {
		s += " hold=" + f.Hold.Round(100*time.Millisecond).String()
	}
	return s
}

// Plan bounds a schedule: faults start after Warmup, at most MaxFaults of them, each gap
// between MinGap and MaxGap, and none in the last Quiet of Duration (the system settles).
type Plan struct {
	Duration, Warmup, Quiet time.Duration
	MinGap, MaxGap          time.Duration
	MaxFaults               int
	// DaemonDownMax and DiskFullMax bound the holds; NoDisk leaves fill_disk out.
	DaemonDownMax, DiskFullMax time.Duration
	NoDisk                     bool
}

// Schedule draws the faults from seed: the same seed and plan give the same faults. The
// first ones are every kind once, in a random order (so that a short run meets each), then
// kinds are drawn by weight. Faults never overlap a full disk: the next one starts at
// least MinGap after the disk is freed, so a daemon is never killed (and restarted) on a
// full disk.
func Schedule(seed uint64, p Plan) []Fault {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var first []Kind
	for _, k := range kinds {
		if !(p.NoDisk && k.kind == FillDisk) {
			first = append(first, k.kind)
		}
	}
	r.Shuffle(len(first), func(i, j int) { first[i], first[j] = first[j], first[i] })
	end := p.Duration - p.Quiet
	var out []Fault
	at := p.Warmup
	for len(out) < p.MaxFaults {
		at += between(r, p.MinGap, p.MaxGap)
		if at >= end {
			break
		}
		f := Fault{At: at, Service: r.IntN(2), Pick: r.IntN(1 << 16)}
		if len(out) < len(first) {
			f.Kind = first[len(out)]
		} else {
			f.Kind = draw(r, p.NoDisk)
		}
		switch f.Kind {
		case KillDaemon:
			f.Hold = between(r, 0, p.DaemonDownMax)
		case FillDisk:
			f.Hold = between(r, p.DiskFullMax/4, p.DiskFullMax)
			if at+f.Hold >= end {
				continue
			}
			at += f.Hold
		}
		out = append(out, f)
	}
	return out
}

func draw(r *rand.Rand, noDisk bool) Kind {
	total := 0
	for _, k := range kinds {
		if !(noDisk && k.kind == FillDisk) {
			total += k.weight
		}
	}
	n := r.IntN(total)
	for _, k := range kinds {
		if noDisk && k.kind == FillDisk {
			continue
		}
		if n < k.weight {
			return k.kind
		}
		n -= k.weight
	}
	panic("unreachable")
}

// between is uniform in [lo, hi] (lo when hi <= lo), to the millisecond.
func between(r *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(r.Int64N(int64((hi-lo)/time.Millisecond)+1))*time.Millisecond
}
