package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cutover/cutover/internal/analysis"
	"github.com/cutover/cutover/internal/kubestate"
	"github.com/cutover/cutover/internal/spec"
)

// session is the leader's state for one term. Everything here is rebuilt from the cluster
// when a replica takes over: the deployments from their records, the traffic from the
// published table, the instances from the pods.
type session struct {
	c    *Controller
	term int64

	mu         sync.Mutex
	desired    map[string]desired     // service → what traffic should be
	stopping   map[string]bool        // instance IDs leaving
	readySince map[string]time.Time   // instance ID → when first seen ready this term
	probed     map[string]probeResult // instance ID → last readiness probe
	specs      map[string]map[int]spec.Service
	driving    map[int64]bool
	lastCounts map[string]map[int]analysis.Counts
	published  kubestate.Table
	tableRV    string

	wg sync.WaitGroup
}

// desired is one service's traffic as the strategy last set it.
type desired struct {
	Spec     spec.Service
	Weights  map[int]int // nil: every ready instance equal
	Preview  int
	From, To int
}

func newSession(c *Controller, term int64) *session {
	return &session{c: c, term: term, desired: map[string]desired{}, stopping: map[string]bool{},
		readySince: map[string]time.Time{}, probed: map[string]probeResult{}, specs: map[string]map[int]spec.Service{},
		driving: map[int64]bool{}, lastCounts: map[string]map[int]analysis.Counts{}}
}

// errFenced stops the leader's work: the lease is lost or a newer term wrote.
var errFenced = kubestate.ErrFenced

// leading checks, before a write or a side effect, that this term still holds the lease.
func (s *session) leading() error {
	term, ok := s.c.elector.Leading()
	if !ok || term != s.term {
		return fmt.Errorf("term %d: %w", s.term, errFenced)
	}
	return nil
}

func (s *session) run(ctx context.Context) {
	log := s.c.logger.With("term", s.term)
	if err := s.loadTable(ctx); err != nil {
		log.Warn("read route table", "error", err)
	}
	t := time.NewTicker(s.c.cfg.Tick / 2)
	defer t.Stop()
	for {
		if err := s.publish(ctx); errors.Is(err, errFenced) {
			log.Warn("route table: fenced off", "error", err)
			break
		} else if err != nil && ctx.Err() == nil {
			log.Warn("publish route table", "error", err)
		}
		if err := s.resume(ctx); err != nil && ctx.Err() == nil {
			log.Warn("resume deployments", "error", err)
		}
		if err := s.sweep(ctx); err != nil && ctx.Err() == nil {
			log.Warn("sweep instances", "error", err)
		}
		select {
		case <-ctx.Done():
		case <-t.C:
			continue
		}
		break
	}
	s.wg.Wait()
}

// loadTable takes over the published table, so traffic stays as the last leader left it.
func (s *session) loadTable(ctx context.Context) error {
	t, rv, err := s.c.routes.Read(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published, s.tableRV = t, rv
	for name, sr := range t.Services {
		d := desired{Spec: sr.Spec, Preview: sr.Preview}
		weighted := false
		for _, g := range sr.Groups {
			if g.Weight > 0 {
				weighted = true
			}
		}
		if weighted {
			d.Weights = map[int]int{}
			for _, g := range sr.Groups {
				d.Weights[g.Revision] = g.Weight
			}
		}
		s.desired[name] = d
	}
	return nil
}

// resume starts driving every active deployment not driven yet.
func (s *session) resume(ctx context.Context) error {
	recs, err := s.c.deps.Active(ctx)
	if err != nil {
		return err
	}
	for _, r := range recs {
		if r.State.Status == "" {
			continue // created, its first status not written yet
		}
		s.mu.Lock()
		busy := s.driving[r.ID]
		if !busy {
			s.driving[r.ID] = true
		}
		s.mu.Unlock()
		if busy {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.drive(ctx, r)
			s.mu.Lock()
			delete(s.driving, r.ID)
			s.mu.Unlock()
		}()
	}
	return nil
}

// specOf is the spec of a service's revision, from the deployment that introduced it.
func (s *session) specOf(ctx context.Context, service string, rev int) (spec.Service, error) {
	s.mu.Lock()
	sp, ok := s.specs[service][rev]
	s.mu.Unlock()
	if ok {
		return sp, nil
	}
	recs, err := s.c.deps.List(ctx, service)
	if err != nil {
		return spec.Service{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.specs[service] == nil {
		s.specs[service] = map[int]spec.Service{}
	}
	for _, r := range recs {
		if _, seen := s.specs[service][r.Revision]; !seen {
			s.specs[service][r.Revision] = r.Spec
		}
	}
	sp, ok = s.specs[service][rev]
	if !ok {
		return spec.Service{}, fmt.Errorf("service %s: no record of revision %d", service, rev)
	}
	return sp, nil
}
