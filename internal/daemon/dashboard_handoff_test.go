package daemon

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/testbin"
)

// TestDashboardThroughUpgradeInChromium: a logged-in dashboard keeps working through
// `cutover upgrade`: its event stream reconnects to the new daemon by itself (no reload, no
// new login: the session cookie is sealed with the state's key), and a deployment made after
// the hand-off shows on the page.
func TestDashboardThroughUpgradeInChromium(t *testing.T) {
	b := newBrowser(t)
	p := startDaemonProc(t, "--stop-instances")
	ctx := context.Background()
	h := &harness{t: t, app: testbin.Demoapp(t)}
	listen := freeAddr(t)
	deploy := func(version string) api.Deployment {
		d, err := p.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: h.yaml(appSpec{Name: "web", Listen: listen, Version: version, Replicas: 1})})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	waitDeployment(t, p.client, deploy("v1").ID, "succeeded")
	b.run(t, "login", chromedp.Navigate(p.url+"/"), chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#token"), p.token), chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#services tr[data-service="web"]`)),
		waitJS("the stream's first connection", `document.querySelector("#live").dataset.connects === "1"`))
	before, err := p.info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := upgradeCLI(t, p); err != nil {
		t.Fatalf("cutover upgrade: %v\n%s", err, out)
	}
	waitFor(t, 30*time.Second, "the new daemon answering the API", func() bool {
		after, err := p.info(ctx)
		return err == nil && after.PID != before.PID
	})
	b.run(t, "the stream reconnects to the new daemon", waitJS("a second connection",
		`Number(document.querySelector("#live").dataset.connects) >= 2 && document.querySelector("#live").textContent === "live"`))
	second := deploy("v2")
	b.run(t, "a deployment after the hand-off shows", waitText("#deployment-status", fmt.Sprintf("deployment #%d", second.ID)),
		waitText(`#events`, "deploy of web started: revision 1 → 2"))
	waitDeployment(t, p.client, second.ID, "succeeded")
	b.run(t, "and its end", waitText("#deployment-status", "succeeded"))
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errors) > 0 {
		t.Errorf("the page raised errors: %q", b.errors)
	}
}
