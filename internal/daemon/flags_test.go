package daemon

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/flags"
)

// boolFlag is a boolean flag serving "on" to everyone while enabled, "off" when disabled.
func boolFlag(key string) flags.Flag {
	return flags.Flag{Key: key, Type: flags.Boolean, Variants: map[string]any{"on": true, "off": false},
		DefaultVariant: "off", Enabled: true, Rules: []flags.Rule{{Variant: "on"}}}
}

// appFlag asks the demo app's /flag endpoint, which asks the daemon over OFREP.
func appFlag(t *testing.T, listen, key string) string {
	t.Helper()
	resp, err := http.Get("http://" + listen + "/flag?key=" + key + "&user=u1")
	if err != nil {
		t.Fatalf("GET /flag: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Status + " " + strings.TrimSpace(string(b))
}

// TestDemoAppSeesFlagChangeWithinASecond is the end-to-end test of issue 8: the demo app
// reads a flag over OFREP with an SDK token; a change through the API (what the CLI calls)
// is what it serves next, well within one second; the kill switch reaches a client
// subscribed to the OFREP event stream within one second too.
func TestDemoAppSeesFlagChangeWithinASecond(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tok, err := h.client.CreateSDKToken(ctx, "test", "demoapp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.PutFlag(ctx, "test", boolFlag("new-checkout")); err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	dep := h.deploy(appSpec{Name: "web", Listen: listen, Version: "v1", Replicas: 1,
		Env: map[string]string{"OFREP_URL": "http://" + h.d.Addr(), "OFREP_TOKEN": tok.Token}})
	if got := h.wait(dep.ID, 30*time.Second); got.Status != "succeeded" {
		t.Fatalf("deploy: %s %s", got.Status, got.Reason)
	}
	if got, want := appFlag(t, listen, "new-checkout"), "200 OK new-checkout=true variant=on reason=TARGETING_MATCH"; got != want {
		t.Fatalf("app before the change: %q, want %q", got, want)
	}

	events := subscribe(t, "http://"+h.d.Addr()+flags.EventsPath, tok.Token)
	start := time.Now()
	if _, err := h.client.SetFlagEnabled(ctx, "test", "new-checkout", false); err != nil {
		t.Fatal(err)
	}
	select {
	case <-events:
		t.Logf("kill switch: event stream notified %v after the call began", time.Since(start))
	case <-time.After(time.Second):
		t.Fatalf("no OFREP change event within 1s of the kill switch")
	}
	waitFor(t, time.Second, "the app to serve the disabled flag", func() bool {
		return appFlag(t, listen, "new-checkout") == "200 OK new-checkout=false variant=off reason=DISABLED"
	})
	t.Logf("kill switch: app serves the default %v after the call began", time.Since(start))
	if got := appFlag(t, listen, "missing"); !strings.Contains(got, "404") || !strings.Contains(got, "FLAG_NOT_FOUND") {
		t.Errorf("app asking for an unknown flag: %q, want 404 FLAG_NOT_FOUND", got)
	}
}

// subscribe opens an OFREP event stream and sends on the channel at each refetch event.
func subscribe(t *testing.T, url, token string) <-chan struct{} {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("subscribe: status %s", resp.Status)
	}
	out := make(chan struct{}, 16)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "refetchEvaluation") {
				out <- struct{}{}
			}
		}
	}()
	return out
}

// ofrepStatus POSTs an evaluation with token and returns the status code.
func ofrepStatus(t *testing.T, addr, token, key string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/ofrep/v1/evaluate/flags/"+key, strings.NewReader(`{"context":{}}`))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestSDKTokensOnlyEvaluate: an SDK token evaluates flags and is refused (401) by every
// other route; the admin token evaluates too; a revoked token stops at once.
func TestSDKTokensOnlyEvaluate(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.client.PutFlag(ctx, "test", boolFlag("f")); err != nil {
		t.Fatal(err)
	}
	tok, err := h.client.CreateSDKToken(ctx, "test", "web")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok.Token, flags.SDKTokenPrefix) {
		t.Errorf("token %q lacks the prefix %q", tok.Token, flags.SDKTokenPrefix)
	}
	if _, err := h.client.CreateSDKToken(ctx, "test", "web"); !errors.Is(err, api.ErrConflict) {
		t.Errorf("second token named web: %v, want conflict", err)
	}
	addr := h.d.Addr()
	for _, c := range []struct {
		name  string
		token string
		want  int
	}{{"sdk token", tok.Token, 200}, {"admin token", h.d.Token(), 200}, {"no token", "", 401}, {"wrong token", "nope", 401}} {
		if got := ofrepStatus(t, addr, c.token, "f"); got != c.want {
			t.Errorf("OFREP with %s: status %d, want %d", c.name, got, c.want)
		}
	}
	sdk := api.NewClient("http://"+addr, tok.Token)
	calls := map[string]func() error{
		"services":     func() error { _, err := sdk.Services(ctx); return err },
		"flags list":   func() error { _, err := sdk.Flags(ctx); return err },
		"flag disable": func() error { _, err := sdk.SetFlagEnabled(ctx, "x", "f", false); return err },
		"token create": func() error { _, err := sdk.CreateSDKToken(ctx, "x", "mine"); return err },
		"deploy":       func() error { _, err := sdk.Deploy(ctx, api.DeployRequest{Service: "web"}); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, api.ErrUnauthorized) {
			t.Errorf("%s with an SDK token: %v, want unauthorized", name, err)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("/metrics with an SDK token: %v %v, want 401", resp.Status, err)
	}
	if f, _ := h.client.Flag(ctx, "f"); !f.Enabled {
		t.Errorf("flag f was changed by an SDK token")
	}
	if err := h.client.RevokeSDKToken(ctx, "test", "web"); err != nil {
		t.Fatal(err)
	}
	if got := ofrepStatus(t, addr, tok.Token, "f"); got != 401 {
		t.Errorf("OFREP with a revoked token: status %d, want 401", got)
	}
	if list, _ := h.client.SDKTokens(ctx); len(list) != 0 {
		t.Errorf("tokens after revoke: %+v", list)
	}
}

// TestFlagChangesAreAudited: who (the token's name, whatever the client says), what, before
// and after, newest first, also as events.
func TestFlagChangesAreAudited(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if _, err := h.client.PutFlag(ctx, "ann", boolFlag("f")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.SetFlagEnabled(ctx, "bob", "f", false); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.SetFlagRollout(ctx, "cid", "f", api.FlagRolloutRequest{To: 25}); err != nil {
		t.Fatal(err)
	}
	hist, err := h.client.FlagHistory(ctx, api.FlagHistoryQuery{Key: "f"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range hist {
		got = append(got, fmt.Sprintf("%s %s before=%t after=%t", r.Actor, r.Action, string(r.Before) != "null", string(r.After) != "null"))
	}
	want := []string{"admin rollout before=true after=true", "admin disable before=true after=true", "admin create before=false after=true"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("history:\n got %q\nwant %q", got, want)
	}
	evs, err := h.client.Events(ctx, api.EventQuery{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Type == "flag_changed" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d flag_changed events, want 3", n)
	}
}
