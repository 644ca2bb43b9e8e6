package daemon

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/auth"
)

// roleTokens creates one named token per role on the harness's daemon.
func roleTokens(t *testing.T, h *harness) map[auth.Role]string {
	t.Helper()
	out := map[auth.Role]string{auth.Admin: h.d.Token()}
	for _, r := range []auth.Role{auth.Deployer, auth.Approver, auth.Viewer} {
		tok, err := h.client.CreateToken(context.Background(), "t-"+string(r), string(r))
		if err != nil {
			t.Fatalf("create %s token: %v", r, err)
		}
		out[r] = tok.Token
	}
	return out
}

// call sends one request to the daemon with token and returns the status and error body.
func call(t *testing.T, addr, method, path, token string) (int, api.ErrorBody) {
	t.Helper()
	body := ""
	if path == "/v1/token/rotate" {
		body = `{"grace":"not a duration"}` // allowed, it is refused as invalid: never rotate for real
	}
	req, err := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var eb api.ErrorBody
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	_ = json.Unmarshal(data, &eb)
	return resp.StatusCode, eb
}

// concrete turns a route pattern into a method and a path to request.
func concrete(pattern string) (string, string) {
	method, path, _ := strings.Cut(pattern, " ")
	r := strings.NewReplacer("{name}", "nosuch", "{id}", "999999", "{key}", "nosuch-flag", "{secret}", "NOSUCH")
	return method, r.Replace(path)
}

// TestEveryRouteChecksItsRole walks every route the real daemon registers with a token of
// every role, with no token and with a revoked one: a role the route does not allow gets 403
// naming the missing role, an allowed one gets past the check (anything but 401/403), no
// token and a revoked one get the same 401.
func TestEveryRouteChecksItsRole(t *testing.T) {
	h := newHarness(t)
	tokens := roleTokens(t, h)
	revoked, err := h.client.CreateToken(context.Background(), "gone", "admin")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.client.RevokeToken(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	routes := api.Routes(h.d.apiHandler())
	if len(routes) < 35 {
		t.Fatalf("only %d routes registered: %v", len(routes), routes)
	}
	for _, rt := range routes {
		if !api.RoleListed(rt.Pattern) {
			t.Errorf("route %s is not in api's role table: choose its role there", rt.Pattern)
		}
		method, path := concrete(rt.Pattern)
		for _, tok := range []string{"", revoked.Token, "not-a-token"} {
			if st, _ := call(t, h.d.Addr(), method, path, tok); st != http.StatusUnauthorized {
				t.Errorf("%s with a missing, revoked or wrong token: %d, want 401", rt.Pattern, st)
			}
		}
		for role, tok := range tokens {
			st, body := call(t, h.d.Addr(), method, path, tok)
			if role.Allows(rt.Role) {
				if st == http.StatusUnauthorized || st == http.StatusForbidden {
					t.Errorf("%s as %s (allowed: needs %s): %d %s", rt.Pattern, role, rt.Role, st, body.Error)
				}
				continue
			}
			if st != http.StatusForbidden || body.MissingRole != string(rt.Role) || !strings.Contains(body.Error, string(rt.Role)) {
				t.Errorf("%s as %s: %d %+v, want 403 naming role %s", rt.Pattern, role, st, body, rt.Role)
			}
		}
	}
	// A few that must not slip, whatever the table says: a viewer cannot deploy, a deployer
	// cannot approve nor make tokens.
	for _, c := range []struct {
		pattern string
		role    auth.Role
	}{{"POST /v1/services/{name}/deploy", auth.Viewer}, {"POST /v1/services/{name}/approve", auth.Deployer},
		{"POST /v1/tokens", auth.Deployer}, {"POST /v1/token/rotate", auth.Approver}} {
		method, path := concrete(c.pattern)
		if st, _ := call(t, h.d.Addr(), method, path, tokens[c.role]); st != http.StatusForbidden {
			t.Errorf("%s as %s: %d, want 403", c.pattern, c.role, st)
		}
	}
}

// TestApprovalByAnotherToken runs a daemon that requires approvals: a deployment started by
// a deployer waits with nothing started; the same token, a viewer and a deployer cannot
// approve it; an approver can, and the deployment and its events name both tokens.
func TestApprovalByAnotherToken(t *testing.T) {
	h := startWith(t, Options{RequireApproval: true})
	tokens := roleTokens(t, h)
	ctx := context.Background()
	as := func(r auth.Role) *api.Client { return api.NewClient("http://"+h.d.Addr(), tokens[r]) }
	s := appSpec{Name: "web", Listen: freeAddr(t), Version: "v1"}
	dep, err := as(auth.Deployer).Deploy(ctx, api.DeployRequest{Service: "web", Spec: h.yaml(s)})
	if err != nil {
		t.Fatal(err)
	}
	if dep.Status != "paused" || dep.Phase != "awaiting_approval" || dep.StartedBy != "t-deployer" {
		t.Fatalf("deployment = %+v, want paused awaiting_approval started by t-deployer", dep)
	}
	time.Sleep(300 * time.Millisecond) // a few ticks: nothing may start meanwhile
	if svc, err := h.client.Service(ctx, "web"); err != nil || len(svc.Instances) != 0 {
		t.Fatalf("instances before approval: %+v, %v", svc.Instances, err)
	}
	if _, err := as(auth.Deployer).Approve(ctx, "web"); !isErr(err, api.ErrForbidden) {
		t.Fatalf("approval by the deployer that started it: %v, want 403", err)
	}
	if _, err := as(auth.Deployer).Resume(ctx, "web"); err == nil {
		t.Fatal("resume lifted the approval gate")
	}
	if _, err := as(auth.Viewer).Approve(ctx, "web"); !isErr(err, api.ErrForbidden) {
		t.Fatalf("approval by a viewer: %v, want 403", err)
	}
	got, err := as(auth.Approver).Approve(ctx, "web")
	if err != nil || got.ApprovedBy != "t-approver" {
		t.Fatalf("approval by the approver: %+v, %v", got, err)
	}
	final := h.wait(dep.ID, 60*time.Second)
	if final.Status != "succeeded" || final.ApprovedBy != "t-approver" || final.StartedBy != "t-deployer" {
		t.Fatalf("final = %+v, want succeeded, started by t-deployer, approved by t-approver", final)
	}
	evs, err := h.client.Events(ctx, api.EventQuery{DeploymentID: dep.ID}, 0)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range evs {
		found = found || (e.Type == "deployment_approved" && e.Data["approved_by"] == "t-approver" && e.Data["started_by"] == "t-deployer")
	}
	if !found {
		t.Fatalf("no deployment_approved event naming both tokens in %+v", evs)
	}
	// The admin cannot approve its own deployment either; aborting it starts nothing.
	s.Version = "v2"
	second, err := h.client.Deploy(ctx, api.DeployRequest{Service: "web", Spec: h.yaml(s)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.client.Approve(ctx, "web"); !isErr(err, api.ErrForbidden) {
		t.Fatalf("approval by the admin that started it: %v, want 403", err)
	}
	if _, err := h.client.Abort(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if got := h.wait(second.ID, 10*time.Second); got.Status != "aborted" {
		t.Fatalf("aborted while awaiting approval: %+v", got)
	}
	svc, err := h.client.Service(ctx, "web")
	for _, in := range svc.Instances {
		if in.Revision != final.To {
			t.Fatalf("an instance of revision %d started for an aborted deployment: %+v (%v)", in.Revision, in, err)
		}
	}
}

// TestRollbackUnderApproval: on a daemon that requires approvals, a warm rollback (an
// instant switch back to a revision that already served) is the emergency exit: a deployer
// makes it at once, and it is recorded as an approval_skipped event naming who; a rollback
// that has to start instances is a deployment like any other and waits for an approval.
func TestRollbackUnderApproval(t *testing.T) {
	h := startWith(t, Options{RequireApproval: true})
	tokens := roleTokens(t, h)
	ctx := context.Background()
	as := func(r auth.Role) *api.Client { return api.NewClient("http://"+h.d.Addr(), tokens[r]) }
	deploy := func(s appSpec) api.Deployment {
		t.Helper()
		dep, err := as(auth.Deployer).Deploy(ctx, api.DeployRequest{Service: s.Name, Spec: h.yaml(s)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := as(auth.Approver).Approve(ctx, s.Name); err != nil {
			t.Fatal(err)
		}
		if d := h.wait(dep.ID, 60*time.Second); d.Status != "succeeded" {
			t.Fatalf("%s %s: %s %s", s.Name, s.Version, d.Status, d.Reason)
		}
		return dep
	}
	warm := appSpec{Name: "web", Listen: freeAddr(t), Version: "v1", Replicas: 1, Strategy: "blue_green: {scale_down_delay: 5m}\n"}
	deploy(warm)
	warm.Version = "v2"
	deploy(warm)
	rb, err := as(auth.Deployer).Rollback(ctx, "web", api.RollbackRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rb.Status != "succeeded" || rb.To != 1 || rb.ApprovedBy != "" {
		t.Fatalf("warm rollback = %+v, want revision 1 at once, unapproved", rb)
	}
	evs, err := h.client.Events(ctx, api.EventQuery{DeploymentID: rb.ID}, 0)
	if err != nil {
		t.Fatal(err)
	}
	recorded := false
	for _, e := range evs {
		recorded = recorded || (e.Type == "approval_skipped" && e.Data["who"] == "t-deployer" && strings.Contains(e.Message, "without an approval"))
	}
	if !recorded {
		t.Fatalf("no approval_skipped event naming t-deployer in %+v", evs)
	}
	if _, err := as(auth.Viewer).Rollback(ctx, "web", api.RollbackRequest{To: 2}); !isErr(err, api.ErrForbidden) {
		t.Fatalf("rollback by a viewer: %v, want 403", err)
	}

	// Rolling replaces the old instances: rolling back starts new ones, so it waits.
	cold := appSpec{Name: "api", Listen: freeAddr(t), Version: "v1", Replicas: 1}
	deploy(cold)
	cold.Version = "v2"
	deploy(cold)
	rb, err = as(auth.Deployer).Rollback(ctx, "api", api.RollbackRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if rb.Status != "paused" || rb.Phase != "awaiting_approval" || rb.To != 1 {
		t.Fatalf("cold rollback = %+v, want revision 1 paused awaiting_approval", rb)
	}
	time.Sleep(300 * time.Millisecond)
	if n := countRevision(t, h, "api", 1); n != 0 {
		t.Fatalf("%d instance(s) of revision 1 started before the rollback's approval", n)
	}
	if _, err := as(auth.Deployer).Approve(ctx, "api"); !isErr(err, api.ErrForbidden) {
		t.Fatalf("the rollback's own token approving it: %v, want 403", err)
	}
	if _, err := as(auth.Approver).Approve(ctx, "api"); err != nil {
		t.Fatal(err)
	}
	if d := h.wait(rb.ID, 60*time.Second); d.Status != "succeeded" || d.ApprovedBy != "t-approver" {
		t.Fatalf("cold rollback after approval: %+v", d)
	}
}
