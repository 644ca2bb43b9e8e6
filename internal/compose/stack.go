package compose

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/cutover/cutover/internal/spec"
	"github.com/cutover/cutover/internal/stack"
)

// stackKeys are the x-cutover keys of a stack rather than of a spec: they are read here and
// not passed to spec.Parse.
var stackKeys = []string{"kind", "timeout", "min_ready"}

// LoadStack reads compose files as one stack: every service with the facts stack.Make plans
// from, its kind's x-cutover settings, and, for a routed service, its cutover spec. Build,
// restart, volumes, secrets and networks are read rather than warned about. Errors are
// those of Load, with file positions.
func LoadStack(ctx context.Context, files []string, opts Options) (*stack.Project, error) {
	if len(files) == 0 {
		return nil, errors.New("load compose: no file given")
	}
	src, err := readSources(files)
	if err != nil {
		return nil, fmt.Errorf("load compose: %w", err)
	}
	cp, findings, logged, err := loadProject(ctx, src, opts, stackSupportedPaths)
	if err != nil {
		if serr := src.syntaxError(); serr != nil {
			return nil, fmt.Errorf("load compose: %w", serr)
		}
		return nil, fmt.Errorf("load compose: %w", src.locateError(err))
	}
	p := &stack.Project{Name: cp.Name, Warnings: append(projectWarnings(findings), logged...)}
	if file, ok := src.has("version"); ok {
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s: version is obsolete and ignored", file))
	}
	var errs spec.Errors
	exts := map[string]map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(cp.Services)) {
		svc := cp.Services[name]
		s, ext, ferrs := stackService(cp, svc, serviceWarnings(findings, name), src)
		errs = append(errs, ferrs...)
		p.Services = append(p.Services, s)
		exts[name] = ext
	}
	for i := range p.Services {
		s := &p.Services[i]
		if stack.KindOf(p, s) != stack.Routed {
			tmp := spec.Service{Run: spec.Run{Container: s.Container}}
			s.Warnings = append(s.Warnings, mapAttachments(cp, cp.Services[s.Name], &tmp)...)
			s.Container = tmp.Run.Container
			for _, k := range slices.Sorted(maps.Keys(exts[s.Name])) {
				s.Warnings = append(s.Warnings, fmt.Sprintf("service %s: x-cutover %s is ignored: it applies to routed services", s.Name, k))
			}
			continue
		}
		spec, ferrs := routedSpec(cp, cp.Services[s.Name], s, exts[s.Name], src)
		errs = append(errs, ferrs...)
		s.Spec = spec
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("import compose services: %w", errs)
	}
	return p, nil
}

// stackService reads one service's facts; ext is its x-cutover mapping without the stack keys.
func stackService(cp *types.Project, svc types.ServiceConfig, warnings []string, src *sources) (stack.Service, map[string]any, spec.Errors) {
	at := func(path ...any) stack.Pos {
		segs := []string{"services", svc.Name}
		for _, p := range path {
			segs = append(segs, fmt.Sprint(p))
		}
		f, l, c := src.locate(segs)
		return stack.Pos{File: f, Line: l, Column: c}
	}
	m := &mapper{name: svc.Name, svc: svc, doc: map[string]any{"name": svc.Name}, warnings: warnings}
	m.mapRun()
	m.mapHealthcheck()
	run := m.section("run")
	s := stack.Service{Name: svc.Name, Pos: at(), Image: svc.Image, Restart: svc.Restart,
		Healthcheck: svc.HealthCheck != nil && !svc.HealthCheck.Disable}
	if m.container.Healthcheck != nil {
		s.Container = &spec.Container{Healthcheck: m.container.Healthcheck}
	}
	if g := svc.StopGracePeriod; g != nil {
		s.StopGrace = time.Duration(*g)
	}
	s.Command, _ = run["command"].(string)
	s.Args, _ = run["args"].([]string)
	if env, ok := run["env"].(map[string]any); ok {
		s.Env = map[string]string{}
		for k, v := range env {
			s.Env[k] = fmt.Sprint(v)
		}
	}
	if b := svc.Build; b != nil {
		s.Build = &stack.Build{Context: b.Context, Dockerfile: b.Dockerfile, Target: b.Target, Pos: at("build"), Args: map[string]string{}}
		for k, v := range b.Args {
			if v != nil {
				s.Build.Args[k] = *v
			}
		}
		s.Build.Tag = buildTag(cp.Name, svc.Name, s.Build)
	}
	for i, p := range svc.Ports {
		if p.Published == "" || (p.Protocol != "" && p.Protocol != "tcp") {
			continue
		}
		n, _ := strconv.Atoi(p.Published)
		s.Ports = append(s.Ports, stack.Port{HostIP: p.HostIP, Published: n, Target: int(p.Target), Pos: at("ports", i)})
	}
	for i, v := range svc.Volumes {
		switch v.Type {
		case types.VolumeTypeVolume, types.VolumeTypeBind:
			s.Volumes = append(s.Volumes, stack.Volume{Named: v.Type == types.VolumeTypeVolume && v.Source != "",
				Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly, Pos: at("volumes", i)})
		default:
			s.Warnings = append(s.Warnings, fmt.Sprintf("service %s: volumes[%d] of type %s is ignored", svc.Name, i, v.Type))
		}
	}
	for i, sec := range svc.Secrets {
		def := cp.Secrets[sec.Source]
		if def.File == "" {
			s.Warnings = append(s.Warnings, fmt.Sprintf("service %s: secret %s is not a file secret and is ignored", svc.Name, sec.Source))
			continue
		}
		name := sec.Source
		if sec.Target != "" {
			name = strings.TrimPrefix(sec.Target, "/run/secrets/")
		}
		s.Secrets = append(s.Secrets, stack.Secret{Name: name, File: def.File, Pos: at("secrets", i)})
	}
	s.Networks = slices.Sorted(maps.Keys(svc.Networks))
	for _, dep := range slices.Sorted(maps.Keys(svc.DependsOn)) {
		cond := svc.DependsOn[dep].Condition
		if cond == "" {
			cond = stack.ConditionStarted
		}
		s.DependsOn = append(s.DependsOn, stack.Dependency{Service: dep, Condition: cond, Pos: at("depends_on", dep)})
	}
	s.Warnings = append(s.Warnings, m.warnings...)
	ext, errs := stackExtension(&s, svc.Extensions[ExtensionKey], func(k string) stack.Pos { return at(ExtensionKey, k) })
	if route, ok := ext["route"].(map[string]any); ok {
		_, s.Listens = route["listen"]
	}
	return s, ext, errs
}

// stackExtension reads the stack keys of x-cutover into s and returns the rest of it.
func stackExtension(s *stack.Service, raw any, at func(string) stack.Pos) (map[string]any, spec.Errors) {
	m, ok := raw.(map[string]any)
	if !ok || m == nil {
		return nil, nil
	}
	rest := maps.Clone(m)
	var errs spec.Errors
	bad := func(key string, err error) {
		p := at(key)
		errs = append(errs, &spec.FieldError{File: p.File, Line: p.Line, Column: p.Column,
			Path: "services." + s.Name + "." + ExtensionKey + "." + key, Message: err.Error()})
	}
	for _, k := range stackKeys {
		v, ok := rest[k]
		if !ok {
			continue
		}
		delete(rest, k)
		switch k {
		case "kind":
			kind, err := stack.ParseKind(v)
			if err != nil {
				bad(k, err)
			}
			s.Override, s.OverridePos = kind, at(k)
		case "timeout", "min_ready":
			d, err := time.ParseDuration(fmt.Sprint(v))
			if err != nil || d <= 0 {
				bad(k, fmt.Errorf("%v: want a positive duration such as 30s", v))
			}
			if k == "timeout" {
				s.Timeout = d
			} else {
				s.MinReady = d
			}
		}
	}
	return rest, errs
}

// routedSpec imports a routed service's spec as Load does, from its x-cutover without the
// stack keys; a built service runs the image its build is tagged with.
func routedSpec(cp *types.Project, svc types.ServiceConfig, s *stack.Service, ext map[string]any, src *sources) (*spec.Service, spec.Errors) {
	svc.Extensions = maps.Clone(svc.Extensions)
	if ext == nil {
		delete(svc.Extensions, ExtensionKey)
	} else {
		svc.Extensions[ExtensionKey] = ext
	}
	if svc.Image == "" && s.Build != nil {
		svc.Image = s.Build.Tag
	}
	imp, errs := importService(svc, nil, src)
	if len(errs) > 0 {
		return nil, errs
	}
	mapAttachments(cp, svc, &imp.Spec) // its warnings are the stack's own, already given
	return &imp.Spec, nil
}
