package proxy

import (
	"math"
	"runtime/debug"
	"testing"
)

// restoreGC puts the process's collector settings back when the test ends.
func restoreGC(t *testing.T) {
	percent := debug.SetGCPercent(100)
	debug.SetGCPercent(percent)
	limit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
}

func TestTuneGC(t *testing.T) {
	restoreGC(t)
	debug.SetGCPercent(100)
	debug.SetMemoryLimit(math.MaxInt64)
	percent, limit := TuneGC(func(string) string { return "" })
	if percent != GCPercent || limit != GCMemoryLimit {
		t.Errorf("TuneGC() = %d, %d; want %d, %d", percent, limit, GCPercent, GCMemoryLimit)
	}
}

func TestTuneGCKeepsOperatorSettings(t *testing.T) {
	restoreGC(t)
	debug.SetGCPercent(150)
	debug.SetMemoryLimit(64 << 20)
	env := map[string]string{"GOGC": "150", "GOMEMLIMIT": "64MiB"}
	percent, limit := TuneGC(func(k string) string { return env[k] })
	if percent != 150 || limit != 64<<20 {
		t.Errorf("TuneGC() with GOGC and GOMEMLIMIT set = %d, %d; want 150, %d", percent, limit, 64<<20)
	}
}
