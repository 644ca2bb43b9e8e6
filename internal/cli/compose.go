package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/cutover/cutover/internal/api"
	"github.com/cutover/cutover/internal/compose"
	"github.com/cutover/cutover/internal/spec"
)

// deployCompose imports compose files and deploys the selected services (all when none is
// named) in dependency order. Every warning is printed first. A service that another one
// depends on with condition service_healthy is waited for before the dependent is deployed;
// with --wait every service is.
func (a *app) deployCompose(ctx context.Context, files, services []string, message string, wf waitFlags) error {
	if err := wf.check(); err != nil {
		return err
	}
	p, err := compose.Load(ctx, files, services, compose.Options{Env: environ()})
	if err != nil {
		return err
	}
	for _, w := range p.Warnings {
		fmt.Fprintln(a.stderr, "warning: "+w)
	}
	awaited := map[string]bool{}
	for _, imp := range p.Services {
		for _, w := range imp.Warnings {
			fmt.Fprintln(a.stderr, "warning: "+w)
		}
		for _, dep := range imp.DependsOn {
			if dep.Condition == compose.ConditionHealthy {
				awaited[dep.Service] = true
			}
		}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	for _, imp := range p.Services {
		s := imp.Spec
		doc, err := spec.Marshal(&s)
		if err != nil {
			return fmt.Errorf("deploy %s: %w", s.Name, err)
		}
		req := api.DeployRequest{Service: s.Name, Spec: string(doc), SpecFile: files[0] + " (service " + s.Name + ")",
			Who: whoami(), Message: message}
		d, err := c.Deploy(ctx, req)
		if err != nil {
			return fmt.Errorf("deploy %s: %w", s.Name, err)
		}
		swf := wf
		swf.wait = wf.wait || awaited[s.Name]
		if err := a.afterStart(ctx, c, d, swf); err != nil {
			return fmt.Errorf("deploy %s: %w", s.Name, err)
		}
	}
	return nil
}

// environ is the process environment as a map, for compose interpolation.
func environ() map[string]string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}
