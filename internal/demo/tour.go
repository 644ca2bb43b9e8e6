package demo

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/loadgen"
)

// tour is the scripted part of the demo.
type tour struct {
	out    io.Writer
	client *api.Client
	exe    string
	listen string
	state  string
}

func (t *tour) run(ctx context.Context, opts Options) error {
	url := "http://" + t.listen + "/"
	fmt.Fprintf(t.out, "\n1/4 first deployment of service demo (version v1, 3 instances) on %s\n", url)
	if err := t.deploy(ctx, "v1", "rolling: {max_surge: 1, max_unavailable: 0}"); err != nil {
		return err
	}
	fmt.Fprintf(t.out, "\nsending %d requests/s to %s for the rest of the tour\n", opts.Rate, url)
	tally := loadgen.NewTally()
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	loadDone := make(chan struct{})
	go func() {
		defer close(loadDone)
		_, _ = loadgen.Run(loadCtx, loadgen.Config{URL: url, Rate: opts.Rate, Duration: 24 * time.Hour}, tally.Add)
	}()
	go t.printTally(loadCtx, tally)

	steps := []struct{ title, version, strategy string }{
		{"2/4 rolling deploy of v2: one new instance at a time, start-first", "v2", "rolling: {max_surge: 1, max_unavailable: 0}"},
		{"3/4 blue-green deploy of v3: all green instances ready, then one atomic switch", "v3", "blue_green: {scale_down_delay: 10m, preview_header: X-Preview}"},
	}
	for _, s := range steps {
		if err := sleepCtx(ctx, 2*time.Second); err != nil {
			return err
		}
		fmt.Fprintf(t.out, "\n%s\n", s.title)
		if err := t.deploy(ctx, s.version, s.strategy); err != nil {
			return err
		}
	}
	if err := sleepCtx(ctx, 2*time.Second); err != nil {
		return err
	}
	fmt.Fprintf(t.out, "\n4/4 rollback to v2: its instances are still warm, so it is one switch\n")
	start := time.Now()
	dep, err := t.client.Rollback(ctx, "demo", api.RollbackRequest{Who: "demo"})
	if err != nil {
		return fmt.Errorf("rollback: %w", err)
	}
	fmt.Fprintf(t.out, "  rolled back to revision %d (%s) in %s\n", dep.To, dep.Strategy, time.Since(start).Round(time.Microsecond))
	if err := sleepCtx(ctx, 2*time.Second); err != nil {
		return err
	}
	stopLoad()
	<-loadDone
	sum := tally.Snapshot()
	fmt.Fprintf(t.out, "\nload during the tour: %d requests, %d served, %d failed | by version %s\n", sum.Sent, sum.OK, sum.Failed, versions(sum.ByVersion))
	t.tryThis(url)
	if opts.Exit {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (t *tour) tryThis(url string) {
	fmt.Fprintf(t.out, `
try it (another terminal):
  curl -i %s
  curl -s %secho
  cutover --state %s status demo
  cutover --state %s history demo
  cutover --state %s deploy demo --env VERSION=v4 --wait
  cutover --state %s logs demo
Ctrl-C stops the demo and removes everything.
`, url, url, t.state, t.state, t.state, t.state)
}

// deploy deploys a version of the demo service and prints its events until it is final.
func (t *tour) deploy(ctx context.Context, version, strategy string) error {
	spec := fmt.Sprintf(`name: demo
replicas: 3
stop_grace: 10s
run:
  command: %q
  args: [demoapp]
  env: {VERSION: %s, STARTUP_DELAY: 300ms}
probes:
  readiness: {http: {path: /healthz}, period: 200ms}
route: {listen: %q}
strategy:
  %s
`, t.exe, version, t.listen, strategy)
	dep, err := t.client.Deploy(ctx, api.DeployRequest{Service: "demo", Spec: spec, Who: "demo"})
	if err != nil {
		return fmt.Errorf("deploy %s: %w", version, err)
	}
	var after int64
	for {
		evs, err := t.client.Events(ctx, api.EventQuery{DeploymentID: dep.ID, AfterID: after}, 2*time.Second)
		if err != nil {
			return fmt.Errorf("follow deployment %d: %w", dep.ID, err)
		}
		for _, e := range evs {
			after = e.ID
			fmt.Fprintf(t.out, "  %s %s\n", e.Time.Local().Format("15:04:05.000"), e.Message)
		}
		cur, err := t.client.Deployment(ctx, dep.ID)
		if err != nil {
			return fmt.Errorf("deployment %d: %w", dep.ID, err)
		}
		if cur.Final() && len(evs) == 0 {
			if cur.Status != "succeeded" {
				return fmt.Errorf("deployment %d of %s %s: %s", dep.ID, version, cur.Status, cur.Reason)
			}
			return nil
		}
	}
}

func (t *tour) printTally(ctx context.Context, tally *loadgen.Tally) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s := tally.Snapshot()
			fmt.Fprintf(t.out, "  · traffic: %d served, %d failed | %s\n", s.OK, s.Failed, versions(s.ByVersion))
		}
	}
}

// versions lists responses by version, in version order: "v1:140 v2:512 v3:548".
func versions(m map[string]int64) string {
	parts := make([]string, 0, len(m))
	for _, v := range slices.Sorted(maps.Keys(m)) {
		if m[v] > 0 {
			parts = append(parts, fmt.Sprintf("%s:%d", v, m[v]))
		}
	}
	return strings.Join(parts, " ")
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
