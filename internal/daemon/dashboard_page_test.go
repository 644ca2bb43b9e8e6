package daemon

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// waitJS waits until the JavaScript expression cond is true on the page.
func waitJS(what, cond string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(45*time.Second))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := poll(ctx, t); err != nil {
			return chromedp.Void{}, fmt.Errorf("wait for %s: %w", what, err)
		}
		return chromedp.Void{}, nil
	}
}

// chartPoints is how many points the chart sel draws for revision rev (0 when none).
func chartPoints(b *browser, t *testing.T, sel string, rev int) int {
	t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(
		`(() => { const l = document.querySelector('%s polyline[data-revision="%d"]'); return l ? Number(l.dataset.points) : 0; })()`, sel, rev)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDashboardServicePageInChromium: the overview shows each revision's request rate, error
// rate and p99 and the instances' CPU and memory; a service's page draws error-rate and p99
// charts per revision that move with new samples (server-sent, no reload), lists a canary's
// steps (done, current with its time in step, next), the revision history, migrations
// (applied, expand applied with the contract pending), instances with their probe result, the
// tail of the logs, and the flags' history.
func TestDashboardServicePageInChromium(t *testing.T) {
	b := newBrowser(t)
	h := startWith(t, Options{SampleEvery: 250 * time.Millisecond})
	ctx := context.Background()
	listen, dbListen, dir := freeAddr(t), freeAddr(t), t.TempDir()
	writeFiles(t, dir, map[string]string{"0001_items.sql": createItems,
		"0002_name.sql": "-- +cutover expand\nALTER TABLE items ADD COLUMN name TEXT;\n-- +cutover contract\nALTER TABLE items DROP COLUMN old_name;\n"})
	dbSvc := appSpec{Name: "db", Listen: dbListen, Version: "v1", Replicas: 1,
		Env: map[string]string{"DATABASE_URL": filepath.Join(t.TempDir(), "app.db")}, Extra: dbSpec("sqlite", dir, "  contract: next-deploy\n")}
	h.wait(h.deploy(dbSvc).ID, 30*time.Second)
	h.wait(h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1", Env: map[string]string{"PRINT_ENV": "GREETING", "GREETING": "hello-from-the-logs"}}).ID, 30*time.Second)
	h.deploy(appSpec{Name: "stuck", Listen: freeAddr(t), Version: "v1", Replicas: 1, Env: map[string]string{"NEVER_READY": "1"}})
	if _, err := h.client.PutFlag(ctx, "test", boolFlag("beta")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.SetFlagEnabled(ctx, "test", "beta", false); err != nil {
		t.Fatal(err)
	}
	stop := startLoad(t, listen, 100)
	defer stop()
	base := "http://" + h.d.Addr()
	b.run(t, "login", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#token"), h.d.Token()), chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#services tr[data-service="web"]`)),
		clickOn(`#services tr[data-service="web"]`), waitText("#svc-name", "web"))

	b.run(t, "the overview's per-revision figures and usage", waitText(`#services tr[data-service="web"]`, "/s, "),
		waitText(`#services tr[data-service="web"]`, "p99"), waitText(`#services tr[data-service="web"]`, "% CPU"),
		waitText("#instances", "MiB"))
	b.run(t, "the charts draw revision 1", waitJS("a p99 line of revision 1 with points",
		`(() => { const l = document.querySelector('#chart-p99 polyline[data-revision="1"]'); return !!l && Number(l.dataset.points) >= 2; })()`))
	n := chartPoints(b, t, "#chart-errors", 1)
	b.run(t, "the charts move", waitJS("more points on the error-rate chart",
		fmt.Sprintf(`(() => { const l = document.querySelector('#chart-errors polyline[data-revision="1"]'); return !!l && Number(l.dataset.points) > %d; })()`, n+1)))
	b.run(t, "revision history and logs", waitText(`#history tr[data-revision="1"]`, "stable"),
		waitText("#logs", "env GREETING=hello-from-the-logs"), waitText("#flag-history", "beta"), waitText("#flag-history", "disable"))

	canary := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2",
		Strategy: "canary:\n  steps:\n    - weight: 20\n    - pause: {}\n    - weight: 100\n"})
	b.run(t, "the canary's steps", waitText(`#steps li[data-state="done"]`, "weight 20"),
		waitText(`#steps li[data-state="current"]`, "pause (until promoted)"), waitText("#step-time", "in step"),
		waitText(`#steps li[data-state="next"]`, "weight 100"), waitText(`#history tr[data-revision="2"]`, fmt.Sprintf("#%d", canary.ID)))
	b.run(t, "the canary's own lines", waitJS("an error-rate line of revision 2",
		`!!document.querySelector('#chart-errors polyline[data-revision="2"]')`))
	if _, err := h.client.Act(ctx, "web", "abort"); err != nil {
		t.Fatal(err)
	}

	b.run(t, "migrations", clickOn(`#services tr[data-service="db"]`), waitText("#svc-name", "db"),
		waitText(`#migrations tr[data-migration="1"]`, "applied"), waitText(`#migrations tr[data-migration="2"]`, "contract pending"))
	b.run(t, "an instance's probe result", clickOn(`#services tr[data-service="stuck"]`), waitText("#svc-name", "stuck"),
		waitText("#instances", "503"))
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errors) > 0 {
		t.Errorf("the page raised errors: %q", b.errors)
	}
}
