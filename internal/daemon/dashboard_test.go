package daemon

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's chromium (scripts/install-chromium installs it). Without it the
// test is skipped, except under CI=true where it fails.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (scripts/install-chromium installs it)")
	}
	t.Skip("chromium is not installed; scripts/install-chromium installs it")
	return ""
}

// browser is a headless Chromium whose console errors, exceptions and log errors (CSP
// violations among them) are kept.
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{ctx: ctx}
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable the browser log: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if (m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException) && !provoked(m) {
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("%s: %s (%s)", m.Type, m.Text, m.URL))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// provoked reports whether m is the browser's note of a refusal the test asks for: a wrong
// token at login, a cross-site POST.
func provoked(m chromedp.ConsoleMessage) bool {
	return strings.HasPrefix(m.Text, "Failed to load resource") &&
		(strings.HasSuffix(m.URL, "/ui/login") || strings.HasSuffix(m.URL, "/web/abort") || strings.HasSuffix(m.URL, "/web/pause"))
}

func (b *browser) run(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		page, _ := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.CSS("body")))
		t.Fatalf("%s: %v\npage: %s", what, err, page)
	}
}

// waitText waits until the text of the element sel contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want),
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := poll(ctx, t)
		if err != nil {
			err = fmt.Errorf("wait for %q in %s: %w", want, sel, err)
		}
		return chromedp.Void{}, err
	}
}

// clickOn waits for an element sel and clicks it in one step inside the page: the page
// redraws its tables on every pushed update, so a node found by one call may be gone by the
// next (chromedp.Click's "could not find node").
func clickOn(sel string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.click(); return true; })()`, sel),
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := poll(ctx, t)
		if err != nil {
			err = fmt.Errorf("click %s: %w", sel, err)
		}
		return chromedp.Void{}, err
	}
}

// confirmAction clicks sel, then the confirmation's button, and waits for the outcome line.
func confirmAction(sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(clickOn(sel), chromedp.WaitVisible(chromedp.CSS("#confirm")),
		clickOn("#confirm-yes"), waitText("#outcome", want))
}

// TestDashboardInChromium drives the dashboard in a real Chromium: a wrong token is refused
// and the right one gives an HttpOnly, SameSite=Strict cookie; a canary deployed from the
// API (not the page) moves on the page and its rollback shows with the verdict's evidence
// without a reload (server-sent events); a paused canary is promoted from the page, a
// cross-site form POST is refused and changes nothing, a flag's kill switch works; and the
// page raises no console error under its Content-Security-Policy.
func TestDashboardInChromium(t *testing.T) {
	b := newBrowser(t)
	h := newHarness(t)
	ctx := context.Background()
	listen := freeAddr(t)
	h.wait(h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1"}).ID, 30*time.Second)
	if _, err := h.client.PutFlag(ctx, "test", boolFlag("beta")); err != nil {
		t.Fatal(err)
	}
	base := "http://" + h.d.Addr()
	b.run(t, "login refused", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#token"), "not-the-token"), chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		waitText("#login-error", "not admitted"))
	b.run(t, "login", chromedp.SendKeys(chromedp.CSS("#token"), h.d.Token()), chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#services tr[data-service="web"]`)), waitText("#live", "live"),
		waitText(`#flags tr[data-flag="beta"]`, "enabled"))
	cookie := sessionCookie(t, b)

	// A canary that fails, deployed from the API: the page follows it live.
	stop := startLoad(t, listen, 200)
	bad := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v2", Env: map[string]string{"ERROR_RATE": "0.05"},
		Strategy: "canary:\n  steps:\n    - weight: 20\n    - analysis: {duration: 2m}\n    - weight: 100\n"})
	b.run(t, "the canary shows", waitText("#deployment-status", fmt.Sprintf("deployment #%d", bad.ID)))
	got := h.wait(bad.ID, 90*time.Second)
	if got.Status != "rolled_back" || got.Verdict == nil {
		t.Fatalf("the bad canary: %s %q %+v", got.Status, got.Reason, got.Verdict)
	}
	b.run(t, "the rollback and its verdict show", waitText("#deployment-status", "rolled_back"),
		waitText("#verdict", "verdict: fail"), waitText("#verdict", " baseline requests"), waitText("#evidence", "canary"))

	// A paused canary: a cross-site form cannot abort it; the page promotes it.
	paused := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v3",
		Strategy: "canary:\n  steps:\n    - weight: 10\n    - pause: {}\n    - weight: 100\n"})
	b.run(t, "the pause shows", waitText("#deployment-status", "promote"))
	crossSitePost(t, b, h.d.Addr(), cookie)
	if d, err := h.client.Deployment(ctx, paused.ID); err != nil || d.Status != "paused" && d.Status != "running" {
		t.Fatalf("after a cross-site POST the paused canary is %s (%v)", d.Status, err)
	}
	b.run(t, "promote from the page", confirmAction(`#actions button[data-action="promote"]`, "done"))
	if d := h.wait(paused.ID, 60*time.Second); d.Status != "succeeded" {
		t.Errorf("promoted from the page: %s %q", d.Status, d.Reason)
	}
	stop()
	b.run(t, "kill switch", confirmAction(`#flags button[data-flag="beta"]`, "done"), waitText(`#flags tr[data-flag="beta"]`, "disabled"))
	if f, err := h.client.Flag(ctx, "beta"); err != nil || f.Enabled {
		t.Errorf("flag beta after the kill switch: enabled %v (%v)", f.Enabled, err)
	}
	readOnly(t, b, h)
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errors) > 0 {
		t.Errorf("the page raised errors: %q", b.errors)
	}
}

// readOnly logs out, logs in with a viewer token and checks that it sees the services but
// that the API refuses its action, and the page says so.
func readOnly(t *testing.T, b *browser, h *harness) {
	t.Helper()
	viewer, err := h.client.CreateToken(context.Background(), "watcher", "viewer")
	if err != nil {
		t.Fatal(err)
	}
	b.run(t, "log in as a viewer", chromedp.Click(chromedp.CSS("#logout")), chromedp.WaitVisible(chromedp.CSS("#login")),
		chromedp.SendKeys(chromedp.CSS("#token"), viewer.Token), chromedp.Click(chromedp.CSS(`#login button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#services tr[data-service="web"]`)),
		confirmAction(`#actions button[data-action="pause"]`, "refused (403)"))
}

// sessionCookie returns the dashboard's session cookie, checking its protections.
func sessionCookie(t *testing.T, b *browser) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if c.Name == "cutover_session" {
			if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Path != "/ui/" {
				t.Errorf("session cookie: HttpOnly %v, SameSite %q, path %q", c.HTTPOnly, c.SameSite, c.Path)
			}
			return c
		}
	}
	t.Fatalf("no session cookie among %d", len(res.Cookies))
	return nil
}

// crossSitePost has the browser, on a page of another origin, submit a form that asks the
// dashboard to abort web: the dashboard must refuse it. So must it refuse a plain client
// that carries the cookie but not the CSRF value.
func crossSitePost(t *testing.T, b *browser, addr string, cookie *network.Cookie) {
	t.Helper()
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><form id="f" method="POST" action="http://%s/ui/api/v1/services/web/abort"></form>`, addr)
	}))
	defer evil.Close()
	// The answer replaces the page; Chromium shows a JSON answer in a <pre>.
	b.run(t, "cross-site form", chromedp.Navigate(evil.URL), chromedp.Submit(chromedp.CSS("#f")),
		chromedp.WaitVisible(chromedp.CSS("body > pre")))
	if text, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("body"))); err != nil || !strings.Contains(text, "cross-site request refused") {
		t.Errorf("a cross-site form POST was answered %q (%v), want the refusal", text, err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/ui/api/v1/services/web/abort", nil)
	req.AddCookie(&http.Cookie{Name: cookie.Name, Value: cookie.Value})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST with the cookie but no CSRF value: %s, want 403", resp.Status)
	}
	b.run(t, "back to the dashboard", chromedp.Navigate("http://"+addr+"/ui/"), chromedp.WaitVisible(chromedp.CSS(`#services tr[data-service="web"]`)))
}
