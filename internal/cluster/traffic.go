package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"

	"github.com/cutover/cutover/internal/kubestate"
	"github.com/cutover/cutover/internal/rollout"
)

// traffic is rollout.Traffic for one deployment: it records the weights the strategy wants
// and publishes the table at once.
type traffic struct {
	s *session
	d *rollout.Deployment
}

// SetWeights implements rollout.Traffic.
func (t traffic) SetWeights(ctx context.Context, service string, weights map[int]int, preview int) error {
	t.s.mu.Lock()
	t.s.desired[service] = desired{Spec: t.d.Spec, Weights: weights, Preview: preview, From: t.d.State.From, To: t.d.State.To}
	t.s.mu.Unlock()
	return t.s.publish(ctx)
}

// publish computes the table from the desired traffic and the ready instances and writes it
// when it changed, under this term (a table written by a newer term fences this one off).
func (s *session) publish(ctx context.Context) error {
	if err := s.leading(); err != nil {
		return err
	}
	ps, err := s.pods(ctx, "")
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	next := kubestate.Table{Term: s.term, Services: map[string]kubestate.ServiceRoute{}}
	for name, d := range s.desired {
		next.Services[name] = kubestate.ServiceRoute{Spec: d.Spec, Groups: groups(d, ps, name), Preview: d.Preview}
	}
	if s.tableRV != "" && reflect.DeepEqual(next.Services, s.published.Services) && s.published.Term == s.term {
		return nil
	}
	for range 3 {
		next.Generation = s.published.Generation + 1
		rv, err := s.c.routes.Write(ctx, next, s.tableRV)
		if err == nil {
			s.published, s.tableRV = next, rv
			return nil
		}
		if !errors.Is(err, kubestate.ErrConflict) {
			return err
		}
		cur, curRV, rerr := s.c.routes.Read(ctx)
		if rerr != nil {
			return rerr
		}
		if cur.Term > s.term {
			return fmt.Errorf("route table written in term %d: %w", cur.Term, errFenced)
		}
		s.published.Generation, s.tableRV = cur.Generation, curRV
	}
	return fmt.Errorf("route table: %w", kubestate.ErrConflict)
}

// groups is the service's ready instances by revision (a canary's baseline apart, as the
// single-host fleet does), each with its desired weight, or its count when none is set.
func groups(d desired, ps []pod, service string) []kubestate.Group {
	byRev := map[int][]kubestate.Target{}
	for _, p := range ps {
		if p.Service != service || !p.Ready {
			continue
		}
		rev := p.Revision
		if p.Baseline {
			rev = rollout.BaselineRevision(rev)
		}
		byRev[rev] = append(byRev[rev], kubestate.Target{ID: p.ID, Addr: p.Addr})
	}
	revs := slices.Sorted(maps.Keys(byRev))
	out := make([]kubestate.Group, 0, len(revs))
	for _, r := range revs {
		w := len(byRev[r])
		if d.Weights != nil {
			w = d.Weights[r]
		}
		out = append(out, kubestate.Group{Revision: r, Weight: w, Targets: byRev[r], Role: role(d, r)})
	}
	return out
}

func role(d desired, rev int) string {
	switch {
	case rev < 0:
		return "baseline"
	case d.To != 0 && rev == d.To && d.From != 0:
		return "canary"
	case rev == d.From && d.From != 0:
		return "stable"
	}
	return ""
}
