package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cutover/cutover/bench/machine"
	"github.com/cutover/cutover/internal/api"
)

// inject carries out the faults at their times, one after the other; a fault that cannot
// be carried out is recorded, and one the daemon does not recover from ends the run.
func (s *soak) inject(ctx context.Context, faults []Fault) {
	for _, f := range faults {
		if machine.Sleep(ctx, time.Until(s.start.Add(f.At))) != nil {
			return
		}
		t0 := time.Now()
		outcome, err := s.carry(ctx, f)
		if err != nil {
			outcome = "ERROR: " + err.Error()
		}
		df := doneFault{Fault: f, Took: time.Since(t0), Outcome: outcome}
		df.At = t0.Sub(s.start)
		s.mu.Lock()
		s.done = append(s.done, df)
		s.mu.Unlock()
		if s.c.verbose {
			fmt.Printf("%s took %s: %s\n", df.Fault, df.Took.Round(time.Millisecond), outcome)
		}
		if err != nil && (f.Kind == KillDaemon || f.Kind == HandOff) {
			return // no daemon to go on with
		}
	}
}

func (s *soak) carry(ctx context.Context, f Fault) (string, error) {
	svc := s.services[f.Service]
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch f.Kind {
	case DeployRolling, DeployBlueGreen, DeployCanary:
		d, err := s.client.Deploy(cctx, api.DeployRequest{Service: svc.name, Spec: s.spec(svc, f.Kind)})
		if err != nil {
			return "refused: " + err.Error(), nil
		}
		return fmt.Sprintf("deployment %d started (revision %d)", d.ID, d.To), nil
	case Rollback:
		d, err := s.client.Rollback(cctx, svc.name, api.RollbackRequest{})
		if err != nil {
			return "refused: " + err.Error(), nil
		}
		return fmt.Sprintf("deployment %d started (rollback to %d)", d.ID, d.To), nil
	case KillInstance:
		pids := s.instancePIDs(svc.name)
		if len(pids) == 0 {
			return "no instance to kill", nil
		}
		pid := pids[f.Pick%len(pids)]
		if err := killPID(pid); err != nil {
			return "", err
		}
		return fmt.Sprintf("SIGKILL pid %d", pid), nil
	case HandOff:
		return s.d.handOff(ctx)
	case KillDaemon:
		return s.killDaemon(ctx, f.Hold)
	case FillDisk:
		return s.fillDisk(ctx, svc, f.Hold)
	}
	return "", fmt.Errorf("unknown fault %q", f.Kind)
}

// killDaemon kill -9s the daemon, waits hold and starts a new one; the span until the new
// one answers is a window with no daemon.
func (s *soak) killDaemon(ctx context.Context, hold time.Duration) (string, error) {
	t0 := time.Now()
	err := s.d.kill(ctx)
	if err == nil {
		_ = machine.Sleep(ctx, hold)
		var c *api.Client
		c, err = s.d.start(ctx)
		if err == nil {
			s.client = c
		}
	}
	t1 := time.Now()
	s.mu.Lock()
	s.down = append(s.down, Window{From: t0, To: t1})
	s.mu.Unlock()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("down %s", t1.Sub(t0).Round(time.Millisecond)), nil
}

// fillDisk fills the state disk, tries a deploy (it must be refused), waits hold and frees it.
func (s *soak) fillDisk(ctx context.Context, svc service, hold time.Duration) (string, error) {
	free, err := fillDisk(s.d.state)
	if err != nil {
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	outcome := "deploy on the full disk: "
	if d, err := s.client.Deploy(cctx, api.DeployRequest{Service: svc.name, Spec: s.spec(svc, DeployRolling)}); err != nil {
		outcome += "refused: " + err.Error()
	} else {
		outcome += fmt.Sprintf("accepted, deployment %d", d.ID)
	}
	_ = machine.Sleep(ctx, hold)
	if err := free(); err != nil {
		return "", fmt.Errorf("free the disk: %w", err)
	}
	return outcome, nil
}
