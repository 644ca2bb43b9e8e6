package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cutover/cutover/internal/api"
)

// eventsWait is how long each events request asks the daemon to hold when nothing is new.
const eventsWait = 5 * time.Second

// eventsPage is how many events one request asks for.
const eventsPage = 200

// await follows deployment d until it is final or timeout passes, printing progress (text
// output) and then the outcome (text), or the final Deployment (JSON). The outcome sets
// the exit code: an *exitError that has already been reported.
func (a *app) await(ctx context.Context, c *api.Client, d api.Deployment, timeout time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	final, err := a.follow(wctx, c, d)
	if err != nil {
		if ctx.Err() == nil && errors.Is(wctx.Err(), context.DeadlineExceeded) {
			return &exitError{code: ExitTimeout, err: fmt.Errorf(
				"wait for deployment %d of %s: timed out after %v; it continues (see 'cutover status %s')",
				d.ID, d.Service, timeout, d.Service)}
		}
		if ctx.Err() != nil {
			return fmt.Errorf("stopped waiting for deployment %d of %s; it continues (see 'cutover status %s')",
				d.ID, d.Service, d.Service)
		}
		return fmt.Errorf("wait for deployment %d of %s: %w", d.ID, d.Service, err)
	}
	if a.json() {
		if err := printJSON(a.stdout, final); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(a.stdout, outcome(final))
		if final.Verdict != nil {
			fmt.Fprintln(a.stdout, "verdict: "+verdictText(*final.Verdict))
		}
	}
	if code := outcomeCode(final.Status); code != ExitOK {
		return &exitError{code: code, silent: true, err: errors.New(outcome(final))}
	}
	return nil
}

// follow prints the deployment's events as they come until it is final, and returns it.
// Once final, it reads what events remain without waiting, so the last ones are shown too.
func (a *app) follow(ctx context.Context, c *api.Client, d api.Deployment) (api.Deployment, error) {
	q := api.EventQuery{DeploymentID: d.ID, Limit: eventsPage}
	final := d.Final()
	for {
		var wait time.Duration = eventsWait
		if final {
			wait = 0
		}
		evs, err := c.Events(ctx, q, wait)
		if err != nil {
			return d, err
		}
		for _, e := range evs {
			if !a.json() {
				fmt.Fprintln(a.stdout, progressLine(e))
			}
			q.AfterID = max(q.AfterID, e.ID)
		}
		if final {
			if len(evs) < eventsPage {
				return d, nil
			}
			continue
		}
		if d, err = c.Deployment(ctx, d.ID); err != nil {
			return d, err
		}
		final = d.Final()
	}
}
