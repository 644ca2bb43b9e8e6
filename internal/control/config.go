package control

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/deployspec"
	"github.com/cutover/cutover/internal/secrets"
	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/store"
)

// ConfigAPI is the secrets store's and the config check's use cases (api.ConfigBackend) over
// the same parts as the Backend. The rules are in packages secrets and spec.
type ConfigAPI struct{ b *Backend }

var _ api.ConfigBackend = ConfigAPI{}

// Config returns the secrets and config-check use cases.
func (b *Backend) Config() ConfigAPI { return ConfigAPI{b} }

// provide puts the service's current secrets (with change applied, when not nil) into s and
// checks its env against its config: the last step of building a revision's spec.
func (b *Backend) provide(ctx context.Context, s *spec.Service, change *store.Secret) ([]string, error) {
	current, err := b.store.Secrets(ctx, s.Name)
	if err != nil {
		return nil, err
	}
	if change != nil {
		current = slices.DeleteFunc(current, func(sec store.Secret) bool { return sec.Name == change.Name })
		if change.Value != nil {
			current = append(current, *change)
		}
	}
	var warnings []string
	for _, name := range secrets.Inject(s, current) {
		warnings = append(warnings, fmt.Sprintf("run.env.%s: the secret %s replaces the value the spec gives", name, name))
	}
	if errs := spec.ApplyConfig(s); len(errs) > 0 {
		return nil, deployspec.ValidationError("", errs)
	}
	return warnings, nil
}

// SetSecret implements api.ConfigBackend.
func (c ConfigAPI) SetSecret(ctx context.Context, who, service, name, value string) (api.SecretChange, error) {
	if err := errors.Join(secrets.CheckName(name), secrets.CheckValue(name, value)); err != nil {
		return api.SecretChange{}, fmt.Errorf("%w: %w", api.ErrInvalid, err)
	}
	return c.change(ctx, store.Secret{Service: service, Name: name, Value: []byte(value), CreatedBy: who}, "set")
}

// UnsetSecret implements api.ConfigBackend.
func (c ConfigAPI) UnsetSecret(ctx context.Context, who, service, name string) (api.SecretChange, error) {
	list, err := c.b.store.Secrets(ctx, service)
	if err != nil {
		return api.SecretChange{}, err
	}
	if !slices.ContainsFunc(list, func(s store.Secret) bool { return s.Name == name }) {
		return api.SecretChange{}, fmt.Errorf("service %s has no secret %s: %w", service, name, api.ErrNotFound)
	}
	return c.change(ctx, store.Secret{Service: service, Name: name, CreatedBy: who}, "unset")
}

// change records a new version of a secret and, when the service has been deployed, deploys
// a revision that uses it. A change the running spec's config refuses is not recorded.
func (c ConfigAPI) change(ctx context.Context, sec store.Secret, verb string) (api.SecretChange, error) {
	if !spec.ValidName(sec.Service) {
		return api.SecretChange{}, fmt.Errorf("service name %q: must be a DNS label: %w", sec.Service, api.ErrInvalid)
	}
	req := api.DeployRequest{Service: sec.Service, Who: sec.CreatedBy, Message: fmt.Sprintf("secret %s %s", sec.Name, verb)}
	_, err := c.b.store.GetService(ctx, sec.Service)
	deployed := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return api.SecretChange{}, err
	}
	if deployed {
		if err := c.precheck(ctx, req, &sec); err != nil {
			return api.SecretChange{}, err
		}
	}
	stored, err := c.b.store.PutSecret(ctx, sec)
	if err != nil {
		return api.SecretChange{}, err
	}
	out := api.SecretChange{Secret: secretInfo(stored)}
	if !deployed {
		return out, nil
	}
	c.b.crash.Reach("secret-stored")
	d, err := c.b.Deploy(ctx, req)
	if err != nil {
		return out, fmt.Errorf("secret %s %s (version %d); deploy of %s: %w", sec.Name, verb, stored.Version, sec.Service, err)
	}
	out.Deployment = &d
	return out, nil
}

// precheck refuses a change while a deployment runs, or one the config check refuses.
func (c ConfigAPI) precheck(ctx context.Context, req api.DeployRequest, sec *store.Secret) error {
	if active, err := c.b.store.ActiveDeployment(ctx, req.Service); err == nil {
		return fmt.Errorf("service %s has deployment %d %s: wait for it, or abort it: %w", req.Service, active.ID, active.Status, api.ErrConflict)
	}
	s, err := c.b.resolveSpec(ctx, req)
	if err != nil {
		return err
	}
	_, err = c.b.provide(ctx, s, sec)
	return err
}

// Secrets implements api.ConfigBackend.
func (c ConfigAPI) Secrets(ctx context.Context, service string) ([]api.Secret, error) {
	list, err := c.b.store.Secrets(ctx, service)
	if err != nil {
		return nil, err
	}
	out := make([]api.Secret, len(list))
	for i, s := range list {
		out[i] = secretInfo(s)
	}
	return out, nil
}

// CheckConfig implements api.ConfigBackend.
func (c ConfigAPI) CheckConfig(ctx context.Context, req api.DeployRequest) (api.CheckResult, error) {
	s, err := c.b.resolveSpec(ctx, req)
	if err == nil {
		var warnings []string
		if warnings, err = c.b.provide(ctx, s, nil); err == nil {
			return api.CheckResult{Valid: true, Warnings: warnings}, nil
		}
	}
	var ve *api.ValidationError
	if errors.As(err, &ve) {
		return api.CheckResult{Errors: ve.Fields}, nil
	}
	return api.CheckResult{}, err
}

func secretInfo(s store.Secret) api.Secret {
	return api.Secret{Name: s.Name, Version: s.Version, CreatedAt: s.CreatedAt, CreatedBy: s.CreatedBy}
}
