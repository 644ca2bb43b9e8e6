package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"syscall"
	"time"
)

func killPID(pid int) error {
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill instance %d: %w", pid, err)
	}
	return nil
}

// settleAndCheck waits (up to --settle) for every deployment to end and every service to run
// exactly its replicas, then checks the invariants.
func (s *soak) settleAndCheck(ctx context.Context) Findings {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := Findings{}
	for _, d := range s.done {
		if len(d.Outcome) > 6 && d.Outcome[:6] == "ERROR:" {
			f.Errors = append(f.Errors, fmt.Sprintf("%s: %s", d.Kind, d.Outcome))
		}
	}
	deadline := time.Now().Add(s.c.settle)
	for {
		f.NonFinal, f.Duplicates = s.nonFinal(ctx), s.duplicates()
		if len(f.NonFinal)+len(f.Duplicates) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(time.Second)
	}
	// An orphan is one in two readings 2s apart: a process whose record is being written is not.
	first := s.orphans()
	time.Sleep(2 * time.Second)
	for _, p := range s.orphans() {
		if slices.Contains(first, p) {
			f.Orphans = append(f.Orphans, p)
		}
	}
	if recs, err := records(s.d.state); err == nil {
		f.Running = Running(appPIDs(s.app), recs)
	}
	f.Failed = Classify(s.failures, s.down)
	rss, fds, own := make([]int64, len(s.samples)), make([]int64, len(s.samples)), make([]int64, len(s.samples))
	for i, x := range s.samples {
		rss[i], fds[i], own[i] = x.RSS, int64(x.FDs), int64(x.Own)
	}
	f.RSS, f.FDs, f.Own = Growth(rss, 16<<20), Growth(fds, 16), Growth(own, 16)
	if len(s.samples) > 0 {
		f.FirstKinds, f.LastKinds = s.samples[0].Kinds, s.samples[len(s.samples)-1].Kinds
	}
	return f
}

// instancePIDs lists the live processes of a service's instances, in pid order.
func (s *soak) instancePIDs(name string) []int {
	recs, err := records(s.d.state)
	if err != nil {
		return nil
	}
	live := appPIDs(s.app)
	var out []int
	for _, r := range recs {
		if r.Service == name && !r.Stopped && slices.Contains(live, r.PID) {
			out = append(out, r.PID)
		}
	}
	slices.Sort(out)
	return out
}

func (s *soak) orphans() []int {
	recs, err := records(s.d.state)
	if err != nil {
		return nil
	}
	return Orphans(appPIDs(s.app), recs)
}

// nonFinal names the deployments of either service that have not ended.
func (s *soak) nonFinal(ctx context.Context) []string {
	var out []string
	for _, svc := range s.services {
		ds, err := s.client.Deployments(ctx, svc.name, 1000)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: list deployments: %v", svc.name, err))
			continue
		}
		for _, d := range ds {
			if !d.Final() {
				out = append(out, fmt.Sprintf("%s #%d %s %s (%s, phase %s, step %d)", svc.name, d.ID, d.Kind, d.Strategy, d.Status, d.Phase, d.Step))
			}
		}
	}
	return out
}

// duplicates names the services running more instance processes than their replicas.
func (s *soak) duplicates() []string {
	recs, err := records(s.d.state)
	if err != nil {
		return []string{"read records: " + err.Error()}
	}
	running := Running(appPIDs(s.app), recs)
	var out []string
	for _, name := range slices.Sorted(maps.Keys(running)) {
		if n := running[name]; n > replicas {
			out = append(out, fmt.Sprintf("%s runs %d instances, replicas %d", name, n, replicas))
		}
	}
	return out
}
