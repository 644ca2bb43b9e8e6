package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAddEvent(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	if id, err := s.LastEventID(ctx); err != nil || id != 0 {
		t.Errorf("LastEventID on empty store = %d, %v; want 0", id, err)
	}
	at := time.Date(2025, 3, 4, 5, 6, 7, 8, time.FixedZone("x", -7200))
	e, err := s.AddEvent(ctx, Event{Time: at, Service: "web", DeploymentID: 3, Type: "step", Message: "weight 10", Data: []byte(`{"w":10}`)})
	if err != nil {
		t.Fatal(err)
	}
	want := Event{ID: e.ID, Time: at, Service: "web", DeploymentID: 3, Type: "step", Message: "weight 10", Data: []byte(`{"w":10}`)}
	if diff := cmp.Diff(e, want); diff != "" || e.ID == 0 || e.Time.Location() != time.UTC {
		t.Errorf("AddEvent (-got +want):\n%s (time %v)", diff, e.Time)
	}
	list, err := s.ListEvents(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(list, []Event{want}); diff != "" {
		t.Errorf("ListEvents (-got +want):\n%s", diff)
	}

	before := time.Now()
	e2, err := s.AddEvent(ctx, Event{Type: "daemon started"})
	if err != nil {
		t.Fatal(err)
	}
	if e2.Time.Before(before.Add(-time.Second)) || e2.Time.Location() != time.UTC || e2.Data != nil || e2.ID <= e.ID {
		t.Errorf("AddEvent with defaults = %+v", e2)
	}
	if id, err := s.LastEventID(ctx); err != nil || id != e2.ID {
		t.Errorf("LastEventID = %d, %v; want %d", id, err, e2.ID)
	}
}

func TestListEventsFilter(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	type ev struct {
		service string
		dep     int64
	}
	var all []ev
	for i := range 30 {
		e := ev{[]string{"web", "api", ""}[i%3], int64(i % 2)}
		if _, err := s.AddEvent(ctx, Event{Service: e.service, DeploymentID: e.dep, Type: fmt.Sprint("t", i)}); err != nil {
			t.Fatal(err)
		}
		all = append(all, e)
	}
	// want computes the expected IDs (1-based, in order) straight from what was added.
	want := func(keep func(id int64, e ev) bool, limit int) []int64 {
		var out []int64
		for i, e := range all {
			if id := int64(i + 1); keep(id, e) && len(out) < limit {
				out = append(out, id)
			}
		}
		return out
	}
	tests := []struct {
		name string
		f    EventFilter
		want []int64
	}{
		{"all", EventFilter{}, want(func(int64, ev) bool { return true }, 1000)},
		{"service", EventFilter{Service: "web"}, want(func(_ int64, e ev) bool { return e.service == "web" }, 1000)},
		{"deployment", EventFilter{DeploymentID: 1}, want(func(_ int64, e ev) bool { return e.dep == 1 }, 1000)},
		{"service and deployment", EventFilter{Service: "api", DeploymentID: 1},
			want(func(_ int64, e ev) bool { return e.service == "api" && e.dep == 1 }, 1000)},
		{"after", EventFilter{AfterID: 25}, want(func(id int64, _ ev) bool { return id > 25 }, 1000)},
		{"limit", EventFilter{AfterID: 4, Limit: 3}, want(func(id int64, _ ev) bool { return id > 4 }, 3)},
		{"none", EventFilter{Service: "db"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, err := s.ListEvents(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, e := range list {
				got = append(got, e.ID)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("ListEvents(%+v) (-got +want):\n%s", tt.f, diff)
			}
		})
	}
}

func TestListEventsDefaultLimit(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	err := s.Tx(ctx, func(tx *Store) error {
		for range defaultEventLimit + 5 {
			if _, err := tx.AddEvent(ctx, Event{Type: "x"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.ListEvents(ctx, EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != defaultEventLimit || list[0].ID != 1 {
		t.Errorf("ListEvents with no limit returned %d events from %d, want %d from 1", len(list), list[0].ID, defaultEventLimit)
	}
}
