package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"time"

	"github.com/cutover/cutover/internal/attest"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/rollout"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// Promotion implements api.PromotionSource: the revision (0: the stable one) if a deployment
// made it stable here, with its spec stripped of what belongs to this environment.
func (b *Backend) Promotion(ctx context.Context, service string, revision int) (api.Promotion, error) {
	svc, err := b.store.GetService(ctx, service)
	if errors.Is(err, store.ErrNotFound) {
		return api.Promotion{}, fmt.Errorf("service %s: %w", service, api.ErrNotFound)
	} else if err != nil {
		return api.Promotion{}, err
	}
	if revision == 0 {
		revision = svc.Stable
	}
	at, err := b.succeededAt(ctx, service, revision)
	if err != nil {
		return api.Promotion{}, err
	}
	rev, err := b.store.GetRevision(ctx, service, revision)
	if errors.Is(err, store.ErrNotFound) {
		return api.Promotion{}, fmt.Errorf("revision %d of %s is no longer in history: %w", revision, service, api.ErrNotFound)
	} else if err != nil {
		return api.Promotion{}, err
	}
	var s spec.Service
	if err := json.Unmarshal(rev.Spec, &s); err != nil {
		return api.Promotion{}, fmt.Errorf("decode revision %d of %s: %w", revision, service, err)
	}
	setEnvironment(&s, nil, hookEnvs{})
	raw, err := json.Marshal(s)
	if err != nil {
		return api.Promotion{}, fmt.Errorf("encode revision %d of %s: %w", revision, service, err)
	}
	files, err := b.store.MigrationFiles(ctx, service, revision)
	if err != nil {
		return api.Promotion{}, fmt.Errorf("migrations of revision %d of %s: %w", revision, service, err)
	}
	carried := make([]api.MigrationFile, len(files))
	for i, f := range files {
		carried[i] = api.MigrationFile{Name: f.Name, Content: f.Content}
	}
	p := api.Promotion{Service: service, Revision: revision, SpecHash: rev.SpecHash, Spec: raw,
		Environment: b.environment, SucceededAt: at, Migrations: carried}
	if b.attest != nil && b.environment != "" {
		p.Attestation = b.attest.Sign(statementOf(p))
	}
	return p, nil
}

// statementOf is what a promotion's attestation vouches for: the spec (compacted, as JSON
// travels re-encoded), the migration files, the revision and when it succeeded.
func statementOf(p api.Promotion) attest.Statement {
	var spec bytes.Buffer
	if err := json.Compact(&spec, p.Spec); err != nil {
		spec.Reset()
		spec.Write(p.Spec) // not JSON: it cannot verify against what was signed either
	}
	files := make([]attest.File, len(p.Migrations))
	for i, f := range p.Migrations {
		files[i] = attest.File{Name: f.Name, Content: f.Content}
	}
	return attest.Statement{Environment: p.Environment, Service: p.Service, Revision: p.Revision,
		Spec: spec.Bytes(), Migrations: files, SucceededAt: p.SucceededAt}
}

// verifyPromotion checks that the environment the promotion names signed it with the key
// this daemon trusts for that environment, over exactly the spec and migration files it
// carries: a client cannot claim that a revision succeeded somewhere, nor change what did.
// It sets p.From to that environment.
func (b *Backend) verifyPromotion(p *api.Promotion) error {
	refuse := func(format string, args ...any) error {
		return &api.ValidationError{File: "promotion", Fields: []api.FieldError{{Path: "promotion.attestation", Message: fmt.Sprintf(format, args...)}}}
	}
	env := p.Environment
	if env == "" {
		return refuse("the promotion names no environment (the source daemon runs without --environment): it cannot be verified")
	}
	if p.From != "" && p.From != env {
		return refuse("the promotion is signed for environment %q but claims to come from %q", env, p.From)
	}
	key, ok := b.trust[env]
	if !ok {
		return refuse("this daemon trusts no key for environment %q: start it with --trust-environment %s=KEY ('cutover --context %s attestation-key' prints it)", env, env, env)
	}
	if p.Attestation == "" {
		return refuse("the promotion carries no attestation from %s", env)
	}
	if err := key.Verify(statementOf(*p), p.Attestation); err != nil {
		return refuse("revision %d of %s from %s: %v", p.Revision, p.Service, env, err)
	}
	p.From = env
	return nil
}

// succeededAt returns when a deployment made revision stable, or an error wrapping
// ErrConflict when none did: only a revision that succeeded may be promoted.
func (b *Backend) succeededAt(ctx context.Context, service string, revision int) (time.Time, error) {
	deps, err := b.store.ListDeployments(ctx, service, 0)
	if err != nil {
		return time.Time{}, err
	}
	for _, d := range deps {
		if d.To == revision && rollout.Status(d.Status) == rollout.StatusSucceeded {
			return d.FinishedAt, nil
		}
	}
	return time.Time{}, fmt.Errorf("revision %d of %s has not succeeded here (no deployment made it stable): "+
		"only a revision that succeeded can be promoted: %w", revision, service, api.ErrConflict)
}

// promotedDoc is the YAML of a promoted revision as this environment deploys it: its spec,
// with the run.env, hooks' env and route of the service's stable revision here (none when
// the service is new here: give them with --env and --set).
func (b *Backend) promotedDoc(ctx context.Context, req api.DeployRequest) ([]byte, string, error) {
	p := req.Promotion
	if err := b.verifyPromotion(p); err != nil {
		return nil, "", err
	}
	file := fmt.Sprintf("revision %d of %s from %s", p.Revision, p.Service, p.From)
	var s spec.Service
	if err := json.Unmarshal(p.Spec, &s); err != nil {
		return nil, "", fmt.Errorf("promotion: decode the spec of %s: %v: %w", file, err, api.ErrInvalid)
	}
	if s.Name != req.Service || p.Service != req.Service {
		return nil, "", fmt.Errorf("promotion: %s is not service %s: %w", file, req.Service, api.ErrInvalid)
	}
	here, err := b.currentSpec(ctx, req.Service)
	if err != nil {
		return nil, "", err
	}
	if here != nil {
		s.Route = here.Route
		setEnvironment(&s, here.Run.Env, hookEnvsOf(here))
	}
	doc, err := spec.Marshal(&s)
	if err != nil {
		return nil, "", fmt.Errorf("promotion: encode %s: %w", file, err)
	}
	return doc, file, nil
}

// currentSpec is the spec of the service's stable revision here (the latest one's when none
// has been stable yet), without the values the secrets store provided; nil for a new service.
func (b *Backend) currentSpec(ctx context.Context, service string) (*spec.Service, error) {
	cur, err := b.store.GetService(ctx, service)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	raw, err := b.stableSpec(ctx, cur)
	if err != nil {
		return nil, err
	}
	var s spec.Service
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("decode spec of %s: %w", service, err)
	}
	spec.StripProvided(&s.Run)
	return &s, nil
}

// checkPromotion refuses a deployment of a service whose spec requires promotion from
// another environment when it is not such a promotion.
func (b *Backend) checkPromotion(s *spec.Service, req api.DeployRequest) error {
	if s.Promotion == nil || s.Promotion.RequireFrom == "" || s.Promotion.RequireFrom == b.environment {
		return nil
	}
	need := s.Promotion.RequireFrom
	if req.Promotion != nil && req.Promotion.From == need {
		return nil
	}
	msg := fmt.Sprintf("service %s deploys only revisions that succeeded in %s first: 'cutover deploy %s --from %s'", s.Name, need, s.Name, need)
	if req.Promotion != nil {
		msg = fmt.Sprintf("the revision comes from %s, but service %s deploys only revisions that succeeded in %s first", req.Promotion.From, s.Name, need)
	}
	return &api.ValidationError{Fields: []api.FieldError{{Path: "promotion.require_from", Message: msg}}}
}

// hookEnvs holds each hook's env, by hook.
type hookEnvs struct{ preDeploy, smoke, postPromote map[string]string }

func hookEnvsOf(s *spec.Service) hookEnvs {
	var h hookEnvs
	if s.Hooks.PreDeploy != nil {
		h.preDeploy = s.Hooks.PreDeploy.Env
	}
	if s.Hooks.Smoke != nil {
		h.smoke = s.Hooks.Smoke.Env
	}
	if s.Hooks.PostPromote != nil {
		h.postPromote = s.Hooks.PostPromote.Env
	}
	return h
}

// setEnvironment replaces the service's run.env and its hooks' env.
func setEnvironment(s *spec.Service, env map[string]string, hooks hookEnvs) {
	s.Run.Env = maps.Clone(env)
	for _, h := range []struct {
		hook *spec.Hook
		env  map[string]string
	}{{s.Hooks.PreDeploy, hooks.preDeploy}, {s.Hooks.Smoke, hooks.smoke}, {s.Hooks.PostPromote, hooks.postPromote}} {
		if h.hook != nil {
			h.hook.Env = maps.Clone(h.env)
		}
	}
}

// approvals returns, for each revision of the service, who approved its latest approved
// deployment (on a daemon that requires approvals).
func (b *Backend) approvals(ctx context.Context, service string) (map[int]string, error) {
	deps, err := b.store.ListDeployments(ctx, service, 0)
	if err != nil {
		return nil, err
	}
	out := map[int]string{}
	for i := len(deps) - 1; i >= 0; i-- { // oldest first: a later approval wins
		d, err := deploymentView(deps[i])
		if err != nil {
			return nil, err
		}
		if d.ApprovedBy != "" {
			out[d.To] = d.ApprovedBy
		}
	}
	return out, nil
}

// checkDatabase checks the migrations of the new revision: read from its directory, or,
// for a promotion, the files it carries from where it succeeded.
func (b *Backend) checkDatabase(ctx context.Context, s *spec.Service, p *api.Promotion) ([]string, []store.MigrationFile, error) {
	if p == nil || s.Database == nil {
		return b.mig.CheckDatabase(ctx, s)
	}
	if len(p.Migrations) > maxCarried {
		return nil, nil, fmt.Errorf("promotion: %d migration files, at most %d: %w", len(p.Migrations), maxCarried, api.ErrInvalid)
	}
	files := make([]store.MigrationFile, len(p.Migrations))
	for i, f := range p.Migrations {
		if f.Name != filepath.Base(f.Name) || !strings.HasSuffix(f.Name, ".sql") {
			return nil, nil, fmt.Errorf("promotion: migration file %q: want a base name ending in .sql: %w", f.Name, api.ErrInvalid)
		}
		files[i] = store.MigrationFile{Name: f.Name, Content: f.Content}
	}
	return b.mig.CheckCarried(ctx, s, files)
}

// maxCarried bounds the migration files a promotion carries.
const maxCarried = 1000
