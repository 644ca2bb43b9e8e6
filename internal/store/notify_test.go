package store

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestOutboxCapsPendingPerTarget: once a target has maxPending deliveries waiting (a
// receiver that never answers), later ones are recorded as dropped, without their body, so
// neither memory nor the state file grows with the backlog; another target is not held back,
// and a delivery that goes out frees a place.
func TestOutboxCapsPendingPerTarget(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	body := bytes.Repeat([]byte("x"), 4096)
	const capacity = 5
	for ev := int64(1); ev <= 12; ev++ {
		ds := []Delivery{{EventID: ev, Target: "stuck", Type: "t", Body: body}}
		if ev <= 2 {
			ds = append(ds, Delivery{EventID: ev, Target: "other", Type: "t", Body: body})
		}
		if err := s.Enqueue(ctx, ev, ds, capacity); err != nil {
			t.Fatal(err)
		}
	}
	count := func() (pending, dropped, other int) {
		all, err := s.Deliveries(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range all {
			switch {
			case d.Target == "other":
				other++
			case d.Status == DeliveryPending:
				pending++
			case d.Status == DeliveryDropped:
				dropped++
				if len(d.Body) != 0 {
					t.Errorf("dropped delivery %d keeps a %d-byte body", d.ID, len(d.Body))
				}
			}
		}
		return pending, dropped, other
	}
	if p, d, o := count(); p != capacity || d != 12-capacity || o != 2 {
		t.Fatalf("pending %d, dropped %d, other target %d; want %d, %d, 2", p, d, o, capacity, 12-capacity)
	}
	next, err := s.NextDeliveries(ctx)
	if err != nil || len(next) != 2 {
		t.Fatalf("next deliveries: %d (%v), want one per target", len(next), err)
	}
	for _, d := range next {
		if d.Target == "stuck" {
			if err := s.RecordAttempt(ctx, d.ID, true, "", time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := s.Enqueue(ctx, 13, []Delivery{{EventID: 13, Target: "stuck", Type: "t", Body: body}}, capacity); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := count(); p != capacity {
		t.Errorf("after one delivery and one more event: %d pending, want %d", p, capacity)
	}
}
