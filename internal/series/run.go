package series

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// Read returns every service's cumulative counters per revision and every instance's usage now.
type Read func(ctx context.Context) Sample

// Run samples read every interval until ctx ends; it returns ctx's error.
func (r *Recorder) Run(ctx context.Context, every time.Duration, read Read) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	r.Observe(time.Now(), read(ctx))
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-tick.C:
			r.Observe(now, read(ctx))
		}
	}
}

// Answer is GET /v1/services/{name}/series: the service's samples per revision, oldest
// first, and the sampling interval.
type Answer struct {
	IntervalSeconds float64         `json:"interval_seconds"`
	Revisions       map[int][]Point `json:"revisions"`
}

// Handler serves GET /v1/services/{name}/series from r (an unknown service has no sample).
func (r *Recorder) Handler(every time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		revs := r.Service(req.PathValue("name"))
		if revs == nil {
			revs = map[int][]Point{}
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(Answer{IntervalSeconds: every.Seconds(), Revisions: revs})
	})
}
