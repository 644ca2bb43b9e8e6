package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/kubestate"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
)

// drive runs one deployment with the rollout controller, from its recorded state, until it
// ends or this term does.
func (s *session) drive(ctx context.Context, rec *kubestate.Record) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	log := s.c.logger.With("service", rec.Service, "deployment_id", rec.ID, "term", s.term)
	r := &recorder{s: s, rec: rec, cancel: cancel}
	d := &rollout.Deployment{ID: rec.ID, Service: rec.Service, Spec: rec.Spec, State: rec.State}
	if rec.Holder != "" && rec.Holder != s.c.cfg.Identity {
		r.pending = append(r.pending, kubestate.Event{Time: time.Now(), Type: "deployment_resumed",
			Message: fmt.Sprintf("resumed by %s (term %d) at %s, step %d", s.c.cfg.Identity, s.term, rec.State.Phase, rec.State.Step),
			Data:    map[string]any{"from_holder": rec.Holder, "from_term": rec.Term}})
	}
	// Claim the record for this term before anything else: a deposed leader's next write
	// then fails its precondition.
	if err := r.SaveState(ctx, d); err != nil {
		log.Warn("claim deployment", "error", err)
		return
	}
	log.Info("driving deployment", "phase", d.State.Phase, "step", d.State.Step)
	requests := make(chan rollout.Request)
	go r.pollActions(ctx, requests)
	ctl := rollout.NewController(instances{s, d}, traffic{s, d}, r, noHooks{}, metrics{s}, log, rollout.Config{Tick: s.c.cfg.Tick})
	if err := ctl.Drive(ctx, d, nil, requests); err != nil && ctx.Err() == nil {
		log.Warn("drive deployment", "error", err)
	}
	log.Info("deployment left", "status", d.State.Status, "phase", d.State.Phase)
}

// recorder is rollout.Recorder over the deployment's record: every write is made under
// this term, with the resourceVersion last read; events go with the next status write.
type recorder struct {
	s      *session
	cancel context.CancelFunc

	mu      sync.Mutex
	rec     *kubestate.Record
	pending []kubestate.Event
}

// SaveState implements rollout.Recorder.
func (r *recorder) SaveState(ctx context.Context, d *rollout.Deployment) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.write(ctx, d)
	if errors.Is(err, errFenced) {
		r.cancel()
	}
	return err
}

func (r *recorder) write(ctx context.Context, d *rollout.Deployment) error {
	for range 5 {
		if err := r.s.leading(); err != nil {
			return err
		}
		rec := *r.rec
		rec.State, rec.Term, rec.Holder = d.State, r.s.term, r.s.c.cfg.Identity
		rec.Events = append(append([]kubestate.Event(nil), r.rec.Events...), r.pending...)
		err := r.s.c.deps.WriteStatus(ctx, &rec)
		if err == nil {
			*r.rec, r.pending = rec, nil
			return nil
		}
		if !errors.Is(err, kubestate.ErrConflict) {
			return err
		}
		cur, err := r.s.c.deps.Fence(ctx, d.ID, r.s.term, r.s.c.cfg.Identity)
		if err != nil {
			return err
		}
		// An API replica added an action (or a relabel raced): keep ours, take theirs.
		r.rec.ResourceVersion, r.rec.Actions = cur.ResourceVersion, cur.Actions
		if cur.Term == r.s.term {
			r.rec.Events = cur.Events
		}
	}
	return fmt.Errorf("deployment %d: %w", d.ID, kubestate.ErrConflict)
}

// Event implements rollout.Recorder.
func (r *recorder) Event(ctx context.Context, d *rollout.Deployment, typ, message string, data map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pending = append(r.pending, kubestate.Event{Time: time.Now().UTC(), Type: typ, Message: message, Data: data})
}

// pollActions delivers the operator actions recorded in the deployment's spec, in order,
// each once: the count applied is written with the state the action changes.
func (r *recorder) pollActions(ctx context.Context, out chan<- rollout.Request) {
	t := time.NewTicker(300 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur, err := r.s.c.deps.Get(ctx, r.rec.ID)
		if err != nil {
			continue
		}
		r.mu.Lock()
		next := r.rec.ActionsApplied
		var a kubestate.Action
		if next < len(cur.Actions) {
			a = cur.Actions[next]
			r.rec.ActionsApplied++
		}
		r.mu.Unlock()
		if a.Action == "" {
			continue
		}
		req := rollout.Request{Action: rollout.Action(a.Action), Who: a.Who, Done: make(chan error, 1)}
		select {
		case out <- req:
		case <-ctx.Done():
			return
		}
		select {
		case err := <-req.Done:
			if err != nil {
				r.s.c.logger.Warn("operator action refused", "deployment_id", r.rec.ID, "action", a.Action, "error", err)
			}
		case <-ctx.Done():
			return
		}
	}
}

// noHooks is the HookRunner of the in-cluster controller: the API refuses specs with hooks,
// so it is reached only for a record made some other way.
type noHooks struct{}

func (noHooks) RunHook(context.Context, *rollout.Deployment, string, spec.Hook) error {
	return errors.New("hooks are not run by the in-cluster controller")
}

// metrics is rollout.Metrics: every proxy replica's counts, summed.
type metrics struct{ s *session }

// RevisionCounts implements rollout.Metrics. When the reports cannot be read it answers
// the last sums it read, so the judge never sees counters go backwards for a failed read.
func (m metrics) RevisionCounts(service string) map[int]analysis.Counts {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reps, err := m.s.c.reports.List(ctx)
	m.s.mu.Lock()
	defer m.s.mu.Unlock()
	if err != nil {
		m.s.c.logger.Warn("read proxy reports: judging from the last counts read", "error", err)
		if last, ok := m.s.lastCounts[service]; ok {
			return last
		}
		return map[int]analysis.Counts{}
	}
	sum := kubestate.Sum(reps, service)
	m.s.lastCounts[service] = sum
	return sum
}
