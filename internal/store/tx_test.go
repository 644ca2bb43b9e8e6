package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestTxCommitsAndRollsBack(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	boom := errors.New("boom")
	err := s.Tx(ctx, func(tx *Store) error {
		if err := tx.PutService(ctx, Service{Name: "web"}); err != nil {
			return err
		}
		if _, err := tx.AddEvent(ctx, Event{Type: "x"}); err != nil {
			return err
		}
		// The bound store sees its own writes.
		if _, err := tx.GetService(ctx, "web"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v, want fn's error", err)
	}
	if _, err := s.GetService(ctx, "web"); !errors.Is(err, ErrNotFound) {
		t.Errorf("service after rolled-back Tx: %v, want ErrNotFound", err)
	}
	if id, _ := s.LastEventID(ctx); id != 0 {
		t.Errorf("event after rolled-back Tx: last id %d", id)
	}

	err = s.Tx(ctx, func(tx *Store) error {
		if err := tx.Instances().Put(ctx, Instance{ID: "i1", Service: "web"}); err != nil {
			return err
		}
		// A nested Tx joins the outer one.
		return tx.Tx(ctx, func(inner *Store) error {
			_, err := inner.AddEvent(ctx, Event{Type: "instance started"})
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Instances().Get(ctx, "i1"); err != nil {
		t.Errorf("instance after committed Tx: %v", err)
	}
	if id, _ := s.LastEventID(ctx); id == 0 {
		t.Error("event from nested Tx missing after commit")
	}
}

func TestTxRollsBackOnPanic(t *testing.T) {
	s := openTest(t)
	ctx := t.Context()
	func() {
		defer func() { _ = recover() }()
		_ = s.Tx(ctx, func(tx *Store) error {
			if err := tx.PutService(ctx, Service{Name: "web"}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	if _, err := s.GetService(ctx, "web"); !errors.Is(err, ErrNotFound) {
		t.Errorf("service after panicking Tx: %v, want ErrNotFound", err)
	}
	// The writer is free again.
	if err := s.PutService(ctx, Service{Name: "api"}); err != nil {
		t.Errorf("write after panicking Tx: %v", err)
	}
}

// TestConcurrentUse is for the race detector and for lost writes: many goroutines
// write and read at once.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := t.Context()
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			svc := fmt.Sprint("svc", w)
			for i := range each {
				_, d, err := s.BeginDeployment(ctx, Service{Name: svc}, Revision{}, Deployment{})
				if err == nil {
					d.Status = "succeeded"
					err = s.UpdateDeployment(ctx, d)
				}
				if err == nil {
					err = s.Tx(ctx, func(tx *Store) error {
						if err := tx.Instances().Put(ctx, Instance{ID: fmt.Sprint(svc, "-", i), Service: svc}); err != nil {
							return err
						}
						_, err := tx.AddEvent(ctx, Event{Service: svc, Type: "tick"})
						return err
					})
				}
				if err == nil {
					_, err = s.ListEvents(ctx, EventFilter{Service: svc})
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	events, err := s.ListEvents(ctx, EventFilter{Limit: workers * each * 2})
	if err != nil || len(events) != workers*each {
		t.Errorf("events = %d, %v; want %d", len(events), err, workers*each)
	}
	for w := range workers {
		if got := revNumbers(t, s, fmt.Sprint("svc", w)); len(got) != each || got[0] != each {
			t.Errorf("svc%d revisions = %v, want %d numbered up to %d", w, got, each, each)
		}
	}
}
