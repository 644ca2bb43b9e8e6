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
	final, err := a.follow(wctx, c, d, newProgress(time.Now().Add(timeout)))
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

// follow prints the deployment's events as they come until it is final, and returns it,
// with a line for each new probe failure of its instances (see progress). Once final, it
// reads what events remain without waiting, so the last ones are shown too.
func (a *app) follow(ctx context.Context, c *api.Client, d api.Deployment, p *progress) (api.Deployment, error) {
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
				p.said = time.Now()
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
		if !final && !a.json() {
			a.probeLines(ctx, c, d, p)
		}
	}
}

// probeLines prints a line for each instance of the deployment's new revision whose probe
// result is new since the last look, with the time left; nothing when the service cannot be
// read (the next round tries again).
func (a *app) probeLines(ctx context.Context, c *api.Client, d api.Deployment, p *progress) {
	s, err := c.Service(ctx, d.Service)
	if err != nil {
		return
	}
	for _, line := range p.lines(time.Now(), d, s.Instances) {
		fmt.Fprintln(a.stdout, line)
	}
}

// quietFor is how long `deploy --wait` stays silent before it says it is still waiting.
const quietFor = 30 * time.Second

// progress remembers the last probe result shown for each instance while a deployment is
// awaited, and when the last line was printed; wait is when --timeout ends.
type progress struct {
	wait  time.Time
	said  time.Time
	shown map[string]string
}

func newProgress(wait time.Time) *progress {
	return &progress{wait: wait, said: time.Now(), shown: map[string]string{}}
}

// lines returns, in instance order, a line for each not-ready instance of revision d.To whose
// message (its probe's last result, or why it is down) changed since the last call: when,
// which instance, what, and how long is left before the deployment's progress deadline (when
// the daemon gives one) and before --timeout; or, after quietFor without a line, one that
// says the deployment is still going, with the time left.
func (p *progress) lines(now time.Time, d api.Deployment, instances []api.Instance) []string {
	var out []string
	for _, in := range instances {
		if in.Revision != d.To || in.Ready || in.Message == "" || p.shown[in.ID] == in.Message {
			continue
		}
		p.shown[in.ID] = in.Message
		out = append(out, fmt.Sprintf("%s deployment %d instance %s not ready: %s (%s)", now.Local().Format("15:04:05"),
			d.ID, in.ID, in.Message, p.left(now, d)))
	}
	if len(out) == 0 && now.Sub(p.said) >= quietFor {
		out = append(out, fmt.Sprintf("%s deployment %d still %s (%s, %s)", now.Local().Format("15:04:05"), d.ID, d.Status, d.Phase, p.left(now, d)))
	}
	if len(out) > 0 {
		p.said = now
	}
	return out
}

// left says how long remains before the deadlines.
func (p *progress) left(now time.Time, d api.Deployment) string {
	wait := fmt.Sprintf("%s left before --timeout", roundLeft(p.wait.Sub(now)))
	if d.Deadline.IsZero() {
		return wait
	}
	return fmt.Sprintf("%s left before progress_deadline, %s", roundLeft(d.Deadline.Sub(now)), wait)
}

func roundLeft(d time.Duration) time.Duration { return max(d, 0).Round(time.Second) }
