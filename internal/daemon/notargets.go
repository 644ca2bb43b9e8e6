package daemon

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/store"
)

// targetState is whether a service's requests reach an instance.
type targetState uint8

const (
	targetsNever   targetState = iota // no target yet: the first deployment is starting
	targetsServing                    // the proxy has a target
	targetsLost                       // it had one and has none now
)

// noteTargets records when a service's last target leaves the proxy (its requests then get
// 503 with Retry-After) and when one is back. The fleet lock is held, so the event is
// written in the background, stamped with the time of the change.
func (d *Daemon) noteTargets(s *service, has bool) {
	var typ, msg string
	switch {
	case has && s.targets == targetsLost:
		typ, msg = "targets_restored", fmt.Sprintf("service %s has a ready instance again; the proxy routes to it", s.name)
	case !has && s.targets == targetsServing:
		typ, msg = "no_targets", fmt.Sprintf("service %s has no ready instance: the proxy answers 503 with Retry-After", s.name)
	}
	switch {
	case has:
		s.targets = targetsServing
	case s.targets == targetsServing:
		s.targets = targetsLost
	}
	if typ == "" {
		return
	}
	e := store.Event{Time: time.Now(), Service: s.name, Type: typ, Message: msg}
	e.Data, _ = json.Marshal(map[string]any{"stable": s.stable})
	d.tasks.launch(func(ctx context.Context) {
		if ctx.Err() != nil {
			return // shutting down: instances stop by design
		}
		if _, err := d.store.AddEvent(ctx, e); err != nil {
			d.logger.Warn("record event", "service", e.Service, "event", typ, "error", err)
			return
		}
		d.logger.Info(typ, "service", e.Service)
	})
}
