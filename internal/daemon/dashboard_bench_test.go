package daemon

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/handoff"
	"github.com/cutover/cutover/internal/loadgen"
	"github.com/cutover/cutover/internal/procstat"
	"github.com/cutover/cutover/internal/testbin"
)

// TestDashboardCost measures, for docs/benchmarks.md, a `cutover serve` process with the
// dashboard open in Chromium on 10 services under load: the daemon's CPU and resident memory
// over 30 s, and the time from an event recorded by the API to its line on the page (a
// MutationObserver notes when each line appears). It asserts nothing about speed; run it
// with CUTOVER_BENCH=1.
func TestDashboardCost(t *testing.T) {
	if os.Getenv("CUTOVER_BENCH") == "" {
		t.Skip("a measurement: CUTOVER_BENCH=1 runs it")
	}
	b := newBrowser(t)
	p := startDaemonProc(t, "--stop-instances")
	ctx := context.Background()
	h := &harness{t: t, app: testbin.Demoapp(t)}
	var listens []string
	for i := range 10 {
		listen := freeAddr(t)
		d, err := p.client.Deploy(ctx, api.DeployRequest{Service: fmt.Sprintf("svc%d", i),
			Spec: h.yaml(appSpec{Name: fmt.Sprintf("svc%d", i), Listen: listen, Version: "v1", Replicas: 1})})
		if err != nil {
			t.Fatal(err)
		}
		waitDeployment(t, p.client, d.ID, "succeeded")
		listens = append(listens, listen)
	}
	if _, err := p.client.PutFlag(ctx, "bench", boolFlag("beta")); err != nil {
		t.Fatal(err)
	}
	b.run(t, "login", chromedp.Navigate(p.url+"/"), chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#token"), p.token), chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#services tr[data-service="svc9"]`)))
	const rate = 50 // per service: 500 requests/s in all
	var wg sync.WaitGroup
	loadCtx, stop := context.WithTimeout(ctx, 60*time.Second)
	defer stop()
	for _, l := range listens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = loadgen.Run(loadCtx, loadgen.Config{URL: "http://" + l + "/", Rate: rate, Workers: 64, Duration: 50 * time.Second}, nil)
		}()
	}
	time.Sleep(5 * time.Second)
	pid, err := handoff.ReadPIDFile(p.state)
	if err != nil {
		t.Fatal(err)
	}
	u0, err := procstat.Read(pid)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	lat := eventToPage(t, b, p.client)
	time.Sleep(time.Until(t0.Add(30 * time.Second)))
	u1, err := procstat.Read(pid)
	if err != nil {
		t.Fatal(err)
	}
	stop()
	wg.Wait()
	slices.Sort(lat)
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("daemon with the dashboard open, 10 services, %d requests/s: CPU %.1f%% of a core over %s, resident memory %.1f MiB",
		10*rate, 100*(u1.CPU-u0.CPU).Seconds()/time.Since(t0).Seconds(), time.Since(t0).Round(time.Second), float64(u1.Memory)/(1<<20))
	t.Logf("event to page, %d events: median %v, max %v; load average %s", len(lat), lat[len(lat)/2], lat[len(lat)-1], strings.TrimSpace(string(load)))
}

// eventToPage flips a flag 20 times, 500 ms apart, and returns for each flip the time from
// the event's record to its line on the page.
func eventToPage(t *testing.T, b *browser, c *api.Client) []time.Duration {
	t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { window.seen = {};
		new MutationObserver((ms) => { for (const m of ms) for (const n of m.addedNodes) if (n.dataset && n.dataset.type) window.seen[n.textContent] = Date.now(); })
		.observe(document.querySelector("#events"), { childList: true }); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	var out []time.Duration
	for i := range 20 {
		if _, err := c.SetFlagEnabled(context.Background(), "bench", "beta", i%2 == 1); err != nil {
			t.Fatal(err)
		}
		time.Sleep(500 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	evs, err := c.Events(context.Background(), api.EventQuery{Limit: 1000}, 0)
	if err != nil {
		t.Fatal(err)
	}
	seen, err := chromedp.Run(b.ctx, chromedp.Evaluate[map[string]int64](`window.seen`))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if !strings.HasPrefix(e.Type, "flag") {
			continue
		}
		for text, at := range seen {
			if strings.Contains(text, e.Message) && strings.Contains(text, e.Time.UTC().Format("15:04:05.000")) {
				out = append(out, time.UnixMilli(at).Sub(e.Time))
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no flag event was seen on the page (%d seen)", len(seen))
	}
	return out
}
