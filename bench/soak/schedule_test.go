package main

import (
	"slices"
	"testing"
	"time"
)

func testPlan() Plan {
	return Plan{Duration: 30 * time.Minute, Warmup: 10 * time.Second, Quiet: time.Minute,
		MinGap: 5 * time.Second, MaxGap: 20 * time.Second, MaxFaults: 300,
		DaemonDownMax: 3 * time.Second, DiskFullMax: 20 * time.Second}
}

func TestScheduleReplaysFromSeed(t *testing.T) {
	a, b := Schedule(42, testPlan()), Schedule(42, testPlan())
	if len(a) == 0 || !slices.Equal(a, b) {
		t.Fatalf("seed 42 twice: %d and %d faults, equal %v", len(a), len(b), slices.Equal(a, b))
	}
	if c := Schedule(43, testPlan()); slices.Equal(a, c) {
		t.Fatal("seeds 42 and 43 gave the same schedule")
	}
}

func TestScheduleStaysWithinItsBounds(t *testing.T) {
	p := testPlan()
	for seed := uint64(1); seed <= 200; seed++ {
		fs := Schedule(seed, p)
		seen := map[Kind]bool{}
		prevEnd := p.Warmup
		for i, f := range fs {
			seen[f.Kind] = true
			if f.At < prevEnd+p.MinGap || f.At > prevEnd+p.MaxGap {
				t.Fatalf("seed %d fault %d at %s: want %s after the previous one's end (%s) at most %s", seed, i, f.At, p.MinGap, prevEnd, p.MaxGap)
			}
			end := f.At
			switch f.Kind {
			case KillDaemon:
				if f.Hold < 0 || f.Hold > p.DaemonDownMax {
					t.Fatalf("seed %d: daemon down %s, at most %s", seed, f.Hold, p.DaemonDownMax)
				}
			case FillDisk:
				if f.Hold < p.DiskFullMax/4 || f.Hold > p.DiskFullMax {
					t.Fatalf("seed %d: disk full %s, want %s to %s", seed, f.Hold, p.DiskFullMax/4, p.DiskFullMax)
				}
				end += f.Hold
			default:
				if f.Hold != 0 {
					t.Fatalf("seed %d: %s with a hold", seed, f.Kind)
				}
			}
			if end >= p.Duration-p.Quiet {
				t.Fatalf("seed %d: fault %s ends at %s, in the quiet end (after %s)", seed, f.Kind, end, p.Duration-p.Quiet)
			}
			if f.Service != 0 && f.Service != 1 {
				t.Fatalf("seed %d: service %d", seed, f.Service)
			}
			prevEnd = end
		}
		if len(fs) < 60 || len(seen) != len(kinds) {
			t.Fatalf("seed %d: %d faults of %d kinds, want 60 or more of all %d", seed, len(fs), len(seen), len(kinds))
		}
	}
}

func TestScheduleCoversEveryKindFirst(t *testing.T) {
	p := testPlan()
	p.Duration = 3 * time.Minute // room for about ten faults
	for seed := uint64(1); seed <= 50; seed++ {
		fs := Schedule(seed, p)
		if len(fs) < len(kinds) {
			continue
		}
		seen := map[Kind]bool{}
		for _, f := range fs[:len(kinds)] {
			seen[f.Kind] = true
		}
		if len(seen) != len(kinds) {
			t.Fatalf("seed %d: the first %d faults have %d kinds", seed, len(kinds), len(seen))
		}
	}
}

func TestScheduleBoundedCountAndNoDisk(t *testing.T) {
	p := testPlan()
	p.MaxFaults, p.NoDisk = 7, true
	for seed := uint64(1); seed <= 50; seed++ {
		fs := Schedule(seed, p)
		if len(fs) != 7 {
			t.Fatalf("seed %d: %d faults, want 7", seed, len(fs))
		}
		for _, f := range fs {
			if f.Kind == FillDisk {
				t.Fatalf("seed %d: fill_disk with NoDisk", seed)
			}
		}
	}
}
