package daemon

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/cli"
)

// forgedWho is what the review sent as `who`: a newline that starts a forged history row, and
// escape sequences that clear the screen and retitle the terminal.
const forgedWho = "mallory\n9  2026-01-01 00:00:00  root  -  -  stable  \x1b[2J\x1b]0;pwned\x07"

// TestAuditIdentityFromToken is the review's reproduction: `who` in a request forged a history
// row and reached the terminal through `flags history`. The author recorded for a deploy, a
// flag change and an SDK token is the token's name, "admin", whatever the request says; and
// the CLI's text output of history, flags history and events escapes control characters, so
// a message with a newline or an escape sequence stays on its row and never reaches the
// terminal raw.
func TestAuditIdentityFromToken(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	dep, err := h.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: h.yaml(appSpec{Name: "web", Listen: freeAddr(t), Version: "v1"}),
		Who: forgedWho, Message: "fix\n2  2026-01-01 00:00:00  root  \x1b[31mforged"})
	if err != nil {
		t.Fatal(err)
	}
	h.wait(dep.ID, 30*time.Second)
	if _, err := h.client.PutFlag(ctx, forgedWho, boolFlag("f")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.CreateSDKToken(ctx, forgedWho, "sdk"); err != nil {
		t.Fatal(err)
	}

	revs, err := h.client.History(ctx, "web")
	if err != nil || len(revs) != 1 {
		t.Fatalf("history: %v %+v", err, revs)
	}
	if revs[0].CreatedBy != api.AdminName {
		t.Errorf("revision created by %q, want %q (the token's name)", revs[0].CreatedBy, api.AdminName)
	}
	hist, err := h.client.FlagHistory(ctx, api.FlagHistoryQuery{Key: "f"})
	if err != nil || len(hist) != 1 {
		t.Fatalf("flag history: %v %+v", err, hist)
	}
	if hist[0].Actor != api.AdminName {
		t.Errorf("flag changed by %q, want %q", hist[0].Actor, api.AdminName)
	}
	toks, err := h.client.SDKTokens(ctx)
	if err != nil || len(toks) != 1 || toks[0].CreatedBy != api.AdminName {
		t.Errorf("sdk tokens: %v %+v, want one created by %q", err, toks, api.AdminName)
	}
	evs, err := h.client.Events(ctx, api.EventQuery{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if strings.Contains(e.Message, "mallory") || strings.Contains(fmt.Sprint(e.Data), "mallory") {
			t.Errorf("event %s carries the request's who: %q %s", e.Type, e.Message, e.Data)
		}
	}

	for _, args := range [][]string{{"history", "web"}, {"flags", "history"}, {"events"}, {"flags", "token", "list"}} {
		out := runCLI(t, h, args...)
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("cutover %s printed a raw control character:\n%q", strings.Join(args, " "), out)
		}
		if strings.Contains(out, "mallory") {
			t.Errorf("cutover %s shows the request's who:\n%s", strings.Join(args, " "), out)
		}
	}
	if out := runCLI(t, h, "history", "web"); strings.Count(out, "\n") != 2 {
		t.Errorf("cutover history web: want a header and one row, got:\n%s", out)
	}
}

// runCLI runs the CLI against h's daemon in text mode and returns its standard output.
func runCLI(t *testing.T, h *harness, args ...string) string {
	t.Helper()
	all := append([]string{"--state", t.TempDir(), "--addr", "http://" + h.d.Addr(), "--token", h.d.Token()}, args...)
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if code := cli.Main(ctx, all, strings.NewReader(""), &stdout, &stderr, cli.Commands{}); code != 0 {
		t.Errorf("cutover %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
	return stdout.String()
}

// TestAdminTokenRefusedInEventsQuery is the review's reproduction: the admin token was
// accepted in ?token= on the OFREP event stream, where it ends up in URLs and logs. Only SDK
// tokens are accepted there (an EventSource cannot set headers); the admin token still works
// in the Authorization header.
func TestAdminTokenRefusedInEventsQuery(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	sdk, err := h.client.CreateSDKToken(ctx, "", "browser")
	if err != nil {
		t.Fatal(err)
	}
	status := func(query, header string) int {
		req, err := http.NewRequest(http.MethodGet, "http://"+h.d.Addr()+"/ofrep/v1/events"+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		if header != "" {
			req.Header.Set("Authorization", "Bearer "+header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close() // a stream: its status is enough
		return resp.StatusCode
	}
	for _, c := range []struct {
		name          string
		query, header string
		want          int
	}{
		{"admin token in the query", "?token=" + h.d.Token(), "", http.StatusUnauthorized},
		{"sdk token in the query", "?token=" + sdk.Token, "", http.StatusOK},
		{"admin token in the header", "", h.d.Token(), http.StatusOK},
	} {
		if got := status(c.query, c.header); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}
