package notify

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/store"
)

// Deliveries lists the outbox (*store.Store).
type Deliveries interface {
	Deliveries(ctx context.Context, limit int) ([]store.Delivery, error)
}

// Services lists the services, whose specs hold their own targets.
type Services interface {
	Services(ctx context.Context) ([]api.Service, error)
}

// Recorder records an event (the daemon's event log).
type Recorder interface {
	Record(ctx context.Context, service string, deploymentID int64, typ, message string, data map[string]any)
}

// ListHandler answers GET /v1/notifications: every daemon-wide target and each service's
// (URLs redacted, secrets left out) and the latest 100 deliveries.
func ListHandler(list Deliveries, dir Directory, services Services) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := api.NotifyStatus{Targets: []api.NotifyTarget{}, Deliveries: []api.NotifyDelivery{}}
		svcs, err := services.Services(r.Context())
		targets := append([]Target(nil), dir.Global...)
		for _, svc := range svcs {
			own, e := dir.serviceTargets(r.Context(), svc.Name)
			targets, err = append(targets, own...), joinErr(err, e)
		}
		ds, e := list.Deliveries(r.Context(), 100)
		if err = joinErr(err, e); err != nil {
			http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
			return
		}
		for _, t := range targets {
			out.Targets = append(out.Targets, api.NotifyTarget{Name: t.Name, Type: t.Kind, URL: RedactURL(t.URL), Signed: t.Secret != "", Events: t.Events})
		}
		for _, d := range ds {
			out.Deliveries = append(out.Deliveries, api.NotifyDelivery{ID: d.ID, EventID: d.EventID, Target: d.Target, Service: d.Service,
				Event: d.Type, Status: d.Status, Attempts: d.Attempts, LastError: d.LastError, NextAt: d.NextAt,
				CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
}

// TestHandler answers POST /v1/notifications/test?service=&target=: it records a notify_test
// event, which the notifier sends to the daemon-wide targets and the service's (only to
// target when given), like any other.
func TestHandler(rec Recorder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		target := r.URL.Query().Get("target")
		if target == "" {
			target = "all"
		}
		rec.Record(r.Context(), r.URL.Query().Get("service"), 0, "notify_test", target,
			map[string]any{"by": api.Identity(r.Context())})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"queued":true}` + "\n"))
	})
}

func joinErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
