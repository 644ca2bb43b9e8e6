package daemon

import (
	"context"
	"time"

	"github.com/cutover/cutover/internal/procstat"
	"github.com/cutover/cutover/internal/series"
)

// sampleEvery is Options.SampleEvery with its default: one sample per 10 s, an hour in 360.
func (d *Daemon) sampleEvery() time.Duration {
	if d.opts.SampleEvery > 0 {
		return d.opts.SampleEvery
	}
	return 10 * time.Second
}

// sampleTraffic runs the per-revision time series the dashboard's charts draw, fed from the
// proxy's counters of every recorded service, and reads the instances' CPU and memory.
func (d *Daemon) sampleTraffic(ctx context.Context) error {
	return d.series.Run(ctx, d.sampleEvery(), d.sample)
}

// sample reads the proxy's counters of every recorded service and the usage of each of its
// instances that has a process on this host.
func (d *Daemon) sample(ctx context.Context) series.Sample {
	svcs, err := d.store.ListServices(ctx)
	if err != nil {
		d.logger.Warn("sample traffic: list services", "error", err)
		return series.Sample{}
	}
	out := series.Sample{Counts: make(map[string]map[int]series.Counts, len(svcs)), Usage: map[string]series.Usage{}}
	for _, s := range svcs {
		for _, in := range d.fleet.InstanceViews(s.Name) {
			if u, err := procstat.Read(in.PID); err == nil {
				out.Usage[in.ID] = series.Usage{Service: s.Name, Revision: in.Revision, CPU: u.CPU, Memory: u.Memory}
			}
		}
		revs := map[int]series.Counts{}
		for rev, c := range d.proxy.Stats(s.Name) {
			revs[rev] = series.Counts{Requests: c.Requests, Errors: c.Errors + c.ConnectErrors + c.Timeouts, Latency: c.Latency}
		}
		out.Counts[s.Name] = revs
	}
	return out
}

// instanceUsage is an instance's newest usage for the API (control.Config.Usage).
func (d *Daemon) instanceUsage(id string) (float64, int64, bool) {
	u, ok := d.series.Usage(id)
	return u.CPUPercent, u.Memory, ok
}
