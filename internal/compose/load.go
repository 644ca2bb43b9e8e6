package compose

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/tree"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cutover/cutover/internal/spec"
)

// Load reads compose files (later files override earlier ones, as with docker compose -f a
// -f b) and imports the named services, or every service when services is empty, in
// dependency order. Errors: a file that is not YAML or not a valid compose file, with the
// file position where one is known; an unknown service name; a depends_on cycle; and every
// spec error of every service at once, as spec.Errors whose paths name the compose key
// ("services.web.ports") or the x-cutover field at fault.
func Load(ctx context.Context, files []string, services []string, opts Options) (*Project, error) {
	if len(files) == 0 {
		return nil, errors.New("load compose: no file given")
	}
	src, err := readSources(files)
	if err != nil {
		return nil, fmt.Errorf("load compose: %w", err)
	}
	cp, findings, logged, err := loadProject(ctx, src, opts, supportedPaths)
	if err != nil {
		if serr := src.syntaxError(); serr != nil {
			return nil, fmt.Errorf("load compose: %w", serr)
		}
		return nil, fmt.Errorf("load compose: %w", src.locateError(err))
	}
	if cp, err = enable(cp, services); err != nil {
		return nil, fmt.Errorf("load compose: %w", err)
	}
	order, err := dependencyOrder(cp, services)
	if err != nil {
		return nil, fmt.Errorf("load compose: %w", err)
	}
	p := &Project{Name: cp.Name, Warnings: append(projectWarnings(findings), logged...)}
	if file, ok := src.has("version"); ok {
		// compose-go drops it before its attribute check (and logs through logrus).
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s: version is obsolete and ignored", file))
	}
	var errs spec.Errors
	for _, name := range order {
		svc, warnings := cp.Services[name], serviceWarnings(findings, name)
		if img := opts.Images[name]; img != "" && svc.Image == "" {
			svc.Image = img
			warnings = slices.DeleteFunc(warnings, func(w string) bool { return strings.HasPrefix(w, "service "+name+": build") })
		}
		imp, ferrs := importService(svc, warnings, src)
		if len(ferrs) > 0 {
			errs = append(errs, ferrs...)
			continue
		}
		imp.Warnings = append(imp.Warnings, mapAttachments(cp, svc, &imp.Spec)...)
		p.Services = append(p.Services, *imp)
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b *spec.FieldError) int {
			return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
		})
		return nil, fmt.Errorf("import compose services: %w", errs)
	}
	return p, nil
}

// loadProject runs compose-go over the files' checked bytes with every service, and returns
// what its attribute check found outside the supported paths and the warnings compose-go
// logged.
func loadProject(ctx context.Context, src *sources, opts Options, supported []tree.Path) (
	*types.Project, []loader.UnsupportedAttribute, []string, error) {
	wd := opts.WorkingDir
	if wd == "" {
		wd = filepath.Dir(src.files[0].name)
	}
	wd, err := filepath.Abs(wd)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("working directory: %w", err)
	}
	env, err := environment(wd, opts.Env)
	if err != nil {
		return nil, nil, nil, err
	}
	details := types.ConfigDetails{WorkingDir: wd, Environment: env, ConfigFiles: src.configFiles()}
	var findings []loader.UnsupportedAttribute
	report := func(fs []loader.UnsupportedAttribute) { findings = append(findings, fs...) }
	var project *types.Project
	req := &required{}
	logged, err := quietly(func() (err error) {
		project, err = loader.LoadWithContext(ctx, details,
			func(o *loader.Options) {
				if o.Interpolate != nil {
					o.Interpolate.Substitute = req.substitute
				}
				if opts.ProjectName != "" {
					o.SetProjectName(opts.ProjectName, true)
				} else {
					o.SetProjectName(loader.NormalizeProjectName(filepath.Base(wd)), false)
				}
				o.Profiles = opts.Profiles
			},
			loader.WithUnsupportedAttributesCheck(unsupportedValues, report),
			loader.WithSupportedAttributes(supported, report),
		)
		return err
	})
	if rerr := req.err(src); rerr != nil {
		return nil, nil, nil, rerr // what else failed may come from the placeholders
	}
	if err != nil {
		return nil, nil, nil, err
	}
	return project, findings, logged, nil
}

// environment is the .env file of the working directory, if any, overlaid with env.
func environment(wd string, env map[string]string) (map[string]string, error) {
	out := map[string]string{}
	dotEnv := filepath.Join(wd, ".env")
	if _, err := os.Stat(dotEnv); err == nil {
		vars, err := dotenv.ReadFile(dotEnv, func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		})
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", dotEnv, err)
		}
		maps.Copy(out, vars)
	}
	maps.Copy(out, env)
	return out, nil
}

// enable checks the selected names and enables those a profile had turned off.
func enable(p *types.Project, names []string) (*types.Project, error) {
	var unknown []string
	for _, n := range names {
		_, on := p.Services[n]
		_, off := p.DisabledServices[n]
		if !on && !off {
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		all := slices.Sorted(maps.Keys(p.Services))
		return nil, fmt.Errorf("no service %s in the compose files (services: %s)",
			strings.Join(unknown, ", "), strings.Join(all, ", "))
	}
	if len(names) == 0 {
		return p, nil
	}
	out, err := p.WithServicesEnabled(names...)
	if err != nil {
		return nil, fmt.Errorf("enable services: %w", err)
	}
	return out, nil
}
