package loadgen

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSchedule(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name        string
		rate        int
		duration    time.Duration
		maxRequests int
		cancelAt    time.Duration // 0: never
		busy        time.Duration // each dispatch takes this long (a late generator)
		want        []time.Duration
	}{
		{name: "rate 10 for 1s", rate: 10, duration: time.Second,
			want: []time.Duration{0, 100 * ms, 200 * ms, 300 * ms, 400 * ms, 500 * ms, 600 * ms, 700 * ms, 800 * ms, 900 * ms}},
		{name: "max requests", rate: 4, maxRequests: 3, want: []time.Duration{0, 250 * ms, 500 * ms}},
		{name: "max requests before duration", rate: 4, duration: time.Hour, maxRequests: 2, want: []time.Duration{0, 250 * ms}},
		{name: "rate 3 has no drift", rate: 3, duration: time.Second, want: []time.Duration{0, 333333333, 666666666}},
		{name: "ctx cancel", rate: 10, cancelAt: 250 * ms, want: []time.Duration{0, 100 * ms, 200 * ms}},
		{name: "late dispatch catches up, keeping scheduled times", rate: 10, duration: 500 * ms, busy: 250 * ms,
			want: []time.Duration{0, 100 * ms, 200 * ms, 300 * ms, 400 * ms}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tt.cancelAt > 0 {
					time.AfterFunc(tt.cancelAt, cancel)
				}
				start := time.Now()
				var got []time.Duration
				var seqs []int64
				schedule(ctx, start, tt.rate, tt.duration, tt.maxRequests, func(seq int64, at time.Time) {
					got = append(got, at.Sub(start))
					seqs = append(seqs, seq)
					time.Sleep(tt.busy)
				})
				if d := cmp.Diff(got, tt.want); d != "" {
					t.Errorf("scheduled offsets (-got +want):\n%s", d)
				}
				for i, s := range seqs {
					if s != int64(i) {
						t.Errorf("seq %d = %d", i, s)
					}
				}
			})
		})
	}
}
