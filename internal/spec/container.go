package spec

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"strings"
)

// validateContainer checks run.container: it needs run.image, a port in range, a memory
// limit that parses, CPUs not negative and a health check in Docker's form.
func validateContainer(errs *Errors, r *Run) {
	c := r.Container
	if c == nil {
		return
	}
	if r.Image == "" {
		errs.add("run.container", "needs run.image: container settings apply to images only")
	}
	if c.Port < 0 || c.Port > 65535 {
		errs.add("run.container.port", "must be a port number from 1 to 65535")
	}
	if c.Memory != "" {
		if _, err := ParseBytes(c.Memory); err != nil {
			errs.add("run.container.memory", "%s", err.Error())
		}
	}
	if c.CPUs < 0 || math.IsNaN(c.CPUs) || math.IsInf(c.CPUs, 0) {
		errs.add("run.container.cpus", "must be a positive number of CPUs")
	}
	if h := c.Healthcheck; h != nil {
		validateHealthcheck(errs, h)
	}
	for i, n := range c.Networks {
		if n.Name == "" {
			errs.add(fmt.Sprintf("run.container.networks[%d].name", i), "required")
		}
	}
	for i, m := range c.Mounts {
		validateMount(errs, fmt.Sprintf("run.container.mounts[%d]", i), m)
	}
	for i, h := range c.Hosts {
		if name, ip, ok := strings.Cut(h, ":"); !ok || name == "" || net.ParseIP(ip) == nil {
			errs.add(fmt.Sprintf("run.container.hosts[%d]", i), "want name:ip, not %q", h)
		}
	}
}

// validateMount checks a mount has exactly one of volume and an absolute source, and an
// absolute target.
func validateMount(errs *Errors, path string, m Mount) {
	switch {
	case (m.Volume == "") == (m.Source == ""):
		errs.add(path, "set exactly one of volume (a named volume) and source (a host path)")
	case m.Source != "" && !strings.HasPrefix(m.Source, "/"):
		errs.add(path+".source", "must be an absolute path, not %q", m.Source)
	}
	if !strings.HasPrefix(m.Target, "/") {
		errs.add(path+".target", "must be an absolute path in the container, not %q", m.Target)
	}
}

func validateHealthcheck(errs *Errors, h *Healthcheck) {
	const path = "run.container.healthcheck"
	switch {
	case len(h.Test) == 0:
		errs.add(path+".test", "required: [CMD, program, args...], [CMD-SHELL, command] or [NONE]")
	case h.Test[0] == "NONE":
	case h.Test[0] == "CMD" || h.Test[0] == "CMD-SHELL":
		if len(h.Test) < 2 || h.Test[1] == "" {
			errs.add(path+".test", "%s needs a command after it", h.Test[0])
		}
	default:
		errs.add(path+".test", "must start with CMD, CMD-SHELL or NONE, not %q", h.Test[0])
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{{"interval", h.Interval}, {"timeout", h.Timeout}, {"start_period", h.StartPeriod}} {
		if d.v < 0 {
			errs.add(path+"."+d.name, "must not be negative")
		}
	}
	if h.Retries < 0 {
		errs.add(path+".retries", "must not be negative")
	}
}

// ParseBytes reads a memory size: a whole number of bytes, or a number with a unit b, k, m
// or g (powers of 1024, case-insensitive, optionally followed by "b" or "ib": "512m", "1GiB").
func ParseBytes(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "ib")
	t = strings.TrimSuffix(t, "b")
	mult := int64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) || v*float64(mult) > math.MaxInt64/2 {
		return 0, fmt.Errorf("memory %q: want a positive size such as 268435456, 256m or 1g", s)
	}
	return int64(v * float64(mult)), nil
}
