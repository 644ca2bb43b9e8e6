package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"time"

	"github.com/cutover/cutover/internal/fleet"
	"github.com/cutover/cutover/internal/health"
	"github.com/cutover/cutover/internal/kubestate"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/runtime"
	"github.com/cutover/cutover/internal/store"
)

// pod is what the leader sees of one instance.
type pod struct {
	runtime.Status
	Ready    bool
	Baseline bool
}

type probeResult struct {
	ok bool
	at time.Time
}

// probeEvery is how often an instance's readiness is probed again.
const probeEvery = 500 * time.Millisecond

// pods returns the instances of every service (or of one), leaving out those that are
// leaving; ready means running and passing the revision's readiness probe.
func (s *session) pods(ctx context.Context, service string) ([]pod, error) {
	all, err := s.c.driver.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []pod
	for _, st := range all {
		if (service != "" && st.Service != service) || st.Addr == "" && st.State == runtime.StateExited {
			continue
		}
		if st.State == runtime.StateStopping || s.isStopping(st.ID) {
			continue
		}
		p := pod{Status: st, Baseline: fleet.IsBaseline(st.ID)}
		p.Ready = st.State == runtime.StateRunning && st.Addr != "" && s.probe(ctx, st)
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func (s *session) isStopping(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping[id]
}

// probe runs the revision's readiness probe (cached for probeEvery); without a probe, a
// running instance is ready.
func (s *session) probe(ctx context.Context, st runtime.Status) bool {
	s.mu.Lock()
	last, ok := s.probed[st.ID]
	s.mu.Unlock()
	if ok && time.Since(last.at) < probeEvery {
		return last.ok
	}
	res := true
	if sp, err := s.specOf(ctx, st.Service, st.Revision); err != nil {
		res = false
	} else if p := sp.Probes.Readiness; p != nil {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		res = health.Check(pctx, *p, health.Target{Addr: st.Addr, Env: sp.Run.Env}) == nil
		cancel()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.probed[st.ID] = probeResult{ok: res, at: time.Now()}
	if res && s.readySince[st.ID].IsZero() {
		s.readySince[st.ID] = time.Now()
	} else if !res {
		delete(s.readySince, st.ID)
	}
	return res
}

// instances is rollout.Instances over pods, for one deployment.
type instances struct {
	s *session
	d *rollout.Deployment
}

// Observe implements rollout.Instances.
func (in instances) Observe(ctx context.Context, service string) ([]rollout.Instance, error) {
	ps, err := in.s.pods(ctx, service)
	if err != nil {
		return nil, err
	}
	out := make([]rollout.Instance, 0, len(ps))
	in.s.mu.Lock()
	defer in.s.mu.Unlock()
	for _, p := range ps {
		i := rollout.Instance{ID: p.ID, Revision: p.Revision, Ready: p.Ready, Baseline: p.Baseline, StartedAt: p.StartedAt,
			CrashLoop: p.State == runtime.StateCrashLoop, Failed: p.State == runtime.StateExited, Message: p.Message}
		if p.Ready {
			i.ReadySince = in.s.readySince[p.ID]
		}
		out = append(out, i)
	}
	return out, nil
}

// Start implements rollout.Instances: count pods of the revision, named so that a
// baseline's ID says it is one.
func (in instances) Start(ctx context.Context, service string, revision, count int, deploymentID int64, baseline bool) error {
	if err := in.s.leading(); err != nil {
		return err
	}
	sp := in.d.Spec
	if revision != in.d.State.To {
		var err error
		if sp, err = in.s.specOf(ctx, service, revision); err != nil {
			return err
		}
	}
	specs := make([]runtime.InstanceSpec, 0, count)
	for range count {
		id := instanceID(service, revision, baseline)
		specs = append(specs, fleet.InstanceSpec(store.Instance{ID: id, Service: service, Revision: revision}, sp))
	}
	return in.s.c.driver.Start(ctx, specs)
}

// Stop implements rollout.Instances: the instances leave the table at once; each pod is
// deleted once every live proxy has applied a table without it.
func (in instances) Stop(ctx context.Context, service string, ids []string) error {
	return in.s.stop(ctx, ids)
}

func (s *session) stop(ctx context.Context, ids []string) error {
	if err := s.leading(); err != nil {
		return err
	}
	s.mu.Lock()
	var fresh []string
	for _, id := range ids {
		if !s.stopping[id] {
			s.stopping[id] = true
			fresh = append(fresh, id)
		}
	}
	s.mu.Unlock()
	if len(fresh) == 0 {
		return nil
	}
	if err := s.publish(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	gen := s.published.Generation
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.awaitProxies(ctx, gen)
		for _, id := range fresh {
			if s.leading() != nil {
				return // the next leader stops them: they are still pods it sees
			}
			sctx := context.WithoutCancel(ctx)
			if err := s.c.driver.Stop(sctx, id); err != nil {
				s.c.logger.Warn("stop instance", "instance", id, "error", err)
			}
			if err := s.c.driver.Remove(sctx, id); err != nil {
				s.c.logger.Warn("remove instance", "instance", id, "error", err)
			}
		}
	}()
	return nil
}

// awaitProxies waits until every proxy that reported lately has applied generation gen.
func (s *session) awaitProxies(ctx context.Context, gen int64) {
	deadline := time.Now().Add(s.c.cfg.AckTimeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		reps, err := s.c.reports.List(ctx)
		if err == nil && applied(reps, gen, s.c.cfg.ProxyStale) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.c.logger.Warn("proxies did not all apply the route table in time", "generation", gen)
}

func applied(reps []kubestate.Report, gen int64, stale time.Duration) bool {
	for _, r := range reps {
		if time.Since(r.At) < stale && r.Generation < gen {
			return false
		}
	}
	return true
}

// sweep stops, for a service with no active deployment, every instance that is not of its
// stable revision: what a leader that died between recording a deployment's end and
// stopping its old instances left behind.
func (s *session) sweep(ctx context.Context) error {
	active, err := s.c.deps.Active(ctx)
	if err != nil {
		return err
	}
	busy := map[string]bool{}
	for _, r := range active {
		busy[r.Service] = true
	}
	ps, err := s.pods(ctx, "")
	if err != nil {
		return err
	}
	stable := map[string]int{}
	var orphans []string
	for _, p := range ps {
		if busy[p.Service] {
			continue
		}
		rev, ok := stable[p.Service]
		if !ok {
			if rev, err = s.stableRevision(ctx, p.Service); err != nil {
				return err
			}
			stable[p.Service] = rev
		}
		if rev >= 0 && (p.Revision != rev || p.Baseline) {
			orphans = append(orphans, p.ID)
		}
	}
	if len(orphans) == 0 {
		return nil
	}
	s.c.logger.Info("stopping instances no deployment owns", "instances", orphans)
	return s.stop(ctx, orphans)
}

// stableRevision is the revision serving after the service's latest deployment ended, or
// -1 when there is none or it has not ended (it began after the list of active ones).
func (s *session) stableRevision(ctx context.Context, service string) (int, error) {
	recs, err := s.c.deps.List(ctx, service)
	if err != nil {
		return -1, err
	}
	return sweepStable(recs), nil
}

// sweepStable is the revision whose instances a sweep keeps, given a service's deployments
// newest first: -1 (keep everything) when there is none or the newest has not ended. A record
// an API replica has just created has no status until the leader drives it: it has not ended
// either, and reading its zero state as ended would stop the serving revision's instances.
func sweepStable(recs []*kubestate.Record) int {
	if len(recs) == 0 {
		return -1
	}
	if !recs[0].Ended() {
		return -1
	}
	return stableOf(recs[0])
}

func stableOf(r *kubestate.Record) int {
	if r.State.Status == rollout.StatusSucceeded {
		return r.State.To
	}
	return r.State.From
}

func instanceID(service string, revision int, baseline bool) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	mark := ""
	if baseline {
		mark = "b"
	}
	return fmt.Sprintf("%s-%d-%s%s", service, revision, mark, hex.EncodeToString(b[:]))
}
