package proxy

import "runtime/debug"

// Garbage collector settings for a process whose steady work is proxying requests. Each
// request allocates a little (net/http's request and header maps, the upstream's response),
// and the live heap of the daemon is small, so the default GOGC of 100 runs a collection for
// every few megabytes proxied. A higher target trades some of that CPU for memory: in
// bench/proxy measurements on 2 cores, GOGC 400 took about 5 % less CPU per proxied request,
// and the idle daemon with 100 services grew from 49.6 to 65.0 MiB; under proxy load
// (bench/daemonrss, 8,000 req/s) the daemon's anonymous memory was 30 MiB at GOGC 400
// against 16 at 100, its live heap 4 MiB. GOGC 200 is the middle (docs/benchmarks.md).
const (
	// GCPercent is the GOGC that TuneGC sets: the heap may grow to three times the live data
	// between collections.
	GCPercent = 200
	// GCMemoryLimit is the soft memory limit that TuneGC sets with GCPercent, so that a large
	// live heap does not grow fivefold: past it, collections run as often as needed to stay
	// under it (see runtime/debug.SetMemoryLimit).
	GCMemoryLimit = 1 << 30
)

// TuneGC sets the garbage collector for a process that runs the proxy: GCPercent unless the
// operator set GOGC, and GCMemoryLimit unless the operator set GOMEMLIMIT (getenv is
// os.Getenv). It returns the GOGC and memory limit in force afterwards. It changes
// process-wide settings: the program's entry point calls it once, a library never does.
func TuneGC(getenv func(string) string) (gcPercent int, memoryLimit int64) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(GCMemoryLimit)
	}
	gcPercent = debug.SetGCPercent(-1)
	debug.SetGCPercent(gcPercent)
	return gcPercent, debug.SetMemoryLimit(-1)
}
