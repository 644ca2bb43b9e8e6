package stack

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cutover/cutover/internal/spec"
)

// FileSystem is what validation reads: whether build contexts, Dockerfiles and secret files
// exist.
type FileSystem interface {
	Stat(name string) (fs.FileInfo, error)
}

// OSFiles is the machine's file system.
type OSFiles struct{}

// Stat is os.Stat.
func (OSFiles) Stat(name string) (fs.FileInfo, error) { return os.Stat(name) }

// fieldError is a spec.FieldError at pos.
func fieldError(pos Pos, path, format string, args ...any) *spec.FieldError {
	return &spec.FieldError{File: pos.File, Line: pos.Line, Column: pos.Column, Path: path,
		Message: fmt.Sprintf(format, args...)}
}

// validate returns every reason the project cannot run, each naming the service and the
// compose key at fault.
func validate(p *Project, kinds map[string]Kind, files FileSystem) spec.Errors {
	var errs spec.Errors
	names := map[string]bool{}
	for _, s := range p.Services {
		names[s.Name] = true
	}
	for i := range p.Services {
		s := &p.Services[i]
		errs = append(errs, validateService(s, kinds, names, files)...)
	}
	errs = append(errs, portClashes(p)...)
	errs = append(errs, sharedVolumes(p, kinds)...)
	return errs
}

func validateService(s *Service, kinds map[string]Kind, names map[string]bool, files FileSystem) spec.Errors {
	var errs spec.Errors
	at := "services." + s.Name
	if s.Image == "" && s.Build == nil {
		errs = append(errs, fieldError(s.Pos, at, "set image or build"))
	}
	if b := s.Build; b != nil {
		errs = append(errs, checkBuild(s.Name, b, files)...)
	}
	for _, sec := range s.Secrets {
		if err := checkFile(files, sec.File, false); err != nil {
			errs = append(errs, fieldError(sec.Pos, at+".secrets."+sec.Name, "secret file %s", err))
		}
	}
	for _, d := range s.DependsOn {
		path := at + ".depends_on." + d.Service
		switch {
		case !names[d.Service]:
			errs = append(errs, fieldError(d.Pos, path, "no service %s in the stack", d.Service))
		case d.Condition == ConditionCompleted && kinds[d.Service] != Job:
			errs = append(errs, fieldError(d.Pos, path,
				"%s waits for %s to complete, but %s is a %s (a job does not restart: restart \"no\", or x-cutover kind: job)",
				s.Name, d.Service, d.Service, kinds[d.Service]))
		}
	}
	if kinds[s.Name] == Job && restarts(s.Restart) {
		errs = append(errs, fieldError(s.Pos, at+".restart",
			"a job runs to completion: restart %s would run it again", s.Restart))
	}
	return errs
}

// checkBuild checks the build context is a directory holding the Dockerfile.
func checkBuild(name string, b *Build, files FileSystem) spec.Errors {
	at := "services." + name + ".build"
	if err := checkFile(files, b.Context, true); err != nil {
		return spec.Errors{fieldError(b.Pos, at+".context", "build context %s", err)}
	}
	df := b.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	if !filepath.IsAbs(df) {
		df = filepath.Join(b.Context, df)
	}
	if err := checkFile(files, df, false); err != nil {
		return spec.Errors{fieldError(b.Pos, at+".dockerfile", "Dockerfile %s", err)}
	}
	return nil
}

// checkFile checks path exists and is (or is not) a directory.
func checkFile(files FileSystem, path string, dir bool) error {
	fi, err := files.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist", path)
	case err != nil:
		return err
	case dir && !fi.IsDir():
		return fmt.Errorf("%s is not a directory", path)
	case !dir && fi.IsDir():
		return fmt.Errorf("%s is a directory, not a file", path)
	}
	return nil
}

// portClashes finds two services publishing the same host port on overlapping addresses.
func portClashes(p *Project) spec.Errors {
	type owner struct {
		service string
		port    Port
	}
	var errs spec.Errors
	var seen []owner
	for _, s := range p.Services {
		for _, port := range s.Ports {
			for _, o := range seen {
				if o.service == s.Name || o.port.Published != port.Published || !overlap(o.port.HostIP, port.HostIP) {
					continue
				}
				errs = append(errs, fieldError(port.Pos, "services."+s.Name+".ports",
					"port %d is already published by service %s", port.Published, o.service))
				break
			}
			seen = append(seen, owner{s.Name, port})
		}
	}
	return errs
}

// overlap reports whether two listen addresses share a port space: the same one, or either
// every address.
func overlap(a, b string) bool {
	any := func(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }
	return a == b || any(a) || any(b)
}

// sharedVolumes finds a named volume mounted by two stateful services.
func sharedVolumes(p *Project, kinds map[string]Kind) spec.Errors {
	var errs spec.Errors
	owner := map[string]string{}
	for _, s := range p.Services {
		if kinds[s.Name] != Stateful {
			continue
		}
		for _, v := range s.Volumes {
			if !v.Named {
				continue
			}
			if o, ok := owner[v.Source]; ok && o != s.Name {
				errs = append(errs, fieldError(v.Pos, "services."+s.Name+".volumes",
					"volume %s is already the data of stateful service %s: two stateful services cannot share one", v.Source, o))
				continue
			}
			owner[v.Source] = s.Name
		}
	}
	return errs
}
