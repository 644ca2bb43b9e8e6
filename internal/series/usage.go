package series

import "time"

// Usage is an instance's CPU time so far and resident memory now, with whose it is.
type Usage struct {
	Service  string
	Revision int
	CPU      time.Duration
	Memory   int64
}

// InstanceUsage is what is shown of an instance: its CPU use over the last interval (100 is
// one core busy) and its resident memory.
type InstanceUsage struct {
	CPUPercent float64 `json:"cpu_percent"`
	Memory     int64   `json:"memory_bytes"`
}

type usageSeen struct {
	at    time.Time
	read  Usage
	shown InstanceUsage
}

// observeUsage keeps each instance's newest usage; an instance absent from now's readings is
// forgotten. The first reading of an instance shows its memory and no CPU yet.
func (r *Recorder) observeUsage(now time.Time, usage map[string]Usage) {
	next := make(map[string]usageSeen, len(usage))
	for id, u := range usage {
		shown := InstanceUsage{Memory: u.Memory}
		if p, ok := r.usage[id]; ok && now.After(p.at) && u.CPU >= p.read.CPU {
			shown.CPUPercent = 100 * (u.CPU - p.read.CPU).Seconds() / now.Sub(p.at).Seconds()
		}
		next[id] = usageSeen{at: now, read: u, shown: shown}
	}
	r.usage = next
}

// Usage returns the instance's newest usage, if it has been read.
func (r *Recorder) Usage(id string) (InstanceUsage, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	u, ok := r.usage[id]
	return u.shown, ok
}

// AllUsage returns every instance's newest usage, by instance ID.
func (r *Recorder) AllUsage() map[string]InstanceUsage {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]InstanceUsage, len(r.usage))
	for id, u := range r.usage {
		out[id] = u.shown
	}
	return out
}
