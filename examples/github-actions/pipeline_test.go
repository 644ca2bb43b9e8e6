package githubactions

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/cutover/cutover/internal/runtime/docker/dockertest"
	"github.com/cutover/cutover/internal/testbin"
)

// newPipeline reads the workflow and prepares a checkout with cutover.yaml and a PATH with
// the cutover binary.
func newPipeline(t *testing.T) *pipeline {
	data, err := os.ReadFile("deploy.yml")
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{t: t, bin: t.TempDir(), checkout: t.TempDir()}
	if err := yaml.Unmarshal(data, &p.wf); err != nil {
		t.Fatalf("read deploy.yml: %v", err)
	}
	if err := os.Symlink(testbin.Cutover(t), filepath.Join(p.bin, "cutover")); err != nil {
		t.Fatal(err)
	}
	spec, err := os.ReadFile("cutover.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(p.checkout, "cutover.yaml"), spec, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPipelineStagingThenProduction runs the workflow's deploy jobs against a staging and a
// production daemon: the image succeeds in staging and passes its smoke test; production
// refuses a deploy that is not a promotion from staging; the promotion waits for an
// approval with nothing started, which the deploying token and a viewer cannot give; a
// viewer reads and can do nothing else; the approver's job approves and production serves
// the staging revision; a revision that was rolled back in staging cannot be promoted.
func TestPipelineStagingThenProduction(t *testing.T) {
	image := imageID(t, dockertest.DemoImage(t))
	p := newPipeline(t)
	staging := p.serve("--environment", "staging")
	// Production trusts staging's attestation key: it verifies that staging signed what a
	// promotion carries (forged claims: internal/daemon TestPromotionCarriesTheRevision).
	code, key := p.cli([]string{"CUTOVER_STATE=" + staging.state}, "attestation-key")
	var out string
	if code != 0 || !strings.HasPrefix(key, "staging=ed25519:") {
		t.Fatalf("cutover attestation-key on staging: exit %d: %s", code, key)
	}
	production := p.serve("--environment", "production", "--require-approval", "--trust-environment", strings.TrimSpace(key))
	stagingRoute, productionRoute := freePort(t), freePort(t)
	ci := map[string]string{"staging": p.token(staging, "ci", "deployer"), "production": p.token(production, "ci", "deployer")}
	approver, viewer := p.token(production, "release", "approver"), p.token(production, "dashboard", "viewer")
	vals := func(route string) map[string]string {
		return map[string]string{
			"${{ vars.CUTOVER_STAGING_ADDR }}": staging.addr, "${{ vars.CUTOVER_PRODUCTION_ADDR }}": production.addr,
			"${{ secrets.CUTOVER_STAGING_TOKEN }}": ci["staging"], "${{ secrets.CUTOVER_PRODUCTION_TOKEN }}": ci["production"],
			"${{ secrets.CUTOVER_APPROVER_TOKEN }}": approver, "${{ secrets.CUTOVER_CA }}": "",
			"${{ vars.ROUTE_LISTEN }}": route, "${{ vars.STAGING_URL }}": "http://" + stagingRoute,
			"${{ needs.build.outputs.image }}": image,
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	if code, out := p.job(ctx, "staging", vals(stagingRoute)); code != 0 {
		t.Fatalf("staging job: exit %d:\n%s", code, out)
	}

	// Production deploys only promotions from staging.
	code, out = p.cli(as(production, ci["production"]), "deploy", "web", "--spec", filepath.Join(p.checkout, "cutover.yaml"),
		"--image", image, "--set", "route.listen="+productionRoute)
	if code != 2 || !strings.Contains(out, "promotion.require_from") {
		t.Fatalf("a plain deploy to production: exit %d, want 2 naming promotion.require_from:\n%s", code, out)
	}

	type result struct {
		code int
		out  string
	}
	prod := make(chan result, 1)
	go func() {
		c, o := p.job(ctx, "production", vals(productionRoute))
		prod <- result{c, o}
	}()
	p.awaitApproval(production, viewer)
	select {
	case r := <-prod:
		t.Fatalf("the production job ended before an approval: exit %d:\n%s", r.code, r.out)
	default:
	}
	p.checkRefusals(production, ci["production"], viewer)

	if code, out := p.job(ctx, "approve-production", vals(productionRoute)); code != 0 {
		t.Fatalf("approve-production job: exit %d:\n%s", code, out)
	}
	if r := <-prod; r.code != 0 || !strings.Contains(r.out, "succeeded") {
		t.Fatalf("production job: exit %d, want 0 and succeeded:\n%s", r.code, r.out)
	}
	code, out = p.cli(as(production, viewer), "history", "web")
	if code != 0 || !strings.Contains(out, "promoted from staging (revision 1") || !strings.Contains(out, "ci (approved by release)") {
		t.Fatalf("production history: exit %d, want the promotion from staging revision 1, approved by release:\n%s", code, out)
	}
	code, out = p.cli(as(production, viewer), "events", "web")
	if code != 0 || !strings.Contains(out, "approved by release (started by ci)") {
		t.Fatalf("production events: exit %d, want the approval by release:\n%s", code, out)
	}

	// A revision that was rolled back in staging is never promoted.
	code, out = p.cli(as(staging, ci["staging"]), "deploy", "web", "--env", "NEVER_READY=1",
		"--set", "strategy.rolling.progress_deadline=3s", "--wait", "--timeout", "2m")
	if code != 4 {
		t.Fatalf("a bad revision in staging: exit %d, want 4 (rolled back):\n%s", code, out)
	}
	promote := filepath.Join(t.TempDir(), "config.yaml")
	for _, args := range [][]string{
		{"context", "add", "staging", "--addr", staging.addr, "--token-env", "STAGING_TOKEN"},
		{"context", "add", "production", "--addr", production.addr, "--token-env", "PRODUCTION_TOKEN", "--use"},
	} {
		if code, out := p.cli([]string{"CUTOVER_CONFIG=" + promote}, args...); code != 0 {
			t.Fatalf("cutover %v: exit %d: %s", args, code, out)
		}
	}
	code, out = p.cli([]string{"CUTOVER_CONFIG=" + promote, "STAGING_TOKEN=" + ci["staging"], "PRODUCTION_TOKEN=" + ci["production"]},
		"deploy", "web", "--from", "staging", "--revision", "2")
	if code != 7 || !strings.Contains(out, "has not succeeded") {
		t.Fatalf("promoting the rolled-back revision: exit %d, want 7:\n%s", code, out)
	}
	code, out = p.cli([]string{"CUTOVER_CONFIG=" + promote}, "--context", "qa", "status")
	if code != 2 || !strings.Contains(out, `context "qa"`) || !strings.Contains(out, "staging, production") {
		t.Fatalf("an unknown context: exit %d, want 2 naming it and the known ones:\n%s", code, out)
	}
}

// awaitApproval waits until the production deployment awaits approval, and checks that
// nothing has started.
func (p *pipeline) awaitApproval(d daemon, viewer string) {
	t := p.t
	deadline := time.Now().Add(2 * time.Minute)
	for {
		code, out := p.cli(as(d, viewer), "status", "web", "-o", "json")
		if code == 0 && strings.Contains(out, `"phase": "awaiting_approval"`) {
			if strings.Contains(out, `"instances": [`) && !strings.Contains(out, `"instances": []`) {
				t.Fatalf("instances started before the approval:\n%s", out)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no production deployment awaiting approval: exit %d:\n%s", code, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkRefusals: the deploying token cannot approve its own deployment, a viewer reads and
// can do nothing else, each refusal exits 9 naming the role missing.
func (p *pipeline) checkRefusals(d daemon, deployer, viewer string) {
	t := p.t
	for _, c := range []struct {
		token string
		args  []string
		code  int
		want  string
	}{
		{deployer, []string{"approve", "web"}, 9, "needs role approver"},
		{viewer, []string{"approve", "web"}, 9, "needs role approver"},
		{viewer, []string{"abort", "web"}, 9, "needs role deployer"},
		{viewer, []string{"rollback", "web"}, 9, "needs role deployer"},
		{viewer, []string{"token", "create", "x", "--role", "admin"}, 9, "needs role admin"},
		{viewer, []string{"status", "web"}, 0, "awaiting_approval"},
		{viewer, []string{"history", "web"}, 0, "promoted from staging"},
		{viewer, []string{"events", "web"}, 0, "deployment"},
	} {
		code, out := p.cli(as(d, c.token), c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("cutover %v: exit %d, want %d and %q:\n%s", c.args, code, c.code, c.want, out)
		}
	}
}

// imageID is the ID (sha256:…) of the image tagged tag: the workflow deploys by digest.
func imageID(t *testing.T, tag string) string {
	t.Helper()
	img, _, err := dockertest.Client(t).ImageInspectWithRaw(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	return img.ID
}
