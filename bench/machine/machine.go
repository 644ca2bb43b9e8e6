// Package machine holds what every bench reads off the machine it runs on, and waits that
// end with their context.
package machine

import (
	"context"
	"os"
	"strings"
	"time"
)

// LoadAvg is the 1, 5 and 15 minute load averages from /proc/loadavg ("0.52 0.61 0.70"),
// or "unknown".
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// Sleep waits d, or until ctx ends (then it returns ctx's error).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
