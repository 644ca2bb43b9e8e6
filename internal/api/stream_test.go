package api_test

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/api/apitest"
)

// eventsAfter returns a backend whose only event (id 5, deployment 7) appears at appear,
// counting the calls to Events in calls.
func eventsAfter(appear time.Time, calls *atomic.Int32, got *api.EventQuery) *apitest.Backend {
	return &apitest.Backend{EventsFunc: func(_ context.Context, q api.EventQuery) ([]api.Event, error) {
		calls.Add(1)
		*got = q
		if time.Now().Before(appear) || q.AfterID >= 5 {
			return nil, nil
		}
		return []api.Event{{ID: 5, DeploymentID: 7, Type: "progress", Message: "rolling"}}, nil
	}}
}

func TestEventsLongPoll(t *testing.T) {
	tests := []struct {
		name      string
		target    string
		appearIn  time.Duration
		wantIDs   []int64
		wantTook  time.Duration
		wantQuery api.EventQuery
	}{
		{"present at once", "/v1/events?wait=5s", 0, []int64{5}, 0, api.EventQuery{}},
		{"no wait answers at once", "/v1/events?after=5", time.Second, []int64{}, 0,
			api.EventQuery{AfterID: 5}},
		{"arrives during wait", "/v1/events?deployment=7&wait=5s", 1050 * time.Millisecond, []int64{5},
			1100 * time.Millisecond, api.EventQuery{DeploymentID: 7}},
		{"wait ends empty", "/v1/events?service=web&after=5&limit=10&wait=2s", 0, []int64{}, 2 * time.Second,
			api.EventQuery{Service: "web", AfterID: 5, Limit: 10}},
		{"wait is capped", "/v1/events?after=5&wait=1h", 0, []int64{}, api.DefaultEventsMaxWait,
			api.EventQuery{AfterID: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var calls atomic.Int32
				var gotQ api.EventQuery
				start := time.Now()
				b := eventsAfter(start.Add(tt.appearIn), &calls, &gotQ)
				rec := serve(t, b, nil, authed("GET", tt.target, nil))
				took := time.Since(start)
				if rec.Code != 200 {
					t.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
				var ids []int64
				for _, e := range decode[[]api.Event](t, rec) {
					ids = append(ids, e.ID)
				}
				if diff := cmp.Diff(ids, tt.wantIDs, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("event ids (-got +want):\n%s", diff)
				}
				if took != tt.wantTook {
					t.Errorf("answered after %v, want %v", took, tt.wantTook)
				}
				if diff := cmp.Diff(gotQ, tt.wantQuery); diff != "" {
					t.Errorf("backend query (-got +want):\n%s", diff)
				}
				// The initial call, then one per poll; at the wait's end the last poll and the
				// deadline coincide, and either may win.
				polls := int32(tt.wantTook / api.DefaultEventsPoll)
				if n := calls.Load(); n != polls+1 && (len(tt.wantIDs) > 0 || n != polls) {
					t.Errorf("backend asked %d times, want %d (every %v)", n, polls+1, api.DefaultEventsPoll)
				}
			})
		})
	}
}

func TestEventsLongPollClientLeaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		var q api.EventQuery
		b := eventsAfter(time.Now().Add(time.Hour), &calls, &q)
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		serve(t, b, nil, authed("GET", "/v1/events?wait=1m", nil).WithContext(ctx))
		if took := time.Since(start); took != 300*time.Millisecond {
			t.Errorf("handler returned after %v, want 300ms (when the client left)", took)
		}
	})
}
