package migrate

import (
	"context"
	"errors"
	"fmt"
	"sort"
)

// Step is one part that a run would apply.
type Step struct {
	Version       int
	Name          string
	File          string
	Phase         Phase
	Line          int // line of the section marker
	Statements    int
	NoTransaction bool
	// NeedsExpand is set on a contract step whose expand is itself still pending.
	NeedsExpand bool
}

// Plan is what Expand and Contract would apply now, in order.
type Plan struct {
	Expand   []Step
	Contract []Step
}

// Plan reports the pending expand and contract parts of migs without changing anything. It
// returns an error joining every *ChecksumError when an applied part has changed.
func (r *Runner) Plan(ctx context.Context, migs []Migration) (Plan, error) {
	states, err := r.read(ctx, r.db)
	if err != nil {
		return Plan{}, fmt.Errorf("migration plan: %w", err)
	}
	if err := verify(migs, states); err != nil {
		return Plan{}, fmt.Errorf("migration plan: %w", err)
	}
	var p Plan
	for _, j := range expandJobs(migs, states) {
		p.Expand = append(p.Expand, j.step())
	}
	for _, m := range migs {
		st := stateOf(states, m.Version)
		if m.Contract != nil && st.Contract == nil {
			s := job{m: m, phase: PhaseContract}.step()
			s.NeedsExpand = st.Expand == nil
			p.Contract = append(p.Contract, s)
		}
	}
	return p, nil
}

// job is one part to apply.
type job struct {
	m     Migration
	phase Phase
}

func (j job) section() *Section { return j.m.Section(j.phase) }

func (j job) step() Step {
	sec := j.section()
	return Step{Version: j.m.Version, Name: j.m.Name, File: j.m.File, Phase: j.phase, Line: sec.Line,
		Statements: len(sec.Statements), NoTransaction: j.m.NoTransaction}
}

// done reports whether the job's part is already in place according to st.
func (j job) done(st *State) bool {
	switch j.phase {
	case PhaseExpand:
		return st.Expand != nil
	case PhaseContract:
		return st.Contract != nil
	}
	return st.Expand == nil
}

// verify returns every checksum mismatch between migs and the applied parts, joined.
func verify(migs []Migration, states map[int]*State) error {
	var errs []error
	for _, m := range migs {
		for _, e := range checksumErrors(m, stateOf(states, m.Version)) {
			errs = append(errs, e)
		}
	}
	return errors.Join(errs...)
}

func expandJobs(migs []Migration, states map[int]*State) []job {
	var jobs []job
	for _, m := range migs {
		if stateOf(states, m.Version).Expand == nil {
			jobs = append(jobs, job{m: m, phase: PhaseExpand})
		}
	}
	return jobs
}

// contractJobs returns the pending contract parts of migrations up to version upTo (all when
// upTo <= 0); a pending contract whose expand is not applied is an error.
func contractJobs(migs []Migration, states map[int]*State, upTo int) ([]job, error) {
	var jobs []job
	var errs []error
	for _, m := range migs {
		if m.Contract == nil || (upTo > 0 && m.Version > upTo) {
			continue
		}
		st := stateOf(states, m.Version)
		switch {
		case st.Contract != nil:
		case st.Expand == nil:
			errs = append(errs, fmt.Errorf("%s: migration %d: %w: run its expand first (deploy the revision that carries it)", m.File, m.Version, ErrContractWithoutExpand))
		default:
			jobs = append(jobs, job{m: m, phase: PhaseContract})
		}
	}
	return jobs, errors.Join(errs...)
}

// downJobs returns the down parts that take the database back to version to, newest first.
// Every applied migration above to must be in migs, have a down section and no contract
// applied (a down part undoes the expand, not what the contract removed).
func downJobs(migs []Migration, states map[int]*State, to int) ([]job, error) {
	byVersion := map[int]Migration{}
	for _, m := range migs {
		byVersion[m.Version] = m
	}
	var versions []int
	for v, st := range states {
		if v > to && st.Expand != nil {
			versions = append(versions, v)
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(versions)))
	var jobs []job
	var errs []error
	for _, v := range versions {
		m, ok := byVersion[v]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("migration %d is applied but not in the migrations directory: its down part is unknown", v))
		case m.Down == nil:
			errs = append(errs, fmt.Errorf("%s: migration %d has no down section", m.File, v))
		case states[v].Contract != nil:
			errs = append(errs, fmt.Errorf("%s: migration %d has its contract applied; its down part cannot bring back what the contract removed", m.File, v))
		default:
			jobs = append(jobs, job{m: m, phase: PhaseDown})
		}
	}
	return jobs, errors.Join(errs...)
}
